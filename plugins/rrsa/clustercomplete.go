package rrsa

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/clusters"
)

// completeClusterIDs completes -c/--cluster-id with the clusters the command line's credentials
// can list in CS, in every region, as "ID<TAB>NAME (REGION, STATE)". The list is kept for a
// minute in the kubectl-ack cache directory, under its trust rules (pkg/clusters.ForCredentials,
// as ack-login does), and a slow or unreachable CS gives no suggestions within
// clusters.DefaultCompletionTimeout rather than a hung shell.
func (o *rootOptions) completeClusterIDs(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, clusters.DefaultCompletionTimeout)
	defer cancel()
	c := clusters.ForCredentials(ctx, o.creds, o.endpoints, os.LookupEnv)
	return c.IDs(ctx, clusters.Scope{}, prefix), cobra.ShellCompDirectiveNoFileComp
}
