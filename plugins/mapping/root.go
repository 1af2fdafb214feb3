// Package mapping implements `kubectl ack-map`: RAMIdentityMapping CRUD, `explain` (which
// mapping an ARN hits, with the server's matching code from pkg/mapper), import/export between
// the authenticator's static configuration and CRs, and install-crd. It holds cobra commands,
// flags and output only; ARN, matching and template logic live in pkg/arn and pkg/mapper.
package mapping

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
	typed "github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned/typed/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// hooks are test seams; production code leaves them nil.
type hooks struct {
	// stdinIsTerminal overrides terminal detection of stdin for delete confirmations.
	stdinIsTerminal func() bool
}

// rootOptions are the flags and helpers every subcommand shares.
type rootOptions struct {
	streams     genericiooptions.IOStreams
	configFlags *genericclioptions.ConfigFlags
	hooks       hooks
}

// errSilent makes Main exit 1 without printing anything more: the command already said why
// (explain's "not mapped" line).
var errSilent = errors.New("exit status 1")

// NewRootCommand returns the `kubectl ack-map` command tree writing to streams.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	return newRootCommand(streams, hooks{})
}

// Main runs the plugin with args and returns the process exit code: 0 on success, 1 on any
// error and when `explain` finds no mapping.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, NewRootCommand(genericiooptions.IOStreams{In: stdin, Out: stdout, ErrOut: stderr}), args, stderr)
}

func run(ctx context.Context, cmd *cobra.Command, args []string, stderr io.Writer) int {
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(stderr, "Error: %v\n", err)
		}
		return 1
	}
	return 0
}

func newRootCommand(streams genericiooptions.IOStreams, h hooks) *cobra.Command {
	o := &rootOptions{streams: streams, hooks: h}
	o.configFlags = genericclioptions.NewConfigFlags(true)
	// RAMIdentityMapping is cluster-scoped: a namespace flag would only mislead.
	o.configFlags.Namespace = nil

	cmd := &cobra.Command{
		Use:   "kubectl-ack_map",
		Short: "Map Alibaba Cloud RAM identities to Kubernetes users and groups",
		Long: `Manage RAMIdentityMapping objects, which tell ack-ram-authenticator which Kubernetes
username and groups a RAM user, role or account root gets when it logs in with its RAM identity.

ARNs: acs:ram::<account>:user/<name>, acs:ram::<account>:role/<name>, acs:ram::<account>:root;
"*" and "?" are anchored globs. An assumed-role ARN (acs:ram::<account>:assumed-role/<role>/<session>)
is mapped as its role. Username and group templates may use {{AccountID}}, {{SessionName}}
("@" replaced by "-"), {{SessionNameRaw}}, {{UserID}} and {{AccessKeyID}}.`,
		Example: `  kubectl ack-map install-crd
  kubectl ack-map add --arn acs:ram::123456789012:role/dev --username 'dev:{{SessionName}}' --group developers
  kubectl ack-map list -o wide
  kubectl ack-map explain --arn acs:ram::123456789012:assumed-role/dev/alice@example.com
  kubectl ack-map update role-123456789012-dev-1a2b3c4d5e --add-group viewers
  kubectl ack-map delete --arn acs:ram::123456789012:role/dev --yes
  kubectl ack-map import --from-config /etc/ack-ram-authenticator/config.yaml`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	o.configFlags.AddFlags(cmd.PersistentFlags())

	cmd.AddCommand(
		newAddCommand(o),
		newGetCommand(o, "get"),
		newGetCommand(o, "list"),
		newUpdateCommand(o),
		newDeleteCommand(o),
		newExplainCommand(o),
		newImportCommand(o),
		newExportCommand(o),
		newInstallCRDCommand(o),
		newVersionCommand(o),
	)
	return cmd
}

func newVersionCommand(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of kubectl-ack_map",
		Example: "  kubectl ack-map version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(o.streams.Out, "kubectl-ack_map %s\n", version.String())
			return err
		},
	}
}

// restConfig loads the kubeconfig selected by the kubectl flags.
func (o *rootOptions) restConfig() (*rest.Config, error) {
	cfg, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}

// clientset returns the generated RAMIdentityMapping clientset for the current kube context.
func (o *rootOptions) clientset() (versioned.Interface, error) {
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create RAMIdentityMapping client: %w", err)
	}
	return cs, nil
}

// configMaps returns a ConfigMap client for namespace in the current kube context.
func (o *rootOptions) configMaps(namespace string) (corev1client.ConfigMapInterface, error) {
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return cs.CoreV1().ConfigMaps(namespace), nil
}

// api is a RAMIdentityMapping client plus the discovery needed to tell a missing CRD from a
// missing object.
type api struct {
	cs versioned.Interface
}

func (o *rootOptions) api() (*api, error) {
	cs, err := o.clientset()
	if err != nil {
		return nil, err
	}
	return &api{cs: cs}, nil
}

func (a *api) mappings() typed.RAMIdentityMappingInterface {
	return a.cs.RamauthenticatorV1alpha1().RAMIdentityMappings()
}

// errCRDMissing says how to fix a cluster without the CRD.
var errCRDMissing = errors.New("the RAMIdentityMapping CRD (ramidentitymappings.ramauthenticator.k8s.alibabacloud) is not installed in this cluster: run 'kubectl ack-map install-crd' first")

// wrap turns a NotFound that comes from the resource not being served (no CRD) into
// errCRDMissing; other errors are returned wrapped with what was being done.
func (a *api) wrap(err error, doing string) error {
	if err == nil {
		return nil
	}
	if meta.IsNoMatchError(err) || (apierrors.IsNotFound(err) && !a.served()) {
		return errCRDMissing
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// served reports whether the API server serves ramidentitymappings. A discovery error other than
// NotFound counts as served, so a flaky discovery never hides the original error.
func (a *api) served() bool {
	gv := v1alpha1.SchemeGroupVersion.String()
	list, err := a.cs.Discovery().ServerResourcesForGroupVersion(gv)
	if err != nil {
		return !apierrors.IsNotFound(err)
	}
	for _, r := range list.APIResources {
		if r.Name == "ramidentitymappings" {
			return true
		}
	}
	return false
}

// stdinIsTerminal reports whether stdin is an interactive terminal.
func (o *rootOptions) stdinIsTerminal() bool {
	if o.hooks.stdinIsTerminal != nil {
		return o.hooks.stdinIsTerminal()
	}
	f, ok := o.streams.In.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// warnf prints a warning line on stderr.
func (o *rootOptions) warnf(format string, args ...any) {
	fmt.Fprintf(o.streams.ErrOut, "Warning: "+format+"\n", args...)
}
