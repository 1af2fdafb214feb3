package mapping

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

func addAllowReservedFlag(cmd *cobra.Command, p *[]string) {
	cmd.Flags().StringArrayVar(p, "allow-reserved-group", nil, `Allow this "system:" group (e.g. system:masters); the authenticator must list it in server.allowedGroups too (repeatable)`)
	_ = cmd.RegisterFlagCompletionFunc("allow-reserved-group", cobra.FixedCompletions([]string{mapper.ReservedPrefix + "masters"}, cobra.ShellCompDirectiveNoFileComp))
}

// Help of "add" (kept out of newAddCommand to keep it short).
const (
	addLong = `Create a RAMIdentityMapping.

The ARN and the username/group templates are checked before anything is sent. Without --name
the object name is derived from the canonical ARN ("<type>-<account>-<name>-<hash>"), so every
spelling of the same identity gets the same name. A second mapping for the same canonical ARN
(compared case-insensitively; an assumed-role ARN counts as its role) is refused unless
--overwrite is given, which replaces the existing mapping in place. Usernames starting with
"system:" are refused, as the authenticator refuses them; "system:" groups need
--allow-reserved-group. A wildcard in the account id ("acs:ram::*:role/admin") matches that
name in every Alibaba Cloud account, including accounts you do not control: it needs
--allow-any-account, which sets spec.allowAnyAccount. --dry-run=client reads the cluster to
check for duplicates but writes nothing.`

	addExample = `  # Every session of role dev becomes dev:<session> in group developers
  kubectl ack-map add --arn acs:ram::123456789012:role/dev --username 'dev:{{SessionName}}' --group developers

  # A RAM user, shown before it is sent
  kubectl ack-map add --arn acs:ram::123456789012:user/alice --username alice --dry-run=client -o yaml

  # All roles whose name starts with ops-, as cluster admins
  kubectl ack-map add --arn 'acs:ram::123456789012:role/ops-*' --username 'ops:{{SessionName}}' \
    --group system:masters --allow-reserved-group system:masters

  # Role auditor of every account (a wildcard account must be allowed explicitly)
  kubectl ack-map add --arn 'acs:ram::*:role/auditor' --username 'auditor:{{AccountID}}' --allow-any-account`
)

// addOptions are the flags of add.
type addOptions struct {
	*rootOptions
	arn, username, name   string
	groups, allowed       []string
	overwrite, anyAccount bool
	dryRun                cli.DryRun
	output                *cli.Output

	spec     v1alpha1.RAMIdentityMappingSpec
	note     string // says that an assumed-role ARN stands for its role
	explicit bool   // --name was given
	warnings []string
}

// Complete stores the canonical form of --arn and derives the object name when --name is absent.
func (o *addOptions) Complete(*cobra.Command, []string) error {
	stored, note, err := normalizeARN("--arn", o.arn)
	if err != nil {
		return err
	}
	o.note = note
	o.spec = v1alpha1.RAMIdentityMappingSpec{ARN: stored, Username: o.username, Groups: dedupe(o.groups), AllowAnyAccount: o.anyAccount && arn.AccountIsGlob(stored)}
	o.explicit = o.name != ""
	if !o.explicit {
		o.name = DeriveName(stored)
	}
	return nil
}

// Validate checks -o, the name, a wildcard account and the spec as the authenticator will.
func (o *addOptions) Validate() error {
	if err := o.output.Validate(); err != nil {
		return err
	}
	if o.explicit {
		if err := validateName(o.name); err != nil {
			return err
		}
	}
	if err := checkAnyAccount(o.spec.ARN, o.anyAccount); err != nil {
		return err
	}
	warnings, err := validateSpec(o.name, o.spec, o.allowed)
	o.warnings = warnings
	return err
}

// Run creates the mapping, or replaces the one of the same identity with --overwrite.
func (o *addOptions) Run(ctx context.Context) error {
	if o.note != "" {
		fmt.Fprintln(o.streams.ErrOut, "Note: "+o.note)
	}
	o.noteAnyAccount(o.spec.ARN, o.anyAccount)
	for _, w := range o.warnings {
		o.warnf("%s", w)
	}
	a, err := o.api()
	if err != nil {
		return err
	}
	all, err := a.listAll(ctx)
	if err != nil {
		return err
	}
	result, obj, err := a.upsert(ctx, all, upsertRequest{name: o.name, explicitName: o.explicit, spec: o.spec, overwrite: o.overwrite, dryRun: o.dryRun})
	if err != nil {
		return err
	}
	return o.printResult(o.output, obj, result, o.dryRun)
}

func newAddCommand(root *rootOptions) *cobra.Command {
	o := &addOptions{rootOptions: root, output: newWriteOutput()}
	cmd := &cobra.Command{
		Use:     "add --arn ARN --username USER [--group GROUP]...",
		Short:   "Map a RAM user, role or account root (or a glob) to a Kubernetes user and groups",
		Long:    addLong,
		Example: addExample,
		RunE:    runE(o),
	}
	f := cmd.Flags()
	f.StringVar(&o.arn, "arn", "", "RAM ARN or ARN glob: acs:ram::<account>:user/<name>, role/<name> or root (required)")
	f.StringVar(&o.username, "username", "", "Kubernetes username template, e.g. 'dev:{{SessionName}}' (required)")
	f.StringArrayVarP(&o.groups, "group", "g", nil, "Kubernetes group template (repeatable)")
	f.StringVar(&o.name, "name", "", "Object name (default: derived from the canonical ARN)")
	f.BoolVar(&o.overwrite, "overwrite", false, "Replace an existing mapping of the same identity (or of the same name)")
	f.BoolVar(&o.anyAccount, "allow-any-account", false, `Allow a wildcard in the account id of --arn ("acs:ram::*:..."): the mapping then matches every Alibaba Cloud account`)
	cli.AddDryRunFlag(cmd, &o.dryRun, true)
	addAllowReservedFlag(cmd, &o.allowed)
	o.output.AddFlags(cmd)
	return cmd
}

// checkAnyAccount refuses an ARN pattern with a wildcard account id unless --allow-any-account
// is given.
func checkAnyAccount(pattern string, allowed bool) error {
	if arn.AccountIsGlob(pattern) && !allowed {
		return fmt.Errorf("--arn %s has a wildcard in its account id, so it would map identities of every Alibaba Cloud account, including accounts you do not control; "+
			"give the account id, or pass --allow-any-account if that is intended", pattern)
	}
	return nil
}

// noteAnyAccount says plainly how far a mapping with --allow-any-account reaches, or that the
// flag changes nothing.
func (o *rootOptions) noteAnyAccount(pattern string, allowed bool) {
	switch {
	case !allowed:
	case !arn.AccountIsGlob(pattern):
		fmt.Fprintf(o.streams.ErrOut, "Note: --allow-any-account has no effect: %s names one account\n", pattern)
	default:
		o.warnf("%s matches identities of ANY Alibaba Cloud account, including accounts you do not control (allowAnyAccount)", pattern)
	}
}

// printResult prints a written object with -o, or kubectl's one-line summary.
func (o *rootOptions) printResult(out *cli.Output, obj *v1alpha1.RAMIdentityMapping, result string, dryRun cli.DryRun) error {
	switch out.Name() {
	case cli.FormatName:
		_, err := fmt.Fprintln(o.streams.Out, resourceRef(obj.Name))
		return err
	case "":
		_, err := fmt.Fprintf(o.streams.Out, "%s %s%s\n", resourceRef(obj.Name), result, dryRunSuffix(dryRun))
		return err
	}
	return printObject(o.streams.Out, out, obj)
}

// dedupe drops repeated groups, keeping the first occurrence's position.
func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
