// Package emulatortest starts pkg/emulator servers in tests, trusted by the real Alibaba Cloud SDK
// clients and credentials-go through SSL_CERT_FILE.
//
// Go reads the system roots (and so SSL_CERT_FILE) once per process, so all emulators of a test
// binary share one CA created by Main before any test runs:
//
//	func TestMain(m *testing.M) { emulatortest.Main(m) }
//
//	func TestX(t *testing.T) {
//		srv := emulatortest.Start(t)
//		info := srv.Info() // Endpoint, AccessKeyID, ClusterID, ...
//	}
package emulatortest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/pki"
)

// CAKeyEnv names the environment variable through which Main hands the process CA's key file to
// Start; the certificate is the file named by SSL_CERT_FILE. Using the environment keeps the
// package free of mutable globals.
const CAKeyEnv = "KUBECTL_ACK_EMULATORTEST_CA_KEY"

// proxyEnv are unset by Main: the SDKs honour them and the emulator is on loopback.
var proxyEnv = []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy"}

// Main prepares the process for emulator tests and runs them: it creates one CA, points
// SSL_CERT_FILE at it, sets ALIBABA_CLOUD_ECS_METADATA_DISABLED=true, unsets proxies and every
// other ALIBABA_CLOUD_* variable, runs m and exits with its code.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "emulatortest-ca-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "emulatortest:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := Setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, "emulatortest:", err)
		return 1
	}
	return m.Run()
}

// Setup does Main's environment work with the CA files written to dir; for test binaries that need
// their own TestMain logic. Call it before anything makes a TLS connection.
func Setup(dir string) error {
	ca, err := pki.NewCA("emulatortest CA")
	if err != nil {
		return err
	}
	certFile := filepath.Join(dir, "ca.pem")
	keyFile := filepath.Join(dir, "ca.key")
	if err := os.WriteFile(certFile, ca.CertPEM, 0o600); err != nil {
		return fmt.Errorf("write CA: %w", err)
	}
	if err := os.WriteFile(keyFile, ca.KeyPEM, 0o600); err != nil {
		return fmt.Errorf("write CA key: %w", err)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "ALICLOUD_") {
			_ = os.Unsetenv(k)
		}
	}
	for _, k := range proxyEnv {
		_ = os.Unsetenv(k)
	}
	for k, v := range map[string]string{
		"SSL_CERT_FILE":                       certFile,
		CAKeyEnv:                              keyFile,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
	} {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	return nil
}

// ProcessCA returns the CA created by Main and the file that holds its certificate, or nil when
// Main did not run.
func ProcessCA() (*pki.CA, string, error) {
	keyFile := os.Getenv(CAKeyEnv)
	certFile := os.Getenv("SSL_CERT_FILE")
	if keyFile == "" || certFile == "" {
		return nil, "", nil
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, "", fmt.Errorf("read process CA: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, "", fmt.Errorf("read process CA key: %w", err)
	}
	ca, err := pki.ParseCA(certPEM, keyPEM)
	if err != nil {
		return nil, "", err
	}
	return ca, certFile, nil
}

// Option changes the emulator configuration.
type Option func(*emulator.Config)

// WithSeed starts from seed instead of the default seed.
func WithSeed(seed *emulator.Seed) Option { return func(c *emulator.Config) { c.Seed = seed } }

// WithClock sets the emulator clock.
func WithClock(clock func() time.Time) Option { return func(c *emulator.Config) { c.Clock = clock } }

// WithStateDir persists state in dir.
func WithStateDir(dir string) Option { return func(c *emulator.Config) { c.StateDir = dir } }

// WithLogger sets the request logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *emulator.Config) { c.Logger = l } }

// WithConfig applies an arbitrary change to the configuration.
func WithConfig(fn func(*emulator.Config)) Option { return Option(fn) }

// Start starts an emulator that uses the process CA (see Main; without Main a fresh CA is used and
// only clients given Info().CAFile trust it) and closes it when the test ends.
func Start(t testing.TB, opts ...Option) *emulator.Server {
	t.Helper()
	cfg := emulator.Config{Addr: "127.0.0.1:0"}
	ca, caFile, err := ProcessCA()
	if err != nil {
		t.Fatalf("emulatortest: %v", err)
	}
	cfg.CA, cfg.CAFile = ca, caFile
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := emulator.New(cfg)
	if err != nil {
		t.Fatalf("emulatortest: new emulator: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("emulatortest: start emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("emulatortest: close emulator: %v", err)
		}
	})
	return srv
}
