// Package authenticator is the ack-ram-authenticator webhook server: token verification with an
// identity cache, the mapping backends (pkg/mapper and its sibling packages) wired in the
// configured order, the TokenReview HTTP handler, metrics, and the serving certificate and webhook
// kubeconfig that "init" (and "server", on first start) writes. The configuration file's schema
// lives in pkg/authconfig; the cobra commands in authenticator/cli.
package authenticator

import (
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/authconfig"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// Config is the configuration file (see pkg/authconfig, its one home).
type Config = authconfig.Config

// Defaults of the configuration file.
const (
	DefaultPort               = authconfig.DefaultPort
	DefaultAddress            = authconfig.DefaultAddress
	DefaultStateDir           = authconfig.DefaultStateDir
	DefaultGenerateKubeconfig = authconfig.DefaultGenerateKubeconfig
	DefaultCacheSize          = authconfig.DefaultCacheSize
)

// Backend names accepted in server.backendMode (defined with the shared decision in pkg/mapper).
const (
	MapperMountedFile  = mapper.MapperMountedFile
	MapperACKConfigMap = mapper.MapperACKConfigMap
	MapperCRD          = mapper.MapperCRD
	MapperDynamicFile  = mapper.MapperDynamicFile
)

// Files in server.stateDir.
const (
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
)

// LoadConfig reads a configuration file (authconfig.Load).
func LoadConfig(path string) (*Config, error) { return authconfig.Load(path) }

// ParseConfig parses configuration bytes (authconfig.Parse).
func ParseConfig(b []byte, name string) (*Config, error) { return authconfig.Parse(b, name) }

// CacheConfigFor returns the identity cache's size, negative cache size and STS gate from cfg.
func CacheConfigFor(c *Config, clock func() time.Time) CacheConfig {
	s := c.Server
	return CacheConfig{Size: s.CacheSize, NegativeSize: s.NegativeCacheSize, Clock: clock,
		Gate: GateConfig{Rate: s.STSRate, Burst: s.STSBurst, Concurrency: s.STSConcurrency}}
}
