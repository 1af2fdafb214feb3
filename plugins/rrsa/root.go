// Package rrsa implements `kubectl ack-rrsa`: RAM Roles for Service Accounts for ACK clusters.
// It holds the cobra commands, flags and output only; the trust policy logic lives in pkg/rrsa
// and the cloud calls in pkg/cloud.
package rrsa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// rootOptions are the flags and helpers every subcommand shares.
type rootOptions struct {
	streams     genericiooptions.IOStreams
	configFlags *genericclioptions.ConfigFlags
	creds       credentials.Options
	endpoints   cloud.Endpoints
	clusterID   string
	verbose     bool
	// assumeYes and logLevel are ack-ram-tool's global -y/--assume-yes and --log-level, accepted
	// so its command lines keep working.
	assumeYes bool
	logLevel  string
}

// Main runs the plugin with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := NewRootCommand(genericiooptions.IOStreams{In: stdin, Out: stdout, ErrOut: stderr})
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	return 0
}

// NewRootCommand returns the `kubectl ack-rrsa` command tree writing to streams.
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
kube-system/ack-cluster-profile ConfigMap). Use -v to see which source was used.`,
		Example: `  kubectl ack-rrsa status
  kubectl ack-rrsa enable -c c0123456789abcdef0123456789abcdef
  kubectl ack-rrsa associate-role -r my-role -n default -s my-app --create-role-if-not-exist --annotate-service-account
  kubectl ack-rrsa assume-role --service-account default/my-app -r my-role
  kubectl ack-rrsa disassociate-role -r my-role -n default -s my-app --annotate-service-account`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			switch strings.ToLower(strings.TrimSpace(o.logLevel)) {
			case "", "error", "warn", "warning", "info":
			case "debug":
				o.verbose = true
			default:
				return fmt.Errorf("invalid --log-level %q: use error, warn, info or debug", o.logLevel)
			}
			return nil
		},
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	pf := cmd.PersistentFlags()
	o.configFlags.AddFlags(pf)
	o.creds.AddFlags(pf)
	o.endpoints.AddFlags(pf)
	pf.StringVarP(&o.clusterID, "cluster-id", "c", "", "ACK cluster id (default: discovered from the current kube context)")
	pf.BoolVarP(&o.verbose, "verbose", "v", false, "Print where the cluster id and credentials came from and other details on stderr")
	pf.BoolVar(&o.assumeYes, "assume-yes", false, "Same as -y/--yes (ack-ram-tool compatibility)")
	pf.StringVar(&o.logLevel, "log-level", "", "ack-ram-tool compatibility: debug is the same as -v; error, warn and info change nothing")
	_ = pf.MarkHidden("assume-yes")
	_ = pf.MarkHidden("log-level")

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
		newVersionCommand(o),
	)
	return cmd
}

// logf prints a diagnostic line on stderr when -v is set.
func (o *rootOptions) logf(format string, args ...any) {
	if o.verbose {
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

// kubeClient returns a clientset for the current kube context.
func (o *rootOptions) kubeClient() (kubernetes.Interface, error) {
	cfg, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return cs, nil
}

// errAborted is returned when the user declines a confirmation.
var errAborted = errors.New("aborted: nothing was changed (pass -y/--yes to skip the confirmation)")

// defaultTimeout bounds waits for cluster tasks unless --timeout says otherwise.
const defaultTimeout = 15 * time.Minute
