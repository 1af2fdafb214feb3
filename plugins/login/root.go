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

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
)

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
}

// rootOptions are the flags and helpers shared by all subcommands.
type rootOptions struct {
	streams   Streams
	creds     credentials.Options
	endpoints cloud.Endpoints
	logLevel  string
	verbose   bool
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

// NewRootCommand returns the kubectl-ack_login command tree.
func NewRootCommand(streams Streams) *cobra.Command {
	return newRootCommand(streams, hooks{})
}

// Main runs the plugin with args and returns the process exit code.
// Errors go to stderr; on the credential path stdout carries nothing but
// the ExecCredential.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, Streams{In: stdin, Out: stdout, ErrOut: stderr}, hooks{})
}

func run(ctx context.Context, args []string, streams Streams, h hooks) int {
	cmd := newRootCommand(streams, h)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(streams.ErrOut, "Error: %v\n", err)
		return 1
	}
	return 0
}

func newRootCommand(streams Streams, h hooks) *cobra.Command {
	o := &rootOptions{streams: streams, hooks: h}
	o.creds.Endpoints = &o.endpoints
	if h.env != nil {
		o.creds.Env = h.env
	}
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
"credential-plugin get-token|get-credential --cluster-id ... --api-version ..." are accepted.`,
		Example: `  # Add a context for a cluster to ~/.kube/config and use it
  kubectl ack-login kubeconfig --cluster-id c0123456789abcdef0123456789abcdef
  kubectl get nodes

  # What kubectl runs (prints an ExecCredential)
  kubectl-ack_login --cluster-id c0123456789abcdef0123456789abcdef --api-version v1

  # Who am I to Alibaba Cloud?
  kubectl ack-login whoami -o yaml`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			lvl := o.logLevel
			if o.verbose {
				lvl = "debug"
			}
			l, err := newLogger(o.streams.ErrOut, lvl)
			if err != nil {
				return err
			}
			o.log = l
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return eo.run(cmd.Context(), "")
		},
	}
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetIn(streams.In)
	pf := cmd.PersistentFlags()
	o.creds.AddFlags(pf)
	o.endpoints.AddFlags(pf)
	pf.StringVar(&o.logLevel, "log-level", "", "Log level on stderr: error, warn, info or debug (env "+envLogLevel+"; default warn)")
	pf.BoolVarP(&o.verbose, "verbose", "v", false, "Log debug messages on stderr (same as --log-level debug)")
	// Accepted so that ack-ram-tool command lines keep working; nothing here prompts.
	pf.BoolVarP(&o.assumeYes, "assume-yes", "y", false, "Accepted for ack-ram-tool compatibility; nothing prompts")
	_ = pf.MarkHidden("assume-yes")
	if v, ok := o.lookupEnv(envLogLevel); ok && o.logLevel == "" {
		o.logLevel = v
	}

	eo.addFlags(cmd.Flags(), "")
	cmd.AddCommand(
		newGetCommand(o, "get-token", modeToken),
		newGetCommand(o, "get-credential", modeCertificate),
		newCredentialPluginCommand(o),
		newKubeconfigCommand(o),
		newWhoamiCommand(o),
		newCacheCommand(o),
		newVersionCommand(o),
	)
	return cmd
}

// newGetCommand builds the ack-ram-tool style `get-token` / `get-credential`
// aliases of the root credential command with the mode fixed.
func newGetCommand(o *rootOptions, name, mode string) *cobra.Command {
	eo := &execOptions{root: o}
	what := "a k8s-ack-v2 token"
	if mode == modeCertificate {
		what = "a client certificate"
	}
	cmd := &cobra.Command{
		Use:   name + " --cluster-id CLUSTER_ID",
		Short: "Print an ExecCredential with " + what + " (ack-ram-tool compatible)",
		Example: fmt.Sprintf(`  # kubeconfig exec args written by ack-ram-tool work unchanged with kubectl-ack_login:
  kubectl-ack_login credential-plugin %s --cluster-id c0123456789abcdef0123456789abcdef --api-version v1beta1`, name),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return eo.run(cmd.Context(), mode)
		},
	}
	eo.addFlags(cmd.Flags(), mode)
	return cmd
}

func newCredentialPluginCommand(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credential-plugin",
		Short: "ack-ram-tool compatible command group: get-token, get-credential, get-kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
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

func trimLower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
