package login

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/clusters"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
)

// registerCompletions adds the completion of flag values to the finished command tree (-o and
// --dry-run complete through internal/cli): --mode, --api-version, --credential-type, -f, and
// --cluster-id / --cluster from CS, cached briefly.
func (o *rootOptions) registerCompletions(root *cobra.Command) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	byFlag := map[string]cobra.CompletionFunc{
		"mode":        fixed(modeToken+"\tk8s-ack-v2 token, checked by ack-ram-authenticator", modeCertificate+"\tclient certificate from the CS API"),
		"api-version": fixed("v1", "v1beta1"),
		"cluster-id":  o.completeClusterIDs,
		"cluster":     o.completeClusterNames,
		"format": fixed(credentials.ExportExec, credentials.ExportJSON, credentials.ExportEnv, credentials.ExportINI, formatECS,
			"aliyun-cli-config-json", "aliyun-cli-uri-json", "ecs-metadata-json", "environment-variables", "credential-file-ini"),
	}
	_ = root.RegisterFlagCompletionFunc("credential-type", fixed(credentials.CredentialTypes()...))
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for name, fn := range byFlag {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fn)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func (o *rootOptions) completeClusterIDs(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel := o.completionContext(cmd)
	defer cancel()
	return o.clusterCompleter(ctx).IDs(ctx, completionScope(cmd), toComplete), cobra.ShellCompDirectiveNoFileComp
}

func (o *rootOptions) completeClusterNames(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel := o.completionContext(cmd)
	defer cancel()
	return o.clusterCompleter(ctx).Names(ctx, completionScope(cmd), toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completionContext bounds a whole completion, credential resolution included (a role or
// instance metadata source may need the network).
func (o *rootOptions) completionContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	timeout := o.hooks.completionTimeout
	if timeout <= 0 {
		timeout = clusters.DefaultCompletionTimeout
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, timeout)
}

// completionScope is the command's --region, when it has one.
func completionScope(cmd *cobra.Command) clusters.Scope {
	if f := cmd.Flags().Lookup("region"); f != nil {
		return clusters.Scope{RegionID: f.Value.String()}
	}
	return clusters.Scope{}
}

// clusterCompleter lists clusters for the identity the command line resolves to, through one CS
// attempt (no retries: completion must answer quickly), cached for a minute in the kubectl-ack
// cache directory, under the credential cache's trust rules (pkg/clusters.ForCredentials).
// Completion prints nothing but candidates: every failure just leaves them out.
func (o *rootOptions) clusterCompleter(ctx context.Context) clusters.Completer {
	c := clusters.ForCredentials(ctx, o.creds, o.endpoints, o.lookupEnv)
	c.Now, c.Timeout = o.now, o.hooks.completionTimeout
	return c
}
