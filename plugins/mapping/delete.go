package mapping

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// deleteOptions are the flags of delete.
type deleteOptions struct {
	*rootOptions
	arn    string
	yes    bool
	dryRun cli.DryRun

	names []string // the mappings named on the command line
	key   string   // canonical key of --arn
}

// Complete reads the mapping names (as kubectl names objects, so 'list -o name' output works)
// and canonicalises --arn.
func (o *deleteOptions) Complete(_ *cobra.Command, args []string) error {
	names, err := objectNames(args)
	if err != nil {
		return err
	}
	o.names = names
	if o.arn != "" {
		stored, _, err := normalizeARN("--arn", o.arn)
		if err != nil {
			return err
		}
		o.arn, o.key = stored, arn.CanonicalKey(stored)
	}
	return nil
}

// Validate checks that names or --arn (one of them) are given, and that the confirmation can
// be answered: without a terminal, -y is needed before anything is read.
func (o *deleteOptions) Validate() error {
	if (len(o.names) == 0) == (o.arn == "") {
		return errors.New("give mapping names or --arn ARN (one of them), e.g. 'kubectl ack-map delete NAME' or 'kubectl ack-map delete --arn acs:ram::123456789012:role/dev'")
	}
	return o.confirmer(o.yes).Check()
}

// Run finds every mapping to delete (all named ones must exist), asks once, and deletes them.
func (o *deleteOptions) Run(ctx context.Context) error {
	a, err := o.api()
	if err != nil {
		return err
	}
	victims, err := o.victims(ctx, a)
	if err != nil {
		return err
	}
	if err := o.confirm(ctx, victims); err != nil {
		return err
	}
	for _, m := range victims {
		if err := o.deleteOne(ctx, a, m); err != nil {
			return err
		}
	}
	return nil
}

// victims returns the mappings to delete: the named ones, or those of --arn's identity.
func (o *deleteOptions) victims(ctx context.Context, a *api) ([]v1alpha1.RAMIdentityMapping, error) {
	if o.key != "" {
		all, err := a.listAll(ctx)
		if err != nil {
			return nil, err
		}
		victims := byKey(all, o.key)
		if len(victims) == 0 {
			return nil, fmt.Errorf("no mapping maps %s (see 'kubectl ack-map list')", o.arn)
		}
		return victims, nil
	}
	var victims []v1alpha1.RAMIdentityMapping
	for _, n := range o.names {
		m, err := a.get(ctx, n)
		if err != nil {
			return nil, err
		}
		victims = append(victims, *m)
	}
	return victims, nil
}

// confirm lists the mappings and asks one question (unless -y).
func (o *deleteOptions) confirm(ctx context.Context, victims []v1alpha1.RAMIdentityMapping) error {
	c := o.confirmer(o.yes)
	if c.Yes {
		return nil
	}
	for _, m := range victims {
		fmt.Fprintf(o.streams.ErrOut, "  %s (%s)\n", m.Name, describeSpec(m.Spec))
	}
	if err := c.Confirm(ctx, fmt.Sprintf("Delete %d mapping(s)?", len(victims))); err != nil {
		if errors.Is(err, cli.ErrDeclined) {
			return errors.New("aborted: nothing was deleted")
		}
		return fmt.Errorf("aborted: nothing was deleted: %w", err)
	}
	return nil
}

// deleteOne deletes m unless it changed identity meanwhile, and says so.
func (o *deleteOptions) deleteOne(ctx context.Context, a *api, m v1alpha1.RAMIdentityMapping) error {
	if o.dryRun != cli.DryRunClient {
		uid := m.UID
		err := a.mappings().Delete(ctx, m.Name, metav1.DeleteOptions{
			DryRun: dryRunOpts(o.dryRun),
			// Never delete a same-named object created after we looked.
			Preconditions: &metav1.Preconditions{UID: &uid},
		})
		if apierrors.IsNotFound(err) {
			fmt.Fprintf(o.streams.ErrOut, "%s was already deleted\n", resourceRef(m.Name))
			return nil
		}
		if err != nil {
			return a.wrap(err, fmt.Sprintf("delete mapping %q", m.Name))
		}
	}
	_, err := fmt.Fprintf(o.streams.Out, "%s deleted%s\n", resourceRef(m.Name), dryRunSuffix(o.dryRun))
	return err
}

func newDeleteCommand(root *rootOptions) *cobra.Command {
	o := &deleteOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "delete (NAME... | --arn ARN) [--yes]",
		Short: "Delete RAMIdentityMappings by name or by ARN",
		Long: `Delete RAMIdentityMappings, named (NAME, or ramidentitymapping/NAME as 'list -o name'
prints) or all mappings of one identity (--arn, compared on the canonical ARN,
case-insensitively).

Deleting a mapping takes access away, so it is confirmed: on a terminal the command lists the
mappings and asks once; when stdin is not a terminal (scripts, CI) -y/--yes is required and the
command refuses without it, before it reads anything. Every named mapping is checked to exist
before any is deleted.`,
		Example: `  kubectl ack-map delete role-123456789012-dev-1a2b3c4d5e
  kubectl ack-map delete --arn acs:ram::123456789012:role/dev --yes
  kubectl ack-map delete old-a old-b --dry-run=server --yes
  kubectl ack-map list -o name | grep /team- | xargs kubectl ack-map delete --yes`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: root.completeNames,
		RunE:              runE(o),
	}
	cmd.Flags().StringVar(&o.arn, "arn", "", "Delete every mapping of this identity (same canonical ARN)")
	cli.AddYesFlag(cmd.Flags(), &o.yes)
	cli.AddDryRunFlag(cmd, &o.dryRun, true)
	return cmd
}
