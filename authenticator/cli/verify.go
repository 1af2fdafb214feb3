package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	clikit "github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// verifyOutput is what verify prints.
type verifyOutput struct {
	Authenticated bool                `json:"authenticated"`
	Identity      *identityOutput     `json:"identity,omitempty"`
	User          *authenticator.User `json:"user,omitempty"`
	Mapper        string              `json:"mapper,omitempty"`
	Rule          string              `json:"rule,omitempty"`
	Match         string              `json:"match,omitempty"`
	Reason        string              `json:"reason,omitempty"`
	// MappingChecked is false when no configuration file was given: only the token was verified.
	MappingChecked bool `json:"mappingChecked"`
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

// verifyOptions are the flags of verify.
type verifyOptions struct {
	*rootOptions
	ov     *overrides
	tok    string
	output *clikit.Output
	flags  *pflag.FlagSet
}

func newVerifyCommand(root *rootOptions) *cobra.Command {
	o := &verifyOptions{rootOptions: root, ov: &overrides{}, output: clikit.NewOutput(clikit.FormatText, clikit.FormatText, clikit.FormatJSON, clikit.FormatYAML)}
	cmd := &cobra.Command{
		Use:   "verify -t TOKEN|- -i CLUSTER_ID [-c FILE]",
		Short: "Verify a token with STS and show the identity (and, with -c, the Kubernetes user it maps to)",
		Long: `verify runs the server's checks for one token, for troubleshooting. As on the official add-on,
-t/--token and -i/--cluster-id are enough: the token is verified with STS and the identity is
printed. With -c FILE the configuration's backends map it too, as the server would (RAMIdentity
Mappings and the ConfigMap only with --kubeconfig). "--token -" reads the token from standard
input.

Exit status: 0 when the token is accepted, 3 when it is denied, 1 on an error, 2 for a bad
command line.`,
		Example: `  ack-ram-authenticator verify -t "$TOKEN" -i c0123456789abcdef
  kubectl ack-login --cluster-id C | jq -r .status.token | ack-ram-authenticator verify -c config.yaml --token - -o json`,
		RunE: runE(o),
	}
	o.ov.addSTSFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.tok, "token", "t", "", "the token (k8s-ack-v2....), or - to read it from standard input")
	o.output.AddFlags(cmd)
	return cmd
}

// Complete keeps the command's flags, whose overrides apply over the file.
func (o *verifyOptions) Complete(cmd *cobra.Command) error {
	o.flags = cmd.Flags()
	return nil
}

// Validate checks -o and that a token is given.
func (o *verifyOptions) Validate() error {
	if err := o.output.Validate(); err != nil {
		return err
	}
	if o.tok == "" {
		return errors.New("no token: pass -t/--token TOKEN or --token - to read it from standard input")
	}
	return nil
}

// Run verifies the token as the server would and prints the outcome; a denied token ends with
// ExitDenied.
func (o *verifyOptions) Run(ctx context.Context) error {
	tok, err := readToken(o.tok, o.stdin)
	if err != nil {
		return err
	}
	cfg, err := o.loadOrDefault()
	if err != nil {
		return err
	}
	mapping := o.config != ""
	if !mapping {
		// Only the token is checked: no backend needs a cluster or a file.
		cfg.Server.BackendMode, cfg.Server.Mappers = []string{authenticator.MapperMountedFile}, nil
	}
	o.ov.apply(o.flags, cfg)
	out, err := verifyWith(ctx, cfg, tok, mapping)
	if err != nil {
		return err
	}
	if err := printVerify(o.stdout, o.output.Name(), out); err != nil {
		return err
	}
	if !out.Authenticated && (mapping || out.Identity == nil) {
		return clikit.WithCode(ExitDenied, deniedError{reason: out.Reason})
	}
	return nil
}

// verifyWith starts the server's mappers for cfg and authenticates tok once.
func verifyWith(ctx context.Context, cfg *authenticator.Config, tok string, mapping bool) (verifyOutput, error) {
	kc, err := kubeConfig(cfg, false)
	if err != nil {
		return verifyOutput{}, err
	}
	srv, err := authenticator.NewServer(cfg, authenticator.Options{KubeConfig: kc, LookupEnv: os.LookupEnv})
	if err != nil {
		return verifyOutput{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Server.STSTimeout.Duration+30*time.Second)
	defer cancel()
	srv.StartMappers(ctx)
	if err := srv.WaitReady(ctx); err != nil {
		return verifyOutput{}, err
	}
	return verifyOutcome(srv.Auth.Authenticate(ctx, tok), mapping), nil
}

func readToken(tok string, stdin io.Reader) (string, error) {
	if tok == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
		if err != nil {
			return "", fmt.Errorf("read token from stdin: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		return "", errors.New("no token: pass -t/--token TOKEN or --token - to read it from standard input")
	}
	return tok, nil
}

// verifyOutcome turns an outcome into the output. Without mapping, a verified identity is the
// whole answer and the (empty) mapping's verdict is dropped.
func verifyOutcome(oc authenticator.Outcome, mapping bool) verifyOutput {
	out := verifyOutput{Authenticated: oc.User != nil, User: oc.User, Mapper: oc.Mapper, Reason: oc.Reason, MappingChecked: mapping}
	if id := oc.Identity; id != nil {
		out.Identity = identityOf(id)
		if !mapping {
			out.Authenticated, out.User, out.Mapper, out.Reason = true, nil, "", ""
		}
	}
	if oc.Rule != nil && mapping {
		out.Rule, out.Match = oc.Rule.Rule.Source, oc.Rule.Kind
	}
	return out
}

func identityOf(id *token.Identity) *identityOutput {
	return &identityOutput{AccountID: id.AccountID, ARN: id.ARN, CanonicalARN: id.CanonicalARN, PrincipalID: id.PrincipalID,
		UserID: id.UserID, SessionName: id.SessionName, AccessKeyID: id.AccessKeyID, IdentityType: id.IdentityType}
}

func printVerify(w io.Writer, format string, out verifyOutput) error {
	if format != clikit.FormatText {
		return clikit.PrintData(w, format, out)
	}
	if id := out.Identity; id != nil {
		fmt.Fprintf(w, "ARN:           %s\nCanonical ARN: %s\nAccount:       %s\nUser ID:       %s\nPrincipal ID:  %s\nAccess key:    %s\n",
			id.ARN, id.CanonicalARN, id.AccountID, id.UserID, id.PrincipalID, id.AccessKeyID)
		if id.SessionName != "" {
			fmt.Fprintf(w, "Session name:  %s\n", id.SessionName)
		}
	}
	switch {
	case out.User != nil:
		_, err := fmt.Fprintf(w, "Username:      %s\nUID:           %s\nGroups:        %s\nMapped by:     %s (%s, %s match)\n",
			out.User.Username, out.User.UID, strings.Join(out.User.Groups, ","), out.Mapper, out.Rule, out.Match)
		return err
	case out.Authenticated && !out.MappingChecked:
		_, err := fmt.Fprintln(w, "Mapping:       not checked (pass -c FILE to map the identity as the server would)")
		return err
	}
	_, err := fmt.Fprintf(w, "Denied:        %s\n", out.Reason)
	return err
}
