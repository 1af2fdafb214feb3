package authenticator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
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

// Options are what a server needs besides the configuration file.
type Options struct {
	// KubeConfig is a Kubernetes client configuration for the CRD mapper; nil disables it.
	KubeConfig *rest.Config
	// Clock is used by the token checks and the cache; nil means time.Now.
	Clock func() time.Time
}

// Server is a configured, not yet listening, webhook.
type Server struct {
	cfg     *Config
	Auth    *Authenticator
	Metrics *Metrics
	Handler *Handler
	crd     *CRDMapper
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

// NewServer validates cfg and builds the verifier, cache, mappers and handler.
func NewServer(cfg *Config, opts Options) (*Server, error) {
	rules, err := cfg.Validate(opts.KubeConfig != nil)
	if err != nil {
		return nil, err
	}
	order, _ := cfg.MapperOrder(opts.KubeConfig != nil)
	endpoint, _ := cfg.STSEndpoint()
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
	s := &Server{cfg: cfg, Metrics: NewMetrics()}
	var mappers []Mapper
	for _, name := range order {
		switch name {
		case MapperMountedFile:
			mappers = append(mappers, NewStaticMapper(rules))
		case MapperCRD:
			cs, err := versioned.NewForConfig(opts.KubeConfig)
			if err != nil {
				return nil, fmt.Errorf("kubernetes client: %w", err)
			}
			if s.crd, err = NewCRDMapper(cs); err != nil {
				return nil, err
			}
			mappers = append(mappers, s.crd)
		}
	}
	cache := NewIdentityCache(v, cfg.CacheConfig(opts.Clock))
	s.Auth = NewAuthenticator(cache, mappers, cfg.Server.AllowedGroups)
	s.Handler = NewHandler(s.Auth, s.Metrics, s.Ready)
	klog.InfoS("configured", "clusterID", cfg.ClusterID, "stsEndpoint", endpoint, "mappers", order,
		"staticRules", len(rules), "allowedGroups", cfg.Server.AllowedGroups)
	return s, nil
}

// Ready returns nil once the server can answer with all its mappers.
func (s *Server) Ready() error {
	if s.crd != nil && !s.crd.HasSynced() {
		return errors.New("RAMIdentityMapping informer has not synced")
	}
	return nil
}

// StartMappers starts the CRD informer (if any) in the background until ctx ends.
func (s *Server) StartMappers(ctx context.Context) {
	if s.crd != nil {
		go s.crd.Run(ctx)
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
			return fmt.Errorf("not ready: %v (is the RAMIdentityMapping CRD installed and readable with this kubeconfig?): %w", err, ctx.Err())
		case <-t.C:
		}
	}
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
		return nil, fmt.Errorf("load serving certificate from %s (run 'ack-ram-authenticator init -c FILE' first): %w", dir, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Serve listens on server.address:server.port with TLS and serves until ctx ends, then shuts
// down gracefully. started, if not nil, receives the listening address.
func (s *Server) Serve(ctx context.Context, started func(addr string)) error {
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
