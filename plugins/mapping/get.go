package mapping

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// completionTimeout bounds the cluster call behind name completion, so a dead cluster never
// hangs the shell.
const completionTimeout = 5 * time.Second

// completeNames completes mapping names (not yet given on the command line) from the cluster.
func (o *rootOptions) completeNames(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	a, err := o.api()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	all, err := a.listAll(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, m := range all {
		if strings.HasPrefix(m.Name, toComplete) && !slices.Contains(args, m.Name) {
			out = append(out, cobra.CompletionWithDesc(m.Name, m.Spec.ARN))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func newGetCommand(o *rootOptions, verb string) *cobra.Command {
	var arnFilter, output string
	cmd := &cobra.Command{
		Use:   "get [NAME...] [--arn ARN]",
		Short: "Show RAMIdentityMappings",
		Long: `Show RAMIdentityMappings, all of them or those named. --arn keeps the mappings of that
identity: those whose ARN has the same canonical form (case-insensitive; an assumed-role ARN is
its role). Which mapping would actually apply to an identity, globs included, is what
'kubectl ack-map explain' answers.

-o wide adds the canonical ARN and user id the authenticator records in the status.`,
		Example: `  kubectl ack-map get
  kubectl ack-map get role-123456789012-dev-1a2b3c4d5e -o yaml
  kubectl ack-map get --arn acs:ram::123456789012:assumed-role/dev/alice -o name`,
		ValidArgsFunction: o.completeNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.runGet(cmd.Context(), args, arnFilter, output)
		},
	}
	if verb == "list" {
		cmd.Use = "list [--arn ARN]"
		cmd.Aliases = []string{"ls"}
		cmd.Short = "List RAMIdentityMappings"
		cmd.Example = `  kubectl ack-map list
  kubectl ack-map list -o wide
  kubectl ack-map list --arn acs:ram::123456789012:role/dev -o json`
		cmd.Args = cobra.NoArgs
		cmd.ValidArgsFunction = cobra.NoFileCompletions
	}
	cmd.Flags().StringVar(&arnFilter, "arn", "", "Only mappings of this identity (same canonical ARN)")
	addOutputFlag(cmd, &output, outTable, outTable, outWide, outJSON, outYAML, outName)
	return cmd
}

func (o *rootOptions) runGet(ctx context.Context, args []string, arnFilter, output string) error {
	if err := checkOutput(output, outTable, outWide, outJSON, outYAML, outName); err != nil {
		return err
	}
	var key string
	if arnFilter != "" {
		stored, _, err := normalizeARN("--arn", arnFilter)
		if err != nil {
			return err
		}
		key = arn.CanonicalKey(stored)
	}
	a, err := o.api()
	if err != nil {
		return err
	}
	var ms []v1alpha1.RAMIdentityMapping
	if len(args) > 0 {
		for _, n := range args {
			m, err := a.get(ctx, n)
			if err != nil {
				return err
			}
			ms = append(ms, *m)
		}
	} else if ms, err = a.listAll(ctx); err != nil {
		return err
	}
	if key != "" {
		ms = byKey(ms, key)
	}
	return printMappings(o.streams.Out, o.streams.ErrOut, output, ms, len(args) == 1, time.Now())
}
