package mapping

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

func newUpdateCommand(o *rootOptions) *cobra.Command {
	var (
		arnFlag, username, dryRun, output    string
		groups, addGroups, rmGroups, allowed []string
	)
	cmd := &cobra.Command{
		Use:   "update (NAME | --arn ARN) [--username USER] [--group GROUP]... [--add-group G] [--remove-group G]",
		Short: "Change the username or groups of a RAMIdentityMapping",
		Long: `Change the username and groups of one mapping, found by name or by the identity it maps.

--group replaces the whole group list (repeat it for several groups); --add-group and
--remove-group change it and are applied after --group. The result is validated like 'add'
(templates, reserved "system:" names) before it is sent; a concurrent change is retried on the
fresh object.`,
		Example: `  kubectl ack-map update role-123456789012-dev-1a2b3c4d5e --username 'dev:{{SessionNameRaw}}'
  kubectl ack-map update --arn acs:ram::123456789012:role/dev --add-group viewers --remove-group developers
  kubectl ack-map update --arn acs:ram::123456789012:user/alice --group admins --dry-run=server -o yaml`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: o.completeNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDryRun(dryRun); err != nil {
				return err
			}
			if err := checkOutput(output, outYAML, outJSON, outName); err != nil {
				return err
			}
			if (len(args) == 0) == (arnFlag == "") {
				return errors.New("give a mapping NAME or --arn ARN (one of them)")
			}
			f := cmd.Flags()
			if !f.Changed("username") && !f.Changed("group") && len(addGroups) == 0 && len(rmGroups) == 0 {
				return errors.New("nothing to change: give --username, --group, --add-group or --remove-group")
			}
			ctx := cmd.Context()
			a, err := o.api()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			} else {
				stored, _, err := normalizeARN("--arn", arnFlag)
				if err != nil {
					return err
				}
				all, err := a.listAll(ctx)
				if err != nil {
					return err
				}
				switch same := byKey(all, arn.CanonicalKey(stored)); len(same) {
				case 0:
					return fmt.Errorf("no mapping maps %s: create one with 'kubectl ack-map add --arn %s --username USER'", stored, stored)
				case 1:
					name = same[0].Name
				default:
					return fmt.Errorf("%d mappings map %s (%s): name the one to update", len(same), stored, names(same))
				}
			}
			var (
				result = resultConfigured
				out    *v1alpha1.RAMIdentityMapping
			)
			err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
				cur, err := a.get(ctx, name)
				if err != nil {
					return err
				}
				spec := cur.Spec
				if f.Changed("username") {
					spec.Username = username
				}
				if f.Changed("group") {
					spec.Groups = dedupe(groups)
				} else {
					spec.Groups = slices.Clone(spec.Groups)
				}
				for _, g := range addGroups {
					if !slices.Contains(spec.Groups, g) {
						spec.Groups = append(spec.Groups, g)
					}
				}
				spec.Groups = slices.DeleteFunc(spec.Groups, func(g string) bool { return slices.Contains(rmGroups, g) })
				if len(spec.Groups) == 0 {
					spec.Groups = nil
				}
				warnings, err := validateSpec(name, spec, allowed)
				if err != nil {
					return err
				}
				if specEqual(spec, cur.Spec) {
					result, out = resultUnchanged, forPrint(cur)
					return nil
				}
				for _, w := range warnings {
					o.warnf("%s", w)
				}
				obj := cur.DeepCopy()
				obj.Spec = spec
				if dryRun == dryRunClient {
					out = forPrint(obj)
					return nil
				}
				got, err := a.mappings().Update(ctx, obj, metav1.UpdateOptions{DryRun: dryRunOpts(dryRun)})
				if err != nil {
					return err
				}
				out = forPrint(got)
				return nil
			})
			if err != nil {
				return a.wrap(err, fmt.Sprintf("update mapping %q", name))
			}
			return o.printResult(output, out, result, dryRun)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&arnFlag, "arn", "", "Update the mapping of this identity (same canonical ARN)")
	fl.StringVar(&username, "username", "", "New Kubernetes username template")
	fl.StringArrayVarP(&groups, "group", "g", nil, "Replace the groups with these (repeatable)")
	fl.StringArrayVar(&addGroups, "add-group", nil, "Add a group (repeatable)")
	fl.StringArrayVar(&rmGroups, "remove-group", nil, "Remove a group (repeatable)")
	addDryRunFlag(cmd, &dryRun)
	addAllowReservedFlag(cmd, &allowed)
	addOutputFlag(cmd, &output, "", outYAML, outJSON, outName)
	return cmd
}
