package rrsa

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
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

type assumeRoleOptions struct {
	role, oidcArn, tokenFile, serviceAccount, sessionName, output string
	showSecret                                                    bool
	duration                                                      time.Duration
}

func newAssumeRoleCommand(o *rootOptions) *cobra.Command {
	a := assumeRoleOptions{duration: time.Hour}
	cmd := &cobra.Command{
		Use:   "assume-role",
		Short: "Get STS credentials for a RAM role with a service account's OIDC token",
		Long: `Call STS AssumeRoleWithOIDC with a service account token, proving that RRSA works.

Either pass a token file (as a pod would): -r ROLE_ARN -p OIDC_PROVIDER_ARN -t TOKEN_FILE ("-"
reads stdin); or let the command mint a token for --service-account NS/NAME in the current
cluster through the TokenRequest API (audience sts.aliyuncs.com); then -r may be a role name and
the OIDC provider comes from the cluster.

The secret and security token are masked unless --show-secret is given; -o env always prints
them, as "export" lines meant for eval.`,
		Example: `  kubectl ack-rrsa assume-role --service-account default/my-app -r my-role
  kubectl ack-rrsa assume-role -r acs:ram::123:role/my-role -p acs:ram::123:oidc-provider/ack-rrsa-c01 -t /var/run/secrets/tokens/token
  eval "$(kubectl ack-rrsa assume-role --service-account default/my-app -r my-role -o env)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateOutput(a.output, "", "text", "json", "env"); err != nil {
				return err
			}
			if a.role == "" {
				return fmt.Errorf("-r/--role-arn is required")
			}
			ctx := cmd.Context()
			var token string
			roleARN, oidcArn := a.role, a.oidcArn
			switch {
			case a.serviceAccount != "" && a.tokenFile != "":
				return fmt.Errorf("use either --service-account or -t/--oidc-token-file, not both")
			case a.serviceAccount != "":
				ns, name, ok := strings.Cut(a.serviceAccount, "/")
				if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
					return fmt.Errorf("--service-account must be NAMESPACE/NAME, got %q", a.serviceAccount)
				}
				s, err := o.newSession(ctx)
				if err != nil {
					return err
				}
				c, err := s.rrsaCluster(ctx)
				if err != nil {
					return err
				}
				if oidcArn == "" {
					oidcArn = c.RRSA.OIDCArn
				}
				if !strings.HasPrefix(roleARN, "acs:ram::") {
					acct, err := accountOf(c.RRSA.OIDCArn)
					if err != nil {
						return err
					}
					roleARN = fmt.Sprintf("acs:ram::%s:role/%s", acct, roleARN)
				}
				o.logf("Requesting a token for service account %s/%s", ns, name)
				if token, err = o.serviceAccountToken(ctx, ns, name); err != nil {
					return err
				}
			case a.tokenFile != "":
				if a.oidcArn == "" {
					return fmt.Errorf("-p/--oidc-provider-arn is required with -t/--oidc-token-file")
				}
				if !strings.HasPrefix(roleARN, "acs:ram::") {
					return fmt.Errorf("-r must be a role ARN (acs:ram::<account>:role/<name>) with -t/--oidc-token-file, got %q", roleARN)
				}
				var b []byte
				var err error
				if a.tokenFile == "-" {
					b, err = io.ReadAll(io.LimitReader(o.streams.In, 1<<20))
				} else {
					b, err = os.ReadFile(a.tokenFile)
				}
				if err != nil {
					return fmt.Errorf("read OIDC token: %w", err)
				}
				token = strings.TrimSpace(string(b))
				if token == "" {
					return fmt.Errorf("the OIDC token from %s is empty", a.tokenFile)
				}
			default:
				return fmt.Errorf("pass --service-account NAMESPACE/NAME, or -t/--oidc-token-file with -p/--oidc-provider-arn")
			}
			// AssumeRoleWithOIDC is anonymous: the signed OIDC token is the credential.
			sts, err := cloud.NewSTS(nil, o.endpoints)
			if err != nil {
				return fmt.Errorf("create STS client: %w", err)
			}
			res, err := sts.AssumeRoleWithOIDC(ctx, cloud.AssumeRoleWithOIDCInput{
				RoleARN: roleARN, OIDCProviderARN: oidcArn, OIDCToken: token,
				SessionName: a.sessionName, Duration: a.duration,
			})
			if err != nil {
				return fmt.Errorf("assume RAM role %s with OIDC provider %s: %w (is the service account associated with the role? see `kubectl ack-rrsa list-associations`)", roleARN, oidcArn, err)
			}
			out := credentialsOutput{
				AccessKeyID: res.Credentials.AccessKeyID, AccessKeySecret: res.Credentials.AccessKeySecret,
				SecurityToken: res.Credentials.SecurityToken, Expiration: res.Credentials.Expiration.UTC(),
				AssumedRoleARN: res.AssumedRoleARN, OIDCSubject: res.OIDCSubject,
			}
			return printCredentials(o.streams.Out, a.output, out, a.showSecret)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&a.role, "role-arn", "r", "", "RAM role ARN (or, with --service-account, a role name)")
	f.StringVarP(&a.oidcArn, "oidc-provider-arn", "p", "", "OIDC provider ARN (default with --service-account: the cluster's)")
	f.StringVarP(&a.tokenFile, "oidc-token-file", "t", "", `OIDC token file; "-" reads stdin`)
	f.StringVar(&a.serviceAccount, "service-account", "", "Mint a token for NAMESPACE/NAME in the current cluster")
	f.StringVar(&a.sessionName, "role-session-name", "kubectl-ack-rrsa", "Role session name")
	f.DurationVar(&a.duration, "duration", a.duration, "Lifetime of the STS credentials")
	f.BoolVar(&a.showSecret, "show-secret", false, "Print the access key secret and security token in full")
	f.StringVarP(&a.output, "output", "o", "", "Output format: text, json or env")
	return cmd
}

func printCredentials(w io.Writer, output string, c credentialsOutput, showSecret bool) error {
	if output == "env" {
		_, err := fmt.Fprintf(w, "export ALIBABA_CLOUD_ACCESS_KEY_ID=%s\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\nexport ALIBABA_CLOUD_SECURITY_TOKEN=%s\n",
			shellQuote(c.AccessKeyID), shellQuote(c.AccessKeySecret), shellQuote(c.SecurityToken))
		return err
	}
	if !showSecret {
		c.AccessKeySecret = mask(c.AccessKeySecret)
		c.SecurityToken = mask(c.SecurityToken)
	}
	if output == "json" {
		return printStructured(w, "json", c)
	}
	_, err := fmt.Fprintf(w, "AccessKeyId:      %s\nAccessKeySecret:  %s\nSecurityToken:    %s\nExpiration:       %s\n",
		c.AccessKeyID, c.AccessKeySecret, c.SecurityToken, c.Expiration.Format(time.RFC3339))
	if err == nil && c.AssumedRoleARN != "" {
		_, err = fmt.Fprintf(w, "AssumedRoleArn:   %s\n", c.AssumedRoleARN)
	}
	return err
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// accountOf extracts the account id from acs:ram::<account>:... ARNs.
func accountOf(arn string) (string, error) {
	rest, ok := strings.CutPrefix(arn, "acs:ram::")
	acct, _, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || acct == "" {
		return "", fmt.Errorf("cannot find the account id in ARN %q", arn)
	}
	return acct, nil
}
