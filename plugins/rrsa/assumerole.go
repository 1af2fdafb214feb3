package rrsa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/cli/kube"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// credentialsOutput is the -o json form of assume-role.
type credentialsOutput struct {
	AccessKeyID     string    `json:"accessKeyId"`
	AccessKeySecret string    `json:"accessKeySecret"`
	SecurityToken   string    `json:"securityToken"`
	Expiration      time.Time `json:"expiration"`
	AssumedRoleARN  string    `json:"assumedRoleArn,omitempty"`
	OIDCSubject     string    `json:"oidcSubject,omitempty"`
}

// assumeRoleOptions are the flags of assume-role and what Complete derives from them.
type assumeRoleOptions struct {
	*rootOptions
	role, oidcArn, tokenFile, serviceAccount, sessionName string
	showSecret                                            bool
	duration                                              time.Duration
	output                                                *cli.Output

	// saNamespace and saName split --service-account.
	saNamespace, saName string
}

// Complete splits --service-account.
func (o *assumeRoleOptions) Complete() error {
	if o.serviceAccount == "" {
		return nil
	}
	ns, name, ok := strings.Cut(o.serviceAccount, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("--service-account must be NAMESPACE/NAME, got %q", o.serviceAccount)
	}
	o.saNamespace, o.saName = ns, name
	return nil
}

// Validate checks the flag combinations and ARNs before anything is called.
func (o *assumeRoleOptions) Validate() error {
	if err := o.output.Validate(); err != nil {
		return err
	}
	switch {
	case o.role == "":
		return errors.New("-r/--role-arn is required")
	case o.serviceAccount != "" && o.tokenFile != "":
		return errors.New("use either --service-account or -t/--oidc-token-file, not both")
	case o.serviceAccount == "" && o.tokenFile == "":
		return errors.New("pass --service-account NAMESPACE/NAME, or -t/--oidc-token-file with -p/--oidc-provider-arn")
	case o.tokenFile != "" && o.oidcArn == "":
		return errors.New("-p/--oidc-provider-arn is required with -t/--oidc-token-file")
	}
	if o.oidcArn != "" {
		if _, err := arn.ParseOIDCProvider(o.oidcArn); err != nil {
			return fmt.Errorf("-p/--oidc-provider-arn: %w", err)
		}
	}
	if o.tokenFile != "" || strings.HasPrefix(strings.ToLower(o.role), "acs:") {
		if _, err := arn.ParseRole(o.role); err != nil {
			hint := ""
			if o.tokenFile != "" {
				hint = " (a role name works only with --service-account)"
			}
			return fmt.Errorf("-r/--role-arn must be a role ARN, acs:ram::<account>:role/<name>%s: %w", hint, err)
		}
	}
	return nil
}

// Run gets the token (from the file or the TokenRequest API), calls AssumeRoleWithOIDC and prints
// the credentials.
func (o *assumeRoleOptions) Run(ctx context.Context) error {
	roleARN, oidcArn, token, err := o.tokenAndARNs(ctx)
	if err != nil {
		return err
	}
	// AssumeRoleWithOIDC is anonymous: the signed OIDC token is the credential.
	sts, err := cloud.NewSTS(nil, o.endpoints)
	if err != nil {
		return fmt.Errorf("create STS client: %w", err)
	}
	res, err := sts.AssumeRoleWithOIDC(ctx, cloud.AssumeRoleWithOIDCInput{
		RoleARN: roleARN, OIDCProviderARN: oidcArn, OIDCToken: token,
		SessionName: o.sessionName, Duration: o.duration,
	})
	if err != nil {
		return fmt.Errorf("assume RAM role %s with OIDC provider %s: %w (is the service account associated with the role? see `kubectl ack-rrsa list-associations`)", roleARN, oidcArn, err)
	}
	return o.printCredentials(credentialsOutput{
		AccessKeyID: res.Credentials.AccessKeyID, AccessKeySecret: res.Credentials.AccessKeySecret,
		SecurityToken: res.Credentials.SecurityToken, Expiration: res.Credentials.Expiration.UTC(),
		AssumedRoleARN: res.AssumedRoleARN, OIDCSubject: res.OIDCSubject,
	})
}

func (o *assumeRoleOptions) tokenAndARNs(ctx context.Context) (roleARN, oidcArn, token string, err error) {
	if o.serviceAccount == "" {
		token, err = o.readToken()
		return o.role, o.oidcArn, token, err
	}
	s, err := o.newSession(ctx)
	if err != nil {
		return "", "", "", err
	}
	c, err := s.rrsaCluster(ctx)
	if err != nil {
		return "", "", "", err
	}
	provider, err := arn.ParseOIDCProvider(c.RRSA.OIDCArn)
	if err != nil {
		return "", "", "", fmt.Errorf("the OIDC provider ARN of cluster %s: %w", s.clusterID, err)
	}
	roleARN, oidcArn = o.role, o.oidcArn
	if oidcArn == "" {
		oidcArn = provider.String()
	}
	if _, perr := arn.ParseRole(roleARN); perr != nil {
		roleARN = arn.Role(provider.AccountID, o.role).String()
	}
	o.logf("Requesting a token for service account %s/%s", o.saNamespace, o.saName)
	kc, err := o.kubeClient()
	if err != nil {
		return "", "", "", err
	}
	token, err = rrsa.ServiceAccountToken(ctx, kc, o.saNamespace, o.saName)
	return roleARN, oidcArn, token, err
}

func (o *assumeRoleOptions) readToken() (string, error) {
	var b []byte
	var err error
	if o.tokenFile == "-" {
		b, err = io.ReadAll(io.LimitReader(o.streams.In, 1<<20))
	} else {
		b, err = os.ReadFile(o.tokenFile)
	}
	if err != nil {
		return "", fmt.Errorf("read OIDC token: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("the OIDC token from %s is empty", o.tokenFile)
	}
	return token, nil
}

func newAssumeRoleCommand(root *rootOptions) *cobra.Command {
	o := &assumeRoleOptions{rootOptions: root, duration: time.Hour,
		output: cli.NewOutput(cli.FormatText, cli.FormatText, cli.FormatJSON, cli.FormatYAML, cli.FormatEnv, cli.FormatJSONPath)}
	cmd := &cobra.Command{
		Use:   "assume-role",
		Short: "Get STS credentials for a RAM role with a service account's OIDC token",
		Long: `Call STS AssumeRoleWithOIDC with a service account token, proving that RRSA works.

Either pass a token file (as a pod would): -r ROLE_ARN -p OIDC_PROVIDER_ARN -t TOKEN_FILE ("-"
reads stdin); or let the command mint a token for --service-account NS/NAME in the current
cluster through the TokenRequest API (audience sts.aliyuncs.com); then -r may be a role name and
the OIDC provider comes from the cluster.

The text output is for people: the secret and security token are masked unless --show-secret
is given. -o json, yaml, env and jsonpath= are for scripts and print everything in full (-o env
as "export" lines meant for eval).`,
		Example: `  kubectl ack-rrsa assume-role --service-account default/my-app -r my-role
  kubectl ack-rrsa assume-role -r acs:ram::123:role/my-role -p acs:ram::123:oidc-provider/ack-rrsa-c01 -t /var/run/secrets/tokens/token
  eval "$(kubectl ack-rrsa assume-role --service-account default/my-app -r my-role -o env)"
  kubectl ack-rrsa assume-role --service-account default/my-app -r my-role -o jsonpath='{.securityToken}'`,
		RunE: runE(o),
	}
	f := cmd.Flags()
	f.StringVarP(&o.role, "role-arn", "r", "", "RAM role ARN (or, with --service-account, a role name)")
	f.StringVarP(&o.oidcArn, "oidc-provider-arn", "p", "", "OIDC provider ARN (default with --service-account: the cluster's)")
	f.StringVarP(&o.tokenFile, "oidc-token-file", "t", "", `OIDC token file; "-" reads stdin`)
	f.StringVar(&o.serviceAccount, "service-account", "", "Mint a token for NAMESPACE/NAME in the current cluster")
	_ = cmd.RegisterFlagCompletionFunc("service-account", completeServiceAccountRef(root))
	f.StringVar(&o.sessionName, "role-session-name", "kubectl-ack-rrsa", "Role session name")
	f.DurationVar(&o.duration, "duration", o.duration, "Lifetime of the STS credentials")
	f.BoolVar(&o.showSecret, "show-secret", false, "Print the access key secret and security token in full in the text output")
	o.output.AddFlags(cmd)
	return cmd
}

// printCredentials writes the credentials: the data formats (json, yaml, env, jsonpath=) in full
// (they are for scripts), the text form masked unless --show-secret.
func (o *assumeRoleOptions) printCredentials(c credentialsOutput) error {
	w := o.streams.Out
	switch {
	case o.output.Name() == cli.FormatEnv:
		_, err := fmt.Fprintf(w, "export ALIBABA_CLOUD_ACCESS_KEY_ID=%s\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\nexport ALIBABA_CLOUD_SECURITY_TOKEN=%s\n",
			shellQuote(c.AccessKeyID), shellQuote(c.AccessKeySecret), shellQuote(c.SecurityToken))
		return err
	case o.output.IsData():
		return printData(w, o.output, c)
	}
	if !o.showSecret {
		c.AccessKeySecret = mask(c.AccessKeySecret)
		c.SecurityToken = mask(c.SecurityToken)
	}
	_, err := fmt.Fprintf(w, "AccessKeyId:      %s\nAccessKeySecret:  %s\nSecurityToken:    %s\nExpiration:       %s\n",
		c.AccessKeyID, c.AccessKeySecret, c.SecurityToken, c.Expiration.Format(time.RFC3339))
	if err == nil && c.AssumedRoleARN != "" {
		_, err = fmt.Fprintf(w, "AssumedRoleArn:   %s\n", c.AssumedRoleARN)
	}
	return err
}

// completeServiceAccountRef completes --service-account NAMESPACE/NAME: namespaces (with the
// "/") first, then the service accounts of the namespace typed.
func completeServiceAccountRef(root *rootOptions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ns, name, ok := strings.Cut(prefix, "/")
		if !ok {
			names, dir := kube.CompleteNamespaces(root.configFlags)(cmd, args, prefix)
			for i := range names {
				names[i] += "/"
			}
			return names, dir | cobra.ShellCompDirectiveNoSpace
		}
		names, dir := kube.CompleteServiceAccounts(root.configFlags, func() string { return ns })(cmd, args, name)
		for i := range names {
			names[i] = ns + "/" + names[i]
		}
		return names, dir
	}
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
