package login

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
)

// formatECS serves the ECS instance metadata document on a loopback port.
const formatECS = "ecs"

// exportOptions are the flags of export-credentials.
type exportOptions struct {
	root   *rootOptions
	output *cli.Output
	format string // -f/--format, ack-ram-tool's name for -o (its format names work too)
	serve  string
	args   []string

	kind string // a credentials.Export* constant or formatECS
}

func newExportCredentialsCommand(o *rootOptions) *cobra.Command {
	eo := &exportOptions{root: o, output: cli.NewOutput(credentials.ExportExec,
		credentials.ExportExec, credentials.ExportJSON, credentials.ExportEnv, credentials.ExportINI, formatECS)}
	cmd := &cobra.Command{
		Use:   "export-credentials [-o exec|json|env|ini|ecs] [--serve 127.0.0.1:PORT] [-- COMMAND [ARGS...]]",
		Short: "Hand the resolved Alibaba Cloud credentials to other programs (ack-ram-tool compatible)",
		Long: `Resolve credentials as the credential plugin does and export them:
  exec  the aliyun CLI External-mode process format {"mode","access_key_id",...} (the default;
        ack-ram-tool's aliyun-cli-config-json): process_command = "kubectl-ack_login export-credentials"
  json  the credentials URI / ECS metadata document {"Code","AccessKeyId",...,"Expiration"}
        (ack-ram-tool's aliyun-cli-uri-json and ecs-metadata-json)
  env   shell exports for the SDKs, the aliyun CLI and Terraform (environment-variables); with
        "-- COMMAND ARGS" runs the command with them in its environment instead of printing
  ini   a ~/.alibabacloud/credentials section (credential-file-ini)
  ecs   serves the json document like the ECS metadata service, on --serve (default a free
        127.0.0.1 port), until interrupted; point programs at it with the printed
        ALIBABA_CLOUD_CREDENTIALS_URI

-f/--format is ack-ram-tool's name for -o and also takes its format names (aliyun-cli-config-json,
aliyun-cli-uri-json, ecs-metadata-json, environment-variables, credential-file-ini).
--serve ADDR serves any format over HTTP on a loopback address. The output holds the secret:
anything that can read it, or reach the port, can act as you.`,
		Example: `  # Run a program with the credentials in its environment
  kubectl ack-login export-credentials --role-arn acs:ram::1234567890123456:role/dev -- aliyun sts GetCallerIdentity

  # Serve them to local programs, refreshed as they expire
  kubectl ack-login export-credentials -o ecs --serve 127.0.0.1:8765

  # Shell variables
  eval "$(kubectl ack-login export-credentials -o env)"`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := eo.Complete(cmd, args); err != nil {
				return err
			}
			if err := eo.Validate(); err != nil {
				return err
			}
			return eo.Run(cmd.Context())
		},
	}
	eo.output.AddFlags(cmd)
	cmd.Flags().StringVarP(&eo.format, "format", "f", "", "ack-ram-tool's name for -o; also takes its format names (e.g. environment-variables)")
	cmd.Flags().StringVarP(&eo.serve, "serve", "s", "", "Serve the credentials over HTTP on this loopback address (e.g. 127.0.0.1:8765) until interrupted")
	return cmd
}

// Complete picks the format: -o, or -f with ack-ram-tool's names; a command to run implies env.
func (eo *exportOptions) Complete(cmd *cobra.Command, args []string) error {
	eo.args = args
	fs := cmd.Flags()
	format := eo.output.Format
	switch {
	case fs.Changed("format") && fs.Changed("output"):
		return cli.UsageErrorf("-f/--format is another name for -o/--output: pass one")
	case fs.Changed("format"):
		format = eo.format
	case fs.Changed("output"):
		if err := eo.output.Validate(); err != nil {
			return err
		}
	case len(args) > 0:
		format = credentials.ExportEnv
	}
	if trimLower(format) == formatECS {
		eo.kind = formatECS
		if eo.serve == "" {
			eo.serve = "127.0.0.1:0"
		}
		return nil
	}
	kind, err := credentials.NormalizeExportFormat(format)
	if err != nil {
		return usage(fmt.Errorf("invalid --format: %w", err))
	}
	eo.kind = kind
	return nil
}

// Validate checks the serve address and the command.
func (eo *exportOptions) Validate() error {
	if len(eo.args) > 0 && (eo.kind != credentials.ExportEnv || eo.serve != "") {
		return cli.UsageErrorf("a command to run gets the credentials in its environment: use it with -o env (--format env) and without --serve")
	}
	if eo.serve == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(eo.serve)
	if err != nil {
		return cli.UsageErrorf("invalid --serve %q: %v (use e.g. 127.0.0.1:8765)", eo.serve, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return cli.UsageErrorf("invalid --serve %q: only loopback addresses (127.0.0.1, ::1, localhost) are allowed, since anyone who reaches the port gets the credentials", eo.serve)
	}
	return nil
}

// Run prints, serves or hands over the credentials.
func (eo *exportOptions) Run(ctx context.Context) error {
	o := eo.root
	res, err := o.creds.Resolve(ctx)
	if err != nil {
		return err
	}
	o.log.Debugf("credentials: %s", res.Source)
	if eo.serve != "" {
		return eo.runServer(ctx, res)
	}
	c, err := res.Get(ctx)
	if err != nil {
		return err
	}
	if len(eo.args) > 0 {
		return eo.runChild(ctx, c)
	}
	b, err := credentials.Export(c, eo.kind, o.now())
	if err != nil {
		return err
	}
	_, err = o.streams.Out.Write(b)
	return err
}

func (eo *exportOptions) runChild(ctx context.Context, c credentials.Credentials) error {
	o := eo.root
	child := exec.CommandContext(ctx, eo.args[0], eo.args[1:]...) // #nosec G204 -- the user's own command
	child.Env = append(os.Environ(), credentials.EnvVars(c)...)
	child.Stdin, child.Stdout, child.Stderr = o.streams.In, o.streams.Out, o.streams.ErrOut
	if err := child.Run(); err != nil {
		return fmt.Errorf("%s: %w", eo.args[0], err)
	}
	return nil
}

// handler serves the JSON document (json, ecs) or the chosen format at every path.
func (eo *exportOptions) handler(res *credentials.Resolved) http.Handler {
	o := eo.root
	if eo.kind == formatECS || eo.kind == credentials.ExportJSON {
		return credentials.MetadataHandler(res.Get, o.now)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := res.Get(r.Context())
		var b []byte
		if err == nil {
			b, err = credentials.Export(c, eo.kind, o.now())
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(b)
	})
}

func (eo *exportOptions) runServer(ctx context.Context, res *credentials.Resolved) error {
	o := eo.root
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", eo.serve)
	if err != nil {
		return fmt.Errorf("serve credentials: %w", err)
	}
	srv := &http.Server{Handler: eo.handler(res), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/"
	if eo.kind == formatECS || eo.kind == credentials.ExportJSON {
		fmt.Fprintf(o.streams.Out, "export ALIBABA_CLOUD_CREDENTIALS_URI=%s\n", url)
	} else {
		fmt.Fprintln(o.streams.Out, url)
	}
	fmt.Fprintf(o.streams.ErrOut, "Serving the credentials of %s on %s until interrupted (Ctrl-C).\n", res.Source, url)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve credentials: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !strings.Contains(err.Error(), "closed") {
		return fmt.Errorf("stop serving credentials: %w", err)
	}
	return nil
}
