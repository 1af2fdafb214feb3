// Package emulator is an in-memory emulator of the Alibaba Cloud STS, RAM and CS (ACK) APIs behind
// one HTTPS listener. It verifies request signatures the way the services do (RPC HMAC-SHA1, ROA
// HMAC-SHA1 and ACS3-HMAC-SHA256), checks timestamps, nonces, body hashes and STS security tokens,
// and answers with the services' response shapes and error codes, so the real SDK clients and
// credentials-go can be tested against it. See docs/emulator.md.
package emulator

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/atomicfile"
	"github.com/kubectl-ack/kubectl-ack/pkg/pki"
)

// Config configures a Server.
type Config struct {
	// Addr is the listen address; default 127.0.0.1:0.
	Addr string
	// Seed is the initial state; nil means DefaultSeed (or, with StateDir, the seed persisted there).
	Seed *Seed
	// StateDir, when set, holds the CA, serving certificate, generated client CAs, the generated
	// default seed and info.json, so a restart reuses the same CA and credentials.
	StateDir string
	// CA signs the serving certificate. Nil: loaded from StateDir or generated.
	CA *pki.CA
	// CAFile optionally names a file that already holds CA.CertPEM; the emulator then reports it
	// as Info.CAFile instead of writing its own copy.
	CAFile string
	// Logger receives one line per request (never secrets). Nil discards.
	Logger *slog.Logger
	// Clock is the emulator's notion of now (timestamps, expirations). Nil means time.Now.
	Clock func() time.Time
	// Fleet adds FleetClusters of the seed's first account: clusters in several regions, a name
	// used twice and clusters that are not running.
	Fleet bool
}

// Info describes a running emulator; cmd/ack-emulator prints it as one JSON line.
type Info struct {
	// Endpoint is "127.0.0.1:PORT" without scheme, for SDK Config.Endpoint.
	Endpoint string `json:"endpoint"`
	// CAFile is the PEM file of the CA that signed the serving certificate.
	CAFile string `json:"caFile"`
	// AccountID is the first account.
	AccountID string `json:"accountId"`
	// AccessKeyID is the admin RAM user's key.
	AccessKeyID string `json:"accessKeyId"`
	// AccessKeySecret is the admin RAM user's secret.
	AccessKeySecret string `json:"accessKeySecret"`
	// UserName is the admin RAM user's name.
	UserName string `json:"userName"`
	// UserID is the admin RAM user's id.
	UserID string `json:"userId"`
	// ClusterID is the first cluster.
	ClusterID string `json:"clusterId"`
	// RegionID is the first cluster's region.
	RegionID string `json:"regionId"`
	// ServiceAccountIssuer is the first cluster's service account token issuer, and
	// ServiceAccountKeyFile its first service-account key file: a kube-apiserver started with
	// --service-account-issuer and --service-account-signing-key-file set to them issues tokens
	// the emulator's STS accepts for RRSA (when the file is a private key, as generated ones are).
	ServiceAccountIssuer  string `json:"serviceAccountIssuer,omitempty"`
	ServiceAccountKeyFile string `json:"serviceAccountKeyFile,omitempty"`
	// AdminToken authorises /_emulator/ endpoints (header X-Emulator-Admin).
	AdminToken string `json:"adminToken"`
}

// Services known to the emulator, for SetFault and Calls.
const (
	ServiceSTS = "sts"
	ServiceRAM = "ram"
	ServiceCS  = "cs"
)

// AdminHeader carries Info.AdminToken on admin requests.
const AdminHeader = "X-Emulator-Admin"

// Server is a running (or ready to run) emulator. All methods are safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	clock   func() time.Time
	workDir string
	tempDir bool
	ca      *pki.CA
	caFile  string
	cert    tls.Certificate
	admin   string

	mu             sync.Mutex
	accounts       map[string]*account
	accountOrder   []string
	keys           map[string]*keyRec
	tokens         map[string]string // security token → STS key id
	systemPolicies map[string]*policyRec
	clusters       map[string]*Cluster
	clusterOrder   []string
	clientCAs      map[string]*pki.CA
	tasks          map[string]*task
	nonces         map[string]time.Time
	noncePrune     time.Time
	calls          map[string]map[string]int
	faults         map[string]Fault
	logSeq         int64
	info           Info
	started        time.Time

	srv      *http.Server
	ln       net.Listener
	done     chan struct{}
	closeErr error
	closed   sync.Once
}

var clusterIDRe = regexp.MustCompile(`^c[0-9a-f]{32}$`)

func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '@') {
			return false
		}
	}
	return true
}

// New builds an emulator from cfg; call Start to listen.
func New(cfg Config) (*Server, error) {
	s := &Server{
		cfg:            cfg,
		log:            cfg.Logger,
		clock:          cfg.Clock,
		accounts:       map[string]*account{},
		keys:           map[string]*keyRec{},
		tokens:         map[string]string{},
		systemPolicies: map[string]*policyRec{},
		clusters:       map[string]*Cluster{},
		clientCAs:      map[string]*pki.CA{},
		tasks:          map[string]*task{},
		nonces:         map[string]time.Time{},
		calls:          map[string]map[string]int{},
		faults:         map[string]Fault{},
		done:           make(chan struct{}),
	}
	if cfg.Clock != nil {
		s.started = cfg.Clock()
	} else {
		s.started = time.Now()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if cfg.Addr == "" {
		s.cfg.Addr = "127.0.0.1:0"
	}
	if cfg.StateDir != "" {
		if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("create state dir: %w", err)
		}
		s.workDir = cfg.StateDir
	} else {
		dir, err := os.MkdirTemp("", "ack-emulator-")
		if err != nil {
			return nil, fmt.Errorf("create work dir: %w", err)
		}
		s.workDir, s.tempDir = dir, true
	}
	if err := s.init(); err != nil {
		if s.tempDir {
			_ = os.RemoveAll(s.workDir)
		}
		return nil, err
	}
	return s, nil
}

func (s *Server) init() error {
	seed := s.cfg.Seed
	if seed == nil {
		var err error
		if seed, err = s.defaultSeed(); err != nil {
			return err
		}
	}
	if s.cfg.Fleet && len(seed.Accounts) > 0 {
		withFleet := *seed
		withFleet.Clusters = append(append([]ClusterSeed(nil), seed.Clusters...), FleetClusters(seed.Accounts[0].ID)...)
		seed = &withFleet
	}
	if err := s.loadSeed(seed); err != nil {
		return err
	}
	// CA and serving certificate.
	switch {
	case s.cfg.CA != nil:
		s.ca = s.cfg.CA
		s.caFile = s.cfg.CAFile
		if s.caFile == "" {
			s.caFile = filepath.Join(s.workDir, "ca.pem")
			if err := atomicfile.WriteWith(s.caFile, s.ca.CertPEM, atomicfile.Options{Perm: 0o644}); err != nil {
				return err
			}
		}
	default:
		s.caFile = filepath.Join(s.workDir, "ca.pem")
		ca, err := pki.LoadOrCreateCA(s.caFile, filepath.Join(s.workDir, "ca.key"), "ack-emulator CA")
		if err != nil {
			return fmt.Errorf("emulator CA: %w", err)
		}
		s.ca = ca
	}
	cert, err := s.servingCert()
	if err != nil {
		return err
	}
	s.cert = cert
	tok, err := randomString(32, alnum)
	if err != nil {
		return err
	}
	s.admin = tok
	return nil
}

// defaultSeed returns the seed persisted in StateDir or a new default one (persisted when StateDir
// is set, so restarts keep the same credentials and cluster id).
func (s *Server) defaultSeed() (*Seed, error) {
	if s.cfg.StateDir == "" {
		return DefaultSeed()
	}
	path := filepath.Join(s.cfg.StateDir, "seed.json")
	if _, err := os.Stat(path); err == nil {
		return LoadSeed(path)
	}
	seed, err := DefaultSeed()
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(seed, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode seed: %w", err)
	}
	if err := atomicfile.Write(path, b); err != nil {
		return nil, err
	}
	return seed, nil
}

// servingCert reuses a persisted serving certificate that the CA signed and that is valid for at
// least a day, otherwise issues (and with StateDir persists) a new one.
func (s *Server) servingCert() (tls.Certificate, error) {
	hosts := []string{"127.0.0.1", "::1", "localhost"}
	if s.cfg.StateDir != "" {
		certFile := filepath.Join(s.cfg.StateDir, "serving.pem")
		keyFile := filepath.Join(s.cfg.StateDir, "serving.key")
		dns, ips := pki.SplitHosts(hosts)
		p, err := pki.ReadKeyPair(certFile, keyFile)
		if err == nil && p.Check(pki.Requirements{MinValidity: 24 * time.Hour, DNSNames: dns, IPs: ips, SignedBy: s.ca.Certificate()}) == nil {
			return p.TLS()
		}
		if p, err = s.ca.IssueServing(hosts, time.Now().AddDate(1, 0, 0)); err != nil {
			return tls.Certificate{}, err
		}
		if err := p.Write(certFile, keyFile); err != nil {
			return tls.Certificate{}, err
		}
		return p.TLS()
	}
	p, err := s.ca.IssueServing(hosts, time.Now().AddDate(1, 0, 0))
	if err != nil {
		return tls.Certificate{}, err
	}
	return p.TLS()
}

func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove emulator work dir: %w", err)
	}
	return nil
}
