package rrsa

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// statusOutput is the -o json|yaml form of `status`.
type statusOutput struct {
	ClusterID        string   `json:"clusterId"`
	Enabled          bool     `json:"enabled"`
	OIDCProviderName string   `json:"oidcProviderName,omitempty"`
	OIDCProviderARN  string   `json:"oidcProviderArn,omitempty"`
	Issuer           string   `json:"issuer,omitempty"`
	Issuers          []string `json:"issuers,omitempty"`
	Audience         string   `json:"audience,omitempty"`
}

func newStatus(id string, c *cloud.Cluster) statusOutput {
	return statusOutput{
		ClusterID:        id,
		Enabled:          c.RRSA.Enabled,
		OIDCProviderName: c.RRSA.OIDCName,
		OIDCProviderARN:  c.RRSA.OIDCArn,
		Issuer:           c.RRSA.Issuer,
		Issuers:          c.RRSA.Issuers,
		Audience:         c.RRSA.Audience,
	}
}

func newStatusCommand(o *rootOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether RRSA is enabled and the cluster's OIDC provider",
		Example: `  kubectl ack-rrsa status
  kubectl ack-rrsa status -c c0123456789abcdef0123456789abcdef -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateOutput(output, "", "json", "yaml"); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := o.newSession(ctx)
			if err != nil {
				return err
			}
			c, err := s.cluster(ctx)
			if err != nil {
				return err
			}
			st := newStatus(s.clusterID, c)
			if output != "" {
				return printStructured(o.streams.Out, output, st)
			}
			tw := tabwriter.NewWriter(o.streams.Out, 0, 4, 2, ' ', 0)
			state := "disabled"
			if st.Enabled {
				state = "enabled"
			}
			fmt.Fprintf(tw, "Cluster:\t%s\n", st.ClusterID)
			fmt.Fprintf(tw, "RRSA feature:\t%s\n", state)
			if st.Enabled {
				fmt.Fprintf(tw, "OIDC Provider Name:\t%s\n", st.OIDCProviderName)
				fmt.Fprintf(tw, "OIDC Provider ARN:\t%s\n", st.OIDCProviderARN)
				fmt.Fprintf(tw, "OIDC Token Issuer:\t%s\n", st.Issuer)
				fmt.Fprintf(tw, "Audience:\t%s\n", st.Audience)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: json or yaml (default: human-readable)")
	return cmd
}
