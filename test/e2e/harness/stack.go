package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures Start.
type Options struct {
	// Dir is the working directory for certificates, state and logs; a new temporary directory
	// when empty (removed by Close unless KeepDir).
	Dir string
	// KeepDir keeps Dir after Close (for reading the logs of a failed run).
	KeepDir bool
	// NoAuthenticator leaves out ack-ram-authenticator and the token webhook (certificate mode
	// and RRSA do not need them).
	NoAuthenticator bool
	// AccountID is the emulated account (16 digits); random when empty. Set it to write static
	// mappings for ARNs of that account.
	AccountID string
	// Roles are RAM roles seeded into the account, each trusting the whole account (so any of
	// its RAM users may assume them).
	Roles []string
	// MapUsers and MapRoles are static mappings in the authenticator's config file.
	MapUsers []StaticMapping
	// MapRoles are static role mappings.
	MapRoles []StaticMapping
	// Authenticator runs ack-ram-authenticator around kube-apiserver's start; nil is InitThenServe.
	Authenticator AuthenticatorRunner
	// Logf reports progress; nil is quiet.
	Logf func(format string, args ...any)
}

// StaticMapping is one server.mapUsers/mapRoles entry of the authenticator config.
type StaticMapping struct {
	ARN      string
	Username string
	Groups   []string
}

// EmulatorInfo is the JSON line `ack-emulator serve` prints once it listens.
type EmulatorInfo struct {
	Endpoint        string `json:"endpoint"`
	CAFile          string `json:"caFile"`
	AccountID       string `json:"accountId"`
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
	UserName        string `json:"userName"`
	UserID          string `json:"userId"`
	ClusterID       string `json:"clusterId"`
	RegionID        string `json:"regionId"`
	AdminToken      string `json:"adminToken"`
}

// Stack is a running chain: emulator, etcd, kube-apiserver and (optionally) the authenticator.
type Stack struct {
	Paths Paths
	// Dir is the working directory (certificates, state, logs, user homes).
	Dir string
	// Emulator is what the emulator reported.
	Emulator EmulatorInfo
	// ClusterID is the emulated ACK cluster whose API server is the real kube-apiserver.
	ClusterID string
	// AccountID owns the cluster.
	AccountID string
	// APIServerURL is https://127.0.0.1:<port>.
	APIServerURL string
	// APIServerCAFile is the CA of the API server's serving certificate.
	APIServerCAFile string
	// AdminKubeconfig authenticates as a system:masters client certificate.
	AdminKubeconfig string
	// ServiceAccountIssuer is kube-apiserver's --service-account-issuer and the cluster's RRSA issuer.
	ServiceAccountIssuer string
	// AuthenticatorURL is https://127.0.0.1:<port> of ack-ram-authenticator ("" without it).
	AuthenticatorURL string
	// AuthenticatorConfig is the config file passed to the authenticator.
	AuthenticatorConfig string

	opts     Options
	procs    map[string]*process
	order    []string
	mu       sync.Mutex
	closed   bool
	users    int
	emuHTTP  *http.Client
	kubeHTTP *http.Client
}

// Start brings the chain up in dependency order and waits until each piece is ready. On error
// everything already started is stopped. Ports are picked free and then handed to the processes,
// so another program on the machine can take one in between: such a start is retried.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var s *Stack
		if s, err = start(ctx, opts); err == nil {
			return s, nil
		}
		if !strings.Contains(err.Error(), "address already in use") || opts.Dir != "" {
			return nil, err
		}
		if opts.Logf != nil {
			opts.Logf("a port was taken while starting (attempt %d), starting again: %v", attempt, firstLine(err.Error()))
		}
	}
	return nil, err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func start(ctx context.Context, opts Options) (_ *Stack, err error) {
	// Only what the chain itself runs: a missing plugin fails the command that uses it, with
	// the same hint.
	need := []string{"ack-emulator", "ack-ram-authenticator"}
	if opts.NoAuthenticator {
		need = need[:1]
	}
	paths, err := FindPaths(need, KubeBinaries)
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "kubectl-ack-e2e-"); err != nil {
			return nil, err
		}
	}
	s := &Stack{Paths: paths, Dir: dir, opts: opts, procs: map[string]*process{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	for _, d := range []string{"pki", "logs", "etcd", "emulator", "authenticator", "users"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	s.logf("working directory %s", dir)

	pki := filepath.Join(dir, "pki")
	servingCA, err := newCA(pki, "serving-ca", "kubectl-ack e2e serving CA")
	if err != nil {
		return nil, err
	}
	clientCA, err := newCA(pki, "client-ca", "kubectl-ack e2e client CA")
	if err != nil {
		return nil, err
	}
	if _, _, err := servingCA.issue(pki, "apiserver", "kube-apiserver", nil, []net.IP{net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, err
	}
	adminCert, adminKey, err := clientCA.issue(pki, "admin", "e2e-admin", []string{"system:masters"}, nil)
	if err != nil {
		return nil, err
	}
	saKey, saPub, err := newServiceAccountKey(pki)
	if err != nil {
		return nil, err
	}
	s.APIServerCAFile = servingCA.certFile

	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s.APIServerURL = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	s.AccountID = opts.AccountID
	if s.AccountID == "" {
		s.AccountID = RandomAccountID()
	}
	s.ClusterID = "c" + randomHex(16)
	// The same form as the emulator's default issuer (emulator.DefaultIssuer).
	s.ServiceAccountIssuer = "https://oidc-ack.emulator.invalid/" + s.ClusterID

	if err := s.startEmulator(ctx, servingCA.certFile, clientCA, saPub); err != nil {
		return nil, err
	}
	if s.AdminKubeconfig, err = s.writeAdminKubeconfig(servingCA.certFile, adminCert, adminKey); err != nil {
		return nil, err
	}
	if err := s.loadKubeHTTP(servingCA.certFile, adminCert, adminKey); err != nil {
		return nil, err
	}

	var webhookConfig string
	runner := opts.authenticator()
	if runner != nil {
		if webhookConfig, err = runner.BeforeAPIServer(ctx, s); err != nil {
			return nil, err
		}
	}
	etcdURL, err := s.startEtcd(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.startAPIServer(ctx, apiPort, etcdURL, clientCA.certFile, saKey, saPub, webhookConfig); err != nil {
		return nil, err
	}
	crd := filepath.Join(paths.Repo, "deploy", "crd", "ramauthenticator.k8s.alibabacloud_ramidentitymappings.yaml")
	if err := s.adminKubectl(ctx, "apply", "-f", crd); err != nil {
		return nil, fmt.Errorf("install the RAMIdentityMapping CRD: %w", err)
	}
	if err := s.adminKubectl(ctx, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/ramidentitymappings.ramauthenticator.k8s.alibabacloud"); err != nil {
		return nil, fmt.Errorf("wait for the RAMIdentityMapping CRD: %w", err)
	}
	if runner != nil {
		if err := runner.AfterAPIServer(ctx, s); err != nil {
			return nil, err
		}
	}
	s.logf("ready: emulator https://%s, kube-apiserver %s, cluster %s", s.Emulator.Endpoint, s.APIServerURL, s.ClusterID)
	return s, nil
}

func (s *Stack) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Stack) add(p *process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[p.name] = p
	s.order = append(s.order, p.name)
}

// Close stops every process, newest first, and removes the working directory unless KeepDir.
func (s *Stack) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	order := append([]string(nil), s.order...)
	s.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		s.procs[order[i]].stop(10 * time.Second)
	}
	s.mu.Lock()
	keep := s.opts.KeepDir
	s.mu.Unlock()
	if !keep && s.opts.Dir == "" {
		_ = os.RemoveAll(s.Dir)
	}
}

// KeepDir makes Close leave the working directory in place (for the logs of a failed run).
func (s *Stack) KeepDir() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.KeepDir = true
}

// Logs returns the tail of every process log, for failure reports.
func (s *Stack) Logs(lines int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, name := range s.order {
		p := s.procs[name]
		fmt.Fprintf(&b, "===== %s (%s), last %d lines =====\n%s\n", name, p.logFile, lines, p.tail(lines))
	}
	return b.String()
}

// LogFile returns the log path of a process (emulator, etcd, kube-apiserver, authenticator).
func (s *Stack) LogFile(name string) string { return filepath.Join(s.Dir, "logs", name+".log") }

// childEnv is the environment of every child: the test's own, less anything that could point
// a child at a real cloud, a proxy or another kubeconfig.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		u := strings.ToUpper(k)
		switch {
		case strings.HasPrefix(u, "ALIBABA_CLOUD_"), strings.HasPrefix(u, "ALIBABACLOUD_"), strings.HasPrefix(u, "ALICLOUD_"),
			strings.HasPrefix(u, "KUBECTL_ACK_"), strings.HasPrefix(u, "ACK_RAM_TOOL_"),
			strings.HasSuffix(u, "_PROXY"), u == "KUBECONFIG", u == "KUBECACHEDIR", u == "HOME", u == "PATH", u == "SSL_CERT_FILE", u == "SSL_CERT_DIR":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	return append(env, extra...)
}

func (s *Stack) pathEnv() string {
	return "PATH=" + s.Paths.Bin + string(os.PathListSeparator) + s.Paths.KubeBin + string(os.PathListSeparator) + "/usr/local/bin:/usr/bin:/bin"
}

// --- emulator ---

type seedFile struct {
	Accounts []seedAccount `json:"accounts"`
	Clusters []seedCluster `json:"clusters"`
}

type seedAccount struct {
	ID    string     `json:"id"`
	Users []seedUser `json:"users"`
	Roles []seedRole `json:"roles,omitempty"`
}

type seedUser struct {
	Name       string    `json:"name"`
	AccessKeys []seedKey `json:"accessKeys"`
}

type seedKey struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

type seedRole struct {
	Name        string `json:"name"`
	TrustPolicy string `json:"trustPolicy"`
}

type seedCluster struct {
	ID                     string         `json:"id"`
	AccountID              string         `json:"accountId"`
	Name                   string         `json:"name"`
	RegionID               string         `json:"regionId"`
	State                  string         `json:"state"`
	Version                string         `json:"version"`
	APIServerURL           string         `json:"apiServerURL"`
	APIServerCAFile        string         `json:"apiServerCAFile"`
	ClientCACertFile       string         `json:"clientCACertFile"`
	ClientCAKeyFile        string         `json:"clientCAKeyFile"`
	ServiceAccountIssuer   string         `json:"serviceAccountIssuer"`
	ServiceAccountKeyFiles []string       `json:"serviceAccountKeyFiles"`
	RRSA                   map[string]any `json:"rrsa"`
	TaskPolls              int            `json:"taskPolls,omitempty"`
	TaskDuration           string         `json:"taskDuration,omitempty"`
}

func (s *Stack) startEmulator(ctx context.Context, servingCAFile string, clientCA *ca, saPub string) error {
	trust := fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::%s:root"]}}]}`, s.AccountID)
	acct := seedAccount{ID: s.AccountID, Users: []seedUser{{Name: "admin", AccessKeys: []seedKey{{ID: "LTAI" + randomHex(10), Secret: randomHex(15)}}}}}
	for _, r := range s.opts.Roles {
		acct.Roles = append(acct.Roles, seedRole{Name: r, TrustPolicy: trust})
	}
	seed := seedFile{
		Accounts: []seedAccount{acct},
		Clusters: []seedCluster{{
			ID: s.ClusterID, AccountID: s.AccountID, Name: "e2e", RegionID: "cn-hangzhou", State: "running",
			Version: "1.36.3-aliyun.1", APIServerURL: s.APIServerURL, APIServerCAFile: servingCAFile,
			ClientCACertFile: clientCA.certFile, ClientCAKeyFile: clientCA.keyFile,
			ServiceAccountIssuer: s.ServiceAccountIssuer, ServiceAccountKeyFiles: []string{saPub},
			RRSA: map[string]any{"enabled": false}, TaskDuration: "500ms",
		}},
	}
	b, err := json.MarshalIndent(seed, "", "  ")
	if err != nil {
		return err
	}
	seedPath := filepath.Join(s.Dir, "emulator", "seed.json")
	if err := writeFile(seedPath, b, 0o600); err != nil {
		return err
	}
	lines := newLineCatcher()
	p, err := startProcess("emulator", filepath.Join(s.Dir, "logs"), childEnv(s.pathEnv()), lines,
		filepath.Join(s.Paths.Bin, "ack-emulator"), "serve", "--addr", "127.0.0.1:0", "--seed", seedPath,
		"--state-dir", filepath.Join(s.Dir, "emulator", "state"), "--log-level", "info")
	if err != nil {
		return err
	}
	s.add(p)
	var line string
	select {
	case line = <-lines.first:
	case <-p.done:
		return fmt.Errorf("ack-emulator exited (%v) before printing its info line; log %s:\n%s", p.waitErr, p.logFile, p.tail(30))
	case <-time.After(30 * time.Second):
		return fmt.Errorf("ack-emulator printed no info line within 30s; log %s:\n%s", p.logFile, p.tail(30))
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := json.Unmarshal([]byte(line), &s.Emulator); err != nil {
		return fmt.Errorf("ack-emulator info line %q: %w", line, err)
	}
	if s.Emulator.ClusterID != s.ClusterID || s.Emulator.AccountID != s.AccountID {
		return fmt.Errorf("ack-emulator reports cluster %s account %s, seeded %s %s", s.Emulator.ClusterID, s.Emulator.AccountID, s.ClusterID, s.AccountID)
	}
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(s.Emulator.CAFile)
	if err != nil {
		return fmt.Errorf("emulator CA: %w", err)
	}
	pool.AppendCertsFromPEM(caPEM)
	s.emuHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	s.logf("emulator listening on %s (account %s, cluster %s)", s.Emulator.Endpoint, s.AccountID, s.ClusterID)
	return nil
}

// lineCatcher hands the first line written to it to a channel and drops the rest.
type lineCatcher struct {
	buf   bytes.Buffer
	sent  bool
	first chan string
}

func newLineCatcher() *lineCatcher { return &lineCatcher{first: make(chan string, 1)} }

func (l *lineCatcher) Write(p []byte) (int, error) {
	if !l.sent {
		l.buf.Write(p)
		if line, _, ok := bytes.Cut(l.buf.Bytes(), []byte("\n")); ok {
			l.first <- string(line)
			l.sent = true
		}
	}
	return len(p), nil
}

// EmulatorAdmin calls the emulator admin API (docs/emulator.md) and decodes the JSON answer into
// out when it is non-nil.
func (s *Stack) EmulatorAdmin(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://"+s.Emulator.Endpoint+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-Emulator-Admin", s.Emulator.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.emuHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("emulator admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("emulator admin %s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// RAMUser is a RAM user with its access key.
type RAMUser struct {
	AccountID       string `json:"accountId"`
	UserName        string `json:"userName"`
	UserID          string `json:"userId"`
	ARN             string `json:"arn"`
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
}

// CreateRAMUser creates a RAM user with an access key in the cluster's account.
func (s *Stack) CreateRAMUser(ctx context.Context, name string) (RAMUser, error) {
	var u RAMUser
	err := s.EmulatorAdmin(ctx, http.MethodPost, "/_emulator/users", map[string]string{"accountId": s.AccountID, "name": name}, &u)
	return u, err
}

// Fault is an emulator fault (docs/emulator.md "Faults"); the zero Mode clears it.
type Fault struct {
	Mode  string `json:"mode"`
	Delay string `json:"delay,omitempty"`
	Count int    `json:"count,omitempty"`
}

// SetFault injects (or with Mode "" clears) a fault on service sts, ram or cs.
func (s *Stack) SetFault(ctx context.Context, service string, f Fault) error {
	return s.EmulatorAdmin(ctx, http.MethodPut, "/_emulator/faults/"+service, f, nil)
}

// Calls returns the emulator's accepted-call counters, by service then action.
func (s *Stack) Calls(ctx context.Context) (map[string]map[string]int, error) {
	var out map[string]map[string]int
	err := s.EmulatorAdmin(ctx, http.MethodGet, "/_emulator/calls", nil, &out)
	return out, err
}

// --- etcd and kube-apiserver ---

func (s *Stack) startEtcd(ctx context.Context) (string, error) {
	clientPort, err := freePort()
	if err != nil {
		return "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return "", err
	}
	client := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	p, err := startProcess("etcd", filepath.Join(s.Dir, "logs"), childEnv(s.pathEnv()), nil,
		filepath.Join(s.Paths.KubeBin, "etcd"), "--name", "e2e", "--data-dir", filepath.Join(s.Dir, "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "e2e="+peer,
		// Throw-away data: skipping fsync keeps the suite fast on a shared disk.
		"--unsafe-no-fsync")
	if err != nil {
		return "", err
	}
	s.add(p)
	hc := &http.Client{Timeout: 2 * time.Second}
	err = poll(ctx, "etcd /health", 60*time.Second, p, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, client+"/health", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && bytes.Contains(b, []byte(`"health":"true"`)), fmt.Errorf("HTTP %d %s", resp.StatusCode, b)
	})
	if err != nil {
		return "", err
	}
	s.logf("etcd ready on %s", client)
	return client, nil
}

func (s *Stack) startAPIServer(ctx context.Context, port int, etcdURL, clientCAFile, saKey, saPub, webhookConfig string) error {
	pki := filepath.Join(s.Dir, "pki")
	args := []string{
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
		"--etcd-servers=" + etcdURL,
		"--tls-cert-file=" + filepath.Join(pki, "apiserver.pem"), "--tls-private-key-file=" + filepath.Join(pki, "apiserver.key"),
		"--client-ca-file=" + clientCAFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=" + s.ServiceAccountIssuer,
		"--service-account-key-file=" + saPub, "--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--cert-dir=" + filepath.Join(s.Dir, "pki", "apiserver-certs"),
	}
	if webhookConfig != "" {
		args = append(args, "--authentication-token-webhook-config-file="+webhookConfig,
			"--authentication-token-webhook-version=v1")
	}
	p, err := startProcess("kube-apiserver", filepath.Join(s.Dir, "logs"), childEnv(s.pathEnv()), nil,
		filepath.Join(s.Paths.KubeBin, "kube-apiserver"), args...)
	if err != nil {
		return err
	}
	s.add(p)
	err = poll(ctx, "kube-apiserver /readyz", 90*time.Second, p, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.APIServerURL+"/readyz", nil)
		resp, err := s.kubeHTTP.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200, fmt.Errorf("HTTP %d %s", resp.StatusCode, b)
	})
	if err != nil {
		return err
	}
	s.logf("kube-apiserver ready on %s", s.APIServerURL)
	return nil
}

func (s *Stack) loadKubeHTTP(caFile string, certPEM, keyPEM []byte) error {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	s.kubeHTTP = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}}}
	return nil
}

func (s *Stack) writeAdminKubeconfig(caFile string, certPEM, keyPEM []byte) (string, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return "", err
	}
	enc := base64.StdEncoding.EncodeToString
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: e2e-admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: e2e-admin
  context:
    cluster: e2e
    user: e2e-admin
current-context: e2e-admin
`, s.APIServerURL, enc(caPEM), enc(certPEM), enc(keyPEM))
	path := filepath.Join(s.Dir, "pki", "admin.kubeconfig")
	return path, writeFile(path, []byte(kc), 0o600)
}

// adminKubectl runs kubectl as the cluster admin; the output goes to the error on failure.
func (s *Stack) adminKubectl(ctx context.Context, args ...string) error {
	r := s.Admin().Run(ctx, "kubectl", args...)
	return r.Err()
}

// Admin is a user whose kubeconfig is the system:masters client certificate.
func (s *Stack) Admin() *User {
	_ = os.MkdirAll(filepath.Join(s.Dir, "users", "_admin"), 0o700)
	return &User{stack: s, Name: "admin", Home: filepath.Join(s.Dir, "users", "_admin"),
		env: childEnv(s.pathEnv(), "HOME="+filepath.Join(s.Dir, "users", "_admin"), "KUBECONFIG="+s.AdminKubeconfig), timeout: 60 * time.Second}
}

// --- authenticator ---

type authConfig struct {
	ClusterID string           `json:"clusterID"`
	Server    authServerConfig `json:"server"`
}

type authServerConfig struct {
	Port               int           `json:"port"`
	Address            string        `json:"address"`
	StateDir           string        `json:"stateDir"`
	GenerateKubeconfig string        `json:"generateKubeconfig"`
	Mappers            []string      `json:"mappers"`
	MapRoles           []authMapping `json:"mapRoles,omitempty"`
	MapUsers           []authMapping `json:"mapUsers,omitempty"`
}

type authMapping struct {
	RoleARN  string   `json:"roleARN,omitempty"`
	UserARN  string   `json:"userARN,omitempty"`
	Username string   `json:"username"`
	Groups   []string `json:"groups,omitempty"`
}

// writeAuthenticatorConfig writes the authenticator's config (a free port, state and webhook
// kubeconfig under the working directory, the static mappings) and returns the kubeconfig path.
func (s *Stack) writeAuthenticatorConfig() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(s.Dir, "authenticator")
	cfg := authConfig{ClusterID: s.ClusterID, Server: authServerConfig{
		Port: port, Address: "127.0.0.1", StateDir: filepath.Join(dir, "state"),
		GenerateKubeconfig: filepath.Join(dir, "webhook.kubeconfig"), Mappers: []string{"MountedFile", "CRD"},
	}}
	for _, m := range s.opts.MapRoles {
		cfg.Server.MapRoles = append(cfg.Server.MapRoles, authMapping{RoleARN: m.ARN, Username: m.Username, Groups: m.Groups})
	}
	for _, m := range s.opts.MapUsers {
		cfg.Server.MapUsers = append(cfg.Server.MapUsers, authMapping{UserARN: m.ARN, Username: m.Username, Groups: m.Groups})
	}
	// JSON is YAML: no YAML library needed.
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", err
	}
	s.AuthenticatorConfig = filepath.Join(dir, "config.yaml")
	if err := writeFile(s.AuthenticatorConfig, b, 0o600); err != nil {
		return "", err
	}
	s.AuthenticatorURL = "https://127.0.0.1:" + strconv.Itoa(port)
	return cfg.Server.GenerateKubeconfig, nil
}

// initAuthenticator writes the config and runs `ack-ram-authenticator init`, which creates the
// serving certificate and the webhook kubeconfig that kube-apiserver reads.
func (s *Stack) initAuthenticator(ctx context.Context) (string, error) {
	kubeconfig, err := s.writeAuthenticatorConfig()
	if err != nil {
		return "", err
	}
	r := s.Admin().Run(ctx, filepath.Join(s.Paths.Bin, "ack-ram-authenticator"), "init", "-c", s.AuthenticatorConfig)
	if err := r.Err(); err != nil {
		return "", fmt.Errorf("ack-ram-authenticator init: %w", err)
	}
	if _, err := os.Stat(kubeconfig); err != nil {
		return "", fmt.Errorf("ack-ram-authenticator init did not write the webhook kubeconfig: %w", err)
	}
	return kubeconfig, nil
}

// launchAuthenticator starts `ack-ram-authenticator server` with the config file.
func (s *Stack) launchAuthenticator() (*process, error) {
	dir := filepath.Join(s.Dir, "authenticator")
	p, err := startProcess("authenticator", filepath.Join(s.Dir, "logs"), childEnv(s.pathEnv(), "HOME="+dir), nil,
		filepath.Join(s.Paths.Bin, "ack-ram-authenticator"), "server", "-c", s.AuthenticatorConfig,
		"--kubeconfig", s.AdminKubeconfig, "--sts-endpoint", s.Emulator.Endpoint, "--sts-ca-file", s.Emulator.CAFile)
	if err != nil {
		return nil, err
	}
	s.add(p)
	return p, nil
}

func (s *Stack) startAuthenticator(ctx context.Context) error {
	p, err := s.launchAuthenticator()
	if err != nil {
		return err
	}
	return s.waitAuthenticator(ctx, p, filepath.Join(s.Dir, "authenticator", "state", "cert.pem"))
}

// waitAuthenticator polls AuthenticatorURL/readyz, trusting the serving certificate in certFile.
func (s *Stack) waitAuthenticator(ctx context.Context, p *process, certFile string) error {
	caPEM, err := os.ReadFile(certFile)
	if err != nil {
		return fmt.Errorf("authenticator serving certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	err = poll(ctx, "ack-ram-authenticator /readyz", 60*time.Second, p, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.AuthenticatorURL+"/readyz", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200, fmt.Errorf("HTTP %d %s", resp.StatusCode, b)
	})
	if err != nil {
		return err
	}
	s.logf("ack-ram-authenticator ready on %s", s.AuthenticatorURL)
	return nil
}

// --- helpers ---

func randomHex(nBytes int) string {
	b := make([]byte, nBytes)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// RandomAccountID returns a random 16-digit account id.
func RandomAccountID() string { return randomDigits(16) }

func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			panic(err)
		}
		if i == 0 && d.Int64() == 0 {
			d = big.NewInt(1)
		}
		b.WriteString(d.String())
	}
	return b.String()
}

var errTimeout = errors.New("timed out")
