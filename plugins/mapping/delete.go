package mapping

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/prompt"
)

func newDeleteCommand(o *rootOptions) *cobra.Command {
	var (
		arnFlag, dryRun string
		yes             bool
	)
	cmd := &cobra.Command{
		Use:   "delete (NAME... | --arn ARN) [--yes]",
		Short: "Delete RAMIdentityMappings by name or by ARN",
		Long: `Delete RAMIdentityMappings, named or all mappings of one identity (--arn, compared on the
canonical ARN, case-insensitively).

Deleting a mapping takes access away, so it is confirmed: on a terminal the command asks; when
stdin is not a terminal (scripts, CI) -y/--yes is required and the command refuses without it.
Every named mapping is checked to exist before any is deleted.`,
		Example: `  kubectl ack-map delete role-123456789012-dev-1a2b3c4d5e
  kubectl ack-map delete --arn acs:ram::123456789012:role/dev --yes
  kubectl ack-map delete old-a old-b --dry-run=server --yes`,
		ValidArgsFunction: o.completeNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDryRun(dryRun); err != nil {
				return err
			}
			ctx := cmd.Context()
			if (len(args) == 0) == (arnFlag == "") {
				return errors.New("give mapping names or --arn ARN (one of them), e.g. 'kubectl ack-map delete NAME' or 'kubectl ack-map delete --arn acs:ram::123456789012:role/dev'")
			}
			a, err := o.api()
			if err != nil {
				return err
			}
			var victims []v1alpha1.RAMIdentityMapping
			if arnFlag != "" {
				stored, _, err := normalizeARN("--arn", arnFlag)
				if err != nil {
					return err
				}
				all, err := a.listAll(ctx)
				if err != nil {
					return err
				}
				if victims = byKey(all, arn.CanonicalKey(stored)); len(victims) == 0 {
					return fmt.Errorf("no mapping maps %s (see 'kubectl ack-map list')", stored)
				}
			} else {
				for _, n := range dedupe(args) {
					m, err := a.get(ctx, n)
					if err != nil {
						return err
					}
					victims = append(victims, *m)
				}
			}
			if err := o.confirmDelete(ctx, yes, victims); err != nil {
				return err
			}
			for _, m := range victims {
				if dryRun != dryRunClient {
					uid := m.UID
					err := a.mappings().Delete(ctx, m.Name, metav1.DeleteOptions{
						DryRun: dryRunOpts(dryRun),
						// Never delete a same-named object created after we looked.
						Preconditions: &metav1.Preconditions{UID: &uid},
					})
					if err != nil {
						if apierrors.IsNotFound(err) {
							fmt.Fprintf(o.streams.ErrOut, "%s was already deleted\n", resourceRef(m.Name))
							continue
						}
						return a.wrap(err, fmt.Sprintf("delete mapping %q", m.Name))
					}
				}
				fmt.Fprintf(o.streams.Out, "%s deleted%s\n", resourceRef(m.Name), dryRunSuffix(dryRun))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&arnFlag, "arn", "", "Delete every mapping of this identity (same canonical ARN)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "Do not ask for confirmation (required when stdin is not a terminal)")
	addDryRunFlag(cmd, &dryRun)
	return cmd
}

// confirmDelete asks on a terminal, and refuses without --yes elsewhere.
func (o *rootOptions) confirmDelete(ctx context.Context, yes bool, victims []v1alpha1.RAMIdentityMapping) error {
	if yes {
		return nil
	}
	if !o.stdinIsTerminal() {
		return errors.New("refusing to delete without confirmation: stdin is not a terminal, pass -y/--yes")
	}
	fmt.Fprintf(o.streams.ErrOut, "Delete %d mapping(s)?\n", len(victims))
	for _, m := range victims {
		fmt.Fprintf(o.streams.ErrOut, "  %s (%s)\n", m.Name, describeSpec(m.Spec))
	}
	ok, err := prompt.Confirm(ctx, o.streams.In, o.streams.ErrOut, "Delete them?")
	if err != nil {
		return fmt.Errorf("aborted: nothing was deleted: %w", err)
	}
	if ok {
		return nil
	}
	return errors.New("aborted: nothing was deleted")
}
