package rrsa

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/cli/kube"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// associateOptions are the flags of associate-role (setup-addon fills them for its add-on).
type associateOptions struct {
	*rootOptions
	roleName, namespace, serviceAccount string
	createRole, yes, annotate           bool
	dryRun                              cli.DryRun
	systemPolicies, customPolicies      []string
}

// checkSubject refuses a namespace or service account name Kubernetes would never issue a token
// for (such as "Default"): the trust statement would be written but no pod could use it.
// Wildcards are checked with each "*" or "?" standing for one letter.
func checkSubject(ns, sa string) error {
	wild := strings.NewReplacer("*", "x", "?", "x")
	if errs := validation.IsDNS1123Label(wild.Replace(ns)); len(errs) > 0 {
		return fmt.Errorf("-n/--namespace %q is not a valid namespace name (%s); no pod could use the association. Use the namespace's exact name, or * for any", ns, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(wild.Replace(sa)); len(errs) > 0 {
		return fmt.Errorf("-s/--service-account %q is not a valid service account name (%s); no pod could use the association. Use the service account's exact name, or * for any", sa, strings.Join(errs, "; "))
	}
	return nil
}

// checkRoleName rejects -r values RAM would only answer with a confusing "role does not exist"
// (or, with --create-role-if-not-exist, an invalid-name error): empty names and ARNs.
func checkRoleName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("-r/--role-name is empty: give the RAM role name, e.g. -r my-role")
	}
	if strings.HasPrefix(strings.ToLower(name), "acs:") {
		hint := "give the role name, e.g. -r my-role"
		if a, err := arn.ParseRole(name); err == nil {
			hint = "use -r " + a.Name
		}
		return fmt.Errorf("-r/--role-name takes a RAM role name, not an ARN (%q): %s", name, hint)
	}
	return nil
}

// Complete has nothing to derive: the flags are used as given.
func (o *associateOptions) Complete() error { return nil }

// Validate checks the flags before anything is looked up, and that the confirmation can be
// asked.
func (o *associateOptions) Validate() error {
	if err := checkRoleName(o.roleName); err != nil {
		return err
	}
	if err := checkSubject(o.namespace, o.serviceAccount); err != nil {
		return err
	}
	if o.annotate && isWildcard(o.namespace, o.serviceAccount) {
		return fmt.Errorf("--annotate-service-account needs one service account, not the pattern %s/%s", o.namespace, o.serviceAccount)
	}
	if o.dryRun == cli.DryRunNone {
		return o.newConfirmer(o.yes).Check()
	}
	return nil
}

// dry reports whether this is a dry run (--dry-run=client).
func (o *associateOptions) dry() bool { return o.dryRun != cli.DryRunNone }

func isWildcard(ns, sa string) bool { return strings.ContainsAny(ns+sa, "*?") }

// Run associates the role: Kubernetes checks first, then the trust policy, the policies to
// attach and the service account annotation.
func (o *associateOptions) Run(ctx context.Context) error {
	s, err := o.newSession(ctx)
	if err != nil {
		return err
	}
	return o.run(ctx, s)
}

func (o *associateOptions) run(ctx context.Context, s *session) error {
	c, err := s.rrsaCluster(ctx)
	if err != nil {
		return err
	}
	stmt, err := rrsa.BuildStatement(c.RRSA.OIDCArn, c.RRSA.Issuer, o.namespace, o.serviceAccount)
	if err != nil {
		return err
	}
	var kc kubernetes.Interface
	if o.annotate && !o.dry() {
		if kc, err = o.preflightKube(ctx, "--annotate-service-account", rrsa.AnnotatePermissions(o.namespace, o.serviceAccount), o.namespace); err != nil {
			return err
		}
	}
	subject := fmt.Sprintf("service account %s/%s", o.namespace, o.serviceAccount)
	plan, res, err := o.runTrustStep(ctx, s, trustStep{
		change: rrsa.TrustChange{
			Role:            o.roleName,
			Edit:            func(p *rrsa.Policy) (*rrsa.Policy, bool, error) { return rrsa.Merge(p, stmt) },
			Verify:          func(p *rrsa.Policy) bool { return rrsa.Contains(p, stmt) },
			CreateIfMissing: o.createRole,
			Description:     "Created by kubectl ack-rrsa for RRSA service accounts",
		},
		dryRun: o.dry(), yes: o.yes,
		question: fmt.Sprintf("Associate RAM role %q with %s", o.roleName, subject),
	})
	if err != nil {
		return explainTrustError(err, o.roleName, true)
	}
	if o.dry() {
		if !plan.Changed {
			fmt.Fprintf(o.streams.ErrOut, "Dry run: RAM role %q already trusts %s; the trust policy would not change\n", o.roleName, subject)
		}
		return o.dryRunRest(ctx, s, plan)
	}
	if res != nil {
		fmt.Fprintf(o.streams.Out, "Associated RAM role %q with %s\n", o.roleName, subject)
	} else {
		fmt.Fprintf(o.streams.Out, "RAM role %q already trusts %s; trust policy unchanged\n", o.roleName, subject)
	}
	return o.finish(ctx, s, kc, plan, res)
}

// finish attaches policies and annotates the service account. If either fails after the trust
// policy changed, the error says what was changed and the commands that finish or revert it.
func (o *associateOptions) finish(ctx context.Context, s *session, kc kubernetes.Interface, plan *rrsa.Plan, res *rrsa.Result) error {
	err := o.attachPolicies(ctx, s)
	if err == nil && kc != nil {
		err = o.annotateServiceAccount(ctx, kc)
	}
	if err == nil || res == nil {
		return err
	}
	args := []string{"-r", o.roleName, "-n", o.namespace, "-s", o.serviceAccount}
	finish := append(append([]string{"associate-role"}, args...), o.flagArgs()...)
	revert := append([]string{"disassociate-role"}, args...)
	if res.Created || len(plan.New.Statement) == 1 {
		// The role trusts nothing else: undoing the association means deleting it.
		revert = append(revert, "--delete-role")
	}
	return fmt.Errorf("%w\nRAM role %q now trusts service account %s/%s, but the command did not complete. Finish it with (running it again is safe):\n  %s\nor revert the trust policy with:\n  %s",
		err, o.roleName, o.namespace, o.serviceAccount, o.command(s.clusterID, append(finish, "-y")...), o.command(s.clusterID, append(revert, "-y")...))
}

// flagArgs are the optional flags of this run, for a command that repeats it.
func (o *associateOptions) flagArgs() []string {
	var out []string
	for _, p := range o.systemPolicies {
		out = append(out, "--attach-system-policy", p)
	}
	for _, p := range o.customPolicies {
		out = append(out, "--attach-custom-policy", p)
	}
	if o.annotate {
		out = append(out, "--annotate-service-account")
	}
	return out
}

// policyRef names a policy to attach.
type policyRef struct{ typ, name string }

func (p policyRef) String() string {
	return fmt.Sprintf("%s policy %q", strings.ToLower(p.typ), p.name)
}

// pendingPolicies splits the policies to attach (--attach-*-policy) into those still to attach
// and those already attached. roleExists false means the role is yet to be created.
func (o *associateOptions) pendingPolicies(ctx context.Context, s *session, roleExists bool) (todo, done []policyRef, err error) {
	var want []policyRef
	for _, p := range o.systemPolicies {
		want = append(want, policyRef{cloud.PolicyTypeSystem, p})
	}
	for _, p := range o.customPolicies {
		want = append(want, policyRef{cloud.PolicyTypeCustom, p})
	}
	if len(want) == 0 || !roleExists {
		return want, nil, nil
	}
	attached, err := s.clients.RAM.ListPoliciesForRole(ctx, o.roleName)
	if err != nil {
		return nil, nil, fmt.Errorf("list policies of RAM role %q: %w", o.roleName, err)
	}
	has := map[string]bool{}
	for _, a := range attached {
		has[strings.ToLower(a.Type)+"/"+a.Name] = true
	}
	for _, p := range want {
		if has[strings.ToLower(p.typ)+"/"+p.name] {
			done = append(done, p)
		} else {
			todo = append(todo, p)
		}
	}
	return todo, done, nil
}

func (o *associateOptions) attachPolicies(ctx context.Context, s *session) error {
	todo, done, err := o.pendingPolicies(ctx, s, true)
	if err != nil {
		return err
	}
	for _, p := range done {
		fmt.Fprintf(o.streams.Out, "%s policy %q is already attached to RAM role %q\n", p.typ, p.name, o.roleName)
	}
	for _, p := range todo {
		if err := s.clients.RAM.AttachPolicyToRole(ctx, p.typ, p.name, o.roleName); err != nil && !errors.Is(err, cloud.ErrAlreadyExists) {
			return fmt.Errorf("attach %s to RAM role %q: %w", p, o.roleName, err)
		}
		fmt.Fprintf(o.streams.Out, "Attached %s to RAM role %q\n", p, o.roleName)
	}
	return nil
}

// dryRunRest says what a dry run would do after the trust policy: the policies to attach and
// the service account to annotate.
func (o *associateOptions) dryRunRest(ctx context.Context, s *session, plan *rrsa.Plan) error {
	todo, _, err := o.pendingPolicies(ctx, s, plan.Exists)
	if err != nil {
		return err
	}
	for _, p := range todo {
		fmt.Fprintf(o.streams.ErrOut, "Dry run: %s would be attached to RAM role %q\n", p, o.roleName)
	}
	if o.annotate {
		fmt.Fprintf(o.streams.ErrOut, "Dry run: service account %s/%s would be annotated with %s=%s (created if missing) and namespace %s labelled %s=%s\n",
			o.namespace, o.serviceAccount, rrsa.RoleNameAnnotation, o.roleName, o.namespace, rrsa.InjectionLabel, rrsa.InjectionOn)
	}
	return nil
}

// annotateServiceAccount points the service account at the role and says what changed.
func (o *associateOptions) annotateServiceAccount(ctx context.Context, kc kubernetes.Interface) error {
	ns, sa := o.namespace, o.serviceAccount
	res, err := rrsa.AnnotateServiceAccount(ctx, kc, ns, sa, o.roleName)
	if err != nil {
		return err
	}
	if res.Created {
		fmt.Fprintf(o.streams.Out, "Created service account %s/%s\n", ns, sa)
	}
	// The webhook reads one role per service account: say so when this moves it off another role.
	if prev := res.PreviousRole; prev != "" {
		fmt.Fprintf(o.streams.ErrOut, "Warning: service account %s/%s pointed at RAM role %q and now points at %q; pods started from now on get %q's credentials. RAM role %q still trusts it: `kubectl ack-rrsa disassociate-role -r %s -n %s -s %s` removes that.\n",
			ns, sa, prev, o.roleName, o.roleName, prev, prev, ns, sa)
	}
	fmt.Fprintf(o.streams.Out, "Annotated service account %s/%s with %s=%s and labelled namespace %s with %s=%s\n",
		ns, sa, rrsa.RoleNameAnnotation, o.roleName, ns, rrsa.InjectionLabel, rrsa.InjectionOn)
	return nil
}

// addRoleSAFlags registers -r, -n and -s; -n completes the namespaces of the current kube
// context and -s the service accounts of the -n namespace.
func (o *rootOptions) addRoleSAFlags(cmd *cobra.Command, role, ns, sa *string) {
	cmd.Flags().StringVarP(role, "role-name", "r", "", "RAM role name")
	cmd.Flags().StringVarP(ns, "namespace", "n", "", "Kubernetes namespace of the service account (* for any)")
	cmd.Flags().StringVarP(sa, "service-account", "s", "", "Kubernetes service account name (* for any)")
	for _, f := range []string{"role-name", "namespace", "service-account"} {
		_ = cmd.MarkFlagRequired(f)
	}
	_ = cmd.RegisterFlagCompletionFunc("role-name", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("namespace", kube.CompleteNamespaces(o.configFlags))
	_ = cmd.RegisterFlagCompletionFunc("service-account", kube.CompleteServiceAccounts(o.configFlags, func() string { return *ns }))
}

func newAssociateCommand(root *rootOptions) *cobra.Command {
	o := &associateOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "associate-role",
		Short: "Let a Kubernetes service account assume a RAM role through RRSA",
		Long: `Add a trust statement for the service account to the RAM role's trust policy.

The statement has the shape ack-ram-tool writes (one statement per service account), so either
tool recognises the other's associations. Every other statement of the policy is kept. The change
is shown as a diff and confirmed before it is written, then the role is read back to make sure no
concurrent writer undid it. Running the command again is a no-op. A * namespace or service account
trusts every matching one (StringLike).

With --annotate-service-account the command first checks that it can change the service account
(a usable kube context, RBAC permissions, the namespace exists) and only then touches RAM. If a
later step fails anyway, the error says what was changed and the command that finishes or
reverts it.

--dry-run (or --dry-run=client) prints the resulting trust policy on stdout and the diff and
the other steps on stderr, and changes nothing. RAM has no server-side dry run.`,
		Example: `  kubectl ack-rrsa associate-role -r my-role -n default -s my-app
  kubectl ack-rrsa associate-role -r my-role -n default -s my-app --create-role-if-not-exist \
      --attach-system-policy AliyunOSSReadOnlyAccess --annotate-service-account -y
  kubectl ack-rrsa associate-role -r my-role -n team-a -s '*' --dry-run`,
		RunE: runE(o),
	}
	root.addRoleSAFlags(cmd, &o.roleName, &o.namespace, &o.serviceAccount)
	f := cmd.Flags()
	f.BoolVar(&o.createRole, "create-role-if-not-exist", false, "Create the RAM role if it does not exist")
	f.StringArrayVar(&o.systemPolicies, "attach-system-policy", nil, "Attach this system policy to the role (repeatable)")
	f.StringArrayVar(&o.customPolicies, "attach-custom-policy", nil, "Attach this custom policy to the role (repeatable)")
	f.BoolVar(&o.annotate, "annotate-service-account", false, "Create the service account if missing, annotate it with the role name and label its namespace for pod identity injection")
	cli.AddYesFlag(f, &o.yes)
	cli.AddDryRunFlag(cmd, &o.dryRun, false)
	return cmd
}
