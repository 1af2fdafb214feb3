package login

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
)

// TestCredentialTypeIMDSAndECSRole covers the --credential-type values ack-ram-tool writes into
// kubeconfig exec args. The ECS metadata address is never dialled in tests
// (ALIBABA_CLOUD_ECS_METADATA_DISABLED=true), so the credential path must say so clearly and
// must not fall back to the access key that is also in the environment.
func TestCredentialTypeIMDSAndECSRole(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"credential-plugin", "get-token", "--cluster-id", f.info.ClusterID, "--credential-type", "imds"},
		{"get-credential", "--cluster-id", f.info.ClusterID, "--credential-type", "ecs-role"},
		{"whoami", "--credential-type", "IMDS"},
	} {
		r := f.run(t, args...)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "ECS instance metadata was requested but ALIBABA_CLOUD_ECS_METADATA_DISABLED=true forbids it") {
			t.Errorf("%v: %+v", args, r)
		}
	}
	// kubeconfig copies the flag into the exec arguments.
	r := f.mustRun(t, "kubeconfig", "--cluster-id", f.info.ClusterID, "--stdout", "--credential-type", "env")
	if !strings.Contains(r.stdout, "- --credential-type\n      - env\n") {
		t.Fatalf("exec args lack --credential-type env:\n%s", r.stdout)
	}
}

// TestExpirationZero: ack-ram-tool passes --expiration 0 to ask for a long-lived certificate.
// It is accepted with a warning about the lifetime, shown only when a certificate is issued.
func TestExpirationZero(t *testing.T) {
	f := newFixture(t)
	r := f.mustRun(t, "credential-plugin", "get-credential", "--cluster-id", f.info.ClusterID, "--expiration", "0")
	st := status(decodeCredential(t, r.stdout))
	exp, err := time.Parse(time.RFC3339, st["expirationTimestamp"].(string))
	if err != nil || time.Until(exp) < 365*24*time.Hour || st["clientCertificateData"] == "" {
		t.Fatalf("long-lived certificate expires %v (%v)", exp, err)
	}
	if strings.Count(r.stderr, "warning: --expiration 0 asks CS for a long-lived client certificate") != 1 {
		t.Fatalf("stderr %q, want one lifetime warning", r.stderr)
	}
	// Served from the cache: kubectl shows plugin stderr on every command, so no warning now.
	if r = f.mustRun(t, "credential-plugin", "get-credential", "--cluster-id", f.info.ClusterID, "--expiration", "0"); r.stderr != "" {
		t.Fatalf("cache hit warned: %q", r.stderr)
	}

	// Top-level get-kubeconfig (as ack-ram-tool has it) writes the lifetime into the exec args.
	r = f.mustRun(t, "get-kubeconfig", "--cluster-id", f.info.ClusterID, "--expiration", "0")
	if !strings.Contains(r.stdout, "- --expiration\n      - 0s\n") || !strings.Contains(r.stdout, "- certificate\n") ||
		!strings.Contains(r.stderr, "long-lived client certificate") {
		t.Fatalf("get-kubeconfig --expiration 0:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
	nested := f.mustRun(t, "credential-plugin", "get-kubeconfig", "--cluster-id", f.info.ClusterID, "--expiration", "0")
	if nested.stdout != r.stdout {
		t.Fatalf("top-level and credential-plugin get-kubeconfig differ:\n%s\n---\n%s", r.stdout, nested.stdout)
	}
	for _, args := range [][]string{
		{"get-credential", "--cluster-id", f.info.ClusterID, "--expiration", "5m"},
		{"get-kubeconfig", "--cluster-id", f.info.ClusterID, "--expiration", "73h"},
	} {
		if r := f.run(t, args...); r.code != 2 || !strings.Contains(r.stderr, "between 15m and 72h (or 0 for a long-lived certificate)") {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

func TestAuthWhoamiIsWhoami(t *testing.T) {
	f := newFixture(t)
	a := f.mustRun(t, "whoami", "-o", "json")
	b := f.mustRun(t, "auth", "whoami", "-o", "json")
	if a.stdout != b.stdout || !strings.Contains(a.stdout, f.info.AccountID) {
		t.Fatalf("whoami %q, auth whoami %q", a.stdout, b.stdout)
	}
}

func TestExportCredentialsFormatsAndCommand(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		args  []string
		check func(t *testing.T, out string)
	}{
		{nil, func(t *testing.T, out string) {
			var m map[string]string
			if err := json.Unmarshal([]byte(out), &m); err != nil || m["mode"] != "AK" || m["access_key_id"] != f.info.AccessKeyID {
				t.Fatalf("default (exec) format: %v %q", err, out)
			}
		}},
		{[]string{"-f", "ecs-metadata-json"}, func(t *testing.T, out string) {
			var m map[string]string
			if err := json.Unmarshal([]byte(out), &m); err != nil || m["Code"] != "Success" || m["AccessKeySecret"] != f.info.AccessKeySecret {
				t.Fatalf("json: %v %q", err, out)
			}
		}},
		{[]string{"-f", "env"}, func(t *testing.T, out string) {
			if !strings.Contains(out, "export ALIBABA_CLOUD_ACCESS_KEY_ID='"+f.info.AccessKeyID+"'\n") {
				t.Fatalf("env: %q", out)
			}
		}},
		{[]string{"--", "sh", "-c", `printf '%s/%s' "$ALICLOUD_ACCESS_KEY" "$ALIBABA_CLOUD_ACCESS_KEY_SECRET"`}, func(t *testing.T, out string) {
			if out != f.info.AccessKeyID+"/"+f.info.AccessKeySecret {
				t.Fatalf("child saw %q", out)
			}
		}},
	}
	for _, tt := range tests {
		r := f.mustRun(t, append([]string{"export-credentials"}, tt.args...)...)
		tt.check(t, r.stdout)
	}
	for _, bad := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"-f", "xml"}, "invalid --format", 2},
		{[]string{"-o", "xml"}, `unknown output format -o "xml": use one of exec, json, env, ini, ecs`, 2},
		{[]string{"-o", "env", "-f", "env"}, "pass one", 2},
		{[]string{"--serve", "0.0.0.0:0"}, "only loopback addresses", 2},
		{[]string{"--serve", "nonsense"}, "invalid --serve", 2},
		{[]string{"-f", "json", "--", "true"}, "use it with -o env (--format env)", 2},
		{[]string{"json"}, `unexpected argument "json": did you mean -o json?`, 2},
		{[]string{"--", "false"}, "false: exit status 1", 1},
	} {
		if r := f.run(t, append([]string{"export-credentials"}, bad.args...)...); r.code != bad.code || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("%v: %+v, want %q", bad.args, r, bad.want)
		}
	}
}

// TestExportCredentialsServesECSMetadata serves the credentials on a loopback port and uses them
// from another process's point of view: a credentials URI source that asks the emulator's STS
// who it is.
func TestExportCredentialsServesECSMetadata(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"export-credentials", "-f", "ecs"}, Streams{In: strings.NewReader(""), Out: pw, ErrOut: &errb}, hooks{})
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no address line: %v", err)
	}
	uri, ok := strings.CutPrefix(strings.TrimSpace(line), "export ALIBABA_CLOUD_CREDENTIALS_URI=")
	if !ok || !strings.HasPrefix(uri, "http://127.0.0.1:") {
		t.Fatalf("address line %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	env := map[string]string{"ALIBABA_CLOUD_CREDENTIALS_URI": uri, "ALIBABA_CLOUD_STS_ENDPOINT": f.info.Endpoint}
	opts := credentials.Options{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, HomeDir: t.TempDir(), IgnoreAliyunCLI: true}
	res, err := opts.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, err := credentials.Whoami(ctx, res, cloud.Endpoints{RegionID: f.info.RegionID, STS: f.info.Endpoint})
	if err != nil || id.AccountID != f.info.AccountID || !strings.HasSuffix(id.ARN, ":user/"+f.info.UserName) {
		t.Fatalf("identity through the served credentials: %+v, %v", id, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(errb.String(), "Serving the credentials of environment ALIBABA_CLOUD_ACCESS_KEY_ID") {
			t.Fatalf("exit %d, stderr %q", code, errb.String())
		}
		if strings.Contains(errb.String(), f.info.AccessKeySecret) {
			t.Fatal("the secret reached stderr")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop when its context was cancelled")
	}
}
