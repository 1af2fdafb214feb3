package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
)

// localKubeconfig is the file "init" writes in the current directory, as the official add-on
// does without ConfiguredInitDirectories (its example DaemonSet's init container moves it).
const localKubeconfig = "ack-ram-authenticator.kubeconfig"

// initOptions are the flags of init.
type initOptions struct {
	*rootOptions
	init authenticator.InitOptions
}

// Complete has nothing to derive.
func (o *initOptions) Complete(*cobra.Command) error { return nil }

// Validate has nothing to check before the file is read.
func (o *initOptions) Validate() error { return nil }

// Run writes the key, the certificate and the webhook kubeconfig where the configuration (or the
// ConfiguredInitDirectories gate) says.
func (o *initOptions) Run(context.Context) error {
	cfg, err := o.loadOrDefault()
	if err != nil {
		return err
	}
	configured := o.initIntoConfiguredDirs()
	target := *cfg
	if !configured {
		target.Server.StateDir, target.Server.GenerateKubeconfig = ".", localKubeconfig
	}
	res, err := authenticator.Init(&target, o.init)
	if err != nil {
		return err
	}
	o.printInit(res, cfg, configured)
	return nil
}

func newInitCommand(root *rootOptions) *cobra.Command {
	o := &initOptions{rootOptions: root}
	initOpts := &o.init
	cmd := &cobra.Command{
		Use:   "init [-c FILE] [-i CLUSTER_ID]",
		Short: "Create the serving key and certificate and the webhook kubeconfig for kube-apiserver",
		Long: `init writes key.pem (0600) and cert.pem, a self-signed certificate for localhost, 127.0.0.1,
server.address, server.hostname and every --hostname/--address, and the kubeconfig for
kube-apiserver --authentication-token-webhook-config-file. An existing certificate that is still
valid and covers the names is kept unless --force. "server" does the same on start.

Where: with -c FILE, into server.stateDir and server.generateKubeconfig. Without a file, into the
current directory (cert.pem, key.pem, ack-ram-authenticator.kubeconfig), as the official
add-on's init does; its example DaemonSet's init container then moves them into place.
--feature-gates=ConfiguredInitDirectories=true or =false chooses explicitly.`,
		Example: `  ack-ram-authenticator init -c /etc/ack-ram-authenticator/config.yaml
  ack-ram-authenticator init --cluster-id=c0123456789abcdef   # files in the current directory`,
		RunE: runE(o),
	}
	cmd.Flags().StringArrayVar(&initOpts.Hostnames, "hostname", nil, "extra DNS name for the certificate (repeatable; server.hostname is always included)")
	cmd.Flags().StringArrayVar(&initOpts.Addresses, "address", nil, "extra IP address for the certificate (repeatable)")
	cmd.Flags().StringVar(&initOpts.KeyType, "key-type", authenticator.KeyTypeECDSA, "key type: ecdsa (P-256) or rsa (3072)")
	cmd.Flags().BoolVar(&initOpts.Force, "force", false, "replace an existing valid certificate")
	return cmd
}

// initIntoConfiguredDirs decides where init writes: the ConfiguredInitDirectories gate when it
// is given, else the configured directories exactly when a configuration file is given.
func (o *rootOptions) initIntoConfiguredDirs() bool {
	set := ""
	if s, ok := o.gates.(fmt.Stringer); ok {
		set = s.String() // only the gates given on the command line
	}
	for _, kv := range strings.Split(set, ",") {
		if name, _, _ := strings.Cut(kv, "="); name == string(gateConfiguredInitDirectories) {
			return o.gates.Enabled(gateConfiguredInitDirectories)
		}
	}
	return o.config != ""
}

func (o *rootOptions) printInit(res *authenticator.InitResult, cfg *authenticator.Config, configured bool) {
	action := "kept existing"
	if res.Generated {
		action = "wrote"
	}
	fmt.Fprintf(o.stdout, "%s certificate %s (DNS %s; IP %s) and key %s\nwrote webhook kubeconfig %s\n",
		action, res.CertFile, strings.Join(res.DNSNames, ","), strings.Join(res.IPs, ","), res.KeyFile, res.Kubeconfig)
	if !configured {
		dir := cfg.Server.StateDir
		fmt.Fprintf(o.stdout, "copy %s and %s to %s, and %s to %s, on every control-plane node\n",
			res.CertFile, res.KeyFile, dir, res.Kubeconfig, cfg.Server.GenerateKubeconfig)
	}
	fmt.Fprintf(o.stdout, "configure kube-apiserver with --authentication-token-webhook-config-file=%s\n", filepath.Clean(cfg.Server.GenerateKubeconfig))
}
