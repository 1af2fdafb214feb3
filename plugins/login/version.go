package login

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

func newVersionCommand(o *rootOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version",
		Example: "  kubectl ack-login version\n  kubectl ack-login version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "", "text":
				_, err := fmt.Fprintf(o.streams.Out, "kubectl-ack_login %s\n", version.String())
				return err
			case "json":
				b, err := json.Marshal(map[string]string{"version": version.Version, "commit": version.Commit, "date": version.Date})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(o.streams.Out, "%s\n", b)
				return err
			}
			return fmt.Errorf("invalid --output %q: use text or json", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "Output format: text or json")
	return cmd
}
