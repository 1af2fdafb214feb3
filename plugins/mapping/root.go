// Package mapping implements `kubectl ack-map`: RAMIdentityMapping CRUD, `explain` (which
// mapping an ARN hits, with the server's matching code from pkg/mapper), import/export between
// the authenticator's static configuration and CRs, and install-crd. It holds cobra commands,
// flags and output only; ARN, matching and template logic live in pkg/arn and pkg/mapper. The
// conventions shared with the other plugins (-v, -o, --dry-run, confirmations, exit codes,
// completion) come from internal/cli.
package mapping

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/cli/kube"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
	typed "github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned/typed/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/prompt"
	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// displayName is how the plugin is named in usage lines, help and `version`.
const displayName = "kubectl ack-map"

// ExitNotMapped is the exit code of `explain` when the identity is not mapped (0 = mapped,
// 1 = error, 2 = bad command line).
const ExitNotMapped = 3

// rootOptions are the flags and helpers every subcommand shares.
type rootOptions struct {
	streams     genericiooptions.IOStreams
	configFlags *genericclioptions.ConfigFlags
	// verbosity is -v: 1 says which kube context and files were used.
	verbosity int
	// rc is the client configuration, loaded once per command.
	rc *rest.Config
}

// options is the shape of every subcommand (kubectl's use_context.go): Complete fills in what
// the flags and arguments imply, Validate refuses bad input before anything is read or changed,
// Run does it.
type options interface {
	Complete(cmd *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// runE is the cobra RunE of a subcommand: Complete, Validate, Run. Complete and Validate only
// look at the command line, so what they refuse is a usage error (exit code 2).
func runE(o options) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(cmd, args); err != nil {
			return cli.WithCode(cli.ExitUsage, err)
		}
		if err := o.Validate(); err != nil {
			return cli.WithCode(cli.ExitUsage, err)
		}
		return o.Run(cmd.Context())
	}
}

const rootLong = `Manage RAMIdentityMapping objects, which tell ack-ram-authenticator which Kubernetes
username and groups a RAM user, role or account root gets when it logs in with its RAM identity.

ARNs: acs:ram::<account>:user/<name>, acs:ram::<account>:role/<name>, acs:ram::<account>:root;
"*" and "?" are anchored globs. An assumed-role ARN (acs:ram::<account>:assumed-role/<role>/<session>)
is mapped as its role. Username and group templates may use {{AccountID}}, {{SessionName}}
("@" replaced by "-"), {{SessionNameRaw}}, {{UserID}} and {{AccessKeyID}}.

Mappings are named as kubectl names them: NAME, or what 'list -o name' prints
(ramidentitymapping.ramauthenticator.k8s.alibabacloud/NAME, ramidentitymapping/NAME, ramim/NAME).
Commands that delete or overwrite ask for confirmation; without a terminal pass -y. Exit codes:
0 ok, 1 error, 2 bad command line, 130 interrupted; 'explain' exits 3 when the identity is not
mapped.`

const rootExample = `  kubectl ack-map install-crd
  kubectl ack-map add --arn acs:ram::123456789012:role/dev --username 'dev:{{SessionName}}' --group developers
  kubectl ack-map list -o wide
  kubectl ack-map explain --arn acs:ram::123456789012:assumed-role/dev/alice@example.com
  kubectl ack-map update role-123456789012-dev-1a2b3c4d5e --add-group viewers
  kubectl ack-map delete --arn acs:ram::123456789012:role/dev --yes
  kubectl ack-map import --from-config /etc/ack-ram-authenticator/config.yaml`

// NewRootCommand returns the `kubectl ack-map` command tree writing to streams. Run it with
// cli.Execute, which maps its errors to exit codes.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &rootOptions{streams: streams}
	o.configFlags = genericclioptions.NewConfigFlags(true)
	// RAMIdentityMapping is cluster-scoped: a namespace flag would only mislead.
	o.configFlags.Namespace = nil

	cmd := &cobra.Command{
		Use:     "kubectl-ack_map",
		Short:   "Map Alibaba Cloud RAM identities to Kubernetes users and groups",
		Long:    rootLong,
		Example: rootExample,
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	o.configFlags.AddFlags(cmd.PersistentFlags())
	cli.AddVerbosityFlags(cmd.PersistentFlags(), &o.verbosity)

	cmd.AddCommand(
		newAddCommand(o),
		newGetCommand(o, false),
		newGetCommand(o, true),
		newUpdateCommand(o),
		newDeleteCommand(o),
		newExplainCommand(o),
		newImportCommand(o),
		newExportCommand(o),
		newInstallCRDCommand(o),
		cli.NewVersionCommand(streams.Out, displayName),
	)
	cli.Setup(cmd, displayName, version.String())
	return cmd
}

// restConfig loads the client configuration the kubectl flags select; without a usable kube
// context the error says how to get one (kube.ErrNoContext).
func (o *rootOptions) restConfig() (*rest.Config, error) {
	if o.rc != nil {
		return o.rc, nil
	}
	cfg, err := kube.RESTConfig(o.configFlags)
	if err != nil {
		return nil, err
	}
	if o.verbosity >= 1 {
		o.logf("Using kube context %s (API server %s)", o.contextName(), cfg.Host)
	}
	o.rc = cfg
	return cfg, nil
}

// contextName names the kube context in use and the kubeconfig it comes from, for -v.
func (o *rootOptions) contextName() string {
	loader := o.configFlags.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil {
		return "(unknown)"
	}
	name := raw.CurrentContext
	if c := o.configFlags.Context; c != nil && *c != "" {
		name = *c
	}
	from := "the kubeconfig"
	if l, ok := loader.(interface{ ConfigAccess() clientcmd.ConfigAccess }); ok {
		from = strings.Join(l.ConfigAccess().GetLoadingPrecedence(), ":")
	}
	return fmt.Sprintf("%q from %s", name, from)
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

// confirmer is the one confirmation policy of the plugins (internal/cli): -y answers yes;
// otherwise a terminal on stdin is asked on stderr; without a terminal the command refuses in
// its Validate step, before anything is read or changed.
func (o *rootOptions) confirmer(yes bool) cli.Confirmer {
	return cli.Confirmer{Yes: yes, In: o.streams.In, Out: o.streams.ErrOut,
		IsTerminal: func() bool { return isTerminal(o.streams.In) }}
}

// isTerminal reports whether stdin is an interactive terminal. A stream that is not a file can
// say so itself with an IsTerminal() bool method (a wrapped pseudo-terminal, for example).
func isTerminal(stream io.Reader) bool {
	if t, ok := stream.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	w, ok := stream.(io.Writer)
	return ok && prompt.IsTerminal(w)
}

// warnf prints a warning line on stderr.
func (o *rootOptions) warnf(format string, args ...any) {
	fmt.Fprintf(o.streams.ErrOut, "Warning: "+format+"\n", args...)
}

// logf prints a diagnostic line on stderr (callers check the -v level).
func (o *rootOptions) logf(format string, args ...any) {
	fmt.Fprintf(o.streams.ErrOut, format+"\n", args...)
}
