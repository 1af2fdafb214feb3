package mapping

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/authconfig"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
)

// Formats of a static mapping file.
const (
	formatConfig    = "config"    // the authenticator's config file: server.mapRoles/mapUsers/mapAccounts
	formatConfigMap = "configmap" // an alibabacloud-auth style ConfigMap: data.mapRoles/mapUsers as YAML strings
)

// staticFile is what a static mapping file (or the live ConfigMap) holds.
type staticFile struct {
	format string
	config mapper.StaticConfig
	// cfg is the whole authenticator configuration when the file is one (nil for a ConfigMap of
	// mappings): explain reads its backend order, allowed groups and dynamic file from it.
	cfg *authconfig.Config
	// backend is the authenticator backend that reads these mappings (for the official reading).
	backend string
}

// allowedGroups returns the reserved groups the authenticator would allow with this file: the
// file's server.allowedGroups (system:masters when unset), none for a ConfigMap of mappings.
func (sf *staticFile) allowedGroups() []string {
	if sf.cfg == nil {
		return nil
	}
	return sf.cfg.AllowedGroups()
}

func (sf *staticFile) empty() bool {
	c := sf.config
	return len(c.MapRoles) == 0 && len(c.MapUsers) == 0 && len(c.MapAccounts) == 0
}

// readStaticFile reads an authenticator config file or an alibabacloud-auth ConfigMap, deciding
// by content: "kind: ConfigMap" is a ConfigMap (its data holds mapRoles/mapUsers/mapAccounts
// YAML strings, or a whole config under "config.yaml"); anything else is a config file, read
// by pkg/authconfig exactly as the server reads it.
func readStaticFile(flag, path string) (*staticFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", flag, err)
	}
	sf, err := parseStaticFile(b, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sf, nil
}

func parseStaticFile(b []byte, name string) (*staticFile, error) {
	var top map[string]any
	if err := yaml.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	kind, _ := top["kind"].(string)
	if kind == "" {
		cfg, err := authconfig.Parse(b, name)
		if err != nil {
			return nil, err
		}
		return fromConfig(cfg), nil
	}
	if kind != "ConfigMap" {
		return nil, fmt.Errorf("kind %q is not supported: give the authenticator config file or an alibabacloud-auth ConfigMap", kind)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(b, &cm); err != nil {
		return nil, fmt.Errorf("ConfigMap: %w", err)
	}
	if inner, ok := cm.Data["config.yaml"]; ok {
		cfg, err := authconfig.Parse([]byte(inner), "ConfigMap data config.yaml")
		if err != nil {
			return nil, err
		}
		sf := fromConfig(cfg)
		sf.format = formatConfigMap
		return sf, nil
	}
	c, _, err := configmap.Parse(cm.Data)
	if err != nil && !errors.Is(err, configmap.ErrNoMappings) {
		return nil, fmt.Errorf("ConfigMap %w", err)
	}
	return &staticFile{format: formatConfigMap, config: c, backend: mapper.MapperACKConfigMap}, nil
}

func fromConfig(cfg *authconfig.Config) *staticFile {
	return &staticFile{format: formatConfig, config: cfg.Server.StaticConfig, cfg: cfg, backend: mapper.MapperMountedFile}
}

// configFromMappings builds the static config equivalent of CRs: role ARNs go to mapRoles,
// user and root ARNs to mapUsers, sorted by ARN then name so exports are stable.
func configFromMappings(ms []v1alpha1.RAMIdentityMapping) (mapper.StaticConfig, error) {
	sorted := make([]v1alpha1.RAMIdentityMapping, len(ms))
	copy(sorted, ms)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Spec.ARN != sorted[j].Spec.ARN {
			return sorted[i].Spec.ARN < sorted[j].Spec.ARN
		}
		return sorted[i].Name < sorted[j].Name
	})
	var c mapper.StaticConfig
	var errs []error
	for _, m := range sorted {
		switch arn.PatternType(m.Spec.ARN) {
		case arn.TypeRole:
			c.MapRoles = append(c.MapRoles, mapper.RoleMapping{RoleARN: m.Spec.ARN, Username: m.Spec.Username, Groups: m.Spec.Groups, AllowAnyAccount: m.Spec.AllowAnyAccount})
		case arn.TypeUser, arn.TypeRoot:
			c.MapUsers = append(c.MapUsers, mapper.UserMapping{UserARN: m.Spec.ARN, Username: m.Spec.Username, Groups: m.Spec.Groups, AllowAnyAccount: m.Spec.AllowAnyAccount})
		default:
			errs = append(errs, fmt.Errorf("mapping %q: ARN %q is neither a role nor a user/root ARN", m.Name, m.Spec.ARN))
		}
	}
	return c, errors.Join(errs...)
}
