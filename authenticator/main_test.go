package authenticator_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// kube is one real kube-apiserver (with the CRD) shared by the package's tests; see TestMain.
var kube *kubetest.Env

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "authenticator-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := emulatortest.Setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Starting kube-apiserver takes seconds: one per package.
	env, err := kubetest.StartEnv(kubetest.WithCRD())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kube = env
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop kube-apiserver:", err)
	}
	return code
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// baseConfig is a configuration for the emulator's cluster, with state in a temp dir.
func baseConfig(t testing.TB, info emulator.Info) *authenticator.Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := authenticator.ParseConfig([]byte(fmt.Sprintf(`
clusterID: %s
server:
  stateDir: %s
  generateKubeconfig: %s
  stsEndpoint: %s
`, info.ClusterID, filepath.Join(dir, "state"), filepath.Join(dir, "kubeconfig.yaml"), info.Endpoint)), "test")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// running is a webhook server on loopback.
type running struct {
	srv    *authenticator.Server
	url    string
	client *http.Client
}

// startServer inits certificates, builds the server from cfg and serves it on 127.0.0.1:0 until
// the test ends.
func startServer(t testing.TB, cfg *authenticator.Config, opts authenticator.Options) *running {
	t.Helper()
	if _, err := authenticator.Init(cfg, authenticator.InitOptions{}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	srv, err := authenticator.NewServer(cfg, opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	tc, err := srv.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	addrc := make(chan string, 1)
	go func() { done <- srv.ServeListener(ctx, tls.NewListener(ln, tc), func(a string) { addrc <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	addr := <-addrc
	return &running{srv: srv, url: "https://" + addr, client: clientFor(t, cfg)}
}

// clientFor trusts the serving certificate written by Init.
func clientFor(t testing.TB, cfg *authenticator.Config) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(cfg.Server.StateDir, authenticator.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 100, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

type reviewUser struct {
	Username string              `json:"username"`
	UID      string              `json:"uid"`
	Groups   []string            `json:"groups"`
	Extra    map[string][]string `json:"extra"`
}

type review struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Status     struct {
		Authenticated bool       `json:"authenticated"`
		User          reviewUser `json:"user"`
		Error         string     `json:"error"`
	} `json:"status"`
}

func reviewBody(apiVersion, tok string) []byte {
	b, _ := json.Marshal(map[string]any{"apiVersion": apiVersion, "kind": "TokenReview", "spec": map[string]any{"token": tok}})
	return b
}

// post sends a TokenReview and returns the HTTP status and the decoded answer.
func (r *running) post(t testing.TB, apiVersion, tok string) (int, review) {
	t.Helper()
	resp, err := r.client.Post(r.url+"/authenticate", "application/json", bytes.NewReader(reviewBody(apiVersion, tok)))
	if err != nil {
		t.Fatalf("POST /authenticate: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var rv review
	if resp.Header.Get("Content-Type") == "application/json" {
		if err := json.NewDecoder(resp.Body).Decode(&rv); err != nil {
			t.Fatalf("decode answer: %v", err)
		}
	}
	return resp.StatusCode, rv
}

func (r *running) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := r.client.Get(r.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

func sign(t testing.TB, cluster, ak, secret, sts string) string {
	t.Helper()
	return signAt(t, time.Time{}, cluster, ak, secret, sts)
}

// signAt signs at a given time; tokens of one key differ only when their seconds differ.
func signAt(t testing.TB, at time.Time, cluster, ak, secret, sts string) string {
	t.Helper()
	tok, _, err := token.Sign(token.SignInput{ClusterID: cluster, AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: sts, Now: at})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

// assumeRole creates a role trusted by the account and assumes it with the real SDK clients.
func assumeRole(t testing.TB, info emulator.Info, roleName, session string) *cloud.AssumeRoleOutput {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	ep := cloud.Endpoints{RegionID: info.RegionID, STS: info.Endpoint, RAM: info.Endpoint, CS: info.Endpoint}
	cred, err := credentials.NewCredential(new(credentials.Config).SetType("access_key").SetAccessKeyId(info.AccessKeyID).SetAccessKeySecret(info.AccessKeySecret))
	if err != nil {
		t.Fatal(err)
	}
	ram, err := cloud.NewRAM(cred, ep)
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + info.AccountID + `:root"]}}]}`
	role, err := ram.CreateRole(ctx, cloud.CreateRoleInput{Name: roleName, AssumeRolePolicyDocument: trust})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	stsc, err := cloud.NewSTS(cred, ep)
	if err != nil {
		t.Fatal(err)
	}
	out, err := stsc.AssumeRole(ctx, cloud.AssumeRoleInput{RoleARN: role.ARN, SessionName: session})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	return out
}

// eventually polls cond every 20 ms until it returns "" or the deadline passes.
func eventually(t testing.TB, d time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		if last = cond(); last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %s", d, last)
		}
		<-tick.C
	}
}
