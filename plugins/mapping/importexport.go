package mapping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
	"github.com/kubectl-ack/kubectl-ack/pkg/prompt"
)

// importEntry is one mapRoles/mapUsers entry on its way to a CR.
type importEntry struct {
	where string
	name  string
	spec  v1alpha1.RAMIdentityMappingSpec
}

// importOptions are the flags of import.
type importOptions struct {
	from, dryRun        string
	fromConfigMap       bool
	cmName, cmNamespace string
	overwrite           bool
	allowed             []string
}

func newImportCommand(o *rootOptions) *cobra.Command {
	im := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import (--from-config FILE | --from-configmap)",
		Short: "Create RAMIdentityMappings from the authenticator's static mappings",
		Long: `Create one RAMIdentityMapping per server.mapRoles / server.mapUsers entry of an
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
loses access.`,
		Example: `  kubectl ack-map import --from-config /etc/ack-ram-authenticator/config.yaml
  kubectl ack-map import --from-configmap --dry-run=server
  kubectl -n kube-system get configmap alibabacloud-auth -o yaml > auth.yaml && kubectl ack-map import --from-config auth.yaml
  kubectl ack-map export > mappings.yaml && kubectl ack-map import --from-config mappings.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return im.run(cmd.Context(), o) },
	}
	cmd.Flags().StringVarP(&im.from, "from-config", "f", "", "Authenticator config file or alibabacloud-auth ConfigMap (YAML)")
	cmd.Flags().BoolVar(&im.fromConfigMap, "from-configmap", false, "Read the live alibabacloud-auth ConfigMap (--configmap-namespace/--configmap-name)")
	addConfigMapFlags(cmd, &im.cmName, &im.cmNamespace)
	cmd.Flags().BoolVar(&im.overwrite, "overwrite", false, "Replace existing mappings of the same identities that differ")
	addDryRunFlag(cmd, &im.dryRun)
	addAllowReservedFlag(cmd, &im.allowed)
	return cmd
}

func addConfigMapFlags(cmd *cobra.Command, name, namespace *string) {
	cmd.Flags().StringVar(name, "configmap-name", configmap.Name, "ConfigMap name")
	cmd.Flags().StringVar(namespace, "configmap-namespace", configmap.Namespace, "ConfigMap namespace")
}

// source reads the mappings to import.
func (im *importOptions) source(ctx context.Context, o *rootOptions) (*staticFile, string, error) {
	switch {
	case im.from != "" && im.fromConfigMap:
		return nil, "", errors.New("give either --from-config FILE or --from-configmap, not both")
	case im.fromConfigMap:
		cms, err := o.configMaps(im.cmNamespace)
		if err != nil {
			return nil, "", err
		}
		c, warnings, err := configmap.Get(ctx, cms, im.cmName)
		for _, w := range warnings {
			o.warnf("%s", w)
		}
		if err != nil {
			return nil, "", err
		}
		return &staticFile{format: formatConfigMap, config: c, backend: mapper.MapperACKConfigMap}, "ConfigMap " + im.cmNamespace + "/" + im.cmName, nil
	case im.from == "":
		return nil, "", errors.New("--from-config FILE or --from-configmap is required")
	}
	sf, err := readStaticFile("--from-config", im.from)
	return sf, im.from, err
}

func (im *importOptions) run(ctx context.Context, o *rootOptions) error {
	if err := checkDryRun(im.dryRun); err != nil {
		return err
	}
	sf, where, err := im.source(ctx, o)
	if err != nil {
		return err
	}
	if sf.empty() {
		fmt.Fprintf(o.streams.ErrOut, "%s holds no mappings (no mapRoles, mapUsers or mapAccounts entries): nothing to import\n", where)
		return nil
	}
	entries, err := importEntries(sf, append(slices.Clone(im.allowed), sf.allowedGroups()...))
	if err != nil {
		return err
	}
	for i, a := range sf.config.MapAccounts {
		o.warnf("mapAccounts[%d] (account %s) cannot be a RAMIdentityMapping (mappings name an ARN); keep it in the authenticator configuration under server.mapAccounts", i, a.AccountID)
	}
	for _, e := range entries {
		warnDivergence(o, e.where, e.spec.ARN, sf.backend)
	}
	if len(entries) == 0 {
		fmt.Fprintf(o.streams.ErrOut, "%s holds no mapRoles or mapUsers entries: no RAMIdentityMapping to create\n", where)
		return nil
	}
	return im.write(ctx, o, entries)
}

func (im *importOptions) write(ctx context.Context, o *rootOptions, entries []importEntry) error {
	a, err := o.api()
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
			fmt.Fprintf(o.streams.ErrOut, "%s: %v\n", e.where, err)
			continue
		}
		fmt.Fprintf(o.streams.Out, "%s %s%s\n", resourceRef(e.name), result, dryRunSuffix(im.dryRun))
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
		key := canonicalKey(stored)
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
	output, format, cmName, cmNamespace, dryRun string
	toConfigMap, yes                            bool
}

func newExportCommand(o *rootOptions) *cobra.Command {
	eo := &exportOptions{}
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return eo.run(cmd.Context(), o) },
	}
	addOutputFlag(cmd, &eo.output, outYAML, outYAML, outJSON)
	cmd.Flags().StringVar(&eo.format, "format", formatConfig, "config (server.mapRoles/mapUsers) or configmap (alibabacloud-auth ConfigMap)")
	addConfigMapFlags(cmd, &eo.cmName, &eo.cmNamespace)
	cmd.Flags().BoolVar(&eo.toConfigMap, "to-configmap", false, "Write the mappings into the live ConfigMap instead of printing them")
	cmd.Flags().BoolVarP(&eo.yes, "yes", "y", false, "Do not ask before writing the ConfigMap (required when stdin is not a terminal)")
	addDryRunFlag(cmd, &eo.dryRun)
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{formatConfig, formatConfigMap}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (eo *exportOptions) run(ctx context.Context, o *rootOptions) error {
	if err := checkOutput(eo.output, outYAML, outJSON); err != nil {
		return err
	}
	if err := checkDryRun(eo.dryRun); err != nil {
		return err
	}
	if eo.format != formatConfig && eo.format != formatConfigMap {
		return fmt.Errorf("--format %q: use config or configmap", eo.format)
	}
	a, err := o.api()
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
		return eo.writeConfigMap(ctx, o, c)
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
	var b []byte
	if eo.output == outJSON {
		b, err = json.MarshalIndent(doc, "", "    ")
		b = append(b, '\n')
	} else {
		b, err = yaml.Marshal(doc)
	}
	if err != nil {
		return fmt.Errorf("encode export: %w", err)
	}
	_, err = o.streams.Out.Write(b)
	return err
}

// writeConfigMap replaces the ConfigMap's mapRoles and mapUsers with c's, after confirmation.
func (eo *exportOptions) writeConfigMap(ctx context.Context, o *rootOptions, c mapper.StaticConfig) error {
	ref := eo.cmNamespace + "/" + eo.cmName
	if !eo.yes && eo.dryRun == dryRunNone {
		if !o.stdinIsTerminal() {
			return fmt.Errorf("refusing to write ConfigMap %s without confirmation: stdin is not a terminal, pass -y/--yes", ref)
		}
		q := fmt.Sprintf("Replace mapRoles and mapUsers of ConfigMap %s with %d role and %d user mapping(s)?", ref, len(c.MapRoles), len(c.MapUsers))
		ok, err := prompt.Confirm(ctx, o.streams.In, o.streams.ErrOut, q)
		if err != nil || !ok {
			return errors.Join(errors.New("aborted: the ConfigMap was not changed"), err)
		}
	}
	if eo.dryRun == dryRunClient {
		fmt.Fprintf(o.streams.Out, "configmap/%s configured (dry run): %d role and %d user mapping(s)\n", ref, len(c.MapRoles), len(c.MapUsers))
		return nil
	}
	cms, err := o.configMaps(eo.cmNamespace)
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
	fmt.Fprintf(o.streams.Out, "configmap/%s %s%s: %d role and %d user mapping(s)\n", ref, result, dryRunSuffix(eo.dryRun), len(c.MapRoles), len(c.MapUsers))
	return nil
}
