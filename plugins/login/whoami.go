package login

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// identity is the output of whoami.
type identity struct {
	AccountID    string `json:"accountId"`
	IdentityType string `json:"identityType"`
	ARN          string `json:"arn"`
	PrincipalID  string `json:"principalId"`
	UserID       string `json:"userId,omitempty"`
	RoleID       string `json:"roleId,omitempty"`
	Source       string `json:"source"`
}

func newWhoamiCommand(o *rootOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show the Alibaba Cloud identity your credentials resolve to",
		Long: `Resolve credentials as the credential plugin does and ask STS GetCallerIdentity who they are:
account, identity type (Account, RAMUser, AssumedRoleUser), ARN, principal id, and the
credential source that supplied them.`,
		Example: `  kubectl ack-login whoami
  kubectl ack-login whoami --profile-name dev -o json
  kubectl ack-login whoami --role-arn acs:ram::1234567890123456:role/admin -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			res, err := o.creds.Resolve(ctx)
			if err != nil {
				return err
			}
			sts, err := cloud.NewSTS(res.Credential, o.endpoints)
			if err != nil {
				return err
			}
			ci, err := sts.GetCallerIdentity(ctx)
			if err != nil {
				return fmt.Errorf("ask STS who the credentials from %s are: %w", res.Source, err)
			}
			id := identity{AccountID: ci.AccountID, IdentityType: ci.IdentityType, ARN: ci.ARN,
				PrincipalID: ci.PrincipalID, UserID: ci.UserID, RoleID: ci.RoleID, Source: res.Source}
			return printIdentity(o.streams.Out, output, id)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "Output format: text, json or yaml")
	return cmd
}

func validateOutput(output string) error {
	switch output {
	case "text", "json", "yaml":
		return nil
	}
	return fmt.Errorf("invalid --output %q: use text, json or yaml", output)
}

func printIdentity(w io.Writer, output string, id identity) error {
	switch output {
	case "json":
		b, err := json.MarshalIndent(id, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(id)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows := [][2]string{{"Account", id.AccountID}, {"Identity type", id.IdentityType}, {"ARN", id.ARN}, {"Principal ID", id.PrincipalID}}
	if id.UserID != "" {
		rows = append(rows, [2]string{"User ID", id.UserID})
	}
	if id.RoleID != "" {
		rows = append(rows, [2]string{"Role ID", id.RoleID})
	}
	rows = append(rows, [2]string{"Source", id.Source})
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}
