package main

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	clientexec "k8s.io/client-go/plugin/pkg/client/auth/exec"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/transport"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// envBinary hands the binary built by TestMain to the tests.
const envBinary = "KUBECTL_ACK_LOGIN_TEST_BINARY"

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kubectl-ack_login-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := emulatortest.Setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "the go command is needed to build the binary under test:", err)
		return 1
	}
	bin := filepath.Join(dir, "kubectl-ack_login")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build kubectl-ack_login: %v\n%s", err, out)
		return 1
	}
	if err := os.Setenv(envBinary, bin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// env returns a process environment that points the binary at the emulator.
func env(t *testing.T, info emulator.Info, cacheDir string, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	e := []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"SSL_CERT_FILE=" + os.Getenv("SSL_CERT_FILE"),
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
		"KUBECACHEDIR=" + cacheDir,
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + info.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + info.AccessKeySecret,
		"ALIBABA_CLOUD_CS_ENDPOINT=" + info.Endpoint,
		"ALIBABA_CLOUD_STS_ENDPOINT=" + info.Endpoint,
		"ALIBABA_CLOUD_REGION_ID=" + info.RegionID,
	}
	return append(e, extra...)
}

func start(t *testing.T, environ []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(os.Getenv(envBinary), args...)}
	p.cmd.Env = environ
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// runConcurrently starts n processes at once and waits for all.
func runConcurrently(t *testing.T, n int, environ []string, args ...string) []*proc {
	t.Helper()
	ps := make([]*proc, n)
	for i := range ps {
		ps[i] = start(t, environ, args...)
	}
	for i, p := range ps {
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\nstderr: %s", i, err, p.stderr.String())
		}
	}
	return ps
}

// checkOnlyCredential asserts stdout is exactly one ExecCredential line of
// the wanted apiVersion.
func checkOnlyCredential(t *testing.T, stdout, apiVersion string) map[string]any {
	t.Helper()
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "}\n") {
		t.Fatalf("stdout is not exactly one JSON line: %q", stdout)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatal(err)
	}
	if m["kind"] != "ExecCredential" || m["apiVersion"] != apiVersion {
		t.Fatalf("got kind %v apiVersion %v", m["kind"], m["apiVersion"])
	}
	return m
}

func TestConcurrentCertificateRequestsMakeOneCSCall(t *testing.T) {
	srv := emulatortest.Start(t)
	info := srv.Info()
	environ := env(t, info, t.TempDir(),
		`KUBERNETES_EXEC_INFO={"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`)
	ps := runConcurrently(t, 10, environ, "--cluster-id", info.ClusterID, "--mode", "certificate")
	if got := srv.Calls("cs", "DescribeClusterUserKubeconfig"); got != 1 {
		t.Fatalf("10 concurrent processes made %d DescribeClusterUserKubeconfig calls, want 1", got)
	}
	for i, p := range ps {
		m := checkOnlyCredential(t, p.stdout.String(), "client.authentication.k8s.io/v1")
		if st, _ := m["status"].(map[string]any); st["clientCertificateData"] == nil || st["clientKeyData"] == nil {
			t.Fatalf("process %d: no client certificate", i)
		}
		if p.stdout.String() != ps[0].stdout.String() {
			t.Fatalf("process %d printed a different credential", i)
		}
		if p.stderr.Len() != 0 {
			t.Fatalf("process %d wrote to stderr: %s", i, p.stderr.String())
		}
	}
}

func TestConcurrentTokenRequestsSignOnce(t *testing.T) {
	srv := emulatortest.Start(t)
	info := srv.Info()
	cache := filepath.Join(t.TempDir(), "cache")
	environ := env(t, info, cache)
	// ack-ram-tool's argument form, with debug logging to count refreshes.
	ps := runConcurrently(t, 10, environ, "credential-plugin", "get-token", "--cluster-id", info.ClusterID, "--api-version", "v1beta1", "--log-level", "debug")
	issued, hits := 0, 0
	for i, p := range ps {
		checkOnlyCredential(t, p.stdout.String(), "client.authentication.k8s.io/v1beta1")
		if p.stdout.String() != ps[0].stdout.String() {
			t.Fatalf("process %d printed a different token", i)
		}
		issued += strings.Count(p.stderr.String(), "cache miss: issued new token")
		hits += strings.Count(p.stderr.String(), "cache hit")
	}
	if issued != 1 || hits != 9 {
		t.Fatalf("issued %d tokens and served %d from cache, want 1 and 9", issued, hits)
	}
	if runtime.GOOS != "windows" {
		dir := filepath.Join(cache, "kubectl-ack")
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("cache dir: %v %v", fi, err)
		}
		ents, _ := os.ReadDir(dir)
		n := 0
		for _, de := range ents {
			fi, _ := de.Info()
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s mode %v", de.Name(), fi.Mode().Perm())
			}
			if strings.HasSuffix(de.Name(), ".json") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d cache entries, want 1", n)
		}
	}
	// STS is not involved in making a token from an access key.
	if got := srv.Calls("sts", "GetCallerIdentity"); got != 0 {
		t.Fatalf("token signing called STS %d times", got)
	}
}

// Errors go to stderr, never stdout (kubectl reads the credential there), with the exit codes of
// every ack plugin: 2 for a mistake in the command line, 1 for anything else.
func TestErrorsGoToStderrWithExitCodes(t *testing.T) {
	srv := emulatortest.Start(t)
	info := srv.Info()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing cluster id", []string{"--mode", "certificate"}, 2, "--cluster-id is required"},
		{"unknown cluster", []string{"--mode", "certificate", "--cluster-id", "c00000000000000000000000000000000"}, 1, "c00000000000000000000000000000000"},
		{"mistyped command", []string{"whoam"}, 2, "Did you mean this?\n\twhoami"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, env(t, info, t.TempDir()), tt.args...)
			err := p.cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != tt.code {
				t.Fatalf("exit: %v, want code %d (stderr %q)", err, tt.code, p.stderr.String())
			}
			if p.stdout.Len() != 0 || !strings.Contains(p.stderr.String(), tt.want) {
				t.Fatalf("stdout %q stderr %q", p.stdout.String(), p.stderr.String())
			}
		})
	}
}

// client-go's own exec authenticator (what kubectl uses) runs the binary,
// decodes its answer in the configured API version and sends the token.
func TestClientGoExecAuthenticator(t *testing.T) {
	srv := emulatortest.Start(t)
	info := srv.Info()
	var mu sync.Mutex
	var seen []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer api.Close()
	for _, apiVersion := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		t.Run(apiVersion, func(t *testing.T) {
			var envVars []clientcmdapi.ExecEnvVar
			for _, kv := range env(t, info, t.TempDir()) {
				k, v, _ := strings.Cut(kv, "=")
				envVars = append(envVars, clientcmdapi.ExecEnvVar{Name: k, Value: v})
			}
			a, err := clientexec.GetAuthenticator(&clientcmdapi.ExecConfig{
				Command:         os.Getenv(envBinary),
				Args:            []string{"--cluster-id", info.ClusterID},
				Env:             envVars,
				APIVersion:      apiVersion,
				InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := &transport.Config{}
			if err := a.UpdateTransportConfig(cfg); err != nil {
				t.Fatal(err)
			}
			rt, err := transport.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatalf("client-go exec plugin: %v", err)
			}
			_ = resp.Body.Close()
			mu.Lock()
			last := seen[len(seen)-1]
			mu.Unlock()
			if !strings.HasPrefix(last, "Bearer k8s-ack-v2.") {
				t.Fatalf("Authorization %q", last)
			}
		})
	}
}

// The credential path runs before every kubectl command, and Go runs the
// init functions of every linked package: the binary must not link
// client-go, apimachinery, cli-runtime or the Kubernetes API types.
func TestBinaryLinksNoKubernetesModules(t *testing.T) {
	bi, err := buildinfo.ReadFile(os.Getenv(envBinary))
	if err != nil {
		t.Fatal(err)
	}
	if len(bi.Deps) == 0 {
		t.Fatal("no module dependencies recorded")
	}
	for _, d := range bi.Deps {
		if strings.HasPrefix(d.Path, "k8s.io/") || strings.HasPrefix(d.Path, "sigs.k8s.io/controller-runtime") {
			t.Errorf("kubectl-ack_login links %s %s", d.Path, d.Version)
		}
	}
}

// A binary that can execute a text/template (cobra's help or version templates, for example)
// keeps every exported method of every linked package, because templates call methods by name:
// for this plugin that was +2.8 MB and +1.4 MiB of memory at every start. The linker leaves
// text/template's Execute and reflect's MethodByName out when nothing can reach them.
func TestBinaryCannotExecuteTemplates(t *testing.T) {
	out, err := exec.Command("go", "tool", "nm", os.Getenv(envBinary)).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool nm: %v\n%s", err, out)
	}
	for _, sym := range []string{" text/template.(*Template).Execute\n", " reflect.Value.MethodByName\n"} {
		if strings.Contains(string(out), sym) {
			t.Errorf("kubectl-ack_login links%s(something reaches template execution)", strings.TrimSuffix(sym, "\n"))
		}
	}
}
