package rrsa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// knownAddon describes an ACK add-on whose pods use RRSA: which service account it runs as and
// which RAM permissions it needs.
type knownAddon struct {
	Name           string   `json:"name"`
	Namespace      string   `json:"namespace"`
	ServiceAccount string   `json:"serviceAccount"`
	Actions        []string `json:"actions"`
	Description    string   `json:"description"`
}

// The role and policy names match what ack-ram-tool creates, so running either tool after the
// other updates the same role and policy instead of creating duplicates.
func (a knownAddon) roleName(clusterID string) string { return a.Name + "-" + clusterID }
func (a knownAddon) policyName() string               { return "ack-addon-policy-" + a.Name }

// policyDocument is the custom policy the add-on needs.
func (a knownAddon) policyDocument() string {
	b, _ := json.Marshal(map[string]any{
		"Version": rrsa.PolicyVersion,
		"Statement": []any{map[string]any{
			"Effect":   "Allow",
			"Action":   a.Actions,
			"Resource": "*",
		}},
	})
	return string(b)
}

// knownAddons is the registry of add-ons setup-addon can configure.
func knownAddons() map[string]knownAddon {
	list := []knownAddon{
		{
			Name: "kritis-validation-hook", Namespace: "kube-system", ServiceAccount: "kritis",
			Actions:     []string{"cr:ListInstance", "cr:ListMetadataOccurrences"},
			Description: "verifies container image signatures (reads ACR instances and signature metadata)",
		},
		{
			Name: "ack-erdma-controller", Namespace: "ack-erdma-controller", ServiceAccount: "ack-erdma-controller",
			Actions: []string{
				"ecs:DescribeInstances", "ecs:DescribeInstanceTypes", "ecs:DescribeNetworkInterfaces",
				"ecs:CreateNetworkInterface", "ecs:AttachNetworkInterface", "ecs:ModifyNetworkInterfaceAttribute",
			},
			Description: "manages elastic RDMA interfaces (creates and attaches ENIs)",
		},
	}
	m := make(map[string]knownAddon, len(list))
	for _, a := range list {
		m[a.Name] = a
	}
	return m
}

func sortedAddonNames() []string {
	var names []string
	for n := range knownAddons() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// completeAddonNames completes -a/--addon-name from the registry, with what each add-on does.
func completeAddonNames(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	reg := knownAddons()
	var out []cobra.Completion
	for _, n := range sortedAddonNames() {
		out = append(out, cobra.CompletionWithDesc(n, reg[n].Description))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// sortedAddons returns the registry sorted by name.
func sortedAddons() []knownAddon {
	reg := knownAddons()
	list := make([]knownAddon, 0, len(reg))
	for _, n := range sortedAddonNames() {
		list = append(list, reg[n])
	}
	return list
}

// printAddonTable prints the registry as a table; wide adds the policy and its actions.
func printAddonTable(w io.Writer, wide, noHeaders bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	if !noHeaders {
		header := "ADDON\tSERVICE ACCOUNT\tDESCRIPTION"
		if wide {
			header += "\tPOLICY\tACTIONS"
		}
		fmt.Fprintln(tw, header)
	}
	for _, a := range sortedAddons() {
		fmt.Fprintf(tw, "%s\t%s/%s\t%s", a.Name, a.Namespace, a.ServiceAccount, a.Description)
		if wide {
			fmt.Fprintf(tw, "\t%s\t%s", a.policyName(), strings.Join(a.Actions, ","))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// listAddonsOptions are the flags of list-addons.
type listAddonsOptions struct {
	*rootOptions
	output *cli.Output
}

// Complete has nothing to derive.
func (o *listAddonsOptions) Complete() error { return nil }

// Validate checks -o.
func (o *listAddonsOptions) Validate() error { return o.output.Validate() }

// Run prints the registry.
func (o *listAddonsOptions) Run(context.Context) error {
	switch name := o.output.Name(); name {
	case cli.FormatTable, cli.FormatWide:
		return printAddonTable(o.streams.Out, name == cli.FormatWide, o.output.NoHeaders)
	case cli.FormatName:
		for _, n := range sortedAddonNames() {
			fmt.Fprintln(o.streams.Out, n)
		}
		return nil
	}
	return printData(o.streams.Out, o.output, sortedAddons())
}

func newListAddonsCommand(root *rootOptions) *cobra.Command {
	o := &listAddonsOptions{rootOptions: root, output: cli.NewOutput(cli.FormatTable, tableFormats()...)}
	cmd := &cobra.Command{
		Use:   "list-addons",
		Short: "List the add-ons setup-addon knows how to configure",
		Long: `List the add-ons setup-addon knows how to configure: the service account each runs as and,
with -o wide, the RAM policy setup-addon creates for it. -o name prints the names setup-addon -a
takes.`,
		Example: `  kubectl ack-rrsa list-addons
  kubectl ack-rrsa list-addons -o yaml
  kubectl ack-rrsa list-addons -o custom-columns=ADDON:.name,SA:.serviceAccount`,
		RunE: runE(o),
	}
	o.output.AddFlags(cmd)
	return cmd
}

// setupAddonOptions are the flags of setup-addon and the add-on Complete looks up.
type setupAddonOptions struct {
	*rootOptions
	name      string
	list, yes bool
	dryRun    cli.DryRun

	addon knownAddon
}

// Complete looks up the add-on (not needed with --list).
func (o *setupAddonOptions) Complete() error {
	if o.list {
		return nil
	}
	addon, ok := knownAddons()[o.name]
	if !ok {
		if o.name == "" {
			return fmt.Errorf("-a/--addon-name is required; known add-ons: %s", strings.Join(sortedAddonNames(), ", "))
		}
		return fmt.Errorf("unknown add-on %q; known add-ons: %s", o.name, strings.Join(sortedAddonNames(), ", "))
	}
	o.addon = addon
	return nil
}

// Validate checks that the confirmation can be asked.
func (o *setupAddonOptions) Validate() error {
	if o.list || o.dryRun != cli.DryRunNone {
		return nil
	}
	return o.newConfirmer(o.yes).Check()
}

// Run creates or updates the add-on's policy, then associates its role like associate-role.
func (o *setupAddonOptions) Run(ctx context.Context) error {
	if o.list {
		return printAddonTable(o.streams.Out, false, false)
	}
	s, err := o.newSession(ctx)
	if err != nil {
		return err
	}
	if _, err := s.rrsaCluster(ctx); err != nil {
		return err
	}
	a := o.addon
	dry := o.dryRun != cli.DryRunNone
	if !dry {
		if err := o.confirm(ctx, o.yes, fmt.Sprintf("Set up RAM policy %q and role %q for add-on %s in cluster %s?",
			a.policyName(), a.roleName(s.clusterID), a.Name, s.clusterID)); err != nil {
			return err
		}
	}
	if err := o.ensurePolicy(ctx, s, a, dry); err != nil {
		return err
	}
	assoc := &associateOptions{rootOptions: o.rootOptions,
		roleName: a.roleName(s.clusterID), namespace: a.Namespace, serviceAccount: a.ServiceAccount,
		createRole: true, yes: true, dryRun: o.dryRun, customPolicies: []string{a.policyName()},
	}
	return assoc.run(ctx, s)
}

func newSetupAddonCommand(root *rootOptions) *cobra.Command {
	o := &setupAddonOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "setup-addon",
		Short: "Create the RAM policy, role and RRSA association an add-on needs",
		Long: `Configure RRSA for a known add-on: create (or update with a new version when the document
differs) the custom policy it needs, create its RAM role if missing, trust the add-on's service
account, and attach the policy. The role and policy names are the ones ack-ram-tool uses, so either
tool run after the other updates the same role. --list (or list-addons) shows the known add-ons.
--dry-run says what would be done and changes nothing.`,
		Example: `  kubectl ack-rrsa setup-addon --list
  kubectl ack-rrsa setup-addon -a kritis-validation-hook -y
  kubectl ack-rrsa setup-addon -a ack-erdma-controller --dry-run`,
		RunE: runE(o),
	}
	cmd.Flags().StringVarP(&o.name, "addon-name", "a", "", "Add-on to set up (see --list)")
	_ = cmd.RegisterFlagCompletionFunc("addon-name", completeAddonNames)
	cmd.Flags().BoolVar(&o.list, "list", false, "List the known add-ons and exit")
	cli.AddYesFlag(cmd.Flags(), &o.yes)
	cli.AddDryRunFlag(cmd, &o.dryRun, false)
	return cmd
}

// ensurePolicy creates the add-on's custom policy, or adds a new default version when the
// existing document differs. A dry run says which it would do.
func (o *rootOptions) ensurePolicy(ctx context.Context, s *session, a knownAddon, dry bool) error {
	doc := a.policyDocument()
	pol, err := s.clients.RAM.GetPolicy(ctx, a.policyName(), "Custom")
	switch {
	case err != nil && !errors.Is(err, cloud.ErrNotFound):
		return fmt.Errorf("get RAM policy %q: %w", a.policyName(), err)
	case err == nil && rrsa.Equal(pol.Document, doc):
		fmt.Fprintf(o.streams.Out, "RAM policy %q is up to date\n", a.policyName())
	case dry && err != nil:
		fmt.Fprintf(o.streams.ErrOut, "Dry run: RAM policy %q would be created with this document:\n%s\n", a.policyName(), doc)
	case dry:
		fmt.Fprintf(o.streams.ErrOut, "Dry run: RAM policy %q would get a new default version with this document:\n%s\n", a.policyName(), doc)
	case err != nil:
		if _, err := s.clients.RAM.CreatePolicy(ctx, a.policyName(), doc, "Permissions for ACK add-on "+a.Name); err != nil {
			return fmt.Errorf("create RAM policy %q: %w", a.policyName(), err)
		}
		fmt.Fprintf(o.streams.Out, "Created RAM policy %q\n", a.policyName())
	default:
		if err := s.clients.RAM.CreatePolicyVersion(ctx, a.policyName(), doc, true); err != nil {
			return fmt.Errorf("update RAM policy %q with a new version: %w", a.policyName(), err)
		}
		fmt.Fprintf(o.streams.Out, "Updated RAM policy %q with a new default version\n", a.policyName())
	}
	return nil
}

// helperAddonName is the add-on that injects RRSA credentials into pods.
const helperAddonName = "ack-pod-identity-webhook"

// installHelperAddonOptions are the flags of install-helper-addon.
type installHelperAddonOptions struct {
	*rootOptions
	yes    bool
	dryRun cli.DryRun
	wait   waitOptions
}

// Complete has nothing to derive.
func (o *installHelperAddonOptions) Complete() error { return nil }

// Validate checks the wait flags and that the confirmation can be asked.
func (o *installHelperAddonOptions) Validate() error {
	if err := o.wait.validate(); err != nil {
		return err
	}
	if o.dryRun != cli.DryRunNone {
		return nil
	}
	return o.newConfirmer(o.yes).Check()
}

// Run installs the add-on unless it is there, and waits for the install task.
func (o *installHelperAddonOptions) Run(ctx context.Context) error {
	s, err := o.newSession(ctx)
	if err != nil {
		return err
	}
	if installed, err := o.addonInstalled(ctx, s, helperAddonName); err != nil {
		return err
	} else if installed {
		fmt.Fprintf(o.streams.Out, "Add-on %s is already installed in cluster %s; nothing to do\n", helperAddonName, s.clusterID)
		return nil
	}
	if o.dryRun != cli.DryRunNone {
		fmt.Fprintf(o.streams.ErrOut, "Dry run: add-on %s would be installed in cluster %s; nothing was changed\n", helperAddonName, s.clusterID)
		return nil
	}
	if err := o.confirm(ctx, o.yes, fmt.Sprintf("Install add-on %s in cluster %s?", helperAddonName, s.clusterID)); err != nil {
		return err
	}
	taskID, err := s.clients.CS.InstallClusterAddons(ctx, s.clusterID, []cloud.AddonInstall{{Name: helperAddonName}})
	if err != nil {
		return fmt.Errorf("install add-on %s: %w", helperAddonName, err)
	}
	if err := o.waitTask(ctx, s, taskID, "add-on "+helperAddonName+" to be installed", o.wait, nil); err != nil {
		return err
	}
	fmt.Fprintf(o.streams.Out, "Installed add-on %s in cluster %s\n", helperAddonName, s.clusterID)
	return nil
}

func newInstallHelperAddonCommand(root *rootOptions) *cobra.Command {
	o := &installHelperAddonOptions{rootOptions: root, wait: waitOptions{timeout: 10 * time.Minute, interval: 5 * time.Second}}
	cmd := &cobra.Command{
		Use:   "install-helper-addon",
		Short: "Install the " + helperAddonName + " add-on and wait for it",
		Long: `Install the ` + helperAddonName + ` add-on, which injects RRSA credentials (role ARN, OIDC
provider ARN and token file) into pods whose service account is annotated for a role. An
interrupted wait (Ctrl-C, exit code 130) leaves the install task running in the cloud.`,
		Example: `  kubectl ack-rrsa install-helper-addon -y
  kubectl ack-rrsa install-helper-addon --dry-run`,
		RunE: runE(o),
	}
	cli.AddYesFlag(cmd.Flags(), &o.yes)
	cli.AddDryRunFlag(cmd, &o.dryRun, false)
	addWaitFlags(cmd, &o.wait)
	return cmd
}

func (o *rootOptions) addonInstalled(ctx context.Context, s *session, name string) (bool, error) {
	instances, err := s.clients.CS.ListClusterAddonInstances(ctx, s.clusterID)
	if err != nil {
		return false, fmt.Errorf("list add-ons of cluster %s: %w", s.clusterID, err)
	}
	for _, in := range instances {
		if in.Name == name {
			return true, nil
		}
	}
	return false, nil
}
