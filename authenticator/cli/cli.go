// Package cli holds the cobra commands of ack-ram-authenticator: server, init, verify, version.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// Main runs the command line with args and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Tests run several commands in one process with the same logging settings.
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged
	cmd := NewRootCommand(stdin, stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	klog.Flush()
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		var d deniedError
		if errors.As(err, &d) {
			return 2
		}
		return 1
	}
	return 0
}

// deniedError makes verify exit with 2 when the token is refused (1 is for usage errors).
type deniedError struct{ reason string }

func (d deniedError) Error() string { return "token denied: " + d.reason }

type rootOptions struct {
	config  string
	logging *logsapi.LoggingConfiguration
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
}

// NewRootCommand returns the ack-ram-authenticator command tree.
func NewRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &rootOptions{logging: logsapi.NewLoggingConfiguration(), stdin: stdin, stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "ack-ram-authenticator",
		Short: "Kubernetes token webhook for Alibaba Cloud RAM identities (ACK)",
		Long: `ack-ram-authenticator verifies k8s-ack-v2 tokens with STS GetCallerIdentity and maps the
RAM identity to a Kubernetes user and groups (config file mapRoles/mapUsers/mapAccounts and
RAMIdentityMapping objects). Run "init" once to create the serving certificate and the webhook
kubeconfig for kube-apiserver, then "server".`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if err := logsapi.ValidateAndApply(o.logging, nil); err != nil {
				return fmt.Errorf("logging flags: %w", err)
			}
			return nil
		},
	}
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.PersistentFlags().StringVarP(&o.config, "config", "c", "", "configuration file (YAML)")
	logsapi.AddFlags(o.logging, cmd.PersistentFlags())
	cmd.AddCommand(newServerCommand(o), newInitCommand(o), newVerifyCommand(o), newVersionCommand(o))
	return cmd
}

// overrides are the flags that override configuration file values.
type overrides struct {
	kubeconfig  string
	stsEndpoint string
	stsCAFile   string
	region      string
	address     string
	port        int
	stsTimeout  time.Duration
}

func (ov *overrides) addSTSFlags(fs *pflag.FlagSet) {
	fs.StringVar(&ov.kubeconfig, "kubeconfig", "", "kubeconfig for the CRD mapper (default: in-cluster configuration when running in a pod)")
	fs.StringVar(&ov.stsEndpoint, "sts-endpoint", "", "STS endpoint host[:port], always HTTPS (overrides server.stsEndpoint)")
	fs.StringVar(&ov.stsCAFile, "sts-ca-file", "", "PEM CA bundle trusted for STS in addition to the system pool (overrides server.stsCAFile)")
	fs.StringVar(&ov.region, "region", "", "region whose STS VPC endpoint sts-vpc.<region>.aliyuncs.com is used (overrides server.region)")
	fs.DurationVar(&ov.stsTimeout, "sts-timeout", 0, "timeout of one STS call (overrides server.stsTimeout, default 5s)")
}

// apply copies changed flags over the file's values.
func (ov *overrides) apply(fs *pflag.FlagSet, c *authenticator.Config) {
	if fs.Changed("sts-endpoint") {
		c.Server.STSEndpoint = ov.stsEndpoint
	}
	if fs.Changed("sts-ca-file") {
		c.Server.STSCAFile = ov.stsCAFile
	}
	if fs.Changed("region") {
		c.Server.Region = ov.region
		if !fs.Changed("sts-endpoint") {
			// An explicit region on the command line wins over an endpoint in the file.
			c.Server.STSEndpoint = ""
		}
	}
	if fs.Changed("sts-timeout") {
		c.Server.STSTimeout.Duration = ov.stsTimeout
	}
	if fs.Lookup("address") != nil && fs.Changed("address") {
		c.Server.Address = ov.address
	}
	if fs.Lookup("port") != nil && fs.Changed("port") {
		c.Server.Port = ov.port
	}
}

// kubeConfig returns the Kubernetes client configuration: --kubeconfig, else in-cluster when
// allowed and available, else nil.
func (ov *overrides) kubeConfig(inCluster bool) (*rest.Config, error) {
	if ov.kubeconfig != "" {
		rc, err := clientcmd.BuildConfigFromFlags("", ov.kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", ov.kubeconfig, err)
		}
		return rc, nil
	}
	if inCluster && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster Kubernetes configuration: %w", err)
		}
		return rc, nil
	}
	return nil, nil
}

func (o *rootOptions) load() (*authenticator.Config, error) {
	if o.config == "" {
		return nil, errors.New("no configuration file: pass -c/--config FILE")
	}
	return authenticator.LoadConfig(o.config)
}

func newServerCommand(o *rootOptions) *cobra.Command {
	ov := &overrides{}
	cmd := &cobra.Command{
		Use:   "server -c FILE",
		Short: "Serve the token webhook (POST /authenticate, /healthz, /readyz, /metrics) over TLS",
		Example: `  ack-ram-authenticator server -c /etc/ack-ram-authenticator/config.yaml
  ack-ram-authenticator server -c config.yaml --kubeconfig admin.kubeconfig --sts-endpoint 127.0.0.1:8443 --sts-ca-file ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.load()
			if err != nil {
				return err
			}
			ov.apply(cmd.Flags(), cfg)
			kc, err := ov.kubeConfig(true)
			if err != nil {
				return err
			}
			srv, err := authenticator.NewServer(cfg, authenticator.Options{KubeConfig: kc})
			if err != nil {
				return err
			}
			return srv.Serve(cmd.Context(), nil)
		},
	}
	ov.addSTSFlags(cmd.Flags())
	cmd.Flags().StringVar(&ov.address, "address", "", "listen address (overrides server.address, default 127.0.0.1)")
	cmd.Flags().IntVar(&ov.port, "port", 0, "listen port (overrides server.port, default 21362)")
	return cmd
}

func newInitCommand(o *rootOptions) *cobra.Command {
	var initOpts authenticator.InitOptions
	cmd := &cobra.Command{
		Use:   "init -c FILE",
		Short: "Create the serving key and certificate in server.stateDir and the webhook kubeconfig at server.generateKubeconfig",
		Long: `init writes key.pem (0600) and cert.pem, a self-signed certificate for localhost, 127.0.0.1,
server.address and every --hostname/--address, into server.stateDir, and the kubeconfig for
kube-apiserver --authentication-token-webhook-config-file into server.generateKubeconfig.
An existing certificate that is still valid and covers the names is kept unless --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.load()
			if err != nil {
				return err
			}
			res, err := authenticator.Init(cfg, initOpts)
			if err != nil {
				return err
			}
			action := "kept existing"
			if res.Generated {
				action = "wrote"
			}
			fmt.Fprintf(o.stdout, "%s certificate %s (DNS %s; IP %s) and key %s\nwrote webhook kubeconfig %s\n",
				action, res.CertFile, strings.Join(res.DNSNames, ","), strings.Join(res.IPs, ","), res.KeyFile, res.Kubeconfig)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&initOpts.Hostnames, "hostname", nil, "extra DNS name for the certificate (repeatable)")
	cmd.Flags().StringArrayVar(&initOpts.Addresses, "address", nil, "extra IP address for the certificate (repeatable)")
	cmd.Flags().StringVar(&initOpts.KeyType, "key-type", authenticator.KeyTypeECDSA, "key type: ecdsa (P-256) or rsa (3072)")
	cmd.Flags().BoolVar(&initOpts.Force, "force", false, "replace an existing valid certificate")
	return cmd
}

// verifyOutput is what verify prints.
type verifyOutput struct {
	Authenticated bool                `json:"authenticated"`
	Identity      *identityOutput     `json:"identity,omitempty"`
	User          *authenticator.User `json:"user,omitempty"`
	Mapper        string              `json:"mapper,omitempty"`
	Rule          string              `json:"rule,omitempty"`
	Match         string              `json:"match,omitempty"`
	Reason        string              `json:"reason,omitempty"`
}

type identityOutput struct {
	AccountID    string `json:"accountId"`
	ARN          string `json:"arn"`
	CanonicalARN string `json:"canonicalArn"`
	PrincipalID  string `json:"principalId"`
	UserID       string `json:"userId"`
	SessionName  string `json:"sessionName,omitempty"`
	AccessKeyID  string `json:"accessKeyId"`
	IdentityType string `json:"identityType,omitempty"`
}

func newVerifyCommand(o *rootOptions) *cobra.Command {
	ov := &overrides{}
	var tok, output string
	cmd := &cobra.Command{
		Use:   "verify -c FILE --token TOKEN|-",
		Short: "Verify a token with STS and show the identity and the Kubernetes user it maps to",
		Long: `verify runs the server's checks and mapping for one token, for troubleshooting. The static
mappings of the configuration file are used, and RAMIdentityMapping objects too when --kubeconfig
is given. "--token -" reads the token from standard input. Exit code 2 means the token was denied.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "", "text", "json", "yaml":
			default:
				return fmt.Errorf("-o %q: use text, json or yaml", output)
			}
			if tok == "-" {
				b, err := io.ReadAll(io.LimitReader(o.stdin, 64<<10))
				if err != nil {
					return fmt.Errorf("read token from stdin: %w", err)
				}
				tok = strings.TrimSpace(string(b))
			}
			if tok == "" {
				return errors.New("no token: pass --token TOKEN or --token - to read it from standard input")
			}
			cfg, err := o.load()
			if err != nil {
				return err
			}
			ov.apply(cmd.Flags(), cfg)
			kc, err := ov.kubeConfig(false)
			if err != nil {
				return err
			}
			srv, err := authenticator.NewServer(cfg, authenticator.Options{KubeConfig: kc})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), cfg.Server.STSTimeout.Duration+30*time.Second)
			defer cancel()
			srv.StartMappers(ctx)
			if err := srv.WaitReady(ctx); err != nil {
				return err
			}
			oc := srv.Auth.Authenticate(ctx, tok)
			out := verifyOutput{Authenticated: oc.User != nil, User: oc.User, Mapper: oc.Mapper, Reason: oc.Reason}
			if id := oc.Identity; id != nil {
				out.Identity = &identityOutput{AccountID: id.AccountID, ARN: id.ARN, CanonicalARN: id.CanonicalARN, PrincipalID: id.PrincipalID,
					UserID: id.UserID, SessionName: id.SessionName, AccessKeyID: id.AccessKeyID, IdentityType: id.IdentityType}
			}
			if oc.Rule != nil {
				out.Rule, out.Match = oc.Rule.Rule.Source, oc.Rule.Kind
			}
			if err := printVerify(o.stdout, output, out); err != nil {
				return err
			}
			if oc.User == nil {
				return deniedError{reason: oc.Reason}
			}
			return nil
		},
	}
	ov.addSTSFlags(cmd.Flags())
	cmd.Flags().StringVar(&tok, "token", "", "the token (k8s-ack-v2....), or - to read it from standard input")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or yaml")
	return cmd
}

func printVerify(w io.Writer, format string, out verifyOutput) error {
	switch format {
	case "json":
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(out)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if id := out.Identity; id != nil {
		fmt.Fprintf(w, "ARN:           %s\nCanonical ARN: %s\nAccount:       %s\nUser ID:       %s\nPrincipal ID:  %s\nAccess key:    %s\n",
			id.ARN, id.CanonicalARN, id.AccountID, id.UserID, id.PrincipalID, id.AccessKeyID)
		if id.SessionName != "" {
			fmt.Fprintf(w, "Session name:  %s\n", id.SessionName)
		}
	}
	if out.User != nil {
		fmt.Fprintf(w, "Username:      %s\nUID:           %s\nGroups:        %s\nMapped by:     %s (%s, %s match)\n",
			out.User.Username, out.User.UID, strings.Join(out.User.Groups, ","), out.Mapper, out.Rule, out.Match)
		return nil
	}
	_, err := fmt.Fprintf(w, "Denied:        %s\n", out.Reason)
	return err
}

func newVersionCommand(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(o.stdout, "ack-ram-authenticator "+version.String())
			return err
		},
	}
}
