package login

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
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

// whoamiOptions are the flags of whoami.
type whoamiOptions struct {
	root   *rootOptions
	output *cli.Output
}

func newWhoamiCommand(o *rootOptions) *cobra.Command {
	wo := &whoamiOptions{root: o, output: cli.NewOutput(cli.FormatText, cli.FormatText, cli.FormatJSON, cli.FormatYAML)}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show the Alibaba Cloud identity your credentials resolve to",
		Long: `Resolve credentials as the credential plugin does and ask STS GetCallerIdentity who they are:
account, identity type (Account, RAMUser, AssumedRoleUser), ARN, principal id, and the
credential source that supplied them. "auth whoami" is the same command (ack-ram-tool's name).`,
		Example: `  kubectl ack-login whoami
  kubectl ack-login whoami --profile-name dev -o json
  kubectl ack-login auth whoami --role-arn acs:ram::1234567890123456:role/admin -o yaml`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			wo.Complete()
			if err := wo.Validate(); err != nil {
				return err
			}
			return wo.Run(cmd.Context())
		},
	}
	wo.output.AddFlags(cmd)
	return cmd
}

// newAuthCommand is ack-ram-tool's `auth` group; its whoami is ours.
func newAuthCommand(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "auth",
		Short:   "ack-ram-tool compatible command group: whoami",
		Example: "  kubectl ack-login auth whoami",
	}
	cmd.AddCommand(newWhoamiCommand(o))
	return cmd
}

// Complete normalises -o (JSON works as json).
func (wo *whoamiOptions) Complete() { wo.output.Format = trimLower(wo.output.Format) }

// Validate checks the output format.
func (wo *whoamiOptions) Validate() error { return wo.output.Validate() }

// Run asks STS who the resolved credentials are and prints the answer.
func (wo *whoamiOptions) Run(ctx context.Context) error {
	o := wo.root
	res, err := o.creds.Resolve(ctx)
	if err != nil {
		return err
	}
	o.log.Debugf("credentials: %s", res.Source)
	ci, err := credentials.Whoami(ctx, res, o.endpoints)
	if err != nil {
		return err
	}
	id := identity{AccountID: ci.AccountID, IdentityType: ci.IdentityType, ARN: ci.ARN,
		PrincipalID: ci.PrincipalID, UserID: ci.UserID, RoleID: ci.RoleID, Source: res.Source}
	if wo.output.IsData() {
		return cli.PrintData(o.streams.Out, wo.output.Name(), id)
	}
	return printIdentity(o.streams.Out, id)
}

func printIdentity(w io.Writer, id identity) error {
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
