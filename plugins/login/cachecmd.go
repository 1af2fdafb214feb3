package login

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/plugins/login/cache"
)

func newCacheCommand(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the credential cache (~/.kube/cache/kubectl-ack)",
		Example: `  # Drop every cached token and certificate
  kubectl ack-login cache clear`,
	}
	cmd.AddCommand(newCacheClearCommand(o))
	return cmd
}

// cacheClearOptions are the flags of `cache clear`.
type cacheClearOptions struct {
	root      *rootOptions
	clusterID string
	dryRun    cli.DryRun

	dir string // set by Complete
}

func newCacheClearCommand(o *rootOptions) *cobra.Command {
	co := &cacheClearOptions{root: o}
	cmd := &cobra.Command{
		Use:   "clear [--cluster-id CLUSTER_ID]",
		Short: "Remove cached credentials, of one cluster or all",
		Long: `Remove cached tokens and certificates so that the next kubectl command gets fresh ones,
e.g. after changing a RAM policy or the identity a profile points at. Clearing everything also
drops the cluster list kept briefly for shell completion.`,
		Example: `  kubectl ack-login cache clear
  kubectl ack-login cache clear --cluster-id c0123456789abcdef0123456789abcdef

  # How many would go?
  kubectl ack-login cache clear --dry-run`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := co.Complete(); err != nil {
				return err
			}
			if err := co.Validate(cmd.Flags().Changed("cluster-id")); err != nil {
				return err
			}
			return co.Run()
		},
	}
	cmd.Flags().StringVarP(&co.clusterID, "cluster-id", "c", "", "Only remove entries of this cluster")
	cli.AddDryRunFlag(cmd, &co.dryRun, false)
	return cmd
}

// Complete finds the cache directory.
func (co *cacheClearOptions) Complete() error {
	co.clusterID = strings.TrimSpace(co.clusterID)
	dir, err := cache.DefaultDir(co.root.lookupEnv, "")
	co.dir = dir
	return err
}

// Validate refuses an empty --cluster-id: it would otherwise clear every cluster's entries.
func (co *cacheClearOptions) Validate(clusterIDGiven bool) error {
	if clusterIDGiven && co.clusterID == "" {
		return cli.UsageErrorf("--cluster-id is empty: name a cluster, or leave the flag out to clear every cluster")
	}
	return nil
}

// Run removes the entries (or, with --dry-run, counts them) and says how many.
func (co *cacheClearOptions) Run() error {
	store := cache.Store{Dir: co.dir}
	count, verb := store.Clear, "Removed"
	if co.dryRun == cli.DryRunClient {
		count, verb = store.Matching, "Dry run: would remove"
	}
	n, err := count(co.clusterID)
	if err != nil {
		return err
	}
	what := "all clusters"
	if co.clusterID != "" {
		what = "cluster " + co.clusterID
	}
	_, err = fmt.Fprintf(co.root.streams.Out, "%s %d cached credential(s) for %s from %s\n", verb, n, what, co.dir)
	return err
}
