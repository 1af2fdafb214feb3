package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "ack-emulator",
		Short:         "Local emulator of the Alibaba Cloud STS, RAM and CS (ACK) APIs",
		Long:          "ack-emulator serves the STS, RAM and CS APIs over HTTPS on 127.0.0.1, verifying real request signatures.\nSee docs/emulator.md for the seed format, the admin API and fault injection.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServeCommand(stdout, stderr), newVersionCommand(stdout))
	return root
}

func newVersionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(stdout, version.String())
			return err
		},
	}
}

type serveOptions struct {
	addr     string
	seedFile string
	stateDir string
	logLevel string
	fleet    bool
}

func newServeCommand(stdout, stderr io.Writer) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the emulator until interrupted",
		Long: `Run the emulator until SIGINT or SIGTERM.

Once it listens, serve prints one JSON line on stdout with endpoint, caFile, accountId,
accessKeyId, accessKeySecret, userName, clusterId, regionId, adminToken, serviceAccountIssuer
and serviceAccountKeyFile. Point the SDKs at it with the endpoint and make them trust caFile
(SSL_CERT_FILE=<caFile>). A kube-apiserver started with --service-account-issuer and
--service-account-signing-key-file set to the last two issues tokens the emulator accepts for RRSA.`,
		Example: `  # Random port, default seed (one account, admin user, one running cluster)
  ack-emulator serve --addr 127.0.0.1:0

  # Keep the CA, credentials and cluster id across restarts
  ack-emulator serve --addr 127.0.0.1:18443 --state-dir .cache/emulator

  # Several clusters across regions, for kubectl ack-login clusters / kubeconfig --all
  ack-emulator serve --fleet

  # Start from a seed file
  ack-emulator serve --seed test/emulator-seed.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen address (host:port); port 0 picks a free port")
	f.StringVar(&o.seedFile, "seed", "", "seed file (YAML or JSON); default: one account, an admin user and one cluster")
	f.StringVar(&o.stateDir, "state-dir", "", "directory for the CA, serving certificate, generated seed and info.json (reused on restart)")
	f.StringVar(&o.logLevel, "log-level", "info", "stderr log level: debug, info, warn, error")
	f.BoolVar(&o.fleet, "fleet", false, "also serve seven clusters of the first account in four regions (two named prod-web; updating, initial and failed ones)")
	return cmd
}

func (o *serveOptions) run(ctx context.Context, stdout, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", o.logLevel)
	}
	cfg := emulator.Config{
		Addr:     o.addr,
		StateDir: o.stateDir,
		Fleet:    o.fleet,
		Logger:   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	if o.seedFile != "" {
		seed, err := emulator.LoadSeed(o.seedFile)
		if err != nil {
			return fmt.Errorf("%w (fix the file passed with --seed)", err)
		}
		cfg.Seed = seed
	}
	srv, err := emulator.New(cfg)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		_ = srv.Close()
		return err
	}
	b, err := json.Marshal(srv.Info())
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("encode info: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		_ = srv.Close()
		return fmt.Errorf("write info: %w", err)
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	return srv.Close()
}
