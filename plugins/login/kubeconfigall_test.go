package login

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

func TestKubeconfigByClusterName(t *testing.T) {
	f := newFleetFixture(t)
	api := f.fleetID(t, "cn-hangzhou", "prod-api")
	webBJ := f.fleetID(t, "cn-beijing", "prod-web")
	webHZ := f.fleetID(t, "cn-hangzhou", "prod-web")
	tests := []struct {
		name     string
		args     []string
		wantID   string
		wantErr  []string
		wantCode int
	}{
		{name: "unique name", args: []string{"--cluster", "prod-api"}, wantID: api},
		{name: "region narrows a shared name", args: []string{"--cluster", "prod-web", "--region", "cn-beijing"}, wantID: webBJ},
		{name: "ambiguous name lists candidates", args: []string{"--cluster", "prod-web"},
			wantErr: []string{`cluster name "prod-web" matches 2 clusters`, webBJ + "  cn-beijing", webHZ + "  cn-hangzhou", "--cluster-id (-c)"}, wantCode: 1},
		{name: "unknown name suggests", args: []string{"--cluster", "prod-wbe"},
			wantErr: []string{`no cluster named "prod-wbe" in any region; did you mean "prod-web"?`, "kubectl ack-login clusters"}, wantCode: 1},
		{name: "id and name", args: []string{"--cluster", "prod-api", "-c", api}, wantErr: []string{"exclude each other"}, wantCode: 2},
		{name: "region with an id", args: []string{"-c", api, "--region", "cn-hangzhou"}, wantErr: []string{"a cluster id needs no region"}, wantCode: 2},
		{name: "all-only flag", args: []string{"--cluster", "prod-api", "--prune"}, wantErr: []string{"apply to --all only"}, wantCode: 2},
		{name: "name as an argument", args: []string{"prod-api"}, wantErr: []string{`unexpected argument "prod-api": did you mean --cluster prod-api?`}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			r := f.run(t, append([]string{"kubeconfig", "--kubeconfig", path}, tt.args...)...)
			if tt.wantErr != nil {
				for _, want := range tt.wantErr {
					if r.code != tt.wantCode || !strings.Contains(r.stderr, want) {
						t.Errorf("code %d, stderr %q; want %q", r.code, r.stderr, want)
					}
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("a failed command wrote %s", path)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("%+v", r)
			}
			cfg := loadKubeconfig(t, path)
			want := f.info.AccountID + "-" + tt.wantID
			ctx := cfg.Contexts[cfg.CurrentContext]
			if cfg.CurrentContext != want || ctx == nil {
				t.Fatalf("current context %q, want %q", cfg.CurrentContext, want)
			}
			// kubectl runs the plugin with the id, never the name: no listing per command.
			if args := cfg.AuthInfos[ctx.AuthInfo].Exec.Args; !slices.Equal(args[:2], []string{"--cluster-id", tt.wantID}) {
				t.Fatalf("exec args %q", args)
			}
		})
	}
}

// allLines maps each context of a `kubeconfig --all` report to its status word.
func allLines(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if fs := strings.Fields(l); len(fs) >= 2 && !strings.Contains(l, "clusters in") && !strings.HasPrefix(l, "Backed up") {
			m[fs[1]] = fs[0]
		}
	}
	return m
}

func TestKubeconfigAllIdempotentPruneAndForeignContexts(t *testing.T) {
	f := newFleetFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(existingKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	all := []string{"kubeconfig", "--all", "--kubeconfig", path}

	r := f.mustRun(t, all...)
	got := allLines(r.stdout)
	want := map[string]string{
		"demo.cn-hangzhou": "added", "prod-api.cn-hangzhou": "added", "prod-web.cn-hangzhou": "added",
		"prod-web.cn-beijing": "added", "staging.cn-shanghai": "added",
		"batch.cn-beijing": "skipped", "dev-new.cn-shanghai": "skipped", "analytics.ap-southeast-1": "skipped",
	}
	for ctx, st := range want {
		if got[ctx] != st {
			t.Errorf("%s: %q, want %q\n%s", ctx, got[ctx], st, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, `batch.cn-beijing          cluster is "updating", not running`) ||
		strings.Count(r.stdout, "Backed up ") != 1 || !strings.Contains(r.stdout, "5 added, 3 skipped; written to "+path) {
		t.Fatalf("report:\n%s", r.stdout)
	}
	cfg := loadKubeconfig(t, path)
	if cfg.CurrentContext != "prod" || cfg.AuthInfos["prod-admin"].Token != "keep-me" || len(cfg.Contexts) != 6 {
		t.Fatalf("after --all: current %q, %d contexts", cfg.CurrentContext, len(cfg.Contexts))
	}
	hz := cfg.Contexts["prod-web.cn-hangzhou"]
	if args := cfg.AuthInfos[hz.AuthInfo].Exec.Args; !slices.Equal(args, []string{"--cluster-id", f.fleetID(t, "cn-hangzhou", "prod-web"), "--mode", "token"}) {
		t.Fatalf("exec args %q", args)
	}

	// Again: nothing changes, nothing is backed up.
	before, _ := os.ReadFile(path)
	backups, _ := filepath.Glob(path + ".bak-*")
	r = f.mustRun(t, all...)
	after, _ := os.ReadFile(path)
	backups2, _ := filepath.Glob(path + ".bak-*")
	if string(before) != string(after) || len(backups2) != len(backups) || allLines(r.stdout)["demo.cn-hangzhou"] != "unchanged" ||
		!strings.Contains(r.stdout, "5 unchanged, 3 skipped; kubeconfig unchanged.") {
		t.Fatalf("second run changed the file or said so:\n%s", r.stdout)
	}

	// kubectl edits a context --all wrote; the mark survives (client-go rewrites the file as
	// `kubectl config set-context` does).
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kc.Contexts["prod-api.cn-hangzhou"].Namespace = "api"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}

	// A cluster is deleted: without --prune its context stays, with --prune it goes, alone.
	if err := f.srv.DeleteCluster(f.fleetID(t, "cn-hangzhou", "prod-api")); err != nil {
		t.Fatal(err)
	}
	r = f.mustRun(t, all...)
	if _, ok := loadKubeconfig(t, path).Contexts["prod-api.cn-hangzhou"]; !ok || strings.Contains(r.stdout, "removed") {
		t.Fatalf("without --prune the context of a deleted cluster must stay:\n%s", r.stdout)
	}
	r = f.mustRun(t, append(all, "--prune")...)
	if allLines(r.stdout)["prod-api.cn-hangzhou"] != "removed" || !strings.Contains(r.stdout, "no longer exists") {
		t.Fatalf("prune report:\n%s", r.stdout)
	}
	cfg = loadKubeconfig(t, path)
	if _, ok := cfg.Contexts["prod-api.cn-hangzhou"]; ok || cfg.Contexts["prod"] == nil || cfg.AuthInfos["prod-admin"] == nil || len(cfg.Contexts) != 5 {
		t.Fatalf("after prune: %v", slices.Sorted(mapsKeys(cfg.Contexts)))
	}
	if _, ok := cfg.AuthInfos["prod-api.cn-hangzhou"]; ok {
		t.Fatal("the pruned context's user stayed")
	}

	// A context --all did not write is never overwritten.
	kc, _ = clientcmd.LoadFromFile(path)
	kc.Contexts["staging.cn-shanghai"].Extensions = nil
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	before, _ = os.ReadFile(path)
	r = f.run(t, all...)
	after, _ = os.ReadFile(path)
	if r.code != 1 || !strings.Contains(r.stderr, "not written by `kubeconfig --all`") || !strings.Contains(r.stderr, "staging.cn-shanghai") ||
		string(before) != string(after) {
		t.Fatalf("foreign context: %+v", r)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestKubeconfigAllScopeTemplatesAndStdout(t *testing.T) {
	f := newFleetFixture(t)
	path := filepath.Join(t.TempDir(), "config")
	f.mustRun(t, "kubeconfig", "--all", "--kubeconfig", path)

	// --prune with --region only prunes that region: a deleted cluster elsewhere stays.
	if err := f.srv.DeleteCluster(f.fleetID(t, "cn-shanghai", "staging")); err != nil {
		t.Fatal(err)
	}
	r := f.mustRun(t, "kubeconfig", "--all", "--kubeconfig", path, "--region", "cn-beijing", "--prune")
	if _, ok := loadKubeconfig(t, path).Contexts["staging.cn-shanghai"]; !ok || strings.Contains(r.stdout, "removed") {
		t.Fatalf("--region cn-beijing --prune touched cn-shanghai:\n%s", r.stdout)
	}

	// A glob and a template; a renamed cluster's context is replaced, not duplicated.
	r = f.mustRun(t, "kubeconfig", "--all", "--kubeconfig", path, "--name-glob", "PROD-A*", "--context-template", "ack-{{ .Name }}-{{.ClusterType}}")
	if allLines(r.stdout)["ack-prod-api-ManagedKubernetes"] != "added" || strings.Contains(r.stdout, "demo") {
		t.Fatalf("glob and template:\n%s", r.stdout)
	}
	if err := f.srv.UpdateCluster(f.fleetID(t, "cn-hangzhou", "prod-api"), func(c *emulator.Cluster) { c.Name = "prod-apis" }); err != nil {
		t.Fatal(err)
	}
	r = f.mustRun(t, "kubeconfig", "--all", "--kubeconfig", path, "--name-glob", "PROD-A*", "--context-template", "ack-{{.Name}}-{{.ClusterType}}")
	lines := allLines(r.stdout)
	if lines["ack-prod-apis-ManagedKubernetes"] != "added" || lines["ack-prod-api-ManagedKubernetes"] != "removed" || !strings.Contains(r.stdout, "cluster renamed") {
		t.Fatalf("rename:\n%s", r.stdout)
	}

	// --stdout prints a standalone kubeconfig and reports on stderr.
	r = f.mustRun(t, "kubeconfig", "--all", "--stdout", "--region", "cn-hangzhou")
	printed := filepath.Join(t.TempDir(), "printed")
	if err := os.WriteFile(printed, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := loadKubeconfig(t, printed)
	if len(cfg.Contexts) != 3 || cfg.CurrentContext != "" || !strings.Contains(r.stderr, "3 printed") {
		t.Fatalf("--stdout: %d contexts, current %q, stderr %q", len(cfg.Contexts), cfg.CurrentContext, r.stderr)
	}

	for _, bad := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--context-template", "{{.Name}}"}, "gives several clusters the same context name:\n  \"prod-web\": ", 1},
		{[]string{"--context-template", "{{ .Nope }}"}, `"{{ .Nope }}" is not a field`, 2},
		{[]string{"--context-template", "{{if false}}x{{end}}"}, `"{{if false}}" is not a field`, 2},
		{[]string{"--context-template", "ack-{{.Name"}, "unclosed {{", 2},
		{[]string{"--context-template", " "}, `gives the context name " "`, 1},
		{[]string{"--context-name", "x"}, "with --all use --context-template", 2},
		{[]string{"--prune", "--stdout"}, "cannot be combined with --stdout", 2},
	} {
		r := f.run(t, append([]string{"kubeconfig", "--all", "--kubeconfig", path}, bad.args...)...)
		if r.code != bad.code || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("%v: %+v, want %q", bad.args, r, bad.want)
		}
	}
}
