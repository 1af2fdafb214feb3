// Package login implements `kubectl ack-login` (binary kubectl-ack_login):
// the client-go exec credential plugin for ACK clusters, the kubeconfig
// writer that sets it up, `whoami`, the credential cache and version.
//
// kubectl runs this binary before the first API call of every process, so
// the credential path is kept lean: the binary links no client-go,
// apimachinery or cli-runtime package (Go runs every linked package's init
// at start, used or not). ExecCredential objects are plain encoding/json
// structs and kubeconfig files are edited with pkg/kubeconfig/kubefile,
// which follows kubectl's --kubeconfig / KUBECONFIG / ~/.kube/config rules.
//
// The other commands follow the shared conventions of internal/cli: usage
// lines that say "kubectl ack-login", -v as kubectl's verbosity, one -o flag
// object per command, --dry-run where something is written, "did you mean",
// exit codes 0 (ok), 1 (error), 2 (usage) and 130 (interrupted).
package login

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// DisplayName is how users call the plugin; usage lines and messages use it.
const DisplayName = "kubectl ack-login"

// Streams are the standard streams of a command.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// hooks are test seams; production code leaves them zero.
type hooks struct {
	// now replaces time.Now.
	now func() time.Time
	// env replaces os.LookupEnv for KUBERNETES_EXEC_INFO, KUBECACHEDIR and KUBECONFIG.
	env func(string) (string, bool)
	// terminal replaces the check whether stderr is a terminal (progress lines).
	terminal func(io.Writer) bool
	// completionTimeout replaces completionTimeout.
	completionTimeout time.Duration
}

// rootOptions are the flags and helpers shared by all subcommands.
type rootOptions struct {
	streams   Streams
	creds     credentials.Options
	endpoints cloud.Endpoints
	logLevel  string
	verbosity int
	assumeYes bool
	hooks     hooks
	log       *logger
}

func (o *rootOptions) now() time.Time {
	if o.hooks.now != nil {
		return o.hooks.now()
	}
	return time.Now()
}

func (o *rootOptions) lookupEnv(name string) (string, bool) {
	if o.hooks.env != nil {
		return o.hooks.env(name)
	}
	return os.LookupEnv(name)
}

func (o *rootOptions) getenv(name string) string {
	v, _ := o.lookupEnv(name)
	return v
}

// NewRootCommand returns the kubectl-ack_login command tree with the shared CLI conventions
// applied. Run it with cli.Execute after ServeCredentialRequest declined the arguments.
func NewRootCommand(streams Streams) *cobra.Command {
	return newRootCommand(streams, hooks{})
}

// ServeCredentialRequest answers the credential request kubectl makes before its first API call
// (flags only, or get-token / get-credential, with or without credential-plugin) and returns the
// exit code with ok=true. It builds no cobra command tree and installs no signal handler: both
// cost a noticeable share of a cache hit, and the default action of SIGINT (exit) is safe here
// because the cache is written atomically and its lock is released by the kernel. Anything else,
// including help and parse errors, returns ok=false: run NewRootCommand, which explains them.
// Errors go to stderr; stdout carries nothing but the ExecCredential.
func ServeCredentialRequest(ctx context.Context, args []string, streams Streams) (code int, ok bool) {
	return serveCredentialRequest(ctx, args, streams, hooks{})
}

func serveCredentialRequest(ctx context.Context, args []string, streams Streams, h hooks) (int, bool) {
	eo, ok := parseCredentialRequest(args, streams, h)
	if !ok {
		return 0, false
	}
	err := eo.root.Complete()
	if err == nil {
		err = eo.execute(ctx)
	}
	return cli.Report(streams.ErrOut, err, false), true
}

// parseCredentialRequest recognises a plain credential request (flags
// only, or get-token / get-credential with or without credential-plugin)
// and parses it with a bare flag set. Anything else, including help and
// parse errors, returns ok=false and is left to cobra, which explains
// errors and serves the other subcommands.
func parseCredentialRequest(args []string, streams Streams, h hooks) (eo *execOptions, ok bool) {
	fixedMode, rest := "", args
	switch {
	case len(args) >= 2 && args[0] == "credential-plugin" && args[1] == "get-token":
		fixedMode, rest = modeToken, args[2:]
	case len(args) >= 2 && args[0] == "credential-plugin" && args[1] == "get-credential":
		fixedMode, rest = modeCertificate, args[2:]
	case len(args) >= 1 && args[0] == "get-token":
		fixedMode, rest = modeToken, args[1:]
	case len(args) >= 1 && args[0] == "get-credential":
		fixedMode, rest = modeCertificate, args[1:]
	case len(args) >= 1 && strings.HasPrefix(args[0], "-"):
	default:
		return nil, false
	}
	o := newRootOptions(streams, h)
	eo = &execOptions{root: o, fixedMode: fixedMode}
	fs := pflag.NewFlagSet("kubectl-ack_login", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	o.addGlobalFlags(fs)
	eo.addFlags(fs)
	if err := fs.Parse(rest); err != nil || fs.NArg() > 0 {
		return nil, false
	}
	return eo, true
}

func newRootOptions(streams Streams, h hooks) *rootOptions {
	o := &rootOptions{streams: streams, hooks: h}
	o.creds.Endpoints = &o.endpoints
	if h.env != nil {
		o.creds.Env = h.env
	}
	return o
}

// addGlobalFlags registers the flags every command shares.
func (o *rootOptions) addGlobalFlags(fs *pflag.FlagSet) {
	o.creds.AddFlags(fs)
	o.endpoints.AddFlags(fs)
	fs.StringVar(&o.logLevel, "log-level", "", "Log level on stderr: error, warn, info or debug (ack-ram-tool's flag; env "+envLogLevel+"; default warn); -v=1 or more means debug")
	cli.AddVerbosityFlags(fs, &o.verbosity)
	// Accepted so that ack-ram-tool command lines keep working; nothing here prompts.
	fs.BoolVarP(&o.assumeYes, "assume-yes", "y", false, "Accepted for ack-ram-tool compatibility; nothing prompts")
	_ = fs.MarkHidden("assume-yes")
}

// Complete runs after flag parsing: it builds the logger from --log-level, -v and the
// environment.
func (o *rootOptions) Complete() error {
	l, err := newLogger(o.streams.ErrOut, o.logLevel, o.getenv(envLogLevel), o.verbosity)
	if err != nil {
		return err
	}
	o.log = l
	return nil
}

func newRootCommand(streams Streams, h hooks) *cobra.Command {
	o := newRootOptions(streams, h)
	eo := &execOptions{root: o}
	cmd := &cobra.Command{
		Use:   "kubectl-ack_login --cluster-id CLUSTER_ID [--mode token|certificate]",
		Short: "Log in to ACK clusters with your Alibaba Cloud RAM identity",
		Long: `kubectl ack-login is a client-go exec credential plugin for Alibaba Cloud ACK clusters.

Run without a subcommand (as kubectl does through the kubeconfig exec section) it prints an
ExecCredential on stdout and nothing else:
  token mode (default)   a k8s-ack-v2 token signed with your RAM credentials, verified by
                         ack-ram-authenticator in the cluster; valid 10 minutes; made locally.
  certificate mode       a client certificate from the Container Service API
                         (DescribeClusterUserKubeconfig), valid --expiration (default 3h).
Credentials are cached in ~/.kube/cache/kubectl-ack ($KUBECACHEDIR/kubectl-ack) until shortly
before they expire. The answer uses the apiVersion kubectl asks for in KUBERNETES_EXEC_INFO.

ack-ram-tool kubeconfigs keep working after changing only the command: the arguments
"credential-plugin get-token|get-credential --cluster-id ... --api-version ..." are accepted.

Exit codes: 0 ok, 1 error, 2 usage (a wrong flag or argument), 130 interrupted (Ctrl-C).`,
		Example: `  # Add a context for a cluster to ~/.kube/config and use it
  kubectl ack-login kubeconfig --cluster-id c0123456789abcdef0123456789abcdef
  kubectl get nodes

  # What kubectl runs (prints an ExecCredential); -v says where credentials came from
  kubectl-ack_login --cluster-id c0123456789abcdef0123456789abcdef --api-version v1 -v

  # Who am I to Alibaba Cloud?
  kubectl ack-login whoami -o yaml`,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return o.Complete()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return eo.execute(cmd.Context())
		},
	}
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetIn(streams.In)
	o.addGlobalFlags(cmd.PersistentFlags())
	eo.addFlags(cmd.Flags())
	cmd.AddCommand(
		newGetCommand(o, "get-token", modeToken),
		newGetCommand(o, "get-credential", modeCertificate),
		newCredentialPluginCommand(o),
		newClustersCommand(o),
		newKubeconfigCommand(o),
		newWhoamiCommand(o),
		newAuthCommand(o),
		newGetKubeconfigCommand(o),
		newExportCredentialsCommand(o),
		newCacheCommand(o),
		cli.NewVersionCommand(streams.Out, DisplayName),
	)
	cli.Setup(cmd, DisplayName, version.String())
	hintPositionals(cmd)
	o.registerCompletions(cmd)
	return cmd
}

// newGetCommand builds the ack-ram-tool style `get-token` / `get-credential`
// aliases of the root credential command with the mode fixed.
func newGetCommand(o *rootOptions, name, mode string) *cobra.Command {
	eo := &execOptions{root: o, fixedMode: mode}
	what := "a k8s-ack-v2 token"
	if mode == modeCertificate {
		what = "a client certificate"
	}
	cmd := &cobra.Command{
		Use:   name + " --cluster-id CLUSTER_ID",
		Short: "Print an ExecCredential with " + what + " (ack-ram-tool compatible)",
		Example: fmt.Sprintf(`  # kubeconfig exec args written by ack-ram-tool work unchanged with kubectl-ack_login:
  kubectl-ack_login credential-plugin %s --cluster-id c0123456789abcdef0123456789abcdef --api-version v1beta1`, name),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return eo.execute(cmd.Context())
		},
	}
	eo.addFlags(cmd.Flags())
	return cmd
}

func newCredentialPluginCommand(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential-plugin",
		Short: "ack-ram-tool compatible command group: get-token, get-credential, get-kubeconfig",
		Example: `  # The exec arguments of an ack-ram-tool kubeconfig, run by kubectl-ack_login
  kubectl-ack_login credential-plugin get-token --cluster-id c0123456789abcdef0123456789abcdef --api-version v1beta1`,
	}
	cmd.AddCommand(
		newGetCommand(o, "get-token", modeToken),
		newGetCommand(o, "get-credential", modeCertificate),
		newGetKubeconfigCommand(o),
	)
	return cmd
}

// changedFlags returns the "--name value" arguments for the flags of fs
// named in names that the user set, in the order of names.
func changedFlags(fs *pflag.FlagSet, names ...string) []string {
	var out []string
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil || !f.Changed {
			continue
		}
		if f.Value.Type() == "bool" {
			if f.Value.String() == "true" {
				out = append(out, "--"+n)
			}
			continue
		}
		out = append(out, "--"+n, f.Value.String())
	}
	return out
}

// usage marks err as a command-line mistake (exit code 2); nil stays nil.
func usage(err error) error { return cli.WithCode(cli.ExitUsage, err) }

func trimLower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
