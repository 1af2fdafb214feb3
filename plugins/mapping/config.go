package mapping

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// Formats of a static mapping file.
const (
	formatConfig    = "config"    // the authenticator's config file: server.mapRoles/mapUsers/mapAccounts
	formatConfigMap = "configmap" // an alibabacloud-auth style ConfigMap: data.mapRoles/mapUsers as YAML strings
)

// staticFile is what a static mapping file holds.
type staticFile struct {
	format        string
	config        mapper.StaticConfig
	allowedGroups []string
	// mappers is server.mappers: the order in which the authenticator asks its mappers.
	mappers []string
}

// authenticatorConfig is the part of the authenticator's configuration file ack-map reads.
type authenticatorConfig struct {
	Server *struct {
		mapper.StaticConfig `json:",inline"`
		AllowedGroups       []string `json:"allowedGroups,omitempty"`
		Mappers             []string `json:"mappers,omitempty"`
	} `json:"server"`
}

// configMap is the part of a ConfigMap ack-map reads.
type configMap struct {
	Kind string            `json:"kind"`
	Data map[string]string `json:"data"`
}

// readStaticFile reads an authenticator config file or an alibabacloud-auth ConfigMap, deciding
// by content: "kind: ConfigMap" is a ConfigMap (its data holds mapRoles/mapUsers/mapAccounts
// YAML strings, or a whole config under "config.yaml"); a top-level "server" is a config file.
// Keys are matched case-insensitively, so the ConfigMap spellings rolearn/userarn work too.
func readStaticFile(flag, path string) (*staticFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", flag, err)
	}
	sf, err := parseStaticFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sf, nil
}

func parseStaticFile(b []byte) (*staticFile, error) {
	var top map[string]any
	if err := yaml.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	if kind, _ := top["kind"].(string); kind != "" {
		if kind != "ConfigMap" {
			return nil, fmt.Errorf("kind %q is not supported: give the authenticator config file or an alibabacloud-auth ConfigMap", kind)
		}
		var cm configMap
		if err := yaml.Unmarshal(b, &cm); err != nil {
			return nil, fmt.Errorf("ConfigMap: %w", err)
		}
		if inner, ok := cm.Data["config.yaml"]; ok {
			sf, err := parseConfig([]byte(inner))
			if err != nil {
				return nil, fmt.Errorf("ConfigMap data config.yaml: %w", err)
			}
			sf.format = formatConfigMap
			return sf, nil
		}
		sf := &staticFile{format: formatConfigMap}
		found := false
		for key, dst := range map[string]any{"mapRoles": &sf.config.MapRoles, "mapUsers": &sf.config.MapUsers, "mapAccounts": &sf.config.MapAccounts} {
			if s, ok := cm.Data[key]; ok {
				found = true
				if err := yaml.Unmarshal([]byte(s), dst); err != nil {
					return nil, fmt.Errorf("ConfigMap data %s: %w", key, err)
				}
			}
		}
		if !found {
			return nil, errors.New("ConfigMap has no mapRoles, mapUsers or mapAccounts in data")
		}
		return sf, nil
	}
	if _, ok := top["server"]; !ok {
		return nil, errors.New(`no "server:" section (authenticator config) and not a ConfigMap: nothing to import`)
	}
	return parseConfig(b)
}

func parseConfig(b []byte) (*staticFile, error) {
	var c authenticatorConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("authenticator config: %w", err)
	}
	if c.Server == nil {
		return nil, errors.New(`authenticator config has no "server:" section`)
	}
	return &staticFile{format: formatConfig, config: c.Server.StaticConfig, allowedGroups: c.Server.AllowedGroups, mappers: c.Server.Mappers}, nil
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
