// Package rrsa implements `kubectl ack-rrsa`: RAM Roles for Service Accounts for ACK clusters.
// It holds the cobra commands, flags and output only; the trust policy logic lives in pkg/rrsa
// and the cloud calls in pkg/cloud. The conventions shared with the other plugins (-v, -o,
// --dry-run, confirmations, exit codes, completion) come from internal/cli.
package rrsa

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/cli/kube"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// displayName is how the plugin is named in usage lines, help and `version`.
const displayName = "kubectl ack-rrsa"

// rootOptions are the flags and helpers every subcommand shares.
type rootOptions struct {
	streams     genericiooptions.IOStreams
	configFlags *genericclioptions.ConfigFlags
	creds       credentials.Options
	endpoints   cloud.Endpoints
	clusterID   string
	// verbosity is -v: 1 says where the cluster id and credentials came from.
	verbosity int
	// assumeYes and logLevel are ack-ram-tool's global -y/--assume-yes and --log-level, accepted
	// so its command lines keep working.
	assumeYes bool
	logLevel  string
}

// options is the shape of every subcommand (kubectl's use_context.go): Complete fills in what
// the flags imply, Validate refuses bad input before anything is read or changed, Run does it.
type options interface {
	Complete() error
	Validate() error
	Run(ctx context.Context) error
}

// runE is the cobra RunE of a subcommand: Complete, Validate, Run. Complete and Validate only
// look at the command line, so what they refuse is a usage error (exit code 2).
func runE(o options) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := o.Complete(); err != nil {
			return cli.WithCode(cli.ExitUsage, err)
		}
		if err := o.Validate(); err != nil {
			return cli.WithCode(cli.ExitUsage, err)
		}
		return o.Run(cmd.Context())
	}
}

// NewRootCommand returns the `kubectl ack-rrsa` command tree writing to streams. Run it with
// cli.Execute, which maps its errors to exit codes.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &rootOptions{streams: streams}
	o.configFlags = genericclioptions.NewConfigFlags(true)
	// -n is the service account namespace of each subcommand and -s the service account, as in
	// ack-ram-tool, so the kubectl flags that would clash with them are left out.
	o.configFlags.Namespace = nil
	o.configFlags.APIServer = nil
	o.creds.Endpoints = &o.endpoints

	cmd := &cobra.Command{
		Use:   "kubectl-ack_rrsa",
		Short: "Manage RRSA (RAM Roles for Service Accounts) for ACK clusters",
		Long: `Manage RRSA (RAM Roles for Service Accounts) for Alibaba Cloud ACK clusters.

The cluster is taken from -c/--cluster-id, or else discovered from the current kube context
(an ack-login or ack-ram-tool exec credential, a "<account>-<clusterId>" context name, or the
kube-system/ack-cluster-profile ConfigMap). Use -v to see which source was used.

Commands that change something ask for confirmation; without a terminal pass -y. Exit codes:
0 ok, 1 error, 2 bad command line, 130 interrupted.`,
		Example: `  kubectl ack-rrsa status
  kubectl ack-rrsa enable -c c0123456789abcdef0123456789abcdef
  kubectl ack-rrsa associate-role -r my-role -n default -s my-app --create-role-if-not-exist --annotate-service-account
  kubectl ack-rrsa assume-role --service-account default/my-app -r my-role
  kubectl ack-rrsa disassociate-role -r my-role -n default -s my-app --annotate-service-account`,
		PersistentPreRunE: func(*cobra.Command, []string) error { return o.completeLogLevel() },
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	o.addFlags(cmd)

	cmd.AddCommand(
		newStatusCommand(o),
		newEnableCommand(o, true),
		newEnableCommand(o, false),
		newAssociateCommand(o),
		newDisassociateCommand(o),
		newListAssociationsCommand(o),
		newAssumeRoleCommand(o),
		newSetupAddonCommand(o),
		newListAddonsCommand(o),
		newInstallHelperAddonCommand(o),
		newDoctorCommand(o),
		cli.NewVersionCommand(streams.Out, displayName),
	)
	cli.Setup(cmd, displayName, version.String())
	return cmd
}

// addFlags registers the global flags and the completion of their values.
func (o *rootOptions) addFlags(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	o.configFlags.AddFlags(pf)
	o.creds.AddFlags(pf)
	o.endpoints.AddFlags(pf)
	pf.StringVarP(&o.clusterID, "cluster-id", "c", "", "ACK cluster id (default: discovered from the current kube context)")
	cli.AddVerbosityFlags(pf, &o.verbosity)
	pf.BoolVar(&o.assumeYes, "assume-yes", false, "Same as -y/--yes (ack-ram-tool compatibility)")
	pf.StringVar(&o.logLevel, "log-level", "", "ack-ram-tool compatibility: debug is the same as -v=1; error, warn and info change nothing")
	_ = pf.MarkHidden("assume-yes")
	_ = pf.MarkHidden("log-level")
	_ = cmd.RegisterFlagCompletionFunc("cluster-id", o.completeClusterIDs)
	_ = cmd.RegisterFlagCompletionFunc("credential-type", completeCredentialTypes)
	_ = cmd.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
}

// completeLogLevel turns ack-ram-tool's --log-level debug into -v=1.
func (o *rootOptions) completeLogLevel() error {
	switch strings.ToLower(strings.TrimSpace(o.logLevel)) {
	case "", "error", "warn", "warning", "info":
	case "debug":
		o.verbosity = max(o.verbosity, 1)
	default:
		return cli.UsageErrorf("invalid --log-level %q: use error, warn, info or debug", o.logLevel)
	}
	return nil
}

// completeCredentialTypes completes --credential-type with the accepted values, ack-ram-tool's
// spellings included.
func completeCredentialTypes(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	values := credentials.CredentialTypes()
	values = append(values, "imds\tack-ram-tool's name for "+credentials.TypeECSMetadata, "ecs-role\tack-ram-tool's name for "+credentials.TypeECSMetadata)
	return values, cobra.ShellCompDirectiveNoFileComp
}

// logf prints a diagnostic line on stderr at -v=1 and above.
func (o *rootOptions) logf(format string, args ...any) {
	if o.verbosity >= 1 {
		fmt.Fprintf(o.streams.ErrOut, format+"\n", args...)
	}
}

// cloudClients resolves credentials and builds the CS, RAM and STS clients.
func (o *rootOptions) cloudClients(ctx context.Context) (*cloud.Clients, error) {
	resolved, err := o.creds.Resolve(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve Alibaba Cloud credentials: %w", err)
	}
	o.logf("Using credentials from %s", resolved.Source)
	clients, err := cloud.NewClients(resolved.Credential, o.endpoints)
	if err != nil {
		return nil, fmt.Errorf("create cloud clients: %w", err)
	}
	return clients, nil
}

// kubeClient returns a clientset for the current kube context; without a usable one the error
// says how to get one (kube.ErrNoContext).
func (o *rootOptions) kubeClient() (kubernetes.Interface, error) {
	cfg, err := kube.RESTConfig(o.configFlags)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return cs, nil
}

// defaultTimeout bounds waits for cluster tasks unless --timeout says otherwise.
const defaultTimeout = 15 * time.Minute
