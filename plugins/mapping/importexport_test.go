package mapping

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const authConfig = `clusterID: c1
server:
  port: 21362
  allowedGroups: [system:masters]
  mapRoles:
  - roleARN: acs:ram::1234567890:role/dev
    username: dev:{{SessionName}}
    groups: [devs]
  - roleARN: acs:ram::1234567890:role/ops-*
    username: ops:{{SessionName}}
    groups: [ops, system:masters]
  mapUsers:
  - userARN: acs:ram::1234567890:user/alice
    username: alice
  - userARN: acs:ram::1234567890:root
    username: root
  mapAccounts:
  - "5555"
`

const authConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: alibabacloud-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: acs:ram::1234567890:role/dev
      username: dev:{{SessionName}}
      groups:
      - devs
  mapUsers: |
    - userarn: acs:ram::1234567890:user/alice
      username: alice
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// specs returns the cluster's mappings as sorted "name arn username groups" lines.
func specs(t *testing.T, f *fixture) []string {
	t.Helper()
	var out []string
	for n, m := range f.list(t) {
		out = append(out, n+" "+m.Spec.ARN+" "+m.Spec.Username+" "+strings.Join(m.Spec.Groups, ","))
	}
	sort.Strings(out)
	return out
}

func TestImportExportRoundTrip(t *testing.T) {
	f := newFixture(t)
	cfg := writeFile(t, "config.yaml", authConfig)

	// First import creates one object per role/user entry and reports mapAccounts.
	r := f.ok(t, "import", "--from-config", cfg)
	if n := strings.Count(r.stdout, " created\n"); n != 4 {
		t.Fatalf("%d created, want 4\n%s", n, r)
	}
	contains(t, "stderr", r.stderr, "mapAccounts[0] (account 5555) cannot be a RAMIdentityMapping", "server.mapAccounts")
	first := specs(t, f)
	wantFirst := []string{
		DeriveName("acs:ram::1234567890:role/dev") + " acs:ram::1234567890:role/dev dev:{{SessionName}} devs",
		DeriveName("acs:ram::1234567890:role/ops-*") + " acs:ram::1234567890:role/ops-* ops:{{SessionName}} ops,system:masters",
		DeriveName("acs:ram::1234567890:root") + " acs:ram::1234567890:root root ",
		DeriveName("acs:ram::1234567890:user/alice") + " acs:ram::1234567890:user/alice alice ",
	}
	sort.Strings(wantFirst)
	if !slices.Equal(first, wantFirst) {
		t.Fatalf("after import:\n%q\nwant\n%q", first, wantFirst)
	}

	// Re-import is idempotent.
	r = f.ok(t, "import", "--from-config", cfg)
	if n := strings.Count(r.stdout, " unchanged\n"); n != 4 {
		t.Fatalf("re-import: %d unchanged, want 4\n%s", n, r)
	}

	// A changed entry is refused without --overwrite (others still reported) and applied with it.
	changed := writeFile(t, "changed.yaml", strings.Replace(authConfig, "username: alice", "username: alice2", 1))
	r = f.run(t, "", "import", "--from-config", changed)
	if r.code != 1 {
		t.Fatalf("changed import without --overwrite: %s", r)
	}
	contains(t, "stderr", r.stderr, "mapUsers[0]", "--overwrite", "1 of 4 mappings were not imported")
	contains(t, "stdout", r.stdout, "unchanged")
	if got := specs(t, f); !slices.Equal(got, first) {
		t.Fatalf("refused import changed the cluster: %q", got)
	}
	r = f.ok(t, "import", "--from-config", changed, "--overwrite")
	contains(t, "stdout", r.stdout, DeriveName("acs:ram::1234567890:user/alice")+" configured")
	f.ok(t, "import", "--from-config", cfg, "--overwrite") // back to the original

	// export → import into an empty cluster reproduces the same objects.
	for _, format := range []string{"config", "configmap"} {
		t.Run("round trip "+format, func(t *testing.T) {
			r := f.ok(t, "export", "--format", format)
			if format == "config" {
				var doc struct {
					Server map[string]any `json:"server"`
				}
				if err := yaml.UnmarshalStrict([]byte(r.stdout), &doc); err != nil {
					t.Fatalf("export is not a config: %v\n%s", err, r.stdout)
				}
				if len(doc.Server["mapRoles"].([]any)) != 2 || len(doc.Server["mapUsers"].([]any)) != 2 {
					t.Fatalf("unexpected export:\n%s", r.stdout)
				}
			} else {
				contains(t, "export", r.stdout, "kind: ConfigMap", "name: alibabacloud-auth", "namespace: kube-system", "mapRoles: |")
			}
			exported := writeFile(t, "export.yaml", r.stdout)
			f.reset(t)
			f.ok(t, "import", "--from-config", exported, "--allow-reserved-group", "system:masters")
			if got := specs(t, f); !slices.Equal(got, first) {
				t.Fatalf("import(export()) =\n%q\nwant\n%q", got, first)
			}
		})
	}

	r = f.ok(t, "export", "-o", "json")
	contains(t, "json export", r.stdout, `"server":`, `"roleARN": "acs:ram::1234567890:role/dev"`)
}

func TestImportFormatsAndErrors(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		args      []string
		wantCode  int
		wantOut   []string
		wantErr   []string
		wantCount int
	}{
		{name: "alibabacloud-auth ConfigMap with lower-case keys", content: authConfigMap,
			wantOut: []string{DeriveName("acs:ram::1234567890:role/dev") + " created", DeriveName("acs:ram::1234567890:user/alice") + " created"}, wantCount: 2},
		{name: "ConfigMap holding config.yaml", content: "kind: ConfigMap\ndata:\n  config.yaml: |\n" + indent(authConfig, "    "),
			wantOut: []string{"created"}, wantCount: 4},
		{name: "server dry run", content: authConfigMap, args: []string{"--dry-run=server"}, wantOut: []string{"created (server dry run)"}, wantCount: 0},
		{name: "client dry run", content: authConfigMap, args: []string{"--dry-run=client"}, wantOut: []string{"created (dry run)"}, wantCount: 0},
		{name: "reserved group without allowedGroups", content: strings.Replace(authConfig, "allowedGroups: [system:masters]", "allowedGroups: []", 1),
			wantCode: 1, wantErr: []string{"nothing was imported", "mapRoles[1]", "system:masters"}},
		{name: "bad template rejects the whole file", content: strings.Replace(authConfig, "username: alice", "username: '{{Nope}}'", 1),
			wantCode: 1, wantErr: []string{"unknown placeholder"}},
		{name: "user ARN in mapRoles", content: "server:\n  mapRoles:\n  - roleARN: acs:ram::1:user/u\n    username: u\n",
			wantCode: 1, wantErr: []string{"not a role ARN"}},
		{name: "duplicate identities", content: "server:\n  mapRoles:\n  - roleARN: acs:ram::1:role/r\n    username: a\n  - roleARN: acs:ram::1:ROLE/R\n    username: b\n",
			wantCode: 1, wantErr: []string{"mapRoles[1] maps the same identity as mapRoles[0]"}},
		// A source without mappings says so and changes nothing (issue 15).
		{name: "no server section", content: "clusterID: c1\n", wantErr: []string{"holds no mappings", "nothing to import"}},
		{name: "only mapAccounts", content: "server:\n  mapAccounts: ['5555']\n", wantErr: []string{"mapAccounts[0]", "no RAMIdentityMapping to create"}},
		{name: "unknown key in the config", content: "server:\n  mapRole: []\n", wantCode: 1, wantErr: []string{`line 2: unknown key "server.mapRole" (did you mean "server.mapRoles"?)`}},
		{name: "other kind", content: "kind: Secret\n", wantCode: 1, wantErr: []string{`kind "Secret" is not supported`}},
		{name: "empty ConfigMap", content: "kind: ConfigMap\ndata: {}\n", wantErr: []string{"holds no mappings", "nothing to import"}},
		{name: "empty ConfigMap export imports nothing", content: "kind: ConfigMap\ndata:\n  mapRoles: |\n    []\n  mapUsers: |\n    []\n", wantCount: 0},
		{name: "not YAML", content: "server: [", wantCode: 1, wantErr: []string{"not valid YAML"}},
		{name: "bad mapRoles string", content: "kind: ConfigMap\ndata:\n  mapRoles: 'foo: ['\n", wantCode: 1, wantErr: []string{"data.mapRoles"}},
		{name: "missing file flag", wantCode: 2, wantErr: []string{"--from-config FILE or --from-configmap is required"}},
		// The official file backend compares ARNs literally: a glob there matched nobody.
		{name: "glob read differently", content: "server:\n  mapRoles:\n  - roleARN: acs:ram::1:role/ops-*\n    username: ops\n",
			wantOut: []string{"created"}, wantErr: []string{"mapRoles[0]: pattern acs:ram::1:role/ops-* matches other identities on the official ack-ram-authenticator", "gains access here, e.g. acs:ram::1:role/ops-"}, wantCount: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			args := []string{"import"}
			if tt.content != "" {
				args = append(args, "--from-config", writeFile(t, "in.yaml", tt.content))
			}
			r := f.run(t, "", append(args, tt.args...)...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.wantCode, r)
			}
			contains(t, "stdout", r.stdout, tt.wantOut...)
			contains(t, "stderr", r.stderr, tt.wantErr...)
			if n := len(f.list(t)); n != tt.wantCount {
				t.Errorf("%d mappings in the cluster, want %d", n, tt.wantCount)
			}
		})
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestExportRefusesNothingSilently(t *testing.T) {
	f := newFixture(t)
	f.create(t, "odd", "acs:ram::1:thing/x", "x") // stored by kubectl apply; not a role or user
	r := f.run(t, "", "export")
	if r.code != 1 {
		t.Fatalf("export of an unconvertible mapping: %s", r)
	}
	contains(t, "stderr", r.stderr, `mapping "odd"`, "neither a role nor a user")
}
