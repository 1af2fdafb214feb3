package rrsa

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/cli/kube"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// doctorOptions are the flags of doctor.
type doctorOptions struct {
	*rootOptions
	namespace, serviceAccount, pod, selector, role string
	allNamespaces                                  bool
	output                                         *cli.Output
}

// Complete fills the namespace from the kube context when -n is not given, and splits --pod
// NS/NAME.
func (o *doctorOptions) Complete() error {
	if ns, name, ok := strings.Cut(o.pod, "/"); ok {
		if o.namespace != "" && o.namespace != ns {
			return cli.UsageErrorf("--pod %s names namespace %s but -n is %s: give one of them", o.pod, ns, o.namespace)
		}
		o.namespace, o.pod = ns, name
	}
	if o.namespace == "" && !o.allNamespaces {
		o.namespace = "default"
		if ns, _, err := o.configFlags.ToRawKubeConfigLoader().Namespace(); err == nil && ns != "" {
			o.namespace = ns
		}
	}
	return nil
}

// Validate checks that exactly one way of choosing service accounts is used.
func (o *doctorOptions) Validate() error {
	if err := o.output.Validate(); err != nil {
		return err
	}
	modes := 0
	for _, set := range []bool{o.serviceAccount != "", o.pod != "", o.selector != "", o.allNamespaces} {
		if set {
			modes++
		}
	}
	switch {
	case modes != 1:
		return cli.UsageErrorf("choose what to check with one of -s/--service-account NAME, --pod [NAMESPACE/]NAME, -l/--selector SELECTOR or -A/--all-namespaces")
	case o.allNamespaces && (o.namespace != "" || o.role != ""):
		return cli.UsageErrorf("-A/--all-namespaces checks every annotated service account with its own role: leave out -n and -r")
	case o.pod != "" && strings.Contains(o.pod, "/"):
		return cli.UsageErrorf("--pod takes NAMESPACE/NAME or NAME, got %q", o.pod)
	case strings.HasPrefix(strings.ToLower(o.role), "acs:"):
		if _, err := arn.ParseRole(o.role); err != nil {
			return cli.UsageErrorf("-r/--role-name takes a role name or a role ARN (acs:ram::<account>:role/<name>): %v", err)
		}
	}
	return nil
}

// Run diagnoses the chosen service accounts and prints the checklist. It exits 1 when a
// check failed.
func (o *doctorOptions) Run(ctx context.Context) error {
	s, err := o.newSession(ctx)
	if err != nil {
		return err
	}
	kc, err := o.kubeClient()
	if err != nil {
		return err
	}
	targets, err := o.targets(ctx, kc)
	if err != nil {
		return err
	}
	// AssumeRoleWithOIDC is anonymous: the service account's token is the credential.
	sts, err := cloud.NewSTS(nil, o.endpoints)
	if err != nil {
		return fmt.Errorf("create STS client: %w", err)
	}
	doctor := &rrsa.Doctor{ClusterID: s.clusterID, CS: s.clients.CS, RAM: s.clients.RAM, STS: sts, Kube: kc,
		Command: func(args ...string) string { return o.command(s.clusterID, args...) }}
	diag, err := doctor.Diagnose(ctx, targets)
	if err != nil {
		return err
	}
	if o.output.Name() == cli.FormatJSON {
		err = cli.PrintJSON(o.streams.Out, diag)
	} else {
		err = printDiagnosis(o.streams.Out, diag, o.allNamespaces)
	}
	if err != nil {
		return err
	}
	if n := diag.Failures(); n > 0 {
		return cli.WithCode(cli.ExitFailure, fmt.Errorf("%d %s failed: the ✘ %s what to fix", n, plural(n, "check", "checks"), plural(n, "line says", "lines say")))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// targets are the service accounts to diagnose, from the flags.
func (o *doctorOptions) targets(ctx context.Context, kc kubernetes.Interface) ([]rrsa.DoctorTarget, error) {
	switch {
	case o.allNamespaces:
		return rrsa.AnnotatedTargets(ctx, kc)
	case o.pod != "":
		t, err := rrsa.PodTarget(ctx, kc, o.namespace, o.pod, o.role)
		return []rrsa.DoctorTarget{t}, err
	case o.selector != "":
		return rrsa.SelectorTargets(ctx, kc, o.namespace, o.selector, o.role)
	}
	return []rrsa.DoctorTarget{{Namespace: o.namespace, ServiceAccount: o.serviceAccount, Role: o.role}}, nil
}

// printDiagnosis writes one checklist per service account, or with -A the cluster's checks
// and one summary line per service account.
func printDiagnosis(w io.Writer, d *rrsa.Diagnosis, summary bool) error {
	if summary {
		return printSummary(w, d)
	}
	for i, r := range d.ServiceAccounts {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Service account %s/%s, %s, cluster %s\n", r.Namespace, r.ServiceAccount, roleText(&r), d.ClusterID)
		for _, c := range d.Checklist(i) {
			printCheck(w, c)
		}
	}
	return nil
}

// roleText says which role a checklist is about and where it came from.
func roleText(r *rrsa.Report) string {
	switch {
	case r.Role == "":
		return "no RAM role"
	case r.RoleSource == "flag":
		return fmt.Sprintf("RAM role %s (from the -r flag)", r.Role)
	}
	return fmt.Sprintf("RAM role %s (from the service account's annotation)", r.Role)
}

// printCheck writes one checklist line, its details and its fix.
func printCheck(w io.Writer, c rrsa.Check) {
	fmt.Fprintf(w, "%s %s: %s\n", c.Status.Symbol(), c.Title, c.Found)
	for _, d := range c.Details {
		fmt.Fprintf(w, "    also: %s\n", d)
	}
	if c.Fix != "" {
		fmt.Fprintf(w, "    fix: %s\n", c.Fix)
	}
}

// printSummary is the -A form: the cluster's checks, then one line per service account.
func printSummary(w io.Writer, d *rrsa.Diagnosis) error {
	fmt.Fprintf(w, "Cluster %s\n", d.ClusterID)
	for _, c := range d.Cluster {
		printCheck(w, c)
	}
	if len(d.ServiceAccounts) == 0 {
		fmt.Fprintf(w, "No service account carries the %s annotation.\n", rrsa.RoleNameAnnotation)
		return nil
	}
	fmt.Fprintf(w, "\nService accounts annotated with %s:\n", rrsa.RoleNameAnnotation)
	clusterFailed := false
	for _, c := range d.Cluster {
		clusterFailed = clusterFailed || c.Status == rrsa.CheckFailed
	}
	bad := 0
	for _, r := range d.ServiceAccounts {
		status, text := summaryLine(&r, clusterFailed)
		if status == rrsa.CheckFailed {
			bad++
		}
		fmt.Fprintf(w, "%s %s/%s → %s: %s\n", status.Symbol(), r.Namespace, r.ServiceAccount, r.Role, text)
	}
	if bad > 0 {
		fmt.Fprintf(w, "\n%d of %d service accounts have a problem: kubectl ack-rrsa doctor -n NAMESPACE -s NAME shows the checklist with the fixes.\n", bad, len(d.ServiceAccounts))
	}
	return nil
}

// summaryLine is the status and text of a service account's -A line: its first failure, else
// its first warning, else the live proof.
func summaryLine(r *rrsa.Report, clusterFailed bool) (rrsa.CheckStatus, string) {
	for _, want := range []rrsa.CheckStatus{rrsa.CheckFailed, rrsa.CheckWarning} {
		for _, c := range r.Checks {
			if c.Status == want {
				return want, c.Title + ": " + c.Found
			}
		}
	}
	if clusterFailed {
		return rrsa.CheckFailed, "blocked by the cluster's ✘ checks above"
	}
	return rrsa.CheckPassed, "pods get " + r.AssumedRoleARN
}

func newDoctorCommand(root *rootOptions) *cobra.Command {
	o := &doctorOptions{rootOptions: root, output: cli.NewOutput(cli.FormatText, cli.FormatText, cli.FormatJSON)}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Say exactly why a pod cannot get its RAM role, and how to fix it",
		Long: `Check every piece RRSA needs, in order, and print a checklist: ✔ passed, ✘ failed (with the
exact fix: a command to run or the policy line to change), ! warning, - skipped.

  1. RRSA is enabled; the cluster's OIDC provider exists in RAM with the cluster's issuer and
     the client ID sts.aliyuncs.com.
  2. The service account exists and carries pod-identity.alibabacloud.com/role-name (or -r
     names the role); the role exists and its max session covers the token lifetime.
  3. The role's trust policy lets system:serviceaccount:NAMESPACE:NAME in; if not, which
     statement came closest and what differs.
  4. ack-pod-identity-webhook is installed and running and acts on the namespace.
  5. With --pod or -l: each pod carries the injected variables and token volume; a pod created
     before the annotation is named, with the restart that fixes it.
  6. The live proof: a fresh token of the service account is exchanged with STS
     AssumeRoleWithOIDC, and the assumed role's ARN is shown (never the credentials).

-A checks every annotated service account of the cluster, one summary line each. The exit code
is 0 when nothing failed (warnings allowed) and 1 when a check failed.`,
		Example: `  kubectl ack-rrsa doctor -n default -s my-app
  kubectl ack-rrsa doctor --pod default/my-app-7c9d8-x2x4z
  kubectl ack-rrsa doctor -n default -l app=my-app -r my-role
  kubectl ack-rrsa doctor -A
  kubectl ack-rrsa doctor -n default -s my-app -o json`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	f := cmd.Flags()
	f.StringVarP(&o.namespace, "namespace", "n", "", "Namespace of the service account or pods (default: the kube context's)")
	f.StringVarP(&o.serviceAccount, "service-account", "s", "", "Service account to check")
	f.StringVar(&o.pod, "pod", "", "Pod to check, as NAMESPACE/NAME or NAME (its service account is checked too)")
	f.StringVarP(&o.selector, "selector", "l", "", "Check the pods this label selector matches, and their service accounts")
	f.StringVarP(&o.role, "role-name", "r", "", "RAM role to check (default: the service account's annotation)")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "Check every service account that carries the role annotation")
	o.output.AddFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("namespace", kube.CompleteNamespaces(root.configFlags))
	_ = cmd.RegisterFlagCompletionFunc("service-account", kube.CompleteServiceAccounts(root.configFlags, func() string { return o.namespace }))
	return cmd
}
