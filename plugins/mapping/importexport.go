package mapping

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/cli/kube"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
)

// importEntry is one mapRoles/mapUsers entry on its way to a CR.
type importEntry struct {
	where string
	name  string
	spec  v1alpha1.RAMIdentityMappingSpec
}

// importOptions are the flags of import.
type importOptions struct {
	*rootOptions
	from                string
	dryRun              cli.DryRun
	fromConfigMap       bool
	cmName, cmNamespace string
	overwrite           bool
	allowed             []string
}

// Complete has nothing to derive.
func (im *importOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate checks that one source is given.
func (im *importOptions) Validate() error {
	switch {
	case im.from != "" && im.fromConfigMap:
		return errors.New("give either --from-config FILE or --from-configmap, not both")
	case im.from == "" && !im.fromConfigMap:
		return errors.New("--from-config FILE or --from-configmap is required")
	}
	return nil
}

func newImportCommand(root *rootOptions) *cobra.Command {
	im := &importOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:     "import (--from-config FILE | --from-configmap)",
		Short:   "Create RAMIdentityMappings from the authenticator's static mappings",
		Long:    importLong,
		Example: importExample,
		RunE:    runE(im),
	}
	cmd.Flags().StringVarP(&im.from, "from-config", "f", "", "Authenticator config file or alibabacloud-auth ConfigMap (YAML)")
	_ = cmd.MarkFlagFilename("from-config", "yaml", "yml", "json")
	cmd.Flags().BoolVar(&im.fromConfigMap, "from-configmap", false, "Read the live alibabacloud-auth ConfigMap (--configmap-namespace/--configmap-name)")
	addConfigMapFlags(cmd, root, &im.cmName, &im.cmNamespace)
	cmd.Flags().BoolVar(&im.overwrite, "overwrite", false, "Replace existing mappings of the same identities that differ")
	cli.AddDryRunFlag(cmd, &im.dryRun, true)
	addAllowReservedFlag(cmd, &im.allowed)
	return cmd
}

// Help of import (kept out of newImportCommand to keep it short).
const (
	importLong = `Create one RAMIdentityMapping per server.mapRoles / server.mapUsers entry of an
ack-ram-authenticator configuration file, or per data.mapRoles / data.mapUsers entry of an
alibabacloud-auth ConfigMap: a file (the format is detected from the content) or, with
--from-configmap, the live kube-system/alibabacloud-auth ConfigMap.

Names are derived from the canonical ARNs, so a re-run is idempotent: identical mappings are
"unchanged", and mappings that differ are only replaced with --overwrite (they are reported and
the command fails otherwise). Every entry is validated before anything is written. mapAccounts
entries cannot be expressed as RAMIdentityMappings: they are reported and must stay in the
authenticator configuration. "system:" groups are accepted when the authenticator would allow
them: the file's server.allowedGroups (system:masters when it is not set) or
--allow-reserved-group. A source without mappings is reported and changes nothing.

Patterns with "*" or "?" that the official ack-ram-authenticator read differently (its file and
ConfigMap backends compare ARNs literally) are named on stderr with an identity that gains or
loses access.`

	importExample = `  kubectl ack-map import --from-config /etc/ack-ram-authenticator/config.yaml
  kubectl ack-map import --from-configmap --dry-run=server
  kubectl -n kube-system get configmap alibabacloud-auth -o yaml > auth.yaml && kubectl ack-map import --from-config auth.yaml
  kubectl ack-map export > mappings.yaml && kubectl ack-map import --from-config mappings.yaml`
)

// addConfigMapFlags registers --configmap-name and --configmap-namespace (completed from the
// cluster).
func addConfigMapFlags(cmd *cobra.Command, root *rootOptions, name, namespace *string) {
	cmd.Flags().StringVar(name, "configmap-name", configmap.Name, "ConfigMap name")
	cmd.Flags().StringVar(namespace, "configmap-namespace", configmap.Namespace, "ConfigMap namespace")
	_ = cmd.RegisterFlagCompletionFunc("configmap-namespace", kube.CompleteNamespaces(root.configFlags))
}

// source reads the mappings to import.
func (im *importOptions) source(ctx context.Context) (*staticFile, string, error) {
	if im.fromConfigMap {
		cms, err := im.configMaps(im.cmNamespace)
		if err != nil {
			return nil, "", err
		}
		c, warnings, err := configmap.Get(ctx, cms, im.cmName)
		for _, w := range warnings {
			im.warnf("%s", w)
		}
		if err != nil {
			return nil, "", err
		}
		return &staticFile{format: formatConfigMap, config: c, backend: mapper.MapperACKConfigMap}, "ConfigMap " + im.cmNamespace + "/" + im.cmName, nil
	}
	sf, err := readStaticFile("--from-config", im.from)
	return sf, im.from, err
}

// Run reads the source, validates every entry, and creates or updates the mappings.
func (im *importOptions) Run(ctx context.Context) error {
	sf, where, err := im.source(ctx)
	if err != nil {
		return err
	}
	if sf.empty() {
		fmt.Fprintf(im.streams.ErrOut, "%s holds no mappings (no mapRoles, mapUsers or mapAccounts entries): nothing to import\n", where)
		return nil
	}
	entries, err := importEntries(sf, append(slices.Clone(im.allowed), sf.allowedGroups()...))
	if err != nil {
		return err
	}
	for i, a := range sf.config.MapAccounts {
		im.warnf("mapAccounts[%d] (account %s) cannot be a RAMIdentityMapping (mappings name an ARN); keep it in the authenticator configuration under server.mapAccounts", i, a.AccountID)
	}
	for _, e := range entries {
		warnDivergence(im.rootOptions, e.where, e.spec.ARN, sf.backend)
	}
	if len(entries) == 0 {
		fmt.Fprintf(im.streams.ErrOut, "%s holds no mapRoles or mapUsers entries: no RAMIdentityMapping to create\n", where)
		return nil
	}
	return im.write(ctx, entries)
}

func (im *importOptions) write(ctx context.Context, entries []importEntry) error {
	a, err := im.api()
	if err != nil {
		return err
	}
	all, err := a.listAll(ctx)
	if err != nil {
		return err
	}
	var failed int
	for _, e := range entries {
		result, _, err := a.upsert(ctx, all, upsertRequest{name: e.name, spec: e.spec, overwrite: im.overwrite, dryRun: im.dryRun})
		if err != nil {
			failed++
			fmt.Fprintf(im.streams.ErrOut, "%s: %v\n", e.where, err)
			continue
		}
		fmt.Fprintf(im.streams.Out, "%s %s%s\n", resourceRef(e.name), result, dryRunSuffix(im.dryRun))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d mappings were not imported (see above)", failed, len(entries))
	}
	return nil
}

// warnDivergence names a pattern the official add-on's backend would read differently, with an
// identity that gains and one that loses access here.
func warnDivergence(o *rootOptions, where, pattern, backend string) {
	d, differs := mapper.OfficialDivergence(mapper.Rule{ARN: pattern}, backend)
	if !differs {
		return
	}
	o.warnf("%s", describeDivergence(where, d))
}

// describeDivergence says in one line how the official reading of a pattern differs.
func describeDivergence(where string, d arn.Divergence) string {
	msg := fmt.Sprintf("%s: pattern %s matches other identities on the official ack-ram-authenticator (%s) than here (anchored glob)", where, d.Pattern, d.Reading)
	if d.OursOnly != "" {
		msg += "; gains access here, e.g. " + d.OursOnly
	}
	if d.OfficialOnly != "" {
		msg += "; loses access here, e.g. " + d.OfficialOnly
	}
	if d.Undecided {
		msg += "; the comparison gave up: review the pattern by hand"
	}
	return msg
}

// importEntries validates every role and user entry (all problems reported together) and
// returns them with their derived object names.
func importEntries(sf *staticFile, allowed []string) ([]importEntry, error) {
	// The server's own validation first: it checks types (mapRoles holds roles, ...) and templates.
	roleUser := mapper.StaticConfig{MapRoles: sf.config.MapRoles, MapUsers: sf.config.MapUsers}
	if _, err := roleUser.Rules(); err != nil {
		return nil, err
	}
	var entries []importEntry
	for i, m := range sf.config.MapRoles {
		entries = append(entries, importEntry{where: fmt.Sprintf("mapRoles[%d]", i), spec: v1alpha1.RAMIdentityMappingSpec{ARN: m.RoleARN, Username: m.Username, Groups: m.Groups, AllowAnyAccount: m.AllowAnyAccount}})
	}
	for i, m := range sf.config.MapUsers {
		entries = append(entries, importEntry{where: fmt.Sprintf("mapUsers[%d]", i), spec: v1alpha1.RAMIdentityMappingSpec{ARN: m.UserARN, Username: m.Username, Groups: m.Groups, AllowAnyAccount: m.AllowAnyAccount}})
	}
	var errs []error
	seen := map[string]string{}
	for i := range entries {
		e := &entries[i]
		stored, _, err := normalizeARN("arn", e.spec.ARN)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.where, err))
			continue
		}
		e.spec.ARN = stored
		e.spec.Groups = dedupe(e.spec.Groups)
		e.name = DeriveName(stored)
		if _, err := validateSpec(e.name, e.spec, allowed); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.where, err))
		}
		key := arn.CanonicalKey(stored)
		if prev, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("%s maps the same identity as %s (%s): keep one", e.where, prev, stored))
		}
		seen[key] = e.where
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("nothing was imported:\n%w", err)
	}
	return entries, nil
}

// exportOptions are the flags of export.
type exportOptions struct {
	*rootOptions
	output                      *cli.Output
	format, cmName, cmNamespace string
	dryRun                      cli.DryRun
	toConfigMap, yes            bool
}

// Complete has nothing to derive.
func (eo *exportOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate checks -o and --format, and that writing the ConfigMap can be confirmed: without a
// terminal, -y is needed before anything is read.
func (eo *exportOptions) Validate() error {
	if err := eo.output.Validate(); err != nil {
		return err
	}
	if eo.format != formatConfig && eo.format != formatConfigMap {
		return fmt.Errorf("--format %q: use config or configmap", eo.format)
	}
	if eo.toConfigMap && eo.dryRun == cli.DryRunNone {
		return eo.confirmer(eo.yes).Check()
	}
	return nil
}

func newExportCommand(root *rootOptions) *cobra.Command {
	eo := &exportOptions{rootOptions: root, output: cli.NewOutput(cli.FormatYAML, cli.FormatYAML, cli.FormatJSON)}
	cmd := &cobra.Command{
		Use:   "export [-o yaml|json] [--format config|configmap] [--to-configmap]",
		Short: "Print the RAMIdentityMappings as authenticator static configuration, or write them to the alibabacloud-auth ConfigMap",
		Long: `Print every RAMIdentityMapping in the authenticator's static mapping format: a config
fragment with server.mapRoles (role ARNs) and server.mapUsers (user and root ARNs), or with
--format configmap an alibabacloud-auth ConfigMap. 'import --from-config' reads both back, so
import(export()) round-trips.

--to-configmap writes them into the live ConfigMap (--configmap-namespace/--configmap-name,
created when missing) for the ACKConfigMap backend: its mapRoles and mapUsers are replaced,
mapAccounts and other keys are kept. It asks first on a terminal; elsewhere pass -y/--yes.`,
		Example: `  kubectl ack-map export > mappings.yaml
  kubectl ack-map export --format configmap | kubectl apply -f -
  kubectl ack-map export --to-configmap --yes`,
		RunE: runE(eo),
	}
	eo.output.AddFlags(cmd)
	cmd.Flags().StringVar(&eo.format, "format", formatConfig, "config (server.mapRoles/mapUsers) or configmap (alibabacloud-auth ConfigMap)")
	addConfigMapFlags(cmd, root, &eo.cmName, &eo.cmNamespace)
	cmd.Flags().BoolVar(&eo.toConfigMap, "to-configmap", false, "Write the mappings into the live ConfigMap instead of printing them")
	cli.AddYesFlag(cmd.Flags(), &eo.yes)
	cli.AddDryRunFlag(cmd, &eo.dryRun, true)
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{formatConfig, formatConfigMap}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Run reads every mapping and prints it in the static format, or writes the ConfigMap.
func (eo *exportOptions) Run(ctx context.Context) error {
	a, err := eo.api()
	if err != nil {
		return err
	}
	all, err := a.listAll(ctx)
	if err != nil {
		return err
	}
	c, err := configFromMappings(all)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if eo.toConfigMap {
		return eo.writeConfigMap(ctx, c)
	}
	var doc any = map[string]any{"server": c}
	if eo.format == formatConfigMap {
		data, err := configmap.Encode(c, nil)
		if err != nil {
			return err
		}
		// A plain map rather than corev1.ConfigMap, which would print creationTimestamp: null.
		doc = map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]string{"name": eo.cmName, "namespace": eo.cmNamespace},
			"data":     data,
		}
	}
	return cli.PrintData(eo.streams.Out, eo.output.Name(), doc)
}

// writeConfigMap replaces the ConfigMap's mapRoles and mapUsers with c's, after confirmation.
func (eo *exportOptions) writeConfigMap(ctx context.Context, c mapper.StaticConfig) error {
	ref := eo.cmNamespace + "/" + eo.cmName
	if eo.dryRun == cli.DryRunNone {
		q := fmt.Sprintf("Replace mapRoles and mapUsers of ConfigMap %s with %d role and %d user mapping(s)?", ref, len(c.MapRoles), len(c.MapUsers))
		if err := eo.confirmer(eo.yes).Confirm(ctx, q); err != nil {
			return fmt.Errorf("the ConfigMap was not changed: %w", err)
		}
	}
	if eo.dryRun == cli.DryRunClient {
		fmt.Fprintf(eo.streams.Out, "configmap/%s configured (dry run): %d role and %d user mapping(s)\n", ref, len(c.MapRoles), len(c.MapUsers))
		return nil
	}
	cms, err := eo.configMaps(eo.cmNamespace)
	if err != nil {
		return err
	}
	_, created, err := configmap.Edit(ctx, cms, eo.cmName, configmap.EditOptions{Create: true, DryRun: dryRunOpts(eo.dryRun)}, func(have *mapper.StaticConfig) error {
		have.MapRoles, have.MapUsers = c.MapRoles, c.MapUsers
		return nil
	})
	if err != nil {
		return fmt.Errorf("write ConfigMap %s: %w", ref, err)
	}
	result := resultConfigured
	if created {
		result = resultCreated
	}
	fmt.Fprintf(eo.streams.Out, "configmap/%s %s%s: %d role and %d user mapping(s)\n", ref, result, dryRunSuffix(eo.dryRun), len(c.MapRoles), len(c.MapUsers))
	return nil
}
