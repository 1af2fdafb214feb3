package mapping

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// updateOptions are the flags of update.
type updateOptions struct {
	*rootOptions
	arn, username                        string
	groups, addGroups, rmGroups, allowed []string
	dryRun                               cli.DryRun
	output                               *cli.Output

	name                   string // the mapping named on the command line
	key                    string // canonical key of --arn
	setUsername, setGroups bool   // --username, --group given
}

// Complete reads the mapping name (as kubectl names objects), canonicalises --arn and notes
// which of --username and --group were given.
func (o *updateOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) == 1 {
		name, err := objectName(args[0])
		if err != nil {
			return err
		}
		o.name = name
	}
	if o.arn != "" {
		stored, _, err := normalizeARN("--arn", o.arn)
		if err != nil {
			return err
		}
		o.arn, o.key = stored, arn.CanonicalKey(stored)
	}
	o.setUsername, o.setGroups = cmd.Flags().Changed("username"), cmd.Flags().Changed("group")
	return nil
}

// Validate checks -o, that exactly one mapping is named and that something changes, and the
// templates and reserved names given, as add checks them.
func (o *updateOptions) Validate() error {
	if err := o.output.Validate(); err != nil {
		return err
	}
	if (o.name == "") == (o.arn == "") {
		return errors.New("give a mapping NAME or --arn ARN (one of them)")
	}
	if !o.setUsername && !o.setGroups && len(o.addGroups) == 0 && len(o.rmGroups) == 0 {
		return errors.New("nothing to change: give --username, --group, --add-group or --remove-group")
	}
	return o.validateGiven()
}

// validateGiven checks the username and groups on the command line before the mapping is read;
// the merged result is checked again before it is written.
func (o *updateOptions) validateGiven() error {
	if o.setUsername {
		if err := validateUsername(o.username); err != nil {
			return err
		}
	}
	return validateGroups(append(slices.Clone(o.groups), o.addGroups...), o.allowed)
}

// Run finds the mapping, applies the changes to the fresh object (retried on a conflict) and
// prints the result.
func (o *updateOptions) Run(ctx context.Context) error {
	a, err := o.api()
	if err != nil {
		return err
	}
	if o.name == "" {
		if o.name, err = o.nameByARN(ctx, a); err != nil {
			return err
		}
	}
	result, out := resultConfigured, (*v1alpha1.RAMIdentityMapping)(nil)
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		result, out, err = o.apply(ctx, a)
		return err
	})
	if err != nil {
		return a.wrap(err, fmt.Sprintf("update mapping %q", o.name))
	}
	return o.printResult(o.output, out, result, o.dryRun)
}

// nameByARN returns the name of the one mapping of --arn's identity.
func (o *updateOptions) nameByARN(ctx context.Context, a *api) (string, error) {
	all, err := a.listAll(ctx)
	if err != nil {
		return "", err
	}
	switch same := byKey(all, o.key); len(same) {
	case 0:
		return "", fmt.Errorf("no mapping maps %s: create one with 'kubectl ack-map add --arn %s --username USER'", o.arn, o.arn)
	case 1:
		return same[0].Name, nil
	default:
		return "", fmt.Errorf("%d mappings map %s (%s): name the one to update", len(same), o.arn, names(same))
	}
}

// apply reads the mapping, changes its spec as the flags say and writes it (unless nothing
// changes, or --dry-run=client).
func (o *updateOptions) apply(ctx context.Context, a *api) (string, *v1alpha1.RAMIdentityMapping, error) {
	cur, err := a.get(ctx, o.name)
	if err != nil {
		return "", nil, err
	}
	spec := o.changed(cur.Spec)
	warnings, err := validateSpec(o.name, spec, o.allowed)
	if err != nil {
		return "", nil, err
	}
	if specEqual(spec, cur.Spec) {
		return resultUnchanged, forPrint(cur), nil
	}
	for _, w := range warnings {
		o.warnf("%s", w)
	}
	obj := cur.DeepCopy()
	obj.Spec = spec
	if o.dryRun == cli.DryRunClient {
		return resultConfigured, forPrint(obj), nil
	}
	got, err := a.mappings().Update(ctx, obj, metav1.UpdateOptions{DryRun: dryRunOpts(o.dryRun)})
	if err != nil {
		return "", nil, err
	}
	return resultConfigured, forPrint(got), nil
}

// changed returns spec with the flags applied: --username, --group (replaces), then
// --add-group and --remove-group.
func (o *updateOptions) changed(spec v1alpha1.RAMIdentityMappingSpec) v1alpha1.RAMIdentityMappingSpec {
	if o.setUsername {
		spec.Username = o.username
	}
	if o.setGroups {
		spec.Groups = dedupe(o.groups)
	} else {
		spec.Groups = slices.Clone(spec.Groups)
	}
	for _, g := range o.addGroups {
		if !slices.Contains(spec.Groups, g) {
			spec.Groups = append(spec.Groups, g)
		}
	}
	spec.Groups = slices.DeleteFunc(spec.Groups, func(g string) bool { return slices.Contains(o.rmGroups, g) })
	if len(spec.Groups) == 0 {
		spec.Groups = nil
	}
	return spec
}

func newUpdateCommand(root *rootOptions) *cobra.Command {
	o := &updateOptions{rootOptions: root, output: newWriteOutput()}
	cmd := &cobra.Command{
		Use:   "update (NAME | --arn ARN) [--username USER] [--group GROUP]... [--add-group G] [--remove-group G]",
		Short: "Change the username or groups of a RAMIdentityMapping",
		Long: `Change the username and groups of one mapping, found by name (NAME, or
ramidentitymapping/NAME as 'list -o name' prints) or by the identity it maps.

--group replaces the whole group list (repeat it for several groups); --add-group and
--remove-group change it and are applied after --group. The result is validated like 'add'
(templates, reserved "system:" names) before it is sent; a concurrent change is retried on the
fresh object.`,
		Example: `  kubectl ack-map update role-123456789012-dev-1a2b3c4d5e --username 'dev:{{SessionNameRaw}}'
  kubectl ack-map update --arn acs:ram::123456789012:role/dev --add-group viewers --remove-group developers
  kubectl ack-map update --arn acs:ram::123456789012:user/alice --group admins --dry-run=server -o yaml`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: root.completeNames,
		RunE:              runE(o),
	}
	fl := cmd.Flags()
	fl.StringVar(&o.arn, "arn", "", "Update the mapping of this identity (same canonical ARN)")
	fl.StringVar(&o.username, "username", "", "New Kubernetes username template")
	fl.StringArrayVarP(&o.groups, "group", "g", nil, "Replace the groups with these (repeatable)")
	fl.StringArrayVar(&o.addGroups, "add-group", nil, "Add a group (repeatable)")
	fl.StringArrayVar(&o.rmGroups, "remove-group", nil, "Remove a group (repeatable)")
	cli.AddDryRunFlag(cmd, &o.dryRun, true)
	addAllowReservedFlag(cmd, &o.allowed)
	o.output.AddFlags(cmd)
	return cmd
}
