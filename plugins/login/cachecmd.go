package login

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/plugins/login/cache"
)

func newCacheCommand(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the credential cache (~/.kube/cache/kubectl-ack)",
		Example: `  # Drop every cached token and certificate
  kubectl ack-login cache clear`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	var clusterID string
	clear := &cobra.Command{
		Use:   "clear [--cluster-id CLUSTER_ID]",
		Short: "Remove cached credentials, of one cluster or all",
		Long: `Remove cached tokens and certificates so that the next kubectl command gets fresh ones,
e.g. after changing a RAM policy or the identity a profile points at.`,
		Example: `  kubectl ack-login cache clear
  kubectl ack-login cache clear --cluster-id c0123456789abcdef0123456789abcdef`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := cache.DefaultDir(o.lookupEnv, "")
			if err != nil {
				return err
			}
			n, err := cache.Store{Dir: dir}.Clear(clusterID)
			if err != nil {
				return err
			}
			what := "all clusters"
			if clusterID != "" {
				what = "cluster " + clusterID
			}
			fmt.Fprintf(o.streams.Out, "Removed %d cached credential(s) for %s from %s\n", n, what, dir)
			return nil
		},
	}
	clear.Flags().StringVarP(&clusterID, "cluster-id", "c", "", "Only remove entries of this cluster")
	cmd.AddCommand(clear)
	return cmd
}
