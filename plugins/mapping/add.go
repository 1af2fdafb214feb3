package mapping

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

func addDryRunFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "dry-run", dryRunNone, `"client": print what would be sent, write nothing; "server": the API server validates and stores nothing; "none": write`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = dryRunClient
	_ = cmd.RegisterFlagCompletionFunc("dry-run", cobra.FixedCompletions([]string{dryRunNone, dryRunClient, dryRunServer}, cobra.ShellCompDirectiveNoFileComp))
}

func addAllowReservedFlag(cmd *cobra.Command, p *[]string) {
	cmd.Flags().StringArrayVar(p, "allow-reserved-group", nil, `Allow this "system:" group (e.g. system:masters); the authenticator must list it in server.allowedGroups too (repeatable)`)
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

func newAddCommand(o *rootOptions) *cobra.Command {
	var (
		arnFlag, username, name, dryRun, output string
		groups, allowed                         []string
		overwrite, anyAccount                   bool
	)
	cmd := &cobra.Command{
		Use:     "add --arn ARN --username USER [--group GROUP]...",
		Short:   "Map a RAM user, role or account root (or a glob) to a Kubernetes user and groups",
		Long:    addLong,
		Example: addExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDryRun(dryRun); err != nil {
				return err
			}
			if err := checkOutput(output, outYAML, outJSON, outName); err != nil {
				return err
			}
			stored, note, err := normalizeARN("--arn", arnFlag)
			if err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintln(o.streams.ErrOut, "Note: "+note)
			}
			if err := o.checkAnyAccount(stored, anyAccount); err != nil {
				return err
			}
			spec := v1alpha1.RAMIdentityMappingSpec{ARN: stored, Username: username, Groups: dedupe(groups), AllowAnyAccount: anyAccount && arn.AccountIsGlob(stored)}
			explicit := name != ""
			if explicit {
				if err := validateName(name); err != nil {
					return err
				}
			} else {
				name = DeriveName(stored)
			}
			warnings, err := validateSpec(name, spec, allowed)
			if err != nil {
				return err
			}
			for _, w := range warnings {
				o.warnf("%s", w)
			}
			a, err := o.api()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			all, err := a.listAll(ctx)
			if err != nil {
				return err
			}
			result, obj, err := a.upsert(ctx, all, upsertRequest{name: name, explicitName: explicit, spec: spec, overwrite: overwrite, dryRun: dryRun})
			if err != nil {
				return err
			}
			return o.printResult(output, obj, result, dryRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&arnFlag, "arn", "", "RAM ARN or ARN glob: acs:ram::<account>:user/<name>, role/<name> or root (required)")
	f.StringVar(&username, "username", "", "Kubernetes username template, e.g. 'dev:{{SessionName}}' (required)")
	f.StringArrayVarP(&groups, "group", "g", nil, "Kubernetes group template (repeatable)")
	f.StringVar(&name, "name", "", "Object name (default: derived from the canonical ARN)")
	f.BoolVar(&overwrite, "overwrite", false, "Replace an existing mapping of the same identity (or of the same name)")
	f.BoolVar(&anyAccount, "allow-any-account", false, `Allow a wildcard in the account id of --arn ("acs:ram::*:..."): the mapping then matches every Alibaba Cloud account`)
	addDryRunFlag(cmd, &dryRun)
	addAllowReservedFlag(cmd, &allowed)
	addOutputFlag(cmd, &output, "", outYAML, outJSON, outName)
	return cmd
}

// checkAnyAccount refuses an ARN pattern with a wildcard account id unless --allow-any-account
// is given, and then says plainly how far the mapping reaches.
func (o *rootOptions) checkAnyAccount(pattern string, allowed bool) error {
	switch {
	case !arn.AccountIsGlob(pattern):
		if allowed {
			fmt.Fprintf(o.streams.ErrOut, "Note: --allow-any-account has no effect: %s names one account\n", pattern)
		}
	case !allowed:
		return fmt.Errorf("--arn %s has a wildcard in its account id, so it would map identities of every Alibaba Cloud account, including accounts you do not control; "+
			"give the account id, or pass --allow-any-account if that is intended", pattern)
	default:
		o.warnf("%s matches identities of ANY Alibaba Cloud account, including accounts you do not control (allowAnyAccount)", pattern)
	}
	return nil
}

// printResult prints a written object with -o, or kubectl's one-line summary.
func (o *rootOptions) printResult(output string, obj *v1alpha1.RAMIdentityMapping, result, dryRun string) error {
	switch output {
	case outJSON, outYAML:
		return printObject(o.streams.Out, output, obj)
	case outName:
		_, err := fmt.Fprintln(o.streams.Out, resourceRef(obj.Name))
		return err
	}
	_, err := fmt.Fprintf(o.streams.Out, "%s %s%s\n", resourceRef(obj.Name), result, dryRunSuffix(dryRun))
	return err
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
