// Package authenticator is the ack-ram-authenticator webhook server: configuration, token
// verification with an identity cache, mappers (config file and RAMIdentityMapping objects), the
// TokenReview HTTP handler, metrics, and the serving certificate and webhook kubeconfig that
// "init" writes. The cobra commands live in authenticator/cli.
package authenticator

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Defaults of the configuration file, as in the official add-on where it has the key.
const (
	DefaultPort               = 21362
	DefaultAddress            = "127.0.0.1"
	DefaultStateDir           = "/var/ack-ram-authenticator"
	DefaultGenerateKubeconfig = "/etc/kubernetes/ack-ram-authenticator/kubeconfig.yaml"
	// DefaultCacheSize bounds the identity cache (entries).
	DefaultCacheSize = 100000
)

// Mapper names accepted in server.mappers (defined with the shared decision in pkg/mapper).
const (
	MapperMountedFile = mapper.MapperMountedFile
	MapperCRD         = mapper.MapperCRD
)

// Files in server.stateDir.
const (
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
)

// Config is the configuration file. Keys are the official add-on's (clusterID, server.port,
// server.stateDir, server.generateKubeconfig, server.mapRoles/mapUsers/mapAccounts) plus ours.
type Config struct {
	// ClusterID is the ACK cluster id tokens must be bound to.
	ClusterID string       `json:"clusterID"`
	Server    ServerConfig `json:"server"`
}

// ServerConfig is the "server:" section.
type ServerConfig struct {
	// Port and Address are where the webhook listens.
	Port    int    `json:"port,omitempty"`
	Address string `json:"address,omitempty"`
	// StateDir holds cert.pem and key.pem.
	StateDir string `json:"stateDir,omitempty"`
	// GenerateKubeconfig is where "init" writes the kube-apiserver's webhook kubeconfig.
	GenerateKubeconfig string `json:"generateKubeconfig,omitempty"`

	// Static mappings (mapRoles, mapUsers, mapAccounts), inlined under "server:".
	mapper.StaticConfig `json:",inline"`

	// Region selects that region's STS VPC endpoint when STSEndpoint is empty.
	Region string `json:"region,omitempty"`
	// STSEndpoint is host[:port] of STS, always HTTPS.
	STSEndpoint string `json:"stsEndpoint,omitempty"`
	// STSCAFile adds PEM CAs to the system pool for STS.
	STSCAFile string `json:"stsCAFile,omitempty"`
	// STSTimeout bounds one STS call (Go duration, default 5s).
	STSTimeout Duration `json:"stsTimeout,omitempty"`
	// Mappers is the order in which mappers are asked (MountedFile, CRD).
	Mappers []string `json:"mappers,omitempty"`
	// AllowedGroups are "system:" groups that mappings may grant (e.g. system:masters).
	AllowedGroups []string `json:"allowedGroups,omitempty"`
	// CacheSize bounds the identity cache (entries, default 100000).
	CacheSize int `json:"cacheSize,omitempty"`

	// Limits for tokens that are not verified yet (see docs/security.md): they live in their
	// own cache of NegativeCacheSize entries (default 4096) when STS refuses them, and reach
	// STS at most STSRate times a second (default 50) with bursts of STSBurst (default 100)
	// and STSConcurrency calls in flight (default 32); past that the server answers 429.
	NegativeCacheSize int     `json:"negativeCacheSize,omitempty"`
	STSRate           float64 `json:"stsRate,omitempty"`
	STSBurst          int     `json:"stsBurst,omitempty"`
	STSConcurrency    int     `json:"stsConcurrency,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("5s") in the file.
type Duration struct{ time.Duration }

// UnmarshalJSON accepts "1.5s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: use a Go duration such as 5s or 500ms", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// LoadConfig reads and strictly parses a configuration file: unknown keys are errors. Defaults
// are applied; call Validate (or the command-specific checks) after applying flags.
func LoadConfig(path string) (*Config, error) {
	if path == "" {
		return nil, errors.New("no configuration file: pass -c/--config FILE")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return ParseConfig(b, path)
}

// ParseConfig parses configuration bytes; name is used in error messages.
func ParseConfig(b []byte, name string) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		err = configError{err}
		return nil, fmt.Errorf("configuration %s: %w (known keys: clusterID, server.{port, address, stateDir, generateKubeconfig, mapRoles, mapUsers, mapAccounts, region, stsEndpoint, stsCAFile, stsTimeout, mappers, allowedGroups, cacheSize, negativeCacheSize, stsRate, stsBurst, stsConcurrency})", name, err)
	}
	c.applyDefaults()
	return &c, nil
}

// configError drops the YAML→JSON conversion layers from decoding errors, leaving e.g.
// `unknown field "prot"`.
type configError struct{ err error }

func (e configError) Error() string {
	msg := e.err.Error()
	for _, p := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

func (e configError) Unwrap() error { return e.err }

func (c *Config) applyDefaults() {
	s := &c.Server
	if s.Port == 0 {
		s.Port = DefaultPort
	}
	if s.Address == "" {
		s.Address = DefaultAddress
	}
	if s.StateDir == "" {
		s.StateDir = DefaultStateDir
	}
	if s.GenerateKubeconfig == "" {
		s.GenerateKubeconfig = DefaultGenerateKubeconfig
	}
	if s.STSTimeout.Duration == 0 {
		s.STSTimeout.Duration = token.DefaultTimeout
	}
	if s.CacheSize == 0 {
		s.CacheSize = DefaultCacheSize
	}
	if s.NegativeCacheSize == 0 {
		s.NegativeCacheSize = DefaultNegativeCacheSize
	}
	if s.STSRate == 0 {
		s.STSRate = DefaultSTSRate
	}
	if s.STSBurst == 0 {
		s.STSBurst = DefaultSTSBurst
	}
	if s.STSConcurrency == 0 {
		s.STSConcurrency = DefaultSTSConcurrency
	}
}

// CacheConfig returns the identity cache's size, negative cache size and STS gate.
func (c *Config) CacheConfig(clock func() time.Time) CacheConfig {
	s := c.Server
	return CacheConfig{Size: s.CacheSize, NegativeSize: s.NegativeCacheSize, Clock: clock,
		Gate: GateConfig{Rate: s.STSRate, Burst: s.STSBurst, Concurrency: s.STSConcurrency}}
}

// validateLimits checks the cache sizes and the STS gate.
func (s *ServerConfig) validateLimits() []error {
	var errs []error
	for _, f := range []struct {
		key string
		v   float64
	}{{"cacheSize", float64(s.CacheSize)}, {"negativeCacheSize", float64(s.NegativeCacheSize)},
		{"stsRate", s.STSRate}, {"stsBurst", float64(s.STSBurst)}, {"stsConcurrency", float64(s.STSConcurrency)}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("server.%s %v must not be negative (leave it out for the default)", f.key, f.v))
		}
	}
	return errs
}

// ValidateListen checks what "init" needs: address, port, state dir and kubeconfig path.
func (c *Config) ValidateListen() error {
	var errs []error
	s := c.Server
	if s.Port < 1 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("server.port %d must be between 1 and 65535", s.Port))
	}
	if net.ParseIP(s.Address) == nil && !validHostname(s.Address) {
		errs = append(errs, fmt.Errorf("server.address %q must be an IP address or host name", s.Address))
	}
	if strings.TrimSpace(s.StateDir) == "" {
		errs = append(errs, errors.New("server.stateDir is empty"))
	}
	if strings.TrimSpace(s.GenerateKubeconfig) == "" {
		errs = append(errs, errors.New("server.generateKubeconfig is empty"))
	}
	return errors.Join(errs...)
}

// Validate checks everything "server" and "verify" need and returns the static rules.
// crdAvailable says whether a Kubernetes client configuration exists, which the CRD mapper needs.
func (c *Config) Validate(crdAvailable bool) ([]mapper.Rule, error) {
	var errs []error
	if err := c.ValidateListen(); err != nil {
		errs = append(errs, err)
	}
	s := &c.Server
	if strings.TrimSpace(c.ClusterID) == "" {
		errs = append(errs, errors.New("clusterID is required: set it to this cluster's ACK cluster id"))
	}
	if _, err := c.STSEndpoint(); err != nil {
		errs = append(errs, err)
	}
	if s.STSTimeout.Duration < 0 {
		errs = append(errs, fmt.Errorf("server.stsTimeout %s must be positive", s.STSTimeout))
	}
	errs = append(errs, s.validateLimits()...)
	for _, g := range s.AllowedGroups {
		if strings.TrimSpace(g) == "" {
			errs = append(errs, errors.New("server.allowedGroups has an empty entry"))
		}
	}
	if _, err := c.MapperOrder(crdAvailable); err != nil {
		errs = append(errs, err)
	}
	rules, err := s.StaticConfig.Rules()
	if err != nil {
		errs = append(errs, fmt.Errorf("server: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rules, nil
}

// MapperOrder returns the mappers to use, in order (see mapper.Order).
func (c *Config) MapperOrder(crdAvailable bool) ([]string, error) {
	return mapper.Order(c.Server.Mappers, crdAvailable)
}

// STSEndpoint returns server.stsEndpoint, else the VPC endpoint of server.region, as the
// official add-on uses.
func (c *Config) STSEndpoint() (string, error) {
	s := c.Server
	if ep := strings.TrimSpace(s.STSEndpoint); ep != "" {
		if strings.Contains(ep, "://") || strings.ContainsAny(ep, "/?#@") {
			return "", fmt.Errorf("server.stsEndpoint %q must be host[:port] without scheme or path (HTTPS is always used)", ep)
		}
		return ep, nil
	}
	r := strings.TrimSpace(s.Region)
	if r == "" {
		return "", errors.New("no STS endpoint: set server.region (or --region) for the region's VPC endpoint, or server.stsEndpoint (or --sts-endpoint)")
	}
	if !validHostname(r) || strings.Contains(r, ".") {
		return "", fmt.Errorf("server.region %q is not a region id such as cn-hangzhou", r)
	}
	return "sts-vpc." + r + ".aliyuncs.com", nil
}

// validHostname accepts DNS names made of letters, digits, '-' and '.'.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
	}
	return true
}
