package cli

import (
	"context"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
)

// serverOptions are the flags of server.
type serverOptions struct {
	*rootOptions
	ov    *overrides
	flags *pflag.FlagSet
}

// Complete keeps the command's flags, whose overrides apply over the file.
func (o *serverOptions) Complete(cmd *cobra.Command) error {
	o.flags = cmd.Flags()
	return nil
}

// Validate has nothing to check before the file is read.
func (o *serverOptions) Validate() error { return nil }

// Run loads the configuration, prepares the state directory and serves until ctx ends.
func (o *serverOptions) Run(ctx context.Context) error {
	cfg, err := o.load()
	if err != nil {
		return err
	}
	o.ov.apply(o.flags, cfg)
	kc, err := kubeConfig(cfg, true)
	if err != nil {
		return err
	}
	srv, err := authenticator.NewServer(cfg, authenticator.Options{KubeConfig: kc, LookupEnv: os.LookupEnv})
	if err != nil {
		return err
	}
	return srv.Serve(ctx, nil)
}

func newServerCommand(root *rootOptions) *cobra.Command {
	o := &serverOptions{rootOptions: root, ov: &overrides{}}
	ov := o.ov
	cmd := &cobra.Command{
		Use:   "server -c FILE",
		Short: "Serve the token webhook (POST /authenticate, /healthz, /readyz, /metrics) over TLS",
		Long: `server serves the webhook on server.address:server.port. On start it does what "init" does:
it keeps a valid serving certificate in server.stateDir (or creates one) and writes the webhook
kubeconfig for kube-apiserver to server.generateKubeconfig. With --kubeconfig-pregenerated (or
server.kubeconfigPregenerated) it writes nothing and requires what "init" wrote.

Mappings come from the backends of --backend-mode / server.backendMode, asked in order:
MountedFile (the file's mapRoles, mapUsers, mapAccounts), ACKConfigMap (kube-system/
alibabacloud-auth), CRD (RAMIdentityMapping objects) and DynamicFile (server.dynamicfilepath,
reloaded on change). Without a list: MountedFile, then CRD when Kubernetes is reachable.`,
		Example: `  # The official example DaemonSet's arguments
  ack-ram-authenticator server --config=/etc/ack-ram-authenticator/config.yaml --state-dir=/var/ack-ram-authenticator --kubeconfig-pregenerated=true

  # Outside a pod, against a local emulator
  ack-ram-authenticator server -c config.yaml --kubeconfig admin.kubeconfig --sts-endpoint 127.0.0.1:8443 --sts-ca-file ca.pem`,
		RunE: runE(o),
	}
	ov.addSTSFlags(cmd.Flags())
	ov.addServerFlags(cmd.Flags())
	return cmd
}
