package mapping

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// completionTimeout bounds the cluster call behind name completion, so a dead cluster never
// hangs the shell.
const completionTimeout = 5 * time.Second

// completeNames completes mapping names (not yet given on the command line) from the cluster of
// the current kube context; without a usable context, or when the cluster does not answer within
// completionTimeout, it suggests nothing.
func (o *rootOptions) completeNames(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	a, err := o.api()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	all, err := a.listAll(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	given, _ := objectNames(args)
	var out []cobra.Completion
	for _, m := range all {
		if strings.HasPrefix(m.Name, toComplete) && !slices.Contains(given, m.Name) {
			out = append(out, cobra.CompletionWithDesc(m.Name, m.Spec.ARN))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// getOptions are the flags of get and list.
type getOptions struct {
	*rootOptions
	arnFilter string
	output    *cli.Output

	names []string
	key   string // canonical key of --arn
}

// Complete reads the mapping names (as kubectl names objects) and canonicalises --arn.
func (o *getOptions) Complete(_ *cobra.Command, args []string) error {
	names, err := objectNames(args)
	if err != nil {
		return err
	}
	o.names = names
	if o.arnFilter != "" {
		stored, _, err := normalizeARN("--arn", o.arnFilter)
		if err != nil {
			return err
		}
		o.key = arn.CanonicalKey(stored)
	}
	return nil
}

// Validate checks -o.
func (o *getOptions) Validate() error { return o.output.Validate() }

// Run reads the named mappings (or all of them), keeps those of --arn, and prints them.
func (o *getOptions) Run(ctx context.Context) error {
	a, err := o.api()
	if err != nil {
		return err
	}
	var ms []v1alpha1.RAMIdentityMapping
	if len(o.names) > 0 {
		for _, n := range o.names {
			m, err := a.get(ctx, n)
			if err != nil {
				return err
			}
			ms = append(ms, *m)
		}
	} else if ms, err = a.listAll(ctx); err != nil {
		return err
	}
	if o.key != "" {
		ms = byKey(ms, o.key)
	}
	return printMappings(o.streams, o.output, ms, len(o.names) == 1, time.Now())
}

func newGetCommand(root *rootOptions, list bool) *cobra.Command {
	o := &getOptions{rootOptions: root, output: newGetOutput()}
	cmd := &cobra.Command{
		Use:   "get [NAME...] [--arn ARN]",
		Short: "Show RAMIdentityMappings",
		Long: `Show RAMIdentityMappings, all of them or those named (NAME, or ramidentitymapping/NAME as
'list -o name' prints). --arn keeps the mappings of that identity: those whose ARN has the same
canonical form (case-insensitive; an assumed-role ARN is its role). Which mapping would actually
apply to an identity, globs included, is what 'kubectl ack-map explain' answers.

-o wide adds the canonical ARN and user id the authenticator records in the status;
-o jsonpath=TEMPLATE and -o custom-columns=SPEC print fields as kubectl does.`,
		Example: `  kubectl ack-map get
  kubectl ack-map get role-123456789012-dev-1a2b3c4d5e -o yaml
  kubectl ack-map get --arn acs:ram::123456789012:assumed-role/dev/alice -o name
  kubectl ack-map get -o custom-columns=NAME:.metadata.name,ARN:.spec.arn --no-headers`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: root.completeNames,
		RunE:              runE(o),
	}
	if list {
		cmd.Use = "list [--arn ARN]"
		cmd.Aliases = []string{"ls"}
		cmd.Short = "List RAMIdentityMappings"
		cmd.Example = `  kubectl ack-map list
  kubectl ack-map list -o wide
  kubectl ack-map list --arn acs:ram::123456789012:role/dev -o json
  kubectl ack-map list -o name | xargs kubectl ack-map delete --yes`
		// Flags only: cli.Setup refuses a stray argument with a usage error.
		cmd.Args = nil
		cmd.ValidArgsFunction = cobra.NoFileCompletions
	}
	cmd.Flags().StringVar(&o.arnFilter, "arn", "", "Only mappings of this identity (same canonical ARN)")
	o.output.AddFlags(cmd)
	return cmd
}
