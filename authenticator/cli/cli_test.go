package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-ack/kubectl-ack/authenticator/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

func TestMain(m *testing.M) {
	// TestLogFormat runs the command line in a child process: logging is set up once per process.
	if args := os.Getenv("CLI_TEST_ARGS"); args != "" {
		os.Exit(cli.Main(context.Background(), strings.Split(args, "\x1f"), os.Stdin, os.Stdout, os.Stderr))
	}
	emulatortest.Main(m)
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuffer
	code := cli.Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

func writeConfig(t *testing.T, info emulator.Info, port int, extra string) (path, kubeconfig string) {
	t.Helper()
	dir := t.TempDir()
	kubeconfig = filepath.Join(dir, "webhook", "kubeconfig.yaml")
	path = filepath.Join(dir, "config.yaml")
	body := fmt.Sprintf("clusterID: %s\nserver:\n  port: %d\n  stateDir: %s\n  generateKubeconfig: %s\n  allowedGroups: [system:masters]\n  mapUsers:\n  - userARN: acs:ram::%s:user/%s\n    username: admin-{{UserID}}\n    groups: [system:masters]\n%s",
		info.ClusterID, port, filepath.Join(dir, "state"), kubeconfig, info.AccountID, info.UserName, extra)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, kubeconfig
}

// TestServerContract is the contract the e2e tests rely on: "init -c F", then "server -c F
// --kubeconfig ADMIN --sts-endpoint H:P --sts-ca-file CA" serves on server.address:server.port,
// the webhook kubeconfig works with client-go, and /readyz turns 200.
func TestServerContract(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	port := freePort(t)
	cfgPath, webhookKC := writeConfig(t, info, port, "")

	if code, out, errOut := runCLI(t, "", "init", "-c", cfgPath); code != 0 || !strings.Contains(out, "wrote certificate") {
		t.Fatalf("init: %d %s %s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, "", "init", "-c", cfgPath); code != 0 || !strings.Contains(out, "kept existing") {
		t.Fatalf("second init: %d %s", code, out)
	}
	// kube-apiserver uses the webhook kubeconfig exactly as init wrote it.
	kube := kubetest.Start(t, kubetest.WithCRD(),
		kubetest.WithAPIServerFlag("authentication-token-webhook-config-file", webhookKC),
		kubetest.WithAPIServerFlag("authentication-token-webhook-version", "v1"),
		kubetest.WithAPIServerFlag("authentication-token-webhook-cache-ttl", "0s"))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- cli.Main(ctx, []string{"server", "-c", cfgPath, "--kubeconfig", kube.Kubeconfig,
			"--sts-endpoint", info.Endpoint, "--sts-ca-file", info.CAFile}, strings.NewReader(""), &syncBuffer{}, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("server exit code %d: %s", code, stderr.String())
		}
	})

	rc, err := clientcmd.BuildConfigFromFlags("", webhookKC)
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://127.0.0.1:" + strconv.Itoa(port) + "/authenticate"; rc.Host != want {
		t.Fatalf("webhook server = %s, want %s", rc.Host, want)
	}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(rc.Host, "/authenticate")
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := hc.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 after 20s (last error %v); stderr:\n%s", err, stderr.String())
		}
		<-tick.C
	}

	tok, _, err := token.Sign(token.SignInput{ClusterID: info.ClusterID, AccessKeyID: info.AccessKeyID, AccessKeySecret: info.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"apiVersion": "authentication.k8s.io/v1beta1", "kind": "TokenReview", "spec": map[string]string{"token": tok}})
	resp, err := hc.Post(rc.Host, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var rv struct {
		APIVersion string `json:"apiVersion"`
		Status     struct {
			Authenticated bool `json:"authenticated"`
			User          struct {
				Username string   `json:"username"`
				Groups   []string `json:"groups"`
			} `json:"user"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rv); err != nil {
		t.Fatal(err)
	}
	if rv.APIVersion != "authentication.k8s.io/v1beta1" || !rv.Status.Authenticated || rv.Status.User.Username != "admin-"+info.UserID || strings.Join(rv.Status.User.Groups, ",") != "system:masters" {
		t.Fatalf("answer %+v", rv)
	}

	// Through kube-apiserver: the bearer token is reviewed by the webhook and the user is the
	// mapped one (system:masters is allowed by the configuration).
	whoami := func(tok string) (*authenticationv1.SelfSubjectReview, error) {
		cs, err := kubernetes.NewForConfig(&rest.Config{Host: kube.Config.Host, BearerToken: tok,
			TLSClientConfig: rest.TLSClientConfig{CAData: kube.Config.CAData}})
		if err != nil {
			return nil, err
		}
		return cs.AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	}
	ssr, err := whoami(tok)
	if err != nil {
		t.Fatalf("SelfSubjectReview with a k8s-ack-v2 token: %v", err)
	}
	if u := ssr.Status.UserInfo; u.Username != "admin-"+info.UserID || !slices.Contains(u.Groups, "system:masters") || u.Extra["arn"][0] != "acs:ram::"+info.AccountID+":user/"+info.UserName {
		t.Errorf("kube-apiserver sees %+v", u)
	}
	// A token for another cluster is refused by kube-apiserver (401).
	bad, _, err := token.Sign(token.SignInput{ClusterID: "cother", AccessKeyID: info.AccessKeyID, AccessKeySecret: info.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := whoami(bad); !apierrors.IsUnauthorized(err) {
		t.Errorf("cross-cluster token through kube-apiserver: %v, want 401", err)
	}
	if strings.Contains(stderr.String(), tok[len(tok)-32:]) {
		t.Error("server logs contain token text")
	}
}

func TestVerifyCommand(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	cfgPath, _ := writeConfig(t, info, 21362, "  stsEndpoint: "+info.Endpoint+"\n")
	tok, _, err := token.Sign(token.SignInput{ClusterID: info.ClusterID, AccessKeyID: info.AccessKeyID, AccessKeySecret: info.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := srv.CreateUser(info.AccountID, "nobody")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := token.Sign(token.SignInput{ClusterID: info.ClusterID, AccessKeyID: otherKey.ID, AccessKeySecret: otherKey.Secret})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "text", args: []string{"verify", "-c", cfgPath, "--token", tok}, wantOut: "Username:      admin-" + info.UserID},
		{name: "json from stdin", stdin: tok + "\n", args: []string{"verify", "-c", cfgPath, "--token", "-", "-o", "json"}, wantOut: `"username": "admin-` + info.UserID + `"`},
		{name: "yaml", args: []string{"verify", "-c", cfgPath, "--token", tok, "-o", "yaml"}, wantOut: "canonicalArn: acs:ram::" + info.AccountID},
		{name: "unmapped is exit 3", args: []string{"verify", "-c", cfgPath, "--token", other}, wantCode: cli.ExitDenied, wantOut: "Denied:", wantErr: "is not mapped"},
		{name: "--sts-endpoint overrides the file", args: []string{"verify", "-c", cfgPath, "--token", tok, "--sts-endpoint", "127.0.0.1:1", "--sts-timeout", "300ms"}, wantCode: cli.ExitDenied, wantErr: "STS is unavailable"},
		{name: "no token", args: []string{"verify", "-c", cfgPath}, wantCode: 2, wantErr: "no token"},
		{name: "bad output", args: []string{"verify", "-c", cfgPath, "--token", tok, "-o", "xml"}, wantCode: 2, wantErr: `-o "xml"`},
		// The official spelling: -t and -i without a file verify the token only.
		{name: "official -t -i without a file", args: []string{"verify", "-t", tok, "-i", info.ClusterID, "--sts-endpoint", info.Endpoint}, wantOut: "Mapping:       not checked"},
		{name: "official -t -i, unmapped identity is fine", args: []string{"verify", "-t", other, "-i", info.ClusterID, "--sts-endpoint", info.Endpoint, "-o", "json"}, wantOut: `"mappingChecked": false`},
		{name: "-i overrides the file", args: []string{"verify", "-c", cfgPath, "-t", tok, "-i", "cother"}, wantCode: cli.ExitDenied, wantErr: "different cluster"},
		{name: "no config and no cluster id", args: []string{"verify", "--token", tok}, wantCode: 1, wantErr: "clusterID is required"},
		{name: "version", args: []string{"version"}, wantOut: "ack-ram-authenticator v"},
		{name: "pregenerated without init", args: []string{"server", "-c", cfgPath, "--port", strconv.Itoa(freePort(t)), "--kubeconfig-pregenerated=true"}, wantCode: 1, wantErr: "run 'ack-ram-authenticator init' first"},
		{name: "unknown feature gate", args: []string{"version", "--feature-gates=NoSuchGate=true"}, wantCode: 2, wantErr: "NoSuchGate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, tc.args...)
			if code != tc.wantCode || !strings.Contains(out, tc.wantOut) || !strings.Contains(errOut, tc.wantErr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout %q, stderr %q", code, tc.wantCode, out, errOut, tc.wantOut, tc.wantErr)
			}
			if strings.Contains(errOut, tok[len(tok)-32:]) {
				t.Error("stderr contains token text")
			}
		})
	}
}
