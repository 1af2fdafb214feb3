package mapping

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
)

// The conventions ack-map shares with the other plugins (issue 18): usage lines that say
// "kubectl ack-map", "did you mean", stray arguments refused with a hint, --version and
// version -o json, -v as a level (it was --version here), one -o wording, --dry-run values,
// exit code 2 for command-line mistakes, each error printed once.
func TestCommandLineConventions(t *testing.T) {
	f := newFixture(t)
	f.create(t, "dev", roleDev, "dev", "devs")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "usage line", args: []string{"add", "--help"}, stdout: []string{"kubectl ack-map add --arn ARN", "--dry-run string[=\"client\"]"}},
		{name: "root help names the exit codes", args: []string{"--help"}, stdout: []string{"kubectl ack-map [command]", "130 interrupted", "'explain' exits 3"}},
		{name: "--version", args: []string{"--version"}, stdout: []string{"kubectl ack-map v"}},
		{name: "version -o json", args: []string{"version", "-o", "json"}, stdout: []string{`"name": "kubectl ack-map"`, `"version": "v`}},
		{name: "-v is not --version", args: []string{"-v"}, stdout: []string{"Available Commands"}},
		{name: "-v is a level", args: []string{"list", "-v=x"}, code: 2, stderr: []string{"-v takes a level"}},
		{name: "-v=1 names the kube context", args: []string{"list", "-v=1", "-o", "name"}, stdout: []string{resourceRef("dev")}, stderr: []string{"Using kube context", "API server https://127.0.0.1:"}},
		{name: "mistyped command", args: []string{"expalin"}, code: 2, stderr: []string{`unknown command "expalin" for "kubectl ack-map"`, "Did you mean this?\n\texplain"}},
		{name: "stray argument", args: []string{"explain", "acs:ram::1:user/x"}, code: 2, stderr: []string{`unexpected argument "acs:ram::1:user/x": "kubectl ack-map explain" takes no arguments, only flags`}},
		{name: "flag name without dashes", args: []string{"export", "format"}, code: 2, stderr: []string{"did you mean --format?"}},
		{name: "mistyped flag", args: []string{"add", "--usernme", "x"}, code: 2, stderr: []string{"unknown flag: --usernme", "Did you mean --username?"}},
		{name: "one -o wording", args: []string{"explain", "--arn", roleDev, "-o", "table"}, code: 2, stderr: []string{`unknown output format -o "table": use one of json, yaml, jsonpath=`}},
		{name: "--dry-run is not a bool", args: []string{"delete", "dev", "-y", "--dry-run=maybe"}, code: 2, stderr: []string{"use none, client or server"}},
		{name: "--dry-run=server", args: []string{"delete", "dev", "-y", "--dry-run=server"}, stdout: []string{"deleted (server dry run)"}},
		{name: "bad resource in a name", args: []string{"get", "configmap/dev"}, code: 2, stderr: []string{`"configmap/dev" names a configmap, not a RAMIdentityMapping`}},
		{name: "too many names for update", args: []string{"update", "a", "b", "--username", "x"}, code: 2, stderr: []string{"accepts at most 1 arg(s)"}},
		{name: "jsonpath", args: []string{"get", "dev", "-o", "jsonpath={.spec.username}"}, stdout: []string{"dev\n"}},
		{name: "custom-columns without headers", args: []string{"list", "-o", "custom-columns=NAME:.metadata.name,GROUPS:.spec.groups[*]", "--no-headers"}, stdout: []string{"dev   devs\n"}},
		{name: "table without headers", args: []string{"list", "--no-headers"}, stdout: []string{"dev   " + roleDev}},
		{name: "bad jsonpath", args: []string{"list", "-o", "jsonpath={.items["}, code: 2, stderr: []string{"-o jsonpath: bad template"}},
		{name: "explain -o jsonpath", args: []string{"explain", "--arn", roleDev, "-o", "jsonpath={.mapping}"}, stdout: []string{"dev\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, "", tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\n%s", r.code, tt.code, r)
			}
			contains(t, "stdout", r.stdout, tt.stdout...)
			contains(t, "stderr", r.stderr, tt.stderr...)
			if tt.code != 0 && strings.Count(r.stderr, "Error: ") != 1 {
				t.Errorf("the error is not printed exactly once:\n%s", r.stderr)
			}
			if tt.name == "table without headers" && strings.Contains(r.stdout, "NAME") {
				t.Errorf("--no-headers printed headers:\n%s", r.stdout)
			}
		})
	}
	if _, ok := f.list(t)["dev"]; !ok {
		t.Fatal("a dry run deleted the mapping")
	}
}

// TestVersionJSON: version -o json is one JSON object naming the plugin as kubectl shows it.
func TestVersionJSON(t *testing.T) {
	f := newFixture(t)
	r := f.ok(t, "version", "-o", "json")
	var v cli.VersionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Name != displayName || v.Version == "" {
		t.Fatalf("version -o json = %+v, %v\n%s", v, err, r)
	}
}

// TestNoUsableContext: without a usable kube context every command that needs the cluster says
// how to get one (kube.RESTConfig), instead of "dial tcp 127.0.0.1:8080: connection refused".
func TestNoUsableContext(t *testing.T) {
	f := newFixture(t)
	noContext := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(noContext, []byte("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	for _, kc := range []string{noContext, missing} {
		for _, args := range [][]string{{"list"}, {"get", "x"}, {"add", "--arn", roleDev, "--username", "dev"}, {"explain", "--arn", roleDev}, {"install-crd"}} {
			t.Run(filepath.Base(kc)+" "+strings.Join(args, " "), func(t *testing.T) {
				r := f.run(t, "", append(args, "--kubeconfig", kc)...)
				if r.code != 1 {
					t.Fatalf("exit %d, want 1\n%s", r.code, r)
				}
				contains(t, "stderr", r.stderr, "no usable kube context", "kubectl ack-login kubeconfig")
				if strings.Contains(r.stderr, "8080") {
					t.Errorf("fell back to localhost:8080:\n%s", r.stderr)
				}
			})
		}
	}
}

// TestListNamesPipeIntoGetAndDelete: what `list -o name` prints is accepted by get, update and
// delete, as `kubectl get -o name | xargs kubectl delete` works (issue 18).
func TestListNamesPipeIntoGetAndDelete(t *testing.T) {
	f := newFixture(t)
	f.create(t, "a", "acs:ram::1:user/a", "a")
	f.create(t, "b", "acs:ram::1:user/b", "b")
	f.create(t, "c", "acs:ram::1:role/c", "c")
	names := strings.Fields(f.ok(t, "list", "-o", "name").stdout)
	if want := []string{resourceRef("a"), resourceRef("b"), resourceRef("c")}; !slices.Equal(names, want) {
		t.Fatalf("list -o name = %q, want %q", names, want)
	}
	// Every kubectl spelling of the resource names the same object.
	for _, n := range []string{"ramidentitymapping/a", "RAMIdentityMapping/a", "ramidentitymappings/a", "ramim/a",
		"ramidentitymappings.ramauthenticator.k8s.alibabacloud/a", "ramidentitymapping.v1alpha1.ramauthenticator.k8s.alibabacloud/a"} {
		if r := f.ok(t, "get", n, "-o", "name"); strings.TrimSpace(r.stdout) != resourceRef("a") {
			t.Errorf("get %s -o name = %q", n, r.stdout)
		}
	}
	r := f.ok(t, "update", names[2], "--add-group", "g")
	contains(t, "update", r.stdout, resourceRef("c")+" configured")

	r = f.ok(t, "get", names[0], names[1], "-o", "name")
	if got := strings.Fields(r.stdout); !slices.Equal(got, names[:2]) {
		t.Errorf("get %v -o name = %q", names[:2], got)
	}
	r = f.ok(t, append([]string{"delete", "--yes"}, names...)...)
	for _, n := range names {
		contains(t, "delete", r.stdout, n+" deleted")
	}
	if left := f.list(t); len(left) != 0 {
		t.Fatalf("left after deleting list -o name: %v", left)
	}
}

// TestCompletionOfValues drives `__complete` through the root command: -o, --dry-run, the enum flags
// and the mapping names from the cluster.
func TestCompletionOfValues(t *testing.T) {
	f := newFixture(t)
	f.create(t, "dev", roleDev, "dev")
	f.create(t, "ops", "acs:ram::1:role/ops", "ops")
	tests := []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{name: "-o of list", args: []string{"list", "-o", ""}, want: []string{"table", "wide", "json", "yaml", "name", "jsonpath=", "custom-columns="}},
		{name: "-o of add", args: []string{"add", "-o", ""}, want: []string{"yaml", "json", "name", "jsonpath="}, not: []string{"table"}},
		{name: "-o of explain", args: []string{"explain", "-o", ""}, want: []string{"json", "yaml", "jsonpath="}},
		{name: "--dry-run", args: []string{"delete", "--dry-run="}, want: []string{"none", "client", "server"}},
		{name: "--format", args: []string{"export", "--format", ""}, want: []string{"config", "configmap"}},
		{name: "--allow-reserved-group", args: []string{"add", "--allow-reserved-group", ""}, want: []string{"system:masters"}},
		{name: "--configmap-namespace from the cluster", args: []string{"import", "--configmap-namespace", "kube-"}, want: []string{"kube-system", "kube-public"}, not: []string{"default"}},
		{name: "names for get", args: []string{"get", ""}, want: []string{"dev\t" + roleDev, "ops\tacs:ram::1:role/ops"}},
		{name: "names for delete, prefix", args: []string{"delete", "d"}, want: []string{"dev\t" + roleDev}, not: []string{"ops"}},
		{name: "names not given yet", args: []string{"delete", "ramidentitymapping/dev", ""}, want: []string{"ops"}, not: []string{"dev"}},
		{name: "names for update", args: []string{"update", ""}, want: []string{"dev", "ops"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, "", append([]string{cobra.ShellCompRequestCmd}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("__complete: %s", r)
			}
			got := completions(r.stdout)
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(g string) bool { return g == w || strings.HasPrefix(g, w+"\t") }) {
					t.Errorf("completions %q lack %q", got, w)
				}
			}
			for _, n := range tt.not {
				for _, g := range got {
					if strings.HasPrefix(g, n) {
						t.Errorf("completions %q include %q", got, n)
					}
				}
			}
		})
	}
	// Without a usable context, names complete to nothing and no error is printed.
	r := f.run(t, "", cobra.ShellCompRequestCmd, "get", "--kubeconfig", filepath.Join(t.TempDir(), "none"), "")
	if got := completions(r.stdout); r.code != 0 || len(got) != 0 || strings.Contains(r.stderr, "Error") {
		t.Errorf("completion without a context: %q\n%s", got, r)
	}
}

// completions returns the candidates of __complete's output (without the directive line).
func completions(out string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") {
			got = append(got, l)
		}
	}
	return got
}

// TestDeleteAsksOnce: the delete confirmation lists the mappings and asks one question (it asked
// twice before).
func TestDeleteAsksOnce(t *testing.T) {
	f := newFixture(t)
	f.create(t, "a", "acs:ram::1:user/a", "a")
	f.create(t, "b", "acs:ram::1:user/b", "b")
	f.terminal = true
	r := f.run(t, "y\n", "delete", "a", "b")
	if r.code != 0 {
		t.Fatalf("delete: %s", r)
	}
	if n := strings.Count(r.stderr, "?"); n != 1 || strings.Count(r.stderr, "[y/N]") != 1 {
		t.Errorf("%d questions, want 1:\n%s", n, r.stderr)
	}
	contains(t, "stderr", r.stderr, "  a (arn acs:ram::1:user/a", "  b (arn acs:ram::1:user/b", "Delete 2 mapping(s)? [y/N]")
	if left := f.list(t); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
}
