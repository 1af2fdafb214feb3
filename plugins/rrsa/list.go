package rrsa

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
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
	roleName string
	output   *cli.Output
}

// Complete has nothing to derive: the flags are used as given.
func (o *listAssociationsOptions) Complete() error { return nil }

// Validate checks the flags.
func (o *listAssociationsOptions) Validate() error {
	if err := o.output.Validate(); err != nil {
		return err
	}
	return checkRoleName(o.roleName)
}

// Run lists the service accounts of the cluster the role trusts, in every form the trust policy
// may spell them (ack-ram-tool's statements, folded lists, patterns).
func (o *listAssociationsOptions) Run(ctx context.Context) error {
	out, err := o.associations(ctx)
	if err != nil {
		return err
	}
	switch o.output.Name() {
	case cli.FormatCustomColumns:
		// One row per service account, as kubectl prints one per item of a list.
		return printData(o.streams.Out, o.output, out.ServiceAccounts)
	case cli.FormatName:
		for _, r := range out.ServiceAccounts {
			fmt.Fprintln(o.streams.Out, r.String())
		}
		return nil
	}
	if o.output.IsData() {
		return printData(o.streams.Out, o.output, out)
	}
	if len(out.ServiceAccounts) == 0 {
		fmt.Fprintf(o.streams.ErrOut, "RAM role %q trusts no service account of cluster %s\n", o.roleName, out.ClusterID)
		return nil
	}
	return o.printTable(out)
}

// associations reads the role's trust policy and lists the cluster's service accounts in it.
func (o *listAssociationsOptions) associations(ctx context.Context) (*associationsOutput, error) {
	s, err := o.newSession(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.rrsaCluster(ctx)
	if err != nil {
		return nil, err
	}
	role, err := s.clients.RAM.GetRole(ctx, o.roleName)
	if err != nil {
		return nil, fmt.Errorf("get RAM role %q: %w", o.roleName, err)
	}
	pol, err := rrsa.ParsePolicy(role.AssumeRolePolicyDocument)
	if err != nil {
		return nil, fmt.Errorf("trust policy of RAM role %q: %w", o.roleName, err)
	}
	out := &associationsOutput{
		ClusterID: s.clusterID, RoleName: role.Name, RoleARN: role.ARN,
		OIDCProviderARN: c.RRSA.OIDCArn, Issuer: c.RRSA.Issuer,
		ServiceAccounts: rrsa.ListAssociations(pol, c.RRSA.OIDCArn, c.RRSA.Issuer),
	}
	if out.ServiceAccounts == nil {
		out.ServiceAccounts = []rrsa.ServiceAccountRef{}
	}
	return out, nil
}

// printTable prints the table; -o wide adds the oidc:sub value each row stands for.
func (o *listAssociationsOptions) printTable(out *associationsOutput) error {
	wide := o.output.Name() == cli.FormatWide
	tw := tabwriter.NewWriter(o.streams.Out, 0, 4, 3, ' ', 0)
	if !o.output.NoHeaders {
		header := "NAMESPACE\tSERVICE ACCOUNT\tMATCH"
		if wide {
			header += "\tOIDC SUBJECT"
		}
		fmt.Fprintln(tw, header)
	}
	for _, r := range out.ServiceAccounts {
		match := "exact"
		if r.Wildcard {
			match = "pattern"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s", r.Namespace, r.Name, match)
		if wide {
			fmt.Fprintf(tw, "\t%s", rrsa.Subject(r.Namespace, r.Name))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func newListAssociationsCommand(root *rootOptions) *cobra.Command {
	o := &listAssociationsOptions{rootOptions: root, output: cli.NewOutput(cli.FormatTable, tableFormats()...)}
	cmd := &cobra.Command{
		Use:   "list-associations",
		Short: "List the service accounts of this cluster a RAM role trusts",
		Long: `List the service accounts of this cluster a RAM role trusts, in whatever form the trust
policy spells them.

-o name prints NAMESPACE/NAME, as assume-role --service-account takes it. -o jsonpath= applies
to the -o json document; -o custom-columns= prints one row per service account (fields
namespace, name, wildcard).`,
		Example: `  kubectl ack-rrsa list-associations -r my-role
  kubectl ack-rrsa list-associations -r my-role -o json
  kubectl ack-rrsa list-associations -r my-role -o custom-columns=NS:.namespace,SA:.name --no-headers`,
		RunE: runE(o),
	}
	cmd.Flags().StringVarP(&o.roleName, "role-name", "r", "", "RAM role name")
	_ = cmd.MarkFlagRequired("role-name")
	_ = cmd.RegisterFlagCompletionFunc("role-name", cobra.NoFileCompletions)
	o.output.AddFlags(cmd)
	return cmd
}

// tableFormats are the -o values of the commands that print a table.
func tableFormats() []string {
	return []string{cli.FormatTable, cli.FormatWide, cli.FormatJSON, cli.FormatYAML, cli.FormatName, cli.FormatJSONPath, cli.FormatCustomColumns}
}
