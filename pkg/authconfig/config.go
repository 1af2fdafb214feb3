// Package authconfig is the configuration file of ack-ram-authenticator: its schema (every key of
// the official add-on's "Full Configuration Format" and example deployment, plus ours), strict
// loading with line numbers and "did you mean" hints, defaults, and the checks that need no
// running server. The server (authenticator/) and "kubectl ack-map" (import, explain) both read
// configuration files through it, so they can never disagree about what a file means.
package authconfig

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Defaults, as in the official add-on where it has the key.
const (
	DefaultPort               = 21362
	DefaultAddress            = "127.0.0.1"
	DefaultStateDir           = "/var/ack-ram-authenticator"
	DefaultGenerateKubeconfig = "/etc/kubernetes/ack-ram-authenticator/kubeconfig.yaml"
	// DefaultCacheSize bounds the identity cache (entries).
	DefaultCacheSize = 100000
	// DefaultNegativeCacheSize bounds the cache of tokens STS refused (entries).
	DefaultNegativeCacheSize = 4096
	// DefaultSTSRate is the sustained rate of STS calls for tokens not yet verified, per second.
	// Verified tokens are answered from the cache, and clients reuse a token for ten minutes,
	// so even a large cluster needs a few new verifications a second.
	DefaultSTSRate = 50
	// DefaultSTSBurst is how many such calls may be made at once above the rate (e.g. when a
	// restarted server meets every active user again).
	DefaultSTSBurst = 100
	// DefaultSTSConcurrency bounds the STS calls in flight.
	DefaultSTSConcurrency = 32
	// GlobalSTSEndpoint is used when neither server.stsEndpoint nor server.region is set, as the
	// official add-on does.
	GlobalSTSEndpoint = "sts.aliyuncs.com"
)

// Config is the configuration file.
type Config struct {
	// ClusterID is the ACK cluster id tokens must be bound to.
	ClusterID string `json:"clusterID"`
	// DefaultRole is the official client's role for "ack-ram-authenticator token" (the README's
	// "Full Configuration Format" shares one file between client and server). The server does
	// not use it; it is accepted so that file loads unchanged.
	DefaultRole string       `json:"defaultRole,omitempty"`
	Server      ServerConfig `json:"server"`
}

// ServerConfig is the "server:" section.
type ServerConfig struct {
	// Port and Address are where the webhook listens (-b/--bind sets Address).
	Port    int    `json:"port,omitempty"`
	Address string `json:"address,omitempty"`
	// Hostname is an extra name (DNS or IP) of the serving certificate and, when set, the host
	// of the webhook kubeconfig's URL.
	Hostname string `json:"hostname,omitempty"`
	// StateDir holds cert.pem and key.pem.
	StateDir string `json:"stateDir,omitempty"`
	// GenerateKubeconfig is where the webhook kubeconfig for kube-apiserver is written.
	GenerateKubeconfig string `json:"generateKubeconfig,omitempty"`
	// KubeconfigPregenerated says "init" already wrote the webhook kubeconfig: the server
	// requires it (and the certificate it trusts) and writes nothing.
	KubeconfigPregenerated bool `json:"kubeconfigPregenerated,omitempty"`
	// Kubeconfig is how the CRD and ACKConfigMap backends reach kube-apiserver (default: the
	// in-cluster configuration).
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// BackendMode is the order of the mapping backends (MountedFile, ACKConfigMap, CRD,
	// DynamicFile); Mappers is our older name for it.
	BackendMode []string `json:"backendMode,omitempty"`
	Mappers     []string `json:"mappers,omitempty"`
	// DynamicFilePath is the file of the DynamicFile backend.
	DynamicFilePath string `json:"dynamicfilepath,omitempty"`
	// ScrubbedAccounts are account ids whose ARNs, user ids and access keys are redacted from
	// the request logs.
	ScrubbedAccounts []string `json:"scrubbedAccounts,omitempty"`

	// Static mappings (mapRoles, mapUsers, mapAccounts), inlined under "server:".
	mapper.StaticConfig `json:",inline"`

	// Region selects that region's public STS endpoint when STSEndpoint is empty.
	Region string `json:"region,omitempty"`
	// STSEndpoint is host[:port] of STS, always HTTPS.
	STSEndpoint string `json:"stsEndpoint,omitempty"`
	// STSCAFile adds PEM CAs to the system pool for STS.
	STSCAFile string `json:"stsCAFile,omitempty"`
	// STSTimeout bounds one STS call (Go duration, default 5s).
	STSTimeout Duration `json:"stsTimeout,omitempty"`
	// AllowedGroups are the "system:" groups mappings may grant; unset means system:masters,
	// an empty list means none (see mapper.AllowedGroups).
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

// Load reads and strictly parses a configuration file (see Parse).
func Load(path string) (*Config, error) {
	if path == "" {
		return nil, errors.New("no configuration file: pass -c/--config FILE")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(b, path)
}

// Parse parses configuration bytes; name is used in error messages. Keys are matched
// case-insensitively (as the official add-on's viper does); an unknown key is an error naming
// its line and the nearest known key; a value of the wrong type names its line and key.
// Defaults are applied; call the Validate methods after applying flags.
func Parse(b []byte, name string) (*Config, error) {
	var c Config
	if err := decode(b, &c); err != nil {
		return nil, fmt.Errorf("configuration %s: %w", name, err)
	}
	c.ApplyDefaults()
	return &c, nil
}

// ApplyDefaults fills the unset values.
func (c *Config) ApplyDefaults() {
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

// Modes returns the configured backend order: server.backendMode, else server.mappers.
func (s ServerConfig) Modes() []string {
	if len(s.BackendMode) > 0 {
		return s.BackendMode
	}
	return s.Mappers
}

// Order returns the backends to use, in order (see mapper.Order).
func (c *Config) Order(kubeAvailable bool) ([]string, error) {
	return mapper.Order(c.Server.Modes(), kubeAvailable)
}

// Warnings are problems that do not stop the server: deprecated backend names.
func (c *Config) Warnings() []string { return mapper.DeprecatedNames(c.Server.Modes()) }

// AllowedGroups returns the reserved groups mappings may grant (system:masters unless
// server.allowedGroups is set).
func (c *Config) AllowedGroups() []string { return mapper.AllowedGroups(c.Server.AllowedGroups) }

// Scrubbed reports whether accountID is in server.scrubbedAccounts.
func (c *Config) Scrubbed(accountID string) bool {
	for _, a := range c.Server.ScrubbedAccounts {
		if strings.TrimSpace(a) == accountID && accountID != "" {
			return true
		}
	}
	return false
}

// STSEndpoint returns server.stsEndpoint, else the public STS endpoint of server.region, else
// the global one, as the official add-on uses. lookupEnv (os.LookupEnv in production, nil for
// none) supplies ALIBABA_CLOUD_STS_ENDPOINT and ALIBABA_CLOUD_REGION_ID when the file sets
// neither, so a deployment can point the server at an endpoint without editing the file.
func (c *Config) STSEndpoint(lookupEnv func(string) (string, bool)) (string, error) {
	s := c.Server
	ep := cloud.Endpoints{RegionID: strings.TrimSpace(s.Region), STS: strings.TrimSpace(s.STSEndpoint)}
	if ep.STS == "" && ep.RegionID == "" && lookupEnv != nil {
		ep.ApplyEnv(lookupEnv)
	}
	if ep.STS != "" {
		if err := cloud.ValidateEndpoint(ep.STS); err != nil {
			return "", fmt.Errorf("server.stsEndpoint: %w", err)
		}
		return ep.STS, nil
	}
	if ep.RegionID == "" {
		return GlobalSTSEndpoint, nil
	}
	if err := ep.Validate(); err != nil {
		return "", fmt.Errorf("server.region %q is not a region id such as cn-hangzhou", ep.RegionID)
	}
	return ep.STSEndpoint(), nil
}

// ValidateListen checks what "init" needs: address, port, state dir and kubeconfig path.
func (c *Config) ValidateListen() error {
	var errs []error
	s := c.Server
	if s.Port < 1 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("server.port %d must be between 1 and 65535", s.Port))
	}
	if net.ParseIP(s.Address) == nil && !ValidHostname(s.Address) {
		errs = append(errs, fmt.Errorf("server.address %q must be an IP address or host name", s.Address))
	}
	if s.Hostname != "" && net.ParseIP(s.Hostname) == nil && !ValidHostname(s.Hostname) {
		errs = append(errs, fmt.Errorf("server.hostname %q must be a DNS name or an IP address", s.Hostname))
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
// kubeAvailable says whether a Kubernetes client configuration exists, which the CRD and
// ACKConfigMap backends need; lookupEnv is passed to STSEndpoint.
func (c *Config) Validate(kubeAvailable bool, lookupEnv func(string) (string, bool)) ([]mapper.Rule, error) {
	var errs []error
	if err := c.ValidateListen(); err != nil {
		errs = append(errs, err)
	}
	s := &c.Server
	if strings.TrimSpace(c.ClusterID) == "" {
		errs = append(errs, errors.New("clusterID is required: set it to this cluster's ACK cluster id (or pass -i/--cluster-id)"))
	}
	if _, err := c.STSEndpoint(lookupEnv); err != nil {
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
	if len(s.BackendMode) > 0 && len(s.Mappers) > 0 {
		errs = append(errs, errors.New("server.backendMode and server.mappers are the same list: set only backendMode"))
	}
	errs = append(errs, c.validateBackends(kubeAvailable)...)
	rules, err := s.StaticConfig.Rules()
	if err != nil {
		errs = append(errs, fmt.Errorf("server: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rules, nil
}

func (c *Config) validateBackends(kubeAvailable bool) []error {
	order, err := c.Order(kubeAvailable)
	if err != nil {
		return []error{err}
	}
	dynamic := false
	for _, m := range order {
		dynamic = dynamic || m == mapper.MapperDynamicFile
	}
	switch path := strings.TrimSpace(c.Server.DynamicFilePath); {
	case dynamic && path == "":
		return []error{errors.New("server.backendMode lists DynamicFile but server.dynamicfilepath is not set")}
	case !dynamic && path != "":
		return []error{errors.New("server.dynamicfilepath is set but server.backendMode does not list DynamicFile")}
	}
	return nil
}

// ValidHostname accepts DNS names made of letters, digits, '-' and '.'.
func ValidHostname(s string) bool {
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
