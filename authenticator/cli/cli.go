// Package cli holds the cobra commands of ack-ram-authenticator: server, init, verify, add and
// version, with the official add-on's flags (-c, -i, -l, --feature-gates and the server flags)
// accepted with the same meaning.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/component-base/featuregate"
	logsapi "k8s.io/component-base/logs/api/v1"
	_ "k8s.io/component-base/logs/json/register" // -l json / --logging-format json
	"k8s.io/klog/v2"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	clikit "github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// displayName is how the binary is named in usage lines and `version`.
const displayName = "ack-ram-authenticator"

// ExitDenied is the exit code of verify when the token is refused (0 = authenticated, 1 = error,
// 2 = bad command line, 130 = interrupted).
const ExitDenied = 3

// Main runs the command line with args and returns the exit code: SIGINT and SIGTERM cancel the
// command (the server shuts down gracefully), errors are printed once as "Error: …", and the
// exit codes are those of internal/cli plus ExitDenied.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Tests run several commands in one process with the same logging settings.
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged
	code := clikit.Execute(ctx, NewRootCommand(stdin, stdout, stderr), args, stderr)
	klog.Flush()
	return code
}

// deniedError makes verify exit with ExitDenied when the token is refused.
type deniedError struct{ reason string }

func (d deniedError) Error() string { return "token denied: " + d.reason }

type rootOptions struct {
	config    string
	clusterID string
	logFormat string
	logging   *logsapi.LoggingConfiguration
	gates     featuregate.MutableFeatureGate
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
}

// NewRootCommand returns the ack-ram-authenticator command tree.
func NewRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &rootOptions{logging: logsapi.NewLoggingConfiguration(), gates: newFeatureGates(), stdin: stdin, stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "ack-ram-authenticator",
		Short: "Kubernetes token webhook for Alibaba Cloud RAM identities (ACK)",
		Long: `ack-ram-authenticator verifies k8s-ack-v2 tokens with STS GetCallerIdentity and maps the
RAM identity to a Kubernetes user and groups (backends: the config file's mapRoles/mapUsers/
mapAccounts, RAMIdentityMapping objects, the kube-system/alibabacloud-auth ConfigMap and a
watched mapping file). "server" creates its serving certificate and the webhook kubeconfig for
kube-apiserver on first start ("init" does the same ahead of time), then serves.`,
		PersistentPreRunE: func(*cobra.Command, []string) error { return o.applyLogging() },
	}
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	pf := cmd.PersistentFlags()
	pf.StringVarP(&o.config, "config", "c", "", "configuration file (YAML)")
	pf.StringVarP(&o.clusterID, "cluster-id", "i", "", "the cluster ID tokens must be bound to (overrides clusterID)")
	pf.StringVarP(&o.logFormat, "log-format", "l", "", "log format on stderr: text or json (same as --logging-format)")
	o.gates.AddFlag(pf)
	logsapi.AddFlags(o.logging, pf)
	cmd.AddCommand(newServerCommand(o), newInitCommand(o), newVerifyCommand(o), newAddCommand(o), clikit.NewVersionCommand(stdout, displayName))
	// Usage lines, "did you mean", stray arguments and --version as in the plugins. The official
	// flags keep their meaning: -v stays the component-base log level.
	clikit.Setup(cmd, displayName, version.String())
	return cmd
}

// applyLogging applies -l/--log-format and the component-base logging flags. An unknown -l value
// falls back to text with a warning, as the official add-on does.
func (o *rootOptions) applyLogging() error {
	switch f := strings.ToLower(strings.TrimSpace(o.logFormat)); f {
	case "":
	case "text", "json":
		o.logging.Format = f
	default:
		fmt.Fprintf(o.stderr, "Warning: unknown log format %q (-l/--log-format takes text or json): using text\n", o.logFormat)
		o.logging.Format = "text"
	}
	if err := logsapi.ValidateAndApply(o.logging, nil); err != nil {
		return fmt.Errorf("logging flags: %w", err)
	}
	for _, w := range gateWarnings(o.gates) {
		klog.InfoS("warning: " + w)
	}
	return nil
}

// load reads -c/--config and applies -i/--cluster-id over it.
func (o *rootOptions) load() (*authenticator.Config, error) {
	if o.config == "" {
		return nil, errors.New("no configuration file: pass -c/--config FILE")
	}
	cfg, err := authenticator.LoadConfig(o.config)
	if err != nil {
		return nil, err
	}
	o.applyClusterID(cfg)
	return cfg, nil
}

// loadOrDefault is load, or the defaults (plus -i) when no file is given, as the official
// commands allow for init and verify.
func (o *rootOptions) loadOrDefault() (*authenticator.Config, error) {
	if o.config != "" {
		return o.load()
	}
	cfg, err := authenticator.ParseConfig(nil, "defaults")
	if err != nil {
		return nil, err
	}
	o.applyClusterID(cfg)
	return cfg, nil
}

func (o *rootOptions) applyClusterID(cfg *authenticator.Config) {
	if o.clusterID != "" {
		cfg.ClusterID = o.clusterID
	}
}

// options is the shape of the commands (kubectl's use_context.go): Complete fills in what the
// flags imply, Validate refuses bad input before anything is read or changed, Run does it.
type options interface {
	Complete(cmd *cobra.Command) error
	Validate() error
	Run(ctx context.Context) error
}

// runE is the cobra RunE of a command: Complete, Validate, Run. What Complete and Validate
// refuse is a usage error (exit code 2).
func runE(o options) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := o.Complete(cmd); err != nil {
			return clikit.WithCode(clikit.ExitUsage, err)
		}
		if err := o.Validate(); err != nil {
			return clikit.WithCode(clikit.ExitUsage, err)
		}
		return o.Run(cmd.Context())
	}
}
