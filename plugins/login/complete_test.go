package login

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

// complete runs `__complete ARGS` as the shell (and kubectl's kubectl_complete-ack_login) does,
// asserts it succeeded quietly without offering file names, and returns the candidates without
// their descriptions and with them.
func (f *fixture) complete(t *testing.T, args ...string) (values, full []string) {
	t.Helper()
	r := f.run(t, append([]string{"__complete"}, args...)...)
	// cobra's closing line is all that may reach stderr: the shell scripts drop it.
	if r.code != 0 || !strings.HasPrefix(r.stderr, "Completion ended with directive: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("__complete %q: code %d stderr %q, want 0 and only cobra's closing line", args, r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(r.stderr, "ShellCompDirectiveNoFileComp") || !strings.HasPrefix(last, ":") {
		t.Fatalf("__complete %q: directive %q (%s), want no file completion\n%s", args, last, r.stderr, r.stdout)
	}
	for _, l := range lines[:len(lines)-1] {
		v, _, _ := strings.Cut(l, "\t")
		values = append(values, v)
		full = append(full, l)
	}
	return values, full
}

func TestCompleteFixedFlagValues(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--mode", ""}, []string{"token", "certificate"}},
		{[]string{"kubeconfig", "-m", ""}, []string{"token", "certificate"}},
		{[]string{"get-token", "--api-version", ""}, []string{"v1", "v1beta1"}},
		{[]string{"--credential-type", ""}, []string{"", "env", "aliyun-cli", "credentials-file", "ecs-metadata"}},
		{[]string{"whoami", "--credential-type", ""}, []string{"", "env", "aliyun-cli", "credentials-file", "ecs-metadata"}},
		{[]string{"whoami", "-o", ""}, []string{"text", "json", "yaml"}},
		{[]string{"auth", "whoami", "-o", ""}, []string{"text", "json", "yaml"}},
		{[]string{"clusters", "-o", ""}, []string{"table", "wide", "json", "yaml", "name"}},
		{[]string{"version", "-o", ""}, []string{"text", "json", "yaml"}},
		{[]string{"export-credentials", "-o", ""}, []string{"exec", "json", "env", "ini", "ecs"}},
		{[]string{"export-credentials", "-f", ""}, []string{"exec", "json", "env", "ini", "ecs", "aliyun-cli-config-json", "aliyun-cli-uri-json",
			"ecs-metadata-json", "environment-variables", "credential-file-ini"}},
		{[]string{"kubeconfig", "--dry-run="}, []string{"none", "client"}},
		{[]string{"cache", "clear", "--dry-run="}, []string{"none", "client"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, _ := f.complete(t, tt.args...)
			want := tt.want
			if slices.Contains(tt.args, "--credential-type") {
				want[0] = "auto"
			}
			if !slices.Equal(got, want) {
				t.Fatalf("candidates %q, want %q", got, want)
			}
		})
	}
}

func TestCompleteClusterIDsAndNames(t *testing.T) {
	f := newFleetFixture(t)
	webHZ := f.fleetID(t, "cn-hangzhou", "prod-web")
	staging := f.fleetID(t, "cn-shanghai", "staging")
	tests := []struct {
		args     []string
		want     []string // full candidates that must be offered
		values   []string // exactly these values, when set
		notValue string   // a value that must not be offered
	}{
		{args: []string{"--cluster-id", ""}, want: []string{webHZ + "\tprod-web (cn-hangzhou, running)"}},
		{args: []string{"-c", staging[:10]}, values: []string{staging}},
		{args: []string{"get-credential", "--cluster-id", staging[:10]}, values: []string{staging}},
		{args: []string{"credential-plugin", "get-token", "-c", staging[:10]}, values: []string{staging}},
		{args: []string{"cache", "clear", "-c", staging[:10]}, values: []string{staging}},
		{args: []string{"kubeconfig", "--region", "cn-beijing", "--cluster-id", ""}, notValue: webHZ},
		{args: []string{"kubeconfig", "--cluster", ""}, want: []string{"prod-web\t2 clusters: cn-beijing, cn-hangzhou", "staging\t" + staging + " (cn-shanghai)"}},
		{args: []string{"kubeconfig", "--cluster", "prod-"}, values: []string{"prod-api", "prod-web"}},
		{args: []string{"kubeconfig", "--region", "cn-shanghai", "--cluster", ""}, values: []string{"dev-new", "staging"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			values, full := f.complete(t, tt.args...)
			for _, w := range tt.want {
				if !slices.Contains(full, w) {
					t.Errorf("candidates %q lack %q", full, w)
				}
			}
			if tt.values != nil && !slices.Equal(values, tt.values) {
				t.Errorf("values %q, want %q", values, tt.values)
			}
			if len(values) == 0 || (tt.notValue != "" && slices.Contains(values, tt.notValue)) {
				t.Errorf("values %q (must not be empty nor hold %q)", values, tt.notValue)
			}
		})
	}
}

// TestCompleteClustersCachedBriefly: repeated TABs ask CS once a minute per identity, through a
// private file in the login cache directory, which `cache clear` drops.
func TestCompleteClustersCachedBriefly(t *testing.T) {
	f := newFleetFixture(t)
	now := time.Now()
	f.now = func() time.Time { return now }
	calls := func() int { return f.srv.Calls(emulator.ServiceCS, "DescribeClustersV1") }
	before := calls()
	f.complete(t, "--cluster-id", "")
	f.complete(t, "kubeconfig", "--cluster", "")
	if n := calls() - before; n != 1 {
		t.Fatalf("two completions made %d DescribeClustersV1 calls, want 1", n)
	}
	dir := filepath.Join(f.cacheDir, "kubectl-ack")
	data, _ := filepath.Glob(filepath.Join(dir, "*.data"))
	if len(data) != 1 {
		t.Fatalf("cache files %v, want one .data file", data)
	}
	if fi, err := os.Stat(data[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v, want mode 0600", data[0], fi, err)
	}
	now = now.Add(61 * time.Second)
	f.complete(t, "--cluster-id", "")
	if n := calls() - before; n != 2 {
		t.Fatalf("after a minute: %d calls, want 2", n)
	}
	// Another identity never sees this one's list.
	_, key, err := f.srv.CreateUser(f.info.AccountID, "second")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", key.ID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", key.Secret)
	f.complete(t, "--cluster-id", "")
	if n := calls() - before; n != 3 {
		t.Fatalf("another identity: %d calls, want 3", n)
	}
	f.mustRun(t, "cache", "clear")
	if data, _ := filepath.Glob(filepath.Join(dir, "*.data")); len(data) != 0 {
		t.Fatalf("cache clear left %v", data)
	}
	// A directory others could write to is not used: completion still works, uncached.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	f.complete(t, "--cluster-id", "")
	f.complete(t, "--cluster-id", "")
	if n := calls() - before; n != 5 {
		t.Fatalf("untrusted cache directory: %d calls, want 5 (no caching)", n)
	}
	if data, _ := filepath.Glob(filepath.Join(dir, "*.data")); len(data) != 0 {
		t.Fatalf("wrote %v into an untrusted directory", data)
	}
}

// TestCompleteClustersSlowOrFailingCS: TAB never hangs the shell and never prints errors: a slow
// CS is abandoned after the timeout, a failing one is asked once (a retry would be answered,
// since the fault fails one request only), and without credentials nothing is asked.
func TestCompleteClustersSlowOrFailingCS(t *testing.T) {
	f := newFleetFixture(t)
	f.completionTimeout = 300 * time.Millisecond
	calls := func() int { return f.srv.Calls(emulator.ServiceCS, "DescribeClustersV1") }
	tests := []struct {
		name    string
		fault   emulator.Fault
		noCreds bool
	}{
		{name: "slow", fault: emulator.Fault{Mode: emulator.FaultSlow, Delay: time.Minute}},
		{name: "failing once", fault: emulator.Fault{Mode: emulator.Fault5xx, Count: 1}},
		{name: "no credentials", noCreds: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.srv.SetFault(emulator.ServiceCS, tt.fault)
			defer f.srv.SetFault(emulator.ServiceCS, emulator.Fault{})
			if tt.noCreds {
				t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
				t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
			}
			before, start := calls(), time.Now()
			if values, _ := f.complete(t, "kubeconfig", "--cluster", ""); len(values) != 0 {
				t.Errorf("candidates %q, want none", values)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("completion took %v with a %v timeout", d, f.completionTimeout)
			}
			if n := calls() - before; n != 0 {
				t.Errorf("CS answered %d DescribeClustersV1 calls, want none", n)
			}
		})
	}
}
