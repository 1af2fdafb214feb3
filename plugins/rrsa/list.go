package rrsa

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// associationsOutput is the -o json|yaml form of list-associations.
type associationsOutput struct {
	ClusterID       string                   `json:"clusterId"`
	RoleName        string                   `json:"roleName"`
	RoleARN         string                   `json:"roleArn"`
	OIDCProviderARN string                   `json:"oidcProviderArn"`
	Issuer          string                   `json:"issuer"`
	ServiceAccounts []rrsa.ServiceAccountRef `json:"serviceAccounts"`
}

// listAssociationsOptions are the flags of list-associations.
type listAssociationsOptions struct {
	*rootOptions
	roleName, output string
}

// Validate checks the flags.
func (o *listAssociationsOptions) Validate() error {
	if err := validateOutput(o.output, "", "table", "json", "yaml"); err != nil {
		return err
	}
	return checkRoleName(o.roleName)
}

// Run lists the service accounts of the cluster the role trusts, in every form the trust policy
// may spell them (ack-ram-tool's statements, folded lists, patterns).
func (o *listAssociationsOptions) Run(ctx context.Context) error {
	s, err := o.newSession(ctx)
	if err != nil {
		return err
	}
	c, err := s.rrsaCluster(ctx)
	if err != nil {
		return err
	}
	role, err := s.clients.RAM.GetRole(ctx, o.roleName)
	if err != nil {
		return fmt.Errorf("get RAM role %q: %w", o.roleName, err)
	}
	pol, err := rrsa.ParsePolicy(role.AssumeRolePolicyDocument)
	if err != nil {
		return fmt.Errorf("trust policy of RAM role %q: %w", o.roleName, err)
	}
	out := associationsOutput{
		ClusterID: s.clusterID, RoleName: role.Name, RoleARN: role.ARN,
		OIDCProviderARN: c.RRSA.OIDCArn, Issuer: c.RRSA.Issuer,
		ServiceAccounts: rrsa.ListAssociations(pol, c.RRSA.OIDCArn, c.RRSA.Issuer),
	}
	if out.ServiceAccounts == nil {
		out.ServiceAccounts = []rrsa.ServiceAccountRef{}
	}
	if o.output == "json" || o.output == "yaml" {
		return printStructured(o.streams.Out, o.output, out)
	}
	if len(out.ServiceAccounts) == 0 {
		fmt.Fprintf(o.streams.ErrOut, "RAM role %q trusts no service account of cluster %s\n", o.roleName, s.clusterID)
		return nil
	}
	tw := tabwriter.NewWriter(o.streams.Out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tSERVICE ACCOUNT\tMATCH")
	for _, r := range out.ServiceAccounts {
		match := "exact"
		if r.Wildcard {
			match = "pattern"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Namespace, r.Name, match)
	}
	return tw.Flush()
}

func newListAssociationsCommand(root *rootOptions) *cobra.Command {
	o := &listAssociationsOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "list-associations",
		Short: "List the service accounts of this cluster a RAM role trusts",
		Example: `  kubectl ack-rrsa list-associations -r my-role
  kubectl ack-rrsa list-associations -r my-role -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&o.roleName, "role-name", "r", "", "RAM role name")
	_ = cmd.MarkFlagRequired("role-name")
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "Output format: table, json or yaml")
	return cmd
}
