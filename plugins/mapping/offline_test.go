package mapping

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExplainOffline: `explain --config FILE` answers without a kube context when the file's
// backends need no cluster (its static mappings, a DynamicFile, an alibabacloud-auth ConfigMap
// file), and names the backends it skipped (CRD, the live ACKConfigMap) when no context is
// usable. A usable context keeps them asked as configured, and an unreachable cluster is an
// error rather than a skipped backend.
func TestExplainOffline(t *testing.T) {
	f := newFixture(t)
	f.create(t, "crd-only", "acs:ram::"+acct+":user/carl", "carl-from-crd")
	static := "clusterID: c1\nserver:\n  mapRoles:\n  - roleARN: acs:ram::" + acct + ":role/dev\n    username: static-dev\n"
	defaultOrder := writeFile(t, "default.yaml", static)
	withConfigMap := writeFile(t, "cm.yaml", static+"  backendMode: [MountedFile, ACKConfigMap, CRD]\n")
	dyn := writeFile(t, "mappings.json", `{"mapUsers":[{"userarn":"acs:ram::`+acct+`:user/zoe","username":"zoe-dynamic"}]}`)
	dynamicOnly := writeFile(t, "dynamic.yaml", "clusterID: c1\nserver:\n  backendMode: [DynamicFile]\n  dynamicfilepath: "+dyn+"\n")
	cmFile := writeFile(t, "auth-cm.yaml", authConfigMapOf("acs:ram::"+acct+":role/ops", "ops:{{SessionName}}"))
	noContext := filepath.Join(t.TempDir(), "missing-kubeconfig")
	unreachable := writeFile(t, "unreachable", "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n"+
		"users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\n")
	tests := []struct {
		name        string
		kubeconfig  string // "" = the test cluster
		args        []string
		code        int
		user        string
		skipped     []string
		wantOut     []string
		wantErr     []string
		noSkipNotes bool
	}{
		{name: "static mapping, CRD skipped", kubeconfig: noContext, args: []string{"--config", defaultOrder, "--arn", "acs:ram::" + acct + ":assumed-role/dev/a"},
			user: "static-dev", skipped: []string{"CRD"},
			wantOut: []string{"Skipped:        CRD backend (no usable kube context)"}, wantErr: []string{"answering from " + defaultOrder + " without the cluster: skipped CRD", "no usable kube context"}},
		{name: "not mapped offline says what was skipped", kubeconfig: noContext, args: []string{"--config", withConfigMap, "--arn", "acs:ram::" + acct + ":user/carl"},
			code: ExitNotMapped, skipped: []string{"ACKConfigMap", "CRD"},
			wantOut: []string{"not mapped: no mapping matches", "(by the backends asked; skipped: ACKConfigMap, CRD)"}},
		{name: "dynamic file only needs no cluster", kubeconfig: noContext, args: []string{"--config", dynamicOnly, "--arn", "acs:ram::" + acct + ":user/zoe"},
			user: "zoe-dynamic", noSkipNotes: true},
		{name: "ConfigMap file, CRD skipped", kubeconfig: noContext, args: []string{"--config", cmFile, "--arn", "acs:ram::" + acct + ":assumed-role/ops/s1"},
			user: "ops:s1", skipped: []string{"CRD"}},
		{name: "usable context: CRD still asked", args: []string{"--config", defaultOrder, "--arn", "acs:ram::" + acct + ":user/carl"},
			user: "carl-from-crd", noSkipNotes: true},
		{name: "unreachable cluster is an error", kubeconfig: unreachable, args: []string{"--config", defaultOrder, "--arn", "acs:ram::" + acct + ":assumed-role/dev/a"},
			code: 1, wantErr: []string{"Error: list RAMIdentityMappings", "127.0.0.1:1"}, noSkipNotes: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"explain"}, tt.args...)
			if tt.kubeconfig != "" {
				args = append(args, "--kubeconfig", tt.kubeconfig)
			}
			text := f.run(t, "", args...)
			if text.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", text.code, tt.code, text)
			}
			contains(t, "stdout", text.stdout, tt.wantOut...)
			contains(t, "stderr", text.stderr, tt.wantErr...)
			if tt.noSkipNotes && (strings.Contains(text.stdout, "Skipped") || strings.Contains(text.stderr, "skipped")) {
				t.Errorf("a backend was skipped:\n%s", text)
			}
			if tt.code == 1 {
				return
			}
			r := f.run(t, "", append(args, "-o", "json")...)
			var ex Explanation
			if err := json.Unmarshal([]byte(r.stdout), &ex); err != nil {
				t.Fatalf("decode: %v\n%s", err, r)
			}
			var skipped []string
			for _, s := range ex.Skipped {
				skipped = append(skipped, s.Backend)
			}
			if ex.Username != tt.user || !slices.Equal(skipped, tt.skipped) || ex.Mapped != (tt.code == 0) {
				t.Errorf("explain = %+v, want user %q, skipped %q", ex, tt.user, tt.skipped)
			}
		})
	}
}

// authConfigMapOf is an alibabacloud-auth ConfigMap file with one mapRoles entry.
func authConfigMapOf(roleARN, username string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alibabacloud-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n" +
		"    - rolearn: " + roleARN + "\n      username: " + username + "\n"
}
