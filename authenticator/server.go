package authenticator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/crd"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/dynamicfile"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/file"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// HTTP server limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 32 << 10
	// writeMargin is added to the STS timeout for the write timeout, so a slow STS call still
	// gets its denial written.
	writeMargin = 10 * time.Second
)

// Mapper is one mapping backend, asked in the configured order (mapper.Stage).
type Mapper = mapper.Stage

// Options are what a server needs besides the configuration file.
type Options struct {
	// KubeConfig is a Kubernetes client configuration for the CRD and ACKConfigMap backends;
	// nil disables them.
	KubeConfig *rest.Config
	// Clock is used by the token checks and the cache; nil means time.Now.
	Clock func() time.Time
	// LookupEnv supplies ALIBABA_CLOUD_STS_ENDPOINT and ALIBABA_CLOUD_REGION_ID when the file
	// names no STS endpoint (os.LookupEnv in production; nil reads no environment).
	LookupEnv func(string) (string, bool)
}

// Server is a configured, not yet listening, webhook.
type Server struct {
	cfg      *Config
	Auth     *Authenticator
	Metrics  *Metrics
	Handler  *Handler
	backends []mapper.Backend
	startup  *startupLog
}

// LoadRootCAs returns the system pool (which honours SSL_CERT_FILE) plus the PEM CAs of caFile.
func LoadRootCAs(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read STS CA file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("STS CA file %s holds no PEM certificate", caFile)
	}
	return pool, nil
}

// NewServer validates cfg and builds the verifier, cache, backends and handler.
func NewServer(cfg *Config, opts Options) (*Server, error) {
	rules, err := cfg.Validate(opts.KubeConfig != nil, opts.LookupEnv)
	if err != nil {
		return nil, err
	}
	order, _ := cfg.Order(opts.KubeConfig != nil)
	endpoint, _ := cfg.STSEndpoint(opts.LookupEnv)
	roots, err := LoadRootCAs(cfg.Server.STSCAFile)
	if err != nil {
		return nil, err
	}
	v, err := token.NewVerifier(token.VerifierConfig{
		ClusterID:   cfg.ClusterID,
		STSEndpoint: endpoint,
		RootCAs:     roots,
		Timeout:     cfg.Server.STSTimeout.Duration,
		Clock:       opts.Clock,
	})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, Metrics: NewMetrics(), startup: newStartupLog(cfg.AllowedGroups())}
	for _, w := range cfg.Warnings() {
		klog.InfoS("warning: " + w)
	}
	mappers, err := s.buildBackends(order, rules, opts.KubeConfig)
	if err != nil {
		return nil, err
	}
	cache := NewIdentityCache(v, CacheConfigFor(cfg, opts.Clock))
	s.Auth = NewAuthenticator(cache, mappers, cfg.AllowedGroups())
	s.Handler = NewHandler(s.Auth, s.Metrics, s.Ready)
	s.Handler.SetScrubbedAccounts(cfg.Server.ScrubbedAccounts)
	klog.InfoS("configured", "clusterID", cfg.ClusterID, "stsEndpoint", endpoint, "backendMode", order,
		"staticRules", len(rules), "allowedGroups", cfg.AllowedGroups(), "scrubbedAccounts", len(cfg.Server.ScrubbedAccounts))
	return s, nil
}

// buildBackends makes the backends of order; the ones that load in the background are kept for
// StartMappers and Ready.
func (s *Server) buildBackends(order []string, rules []mapper.Rule, kc *rest.Config) ([]Mapper, error) {
	var mappers []Mapper
	for _, name := range order {
		var b mapper.Backend
		switch name {
		case MapperMountedFile:
			s.startup.observe(name, rules)
			mappers = append(mappers, file.New(rules))
			continue
		case MapperCRD:
			cs, err := versioned.NewForConfig(kc)
			if err != nil {
				return nil, fmt.Errorf("kubernetes client: %w", err)
			}
			if b, err = crd.New(cs, s.startup.observe); err != nil {
				return nil, err
			}
		case MapperACKConfigMap:
			cs, err := kubernetes.NewForConfig(kc)
			if err != nil {
				return nil, fmt.Errorf("kubernetes client: %w", err)
			}
			b = configmap.New(cs, configmap.Namespace, configmap.Name, s.startup.observe)
		case MapperDynamicFile:
			b = dynamicfile.New(s.cfg.Server.DynamicFilePath, s.startup.observe)
		}
		s.backends = append(s.backends, b)
		mappers = append(mappers, b)
	}
	return mappers, nil
}

// Ready returns nil once every backend has loaded its mappings.
func (s *Server) Ready() error {
	var waiting []string
	for _, b := range s.backends {
		if !b.HasSynced() {
			waiting = append(waiting, b.Name())
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("mappings not loaded yet: %s", strings.Join(waiting, ", "))
	}
	return nil
}

// StartMappers starts the background backends (CRD, ACKConfigMap, DynamicFile) until ctx ends.
func (s *Server) StartMappers(ctx context.Context) {
	for _, b := range s.backends {
		go b.Run(ctx)
	}
}

// WaitReady blocks until Ready or ctx ends.
func (s *Server) WaitReady(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		err := s.Ready()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %v (is the RAMIdentityMapping CRD installed and is the mapping ConfigMap or file readable with this configuration?): %w", err, ctx.Err())
		case <-t.C:
		}
	}
}

// PrepareState makes the serving certificate, key and webhook kubeconfig ready before serving:
// with server.kubeconfigPregenerated it only checks what "init" wrote; otherwise it does what
// "init" does (one code path: Init), keeping valid files and writing missing ones.
func PrepareState(cfg *Config) (*InitResult, error) {
	if cfg.Server.KubeconfigPregenerated {
		return nil, CheckPregenerated(cfg)
	}
	return Init(cfg, InitOptions{})
}

// Addr is host:port of the listener.
func (s *Server) Addr() string {
	return net.JoinHostPort(s.cfg.Server.Address, strconv.Itoa(s.cfg.Server.Port))
}

// TLSConfig loads cert.pem and key.pem from the state directory.
func (s *Server) TLSConfig() (*tls.Config, error) {
	dir := s.cfg.Server.StateDir
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("load serving certificate from %s (run 'ack-ram-authenticator init' first): %w", dir, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Serve prepares the state directory and webhook kubeconfig (PrepareState), listens on
// server.address:server.port with TLS and serves until ctx ends, then shuts down gracefully.
// started, if not nil, receives the listening address.
func (s *Server) Serve(ctx context.Context, started func(addr string)) error {
	res, err := PrepareState(s.cfg)
	if err != nil {
		return err
	}
	logPrepared(s.cfg, res)
	tc, err := s.TLSConfig()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.Addr())
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return s.ServeListener(ctx, tls.NewListener(ln, tc), started)
}

// ServeListener serves on an already TLS-wrapped listener (tests, load test).
func (s *Server) ServeListener(ctx context.Context, ln net.Listener, started func(addr string)) error {
	s.StartMappers(ctx)
	hs := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      s.cfg.Server.STSTimeout.Duration + writeMargin,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// Handshake errors of clients that went away are routine; keep them in klog.
		ErrorLog: klog.NewStandardLogger("INFO"),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	klog.InfoS("serving", "address", ln.Addr().String())
	if started != nil {
		started(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
