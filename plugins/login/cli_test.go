package login

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
)

// TestVerbosity: -v is kubectl's verbosity (a bare -v is 1) on the credential path and every
// command; level 1 says where credentials and the credential came from. ack-ram-tool's
// --log-level keeps working.
func TestVerbosity(t *testing.T) {
	f := newFixture(t)
	cred := []string{"--cluster-id", f.info.ClusterID}
	tests := []struct {
		name  string
		args  []string
		debug bool
	}{
		{"quiet by default", cred, false},
		{"bare -v", append([]string{"-v"}, cred...), true},
		{"-v=4", append([]string{"-v=4"}, cred...), true},
		{"--v=1", append([]string{"--v=1"}, cred...), true},
		{"--verbose", append([]string{"--verbose"}, cred...), true},
		{"-v=0", append([]string{"-v=0"}, cred...), false},
		{"--log-level debug", append([]string{"--log-level", "debug"}, cred...), true},
		{"-v wins over --log-level", append([]string{"--log-level", "error", "-v"}, cred...), true},
		{"get-token -v", append([]string{"credential-plugin", "get-token", "-v"}, cred...), true},
		{"whoami -v", []string{"whoami", "-v"}, true},
		{"whoami", []string{"whoami"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.mustRun(t, tt.args...)
			if got := strings.Contains(r.stderr, "debug: credentials: environment ALIBABA_CLOUD_ACCESS_KEY_ID"); got != tt.debug {
				t.Fatalf("debug line shown %v, want %v; stderr %q", got, tt.debug, r.stderr)
			}
		})
	}
}

// TestVersionAndUsageLines: --version and `version -o json|yaml` come from internal/cli, usage
// lines say "kubectl ack-login", and -v no longer means --version.
func TestVersionAndUsageLines(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--version"}, []string{DisplayName + " "}},
		{[]string{"version", "-o", "yaml"}, []string{"name: " + DisplayName + "\n", "version: "}},
		{[]string{"--help"}, []string{"kubectl ack-login --cluster-id CLUSTER_ID [--mode token|certificate]", "Exit codes: 0 ok, 1 error, 2 usage", "-v, --v int"}},
		{[]string{"kubeconfig", "--help"}, []string{"kubectl ack-login kubeconfig (--cluster NAME", "--dry-run", "Examples:"}},
		{[]string{"credential-plugin", "get-token", "--help"}, []string{"kubectl ack-login credential-plugin get-token --cluster-id CLUSTER_ID"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := f.mustRun(t, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if strings.Contains(r.stdout, "kubectl-ack_login [") || strings.Contains(r.stdout, "Usage:\n  kubectl-ack_login") {
				t.Errorf("usage names the binary instead of kubectl ack-login:\n%s", r.stdout)
			}
		})
	}
}

// TestPositionalArgumentsAndTypos: a word where a flag was meant is a usage error (exit 2) that
// names the flag, and a mistyped command or flag gets "did you mean", at every level.
func TestPositionalArgumentsAndTypos(t *testing.T) {
	f := newFixture(t)
	id := "c0123456789abcdef0123456789abcdef"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{id}, `unexpected argument "` + id + `": did you mean --cluster-id ` + id + `?`},
		{[]string{"get-token", id}, `did you mean --cluster-id ` + id + `?`},
		{[]string{"credential-plugin", "get-credential", id}, `did you mean --cluster-id ` + id + `?`},
		{[]string{"kubeconfig", id}, `did you mean --cluster-id ` + id + `?`},
		{[]string{"cache", "clear", id}, `did you mean --cluster-id ` + id + `?`},
		{[]string{"whoami", "json"}, `unexpected argument "json": did you mean -o json?`},
		{[]string{"clusters", "wide"}, `did you mean -o wide?`},
		{[]string{"version", "yaml"}, `did you mean -o yaml?`},
		{[]string{"certificate"}, `did you mean --mode certificate?`},
		{[]string{"clusters", "cn-hangzhou"}, `unexpected argument "cn-hangzhou": "kubectl ack-login clusters" takes no arguments, only flags`},
		{[]string{"whoam"}, "unknown command \"whoam\" for \"kubectl ack-login\"\n\nDid you mean this?\n\twhoami"},
		{[]string{"credential-plugin", "get-tokn"}, "unknown command \"get-tokn\" for \"kubectl ack-login credential-plugin\"\n\nDid you mean this?\n\tget-token"},
		{[]string{"cache", "claer"}, `unknown command "claer" for "kubectl ack-login cache"`},
		{[]string{"kubeconfig", "--clustr", "x"}, "Did you mean --cluster?"},
		{[]string{"cache", "clear", "--cluster-id", " "}, "--cluster-id is empty"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := f.run(t, tt.args...)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("code %d stdout %q stderr %q, want 2 and %q", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
}

// TestInterruptedCommand exits 130 with "Interrupted", as every ack plugin does on Ctrl-C.
func TestInterruptedCommand(t *testing.T) {
	newFixture(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cli.ErrInterrupted)
	var out, errb bytes.Buffer
	code := run(ctx, []string{"whoami"}, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errb}, hooks{})
	if code != cli.ExitInterrupted || !strings.HasPrefix(errb.String(), "Interrupted") || out.Len() != 0 {
		t.Fatalf("code %d stdout %q stderr %q, want 130 and Interrupted", code, out.String(), errb.String())
	}
}

func TestClustersNoHeaders(t *testing.T) {
	f := newFleetFixture(t)
	for _, format := range []string{"table", "wide"} {
		r := f.mustRun(t, "clusters", "--region", "cn-beijing", "-o", format, "--no-headers")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 2 || strings.Contains(r.stdout, "NAME") || !strings.Contains(r.stdout, f.fleetID(t, "cn-beijing", "batch")) {
			t.Fatalf("-o %s --no-headers:\n%s", format, r.stdout)
		}
	}
}

// TestDryRun: --dry-run (client) prints what would be written and writes nothing: the context of
// one cluster, --all's plan with what --prune would remove, and what `cache clear` would remove.
func TestDryRun(t *testing.T) {
	f := newFleetFixture(t)
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(existingKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		if b, _ := os.ReadFile(path); string(b) != existingKubeconfig {
			t.Fatalf("a dry run changed %s:\n%s", path, b)
		}
		if baks, _ := filepath.Glob(path + ".bak-*"); len(baks) != 0 {
			t.Fatalf("a dry run made backups %v", baks)
		}
	}
	api := f.fleetID(t, "cn-hangzhou", "prod-api")
	r := f.mustRun(t, "kubeconfig", "--kubeconfig", path, "--cluster", "prod-api", "--dry-run")
	if !strings.Contains(r.stdout, "- --cluster-id\n      - "+api+"\n") || !strings.Contains(r.stderr, "Dry run: context \""+f.info.AccountID+"-"+api+"\" was not written") ||
		!strings.Contains(r.stderr, path) {
		t.Fatalf("kubeconfig --dry-run:\nstdout %s\nstderr %s", r.stdout, r.stderr)
	}
	unchanged(t)

	// After a real --all, deleting a cluster shows up as a removal --prune would make.
	all := []string{"kubeconfig", "--all", "--kubeconfig", path, "--region", "cn-hangzhou"}
	f.mustRun(t, all...)
	written, _ := os.ReadFile(path)
	if err := f.srv.DeleteCluster(api); err != nil {
		t.Fatal(err)
	}
	r = f.mustRun(t, append(all, "--prune", "--dry-run=client")...)
	for _, want := range []string{"would update  prod-web.cn-hangzhou", "would remove  prod-api.cn-hangzhou", "dry run, nothing was written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--all --prune --dry-run report lacks %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "name: prod-web.cn-hangzhou") {
		t.Errorf("--all --dry-run printed no kubeconfig:\n%s", r.stdout)
	}
	if b, _ := os.ReadFile(path); string(b) != string(written) {
		t.Fatal("--all --prune --dry-run changed the kubeconfig")
	}

	f.mustRun(t, "--cluster-id", f.info.ClusterID)
	r = f.mustRun(t, "cache", "clear", "--dry-run")
	if !strings.Contains(r.stdout, "Dry run: would remove 1 cached credential(s) for all clusters") {
		t.Fatalf("cache clear --dry-run: %q", r.stdout)
	}
	if r = f.mustRun(t, "cache", "clear"); !strings.Contains(r.stdout, "Removed 1 cached") {
		t.Fatalf("cache clear after a dry run: %q", r.stdout)
	}
}
