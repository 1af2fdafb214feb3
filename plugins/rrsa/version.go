package rrsa

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

func newVersionCommand(o *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of kubectl-ack_rrsa",
		Example: "  kubectl ack-rrsa version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(o.streams.Out, "kubectl-ack_rrsa %s\n", version.String())
			return err
		},
	}
}
