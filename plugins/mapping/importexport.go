package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// importEntry is one mapRoles/mapUsers entry on its way to a CR.
type importEntry struct {
	where string
	name  string
	spec  v1alpha1.RAMIdentityMappingSpec
}

func newImportCommand(o *rootOptions) *cobra.Command {
	var (
		from, dryRun string
		overwrite    bool
		allowed      []string
	)
	cmd := &cobra.Command{
		Use:   "import --from-config FILE",
		Short: "Create RAMIdentityMappings from the authenticator's static mappings",
		Long: `Create one RAMIdentityMapping per server.mapRoles / server.mapUsers entry of an
ack-ram-authenticator configuration file, or per data.mapRoles / data.mapUsers entry of an
alibabacloud-auth ConfigMap (the format is detected from the content).

Names are derived from the canonical ARNs, so a re-run is idempotent: identical mappings are
"unchanged", and mappings that differ are only replaced with --overwrite (they are reported and
the command fails otherwise). Every entry is validated before anything is written. mapAccounts
entries cannot be expressed as RAMIdentityMappings: they are reported and must stay in the
authenticator configuration. "system:" groups are accepted when the file's server.allowedGroups
or --allow-reserved-group lists them.`,
		Example: `  kubectl ack-map import --from-config /etc/ack-ram-authenticator/config.yaml
  kubectl -n kube-system get configmap alibabacloud-auth -o yaml > auth.yaml
  kubectl ack-map import --from-config auth.yaml --dry-run=server
  kubectl ack-map export > mappings.yaml && kubectl ack-map import --from-config mappings.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDryRun(dryRun); err != nil {
				return err
			}
			if from == "" {
				return errors.New("--from-config FILE is required")
			}
			sf, err := readStaticFile("--from-config", from)
			if err != nil {
				return err
			}
			entries, err := importEntries(sf, append(slices.Clone(allowed), sf.allowedGroups...))
			if err != nil {
				return err
			}
			for i, a := range sf.config.MapAccounts {
				o.warnf("mapAccounts[%d] (account %s) cannot be a RAMIdentityMapping (mappings name an ARN); keep it in the authenticator configuration under server.mapAccounts", i, a.AccountID)
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
			var failed int
			for _, e := range entries {
				result, _, err := a.upsert(ctx, all, upsertRequest{name: e.name, spec: e.spec, overwrite: overwrite, dryRun: dryRun})
				if err != nil {
					failed++
					fmt.Fprintf(o.streams.ErrOut, "%s: %v\n", e.where, err)
					continue
				}
				fmt.Fprintf(o.streams.Out, "%s %s%s\n", resourceRef(e.name), result, dryRunSuffix(dryRun))
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d mappings were not imported (see above)", failed, len(entries))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&from, "from-config", "f", "", "Authenticator config file or alibabacloud-auth ConfigMap (YAML)")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "Replace existing mappings of the same identities that differ")
	addDryRunFlag(cmd, &dryRun)
	addAllowReservedFlag(cmd, &allowed)
	return cmd
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

func newExportCommand(o *rootOptions) *cobra.Command {
	var output, format, cmName, cmNamespace string
	cmd := &cobra.Command{
		Use:   "export [-o yaml|json] [--format config|configmap]",
		Short: "Print the RAMIdentityMappings as authenticator static configuration",
		Long: `Print every RAMIdentityMapping in the authenticator's static mapping format: a config
fragment with server.mapRoles (role ARNs) and server.mapUsers (user and root ARNs), or with
--format configmap an alibabacloud-auth ConfigMap. 'import --from-config' reads both back, so
import(export()) round-trips.`,
		Example: `  kubectl ack-map export > mappings.yaml
  kubectl ack-map export --format configmap | kubectl apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outYAML, outJSON); err != nil {
				return err
			}
			if format != formatConfig && format != formatConfigMap {
				return fmt.Errorf("--format %q: use config or configmap", format)
			}
			a, err := o.api()
			if err != nil {
				return err
			}
			all, err := a.listAll(cmd.Context())
			if err != nil {
				return err
			}
			c, err := configFromMappings(all)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			var doc any = map[string]any{"server": c}
			if format == formatConfigMap {
				data := map[string]string{}
				// Empty lists as "[]" rather than "null".
				roles, users := append([]mapper.RoleMapping{}, c.MapRoles...), append([]mapper.UserMapping{}, c.MapUsers...)
				for key, v := range map[string]any{"mapRoles": roles, "mapUsers": users} {
					b, err := yaml.Marshal(v)
					if err != nil {
						return err
					}
					data[key] = string(b)
				}
				// A plain map rather than corev1.ConfigMap, which would print creationTimestamp: null.
				doc = map[string]any{
					"apiVersion": "v1", "kind": "ConfigMap",
					"metadata": map[string]string{"name": cmName, "namespace": cmNamespace},
					"data":     data,
				}
			}
			var b []byte
			if output == outJSON {
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
		},
	}
	addOutputFlag(cmd, &output, outYAML, outYAML, outJSON)
	cmd.Flags().StringVar(&format, "format", formatConfig, "config (server.mapRoles/mapUsers) or configmap (alibabacloud-auth ConfigMap)")
	cmd.Flags().StringVar(&cmName, "configmap-name", "alibabacloud-auth", "ConfigMap name for --format configmap")
	cmd.Flags().StringVar(&cmNamespace, "configmap-namespace", "kube-system", "ConfigMap namespace for --format configmap")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{formatConfig, formatConfigMap}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
