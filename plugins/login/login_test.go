package login

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// fixture is an emulator plus an environment pointing the plugin at it.
type fixture struct {
	srv      *emulator.Server
	info     emulator.Info
	cacheDir string
	home     string
	now      func() time.Time
	// terminal, when set, says whether stderr is a terminal (progress lines).
	terminal func(io.Writer) bool
	// completionTimeout, when set, bounds the cluster listing of completions.
	completionTimeout time.Duration
}

func newFixture(t *testing.T, opts ...emulatortest.Option) *fixture {
	t.Helper()
	srv := emulatortest.Start(t, opts...)
	info := srv.Info()
	f := &fixture{srv: srv, info: info, home: t.TempDir()}
	f.cacheDir = filepath.Join(t.TempDir(), "kubecache")
	t.Setenv("HOME", f.home)
	t.Setenv("KUBECACHEDIR", f.cacheDir)
	t.Setenv("KUBECONFIG", "")
	t.Setenv(EnvExecInfo, "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", info.AccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", info.AccessKeySecret)
	t.Setenv("ALIBABA_CLOUD_CS_ENDPOINT", info.Endpoint)
	t.Setenv("ALIBABA_CLOUD_STS_ENDPOINT", info.Endpoint)
	t.Setenv("ALIBABA_CLOUD_REGION_ID", info.RegionID)
	return f
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the plugin as cmd/kubectl-ack_login does: the credential request without cobra,
// anything else through the command tree and internal/cli (ctx stands for the signal handler).
func run(ctx context.Context, args []string, streams Streams, h hooks) int {
	if code, ok := serveCredentialRequest(ctx, args, streams, h); ok {
		return code
	}
	return cli.ExecuteContext(ctx, newRootCommand(streams, h), args, streams.ErrOut)
}

func (f *fixture) run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errb}, hooks{now: f.now, terminal: f.terminal, completionTimeout: f.completionTimeout})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func (f *fixture) mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := f.run(t, args...)
	if r.code != 0 {
		t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// decodeCredential asserts stdout is exactly one ExecCredential JSON
// object and a newline, and decodes it.
func decodeCredential(t *testing.T, stdout string) map[string]any {
	t.Helper()
	if !strings.HasSuffix(stdout, "}\n") || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("stdout is not exactly one JSON line: %q", stdout)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", stdout, err)
	}
	if dec.More() {
		t.Fatalf("trailing data after the ExecCredential: %q", stdout)
	}
	if m["kind"] != "ExecCredential" {
		t.Fatalf("kind = %v", m["kind"])
	}
	return m
}

func status(m map[string]any) map[string]any {
	s, _ := m["status"].(map[string]any)
	return s
}

func execInfo(apiVersion string) string {
	return `{"kind":"ExecCredential","apiVersion":"` + apiVersion + `","spec":{"interactive":false}}`
}

func TestTokenModeAPIVersionsAndVerification(t *testing.T) {
	f := newFixture(t)
	verifier, err := token.NewVerifier(token.VerifierConfig{ClusterID: f.info.ClusterID, STSEndpoint: f.info.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		execInfo string
		args     []string
		want     string
	}{
		{"exec info v1", execInfo(APIVersionV1), nil, APIVersionV1},
		{"exec info v1beta1", execInfo(APIVersionV1beta1), nil, APIVersionV1beta1},
		{"exec info wins over flag", execInfo(APIVersionV1), []string{"--api-version", "v1beta1"}, APIVersionV1},
		{"flag when run by hand", "", []string{"--api-version", "v1"}, APIVersionV1},
		{"default v1beta1", "", nil, APIVersionV1beta1},
		{"ack-ram-tool get-token", execInfo(APIVersionV1beta1), []string{"credential-plugin", "get-token", "--api-version", "v1beta1", "--log-level", "error"}, APIVersionV1beta1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvExecInfo, tt.execInfo)
			args := append([]string{}, tt.args...)
			if len(args) > 0 && args[0] == "credential-plugin" {
				args = append(args, "--cluster-id", f.info.ClusterID)
			} else {
				args = append(args, "--cluster-id", f.info.ClusterID)
			}
			r := f.mustRun(t, args...)
			m := decodeCredential(t, r.stdout)
			if m["apiVersion"] != tt.want {
				t.Fatalf("apiVersion = %v, want %s", m["apiVersion"], tt.want)
			}
			tok, _ := status(m)["token"].(string)
			if !strings.HasPrefix(tok, token.Prefix) {
				t.Fatalf("token %q", tok)
			}
			id, exp, err := verifier.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if id.AccountID != f.info.AccountID {
				t.Fatalf("identity %+v", id)
			}
			ts, err := time.Parse(time.RFC3339, status(m)["expirationTimestamp"].(string))
			if err != nil {
				t.Fatal(err)
			}
			req, err := token.Parse(tok, f.info.ClusterID, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if want := req.Date.Add(token.ClientValidity); !ts.Equal(want) {
				t.Fatalf("expirationTimestamp %v, want x-acs-date+10m %v (verifier says %v)", ts, want, exp)
			}
			if r.stderr != "" {
				t.Fatalf("unexpected stderr %q", r.stderr)
			}
		})
	}
}

func TestTokenCacheHitRefreshAndIdentitySwitch(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	f.now = func() time.Time { return now }
	args := []string{"--cluster-id", f.info.ClusterID, "-v"}
	tokenOf := func(r result) string { return status(decodeCredential(t, r.stdout))["token"].(string) }

	r1 := f.mustRun(t, args...)
	if !strings.Contains(r1.stderr, "cache miss") {
		t.Fatalf("first run not a miss: %s", r1.stderr)
	}
	now = now.Add(5 * time.Minute)
	r2 := f.mustRun(t, args...)
	if !strings.Contains(r2.stderr, "cache hit") || tokenOf(r2) != tokenOf(r1) {
		t.Fatalf("second run not served from cache: %s", r2.stderr)
	}
	// 10 minute tokens are refreshed when less than 2 minutes remain.
	now = now.Add(3*time.Minute + time.Second)
	r3 := f.mustRun(t, args...)
	if !strings.Contains(r3.stderr, "cache miss") || tokenOf(r3) == tokenOf(r1) {
		t.Fatalf("third run not refreshed: %s", r3.stderr)
	}
	// Another identity never gets the cached token.
	_, key, err := f.srv.CreateUser(f.info.AccountID, "second")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", key.ID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", key.Secret)
	r4 := f.mustRun(t, args...)
	if !strings.Contains(r4.stderr, "cache miss") {
		t.Fatalf("identity switch served the cache: %s", r4.stderr)
	}
	req, err := token.Parse(tokenOf(r4), f.info.ClusterID, now)
	if err != nil || req.AccessKeyID != key.ID {
		t.Fatalf("token signed by %v, want %s (%v)", req, key.ID, err)
	}
	// Corrupt the cache: the next run replaces it.
	ents, _ := os.ReadDir(filepath.Join(f.cacheDir, "kubectl-ack"))
	corrupted := 0
	for _, de := range ents {
		if strings.HasSuffix(de.Name(), ".json") {
			if err := os.WriteFile(filepath.Join(f.cacheDir, "kubectl-ack", de.Name()), []byte("{garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
			corrupted++
		}
	}
	if corrupted != 2 {
		t.Fatalf("want 2 cache entries, found %d", corrupted)
	}
	r5 := f.mustRun(t, args...)
	if !strings.Contains(r5.stderr, "cache miss") {
		t.Fatalf("corrupt entry served: %s", r5.stderr)
	}
	decodeCredential(t, r5.stdout)
	// --no-cache neither reads nor writes.
	r6 := f.mustRun(t, append(args, "--no-cache")...)
	if strings.Contains(r6.stderr, "cache hit") {
		t.Fatalf("--no-cache read the cache: %s", r6.stderr)
	}
}

func TestCertificateMode(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		args    []string
		env     string
		wantAPI string
		wantExp time.Duration
	}{
		{"mode flag v1", []string{"--mode", "certificate"}, execInfo(APIVersionV1), APIVersionV1, 3 * time.Hour},
		{"get-credential alias v1beta1 with expiration", []string{"credential-plugin", "get-credential", "--api-version", "v1beta1", "--expiration", "1h0m0s", "--credential-cache-dir", "/nonexistent/ack-ram-tool"}, "", APIVersionV1beta1, time.Hour},
		{"cert alias private address", []string{"--mode", "cert", "--private-address", "--expiration", "30m"}, execInfo(APIVersionV1beta1), APIVersionV1beta1, 30 * time.Minute},
		// The same values as `kubeconfig --expiration`, days included.
		{"expiration in days", []string{"--mode", "certificate", "--expiration", "2d"}, "", APIVersionV1beta1, 48 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvExecInfo, tt.env)
			t.Setenv("KUBECACHEDIR", t.TempDir())
			before := f.srv.Calls("cs", "DescribeClusterUserKubeconfig")
			start := time.Now()
			r := f.mustRun(t, append(tt.args, "--cluster-id", f.info.ClusterID)...)
			m := decodeCredential(t, r.stdout)
			if m["apiVersion"] != tt.wantAPI {
				t.Fatalf("apiVersion %v", m["apiVersion"])
			}
			st := status(m)
			block, _ := pem.Decode([]byte(st["clientCertificateData"].(string)))
			if block == nil {
				t.Fatal("no client certificate PEM")
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(st["clientKeyData"].(string), "PRIVATE KEY") {
				t.Fatal("no client key PEM")
			}
			exp, err := time.Parse(time.RFC3339, st["expirationTimestamp"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if exp.After(cert.NotAfter) || exp.Before(start.Add(tt.wantExp-time.Minute)) || exp.After(start.Add(tt.wantExp+time.Minute)) {
				t.Fatalf("expiration %v, cert NotAfter %v, want about now+%v", exp, cert.NotAfter, tt.wantExp)
			}
			if got := f.srv.Calls("cs", "DescribeClusterUserKubeconfig") - before; got != 1 {
				t.Fatalf("CS calls = %d", got)
			}
			// The second run is served from the cache.
			r2 := f.mustRun(t, append(tt.args, "--cluster-id", f.info.ClusterID)...)
			if r2.stdout != r.stdout {
				t.Fatal("cached certificate differs")
			}
			if got := f.srv.Calls("cs", "DescribeClusterUserKubeconfig") - before; got != 1 {
				t.Fatalf("cache hit called CS: %d calls", got)
			}
		})
	}
}

func TestCertificateCacheKeyedByLifetimeAndAddress(t *testing.T) {
	f := newFixture(t)
	t.Setenv(EnvExecInfo, "")
	t.Setenv("KUBECACHEDIR", t.TempDir())
	runs := []struct {
		name      string
		args      []string
		wantCalls int
	}{
		{"3h issues", []string{"--expiration", "3h"}, 1},
		{"3h again is a hit", []string{"--expiration", "3h"}, 0},
		{"15m is another certificate", []string{"--expiration", "15m"}, 1},
		{"private address is another certificate", []string{"--expiration", "15m", "--private-address"}, 1},
		{"15m public again is a hit", []string{"--expiration", "15m"}, 0},
	}
	for _, r := range runs {
		before := f.srv.Calls("cs", "DescribeClusterUserKubeconfig")
		f.mustRun(t, append([]string{"--mode", "certificate", "--cluster-id", f.info.ClusterID}, r.args...)...)
		if got := f.srv.Calls("cs", "DescribeClusterUserKubeconfig") - before; got != r.wantCalls {
			t.Errorf("%s: %d CS calls, want %d", r.name, got, r.wantCalls)
		}
	}
}

func TestCertificateModeErrors(t *testing.T) {
	f := newFixture(t)
	// Exit code 2: a mistake in the command line; 1: anything else.
	tests := []struct {
		name string
		args []string
		env  string
		want string
		code int
	}{
		{"expiration too short", []string{"--mode", "certificate", "--cluster-id", "c1", "--expiration", "10m"}, "", "between 15m and 72h", 2},
		{"expiration too long", []string{"get-credential", "--cluster-id", "c1", "--expiration", "73h"}, "", "between 15m and 72h", 2},
		{"expiration days too long", []string{"get-credential", "--cluster-id", "c1", "--expiration", "4d"}, "", "between 15m and 72h", 2},
		{"expiration garbage", []string{"--mode", "certificate", "--cluster-id", "c1", "--expiration", "soon"}, "", `invalid argument "soon" for "--expiration" flag: invalid duration "soon": use e.g. 30m, 3h or 2d`, 2},
		{"unknown cluster", []string{"--mode", "certificate", "--cluster-id", "c00000000000000000000000000000000"}, "", "c00000000000000000000000000000000", 1},
		{"missing cluster id", []string{"--mode", "token"}, "", "--cluster-id is required", 2},
		{"bad mode", []string{"--mode", "password", "--cluster-id", "c1"}, "", "invalid --mode", 2},
		{"bad api version", []string{"--cluster-id", "c1", "--api-version", "v2"}, "", "unsupported ExecCredential API version", 2},
		{"exec info asks v1alpha1", []string{"--cluster-id", "c1"}, execInfo("client.authentication.k8s.io/v1alpha1"), "KUBERNETES_EXEC_INFO asks for", 1},
		{"exec info garbage", []string{"--cluster-id", "c1"}, "{not json", "parse KUBERNETES_EXEC_INFO", 1},
		{"unknown flag", []string{"--cluster-id", "c1", "--bogus"}, "", "unknown flag: --bogus", 2},
		{"bad log level", []string{"--cluster-id", "c1", "--log-level", "loud"}, "", "invalid --log-level", 2},
		{"bad -v", []string{"--cluster-id", "c1", "-v=loud"}, "", "-v takes a level", 2},
		{"cluster id as an argument", []string{"c0123456789abcdef0123456789abcdef"}, "", `unexpected argument "c0123456789abcdef0123456789abcdef": did you mean --cluster-id c0123456789abcdef0123456789abcdef?`, 2},
		{"stray argument after the flags", []string{"--cluster-id", "c1", "extra"}, "", `unexpected argument "extra": "kubectl ack-login" takes no arguments, only flags`, 2},
		{"mistyped command", []string{"whoam"}, "", "unknown command \"whoam\" for \"kubectl ack-login\"\n\nDid you mean this?\n\twhoami", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvExecInfo, tt.env)
			r := f.run(t, tt.args...)
			if r.code != tt.code || r.stdout != "" || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("code %d stdout %q stderr %q, want %d and an error containing %q", r.code, r.stdout, r.stderr, tt.code, tt.want)
			}
		})
	}
}

// Without HOME and KUBECACHEDIR there is nowhere to cache: kubectl still gets its credential,
// with one warning on stderr, in both modes.
func TestNoCacheDirStillIssues(t *testing.T) {
	f := newFixture(t)
	t.Setenv("HOME", "")
	t.Setenv("KUBECACHEDIR", "")
	tests := []struct {
		name  string
		args  []string
		field string
	}{
		{"token", []string{"--cluster-id", f.info.ClusterID}, "token"},
		{"certificate", []string{"--cluster-id", f.info.ClusterID, "--mode", "certificate"}, "clientCertificateData"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.mustRun(t, tt.args...)
			if s, _ := status(decodeCredential(t, r.stdout))[tt.field].(string); s == "" {
				t.Fatalf("no %s in %s", tt.field, r.stdout)
			}
			if !strings.Contains(r.stderr, "warning: credential cache disabled") || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("stderr %q, want one cache warning", r.stderr)
			}
		})
	}
}

func TestNoCredentialsError(t *testing.T) {
	f := newFixture(t)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
	r := f.run(t, "--cluster-id", f.info.ClusterID)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "no Alibaba Cloud credentials found") {
		t.Fatalf("%+v", r)
	}
}

func TestWhoami(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		output string
		check  func(t *testing.T, out string)
	}{
		{"json", func(t *testing.T, out string) {
			var id identity
			if err := json.Unmarshal([]byte(out), &id); err != nil {
				t.Fatal(err)
			}
			if id.AccountID != f.info.AccountID || id.IdentityType != "RAMUser" || !strings.Contains(id.ARN, "user/"+f.info.UserName) ||
				id.PrincipalID == "" || !strings.Contains(id.Source, "ALIBABA_CLOUD_ACCESS_KEY_ID") {
				t.Fatalf("identity %+v", id)
			}
		}},
		{"yaml", func(t *testing.T, out string) {
			var id identity
			if err := yaml.Unmarshal([]byte(out), &id); err != nil {
				t.Fatal(err)
			}
			if id.AccountID != f.info.AccountID || id.ARN == "" {
				t.Fatalf("identity %+v", id)
			}
		}},
		{"text", func(t *testing.T, out string) {
			for _, want := range []string{"Account:", f.info.AccountID, "Identity type:", "RAMUser", "ARN:", "Principal ID:", "Source:"} {
				if !strings.Contains(out, want) {
					t.Fatalf("text output lacks %q:\n%s", want, out)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			r := f.mustRun(t, "whoami", "-o", tt.output)
			tt.check(t, r.stdout)
		})
	}
	if r := f.run(t, "whoami", "-o", "xml"); r.code != 2 || !strings.Contains(r.stderr, `unknown output format -o "xml": use one of text, json, yaml`) {
		t.Fatalf("%+v", r)
	}
	// Flags before the subcommand still reach cobra.
	if r := f.run(t, "-v", "whoami", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, f.info.AccountID) {
		t.Fatalf("%+v", r)
	}
}

func TestCacheClearAndVersion(t *testing.T) {
	f := newFixture(t)
	f.mustRun(t, "--cluster-id", f.info.ClusterID)
	f.mustRun(t, "--cluster-id", "c11111111111111111111111111111111")
	r := f.mustRun(t, "cache", "clear", "--cluster-id", f.info.ClusterID)
	if !strings.Contains(r.stdout, "Removed 1 cached") {
		t.Fatalf("%q", r.stdout)
	}
	r = f.mustRun(t, "cache", "clear")
	if !strings.Contains(r.stdout, "Removed 1 cached") {
		t.Fatalf("%q", r.stdout)
	}
	r = f.mustRun(t, "version")
	if !strings.HasPrefix(r.stdout, DisplayName+" ") {
		t.Fatalf("%q", r.stdout)
	}
	r = f.mustRun(t, "version", "-o", "json")
	var v map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v["version"] == "" {
		t.Fatalf("%q %v", r.stdout, err)
	}
	r = f.mustRun(t, "completion", "bash")
	if !strings.Contains(r.stdout, "kubectl-ack_login") {
		t.Fatal("no bash completion")
	}
	r = f.mustRun(t, "--help")
	if !strings.Contains(r.stdout, "kubeconfig") || !strings.Contains(r.stdout, "whoami") {
		t.Fatalf("help: %s", r.stdout)
	}
}

// BenchmarkCachedToken measures the in-process work of a cache hit: flag
// parsing, credential resolution (access key from the environment), cache
// lookup and printing. Process start-up is measured by hack/bench-login.sh.
func BenchmarkCachedToken(b *testing.B) {
	b.Setenv("HOME", b.TempDir())
	b.Setenv("KUBECACHEDIR", b.TempDir())
	b.Setenv(EnvExecInfo, execInfo(APIVersionV1))
	b.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tBenchmarkKey")
	b.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "benchmark-secret")
	args := []string{"--cluster-id", "c0123456789abcdef0123456789abcdef"}
	var errb bytes.Buffer
	streams := Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errb}
	if code := run(context.Background(), args, streams, hooks{}); code != 0 {
		b.Fatalf("prime: %s", errb.String())
	}
	b.ReportAllocs()
	for b.Loop() {
		if code := run(context.Background(), args, streams, hooks{}); code != 0 {
			b.Fatalf("run: %s", errb.String())
		}
	}
}

// Every command has a short description and examples in --help.
func TestHelpHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.Hidden, c.Name() == "help", c.Name() == "completion", c.Parent() != nil && c.Parent().Name() == "completion":
			return
		}
		if c.Short == "" || c.Example == "" {
			t.Errorf("%s: Short %q, Example %q: both are required", c.CommandPath(), c.Short, c.Example)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	root := NewRootCommand(Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	walk(root)
}
