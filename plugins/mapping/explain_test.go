package mapping

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

const acct = "1234567890"

// TestExplainAgreesWithMapper checks explain against mapper.Match run on rules and identities
// written out by hand here, so a mistake in how explain loads mappings, builds the identity or
// reports the result shows up as a disagreement.
func TestExplainAgreesWithMapper(t *testing.T) {
	f := newFixture(t)
	adds := [][]string{
		{"--name", "dev-exact", "--arn", "acs:ram::" + acct + ":role/dev", "--username", "dev:{{SessionName}}", "-g", "devs", "-g", "acct-{{AccountID}}"},
		{"--name", "ops-glob", "--arn", "acs:ram::" + acct + ":role/ops-*", "--username", "ops:{{SessionNameRaw}}", "-g", "ops"},
		{"--name", "ops-admin-exact", "--arn", "acs:ram::" + acct + ":role/ops-admin", "--username", "ops-admin", "-g", "admins"},
		{"--name", "any-role-glob", "--arn", "acs:ram::" + acct + ":role/*", "--username", "role:{{SessionName}}"},
		{"--name", "alice-user", "--arn", "acs:ram::" + acct + ":user/alice", "--username", "alice", "-g", "people"},
		{"--name", "carol-user", "--arn", "acs:ram::" + acct + ":user/carol", "--username", "carol-{{UserID}}"},
		{"--name", "root", "--arn", "acs:ram::" + acct + ":root", "--username", "root-{{AccountID}}", "-g", "roots"},
	}
	for _, a := range adds {
		f.ok(t, append([]string{"add"}, a...)...)
	}
	// Objects ack-map would refuse, as kubectl apply could store them.
	f.create(t, "mallory-user", "acs:ram::"+acct+":user/mallory", "mallory", "system:nodes")
	// system:masters is the documented admin mapping: allowed by default, as on the server.
	f.create(t, "admin-user", "acs:ram::"+acct+":user/admin", "admin", "system:masters")
	f.create(t, "broken", "acs:ram::not-digits:role/x", "x")
	// In accounts the static file maps wholesale: the static mapper is asked first and wins.
	f.ok(t, "add", "--name", "erin-user", "--arn", "acs:ram::5555:user/erin", "--username", "erin-crd")
	f.ok(t, "add", "--name", "frank-user", "--arn", "acs:ram::6666:user/frank", "--username", "frank-crd")

	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(`clusterID: c1
server:
  mapUsers:
  - userARN: acs:ram::5555:user/dave
    username: dave
  mapAccounts:
  - "5555"
  - accountID: "6666"
    username: acct6:{{SessionName}}
`), 0o600); err != nil {
		t.Fatal(err)
	}

	// The same rules, written independently of ack-map's conversion.
	rules := []mapper.Rule{
		{Source: "crd:dev-exact", ARN: "acs:ram::" + acct + ":role/dev", Username: "dev:{{SessionName}}", Groups: []string{"devs", "acct-{{AccountID}}"}},
		{Source: "crd:ops-glob", ARN: "acs:ram::" + acct + ":role/ops-*", Username: "ops:{{SessionNameRaw}}", Groups: []string{"ops"}},
		{Source: "crd:ops-admin-exact", ARN: "acs:ram::" + acct + ":role/ops-admin", Username: "ops-admin", Groups: []string{"admins"}},
		{Source: "crd:any-role-glob", ARN: "acs:ram::" + acct + ":role/*", Username: "role:{{SessionName}}"},
		{Source: "crd:alice-user", ARN: "acs:ram::" + acct + ":user/alice", Username: "alice", Groups: []string{"people"}},
		{Source: "crd:carol-user", ARN: "acs:ram::" + acct + ":user/carol", Username: "carol-{{UserID}}"},
		{Source: "crd:root", ARN: "acs:ram::" + acct + ":root", Username: "root-{{AccountID}}", Groups: []string{"roots"}},
		{Source: "crd:mallory-user", ARN: "acs:ram::" + acct + ":user/mallory", Username: "mallory", Groups: []string{"system:nodes"}},
		{Source: "crd:admin-user", ARN: "acs:ram::" + acct + ":user/admin", Username: "admin", Groups: []string{"system:masters"}},
		{Source: "crd:erin-user", ARN: "acs:ram::5555:user/erin", Username: "erin-crd"},
		{Source: "crd:frank-user", ARN: "acs:ram::6666:user/frank", Username: "frank-crd"},
	}
	staticRules := []mapper.Rule{
		{Source: mapper.SourceMapUsers, ARN: "acs:ram::5555:user/dave", Username: "dave"},
		{Source: mapper.SourceMapAccounts, Account: "5555"},
		{Source: mapper.SourceMapAccounts, Account: "6666", Username: "acct6:{{SessionName}}"},
	}
	role := func(name, session string) token.Identity {
		return token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":assumed-role/" + name + "/" + session,
			CanonicalARN: "acs:ram::" + acct + ":role/" + name, SessionName: session}
	}

	tests := []struct {
		name       string
		args       []string
		config     bool
		id         token.Identity // what STS would report
		wantMapped bool
		wantKind   string
		wantSource string
		wantUser   string
	}{
		{name: "exact user", args: []string{"--arn", "acs:ram::" + acct + ":user/alice"},
			id:         token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":user/alice", CanonicalARN: "acs:ram::" + acct + ":user/alice"},
			wantMapped: true, wantKind: mapper.KindExact, wantSource: "crd:alice-user", wantUser: "alice"},
		{name: "user case variant", args: []string{"--arn", "ACS:RAM::" + acct + ":USER/ALICE"},
			id:         token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":user/ALICE", CanonicalARN: "acs:ram::" + acct + ":user/ALICE"},
			wantMapped: true, wantKind: mapper.KindExact, wantSource: "crd:alice-user", wantUser: "alice"},
		{name: "assumed role renders the session", args: []string{"--arn", "acs:ram::" + acct + ":assumed-role/dev/alice@example.com"},
			id: role("dev", "alice@example.com"), wantMapped: true, wantKind: mapper.KindExact, wantSource: "crd:dev-exact", wantUser: "dev:alice-example.com"},
		{name: "role with --session-name", args: []string{"--arn", "acs:ram::" + acct + ":role/dev", "--session-name", "bob"},
			id: role("dev", "bob"), wantMapped: true, wantKind: mapper.KindExact, wantSource: "crd:dev-exact", wantUser: "dev:bob"},
		{name: "role without a session cannot render {{SessionName}}", args: []string{"--arn", "acs:ram::" + acct + ":role/dev"},
			id: token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":role/dev", CanonicalARN: "acs:ram::" + acct + ":role/dev"}},
		{name: "most specific glob", args: []string{"--arn", "acs:ram::" + acct + ":assumed-role/ops-web/s1@x"},
			id: role("ops-web", "s1@x"), wantMapped: true, wantKind: mapper.KindGlob, wantSource: "crd:ops-glob", wantUser: "ops:s1@x"},
		{name: "glob case variant", args: []string{"--arn", "acs:ram::" + acct + ":assumed-role/OPS-Web/s1"},
			id: role("OPS-Web", "s1"), wantMapped: true, wantKind: mapper.KindGlob, wantSource: "crd:ops-glob", wantUser: "ops:s1"},
		{name: "exact beats glob", args: []string{"--arn", "acs:ram::" + acct + ":assumed-role/ops-admin/s1"},
			id: role("ops-admin", "s1"), wantMapped: true, wantKind: mapper.KindExact, wantSource: "crd:ops-admin-exact", wantUser: "ops-admin"},
		{name: "catch-all role glob", args: []string{"--arn", "acs:ram::" + acct + ":assumed-role/misc/s"},
			id: role("misc", "s"), wantMapped: true, wantKind: mapper.KindGlob, wantSource: "crd:any-role-glob", wantUser: "role:s"},
		{name: "root", args: []string{"--arn", "acs:ram::" + acct + ":root"},
			id:         token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":root", CanonicalARN: "acs:ram::" + acct + ":root", UserID: acct},
			wantMapped: true, wantKind: mapper.KindExact, wantSource: "crd:root", wantUser: "root-" + acct},
		{name: "unmapped user", args: []string{"--arn", "acs:ram::" + acct + ":user/zed"},
			id: token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":user/zed", CanonicalARN: "acs:ram::" + acct + ":user/zed"}},
		{name: "user id template without --user-id", args: []string{"--arn", "acs:ram::" + acct + ":user/carol"},
			id: token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":user/carol", CanonicalARN: "acs:ram::" + acct + ":user/carol"}},
		{name: "user id template with --user-id", args: []string{"--arn", "acs:ram::" + acct + ":user/carol", "--user-id", "2002"},
			id:         token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":user/carol", CanonicalARN: "acs:ram::" + acct + ":user/carol", UserID: "2002"},
			wantMapped: true, wantKind: mapper.KindExact, wantSource: "crd:carol-user", wantUser: "carol-2002"},
		{name: "reserved group is refused", args: []string{"--arn", "acs:ram::" + acct + ":user/mallory"},
			id: token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":user/mallory", CanonicalARN: "acs:ram::" + acct + ":user/mallory"}},
		{name: "system:masters is allowed by default", args: []string{"--arn", "acs:ram::" + acct + ":user/admin"},
			id:         token.Identity{AccountID: acct, ARN: "acs:ram::" + acct + ":user/admin", CanonicalARN: "acs:ram::" + acct + ":user/admin"},
			wantMapped: true, wantKind: mapper.KindExact, wantSource: "crd:admin-user", wantUser: "admin"},
		{name: "static exact user", config: true, args: []string{"--arn", "acs:ram::5555:user/dave"},
			id:         token.Identity{AccountID: "5555", ARN: "acs:ram::5555:user/dave", CanonicalARN: "acs:ram::5555:user/dave"},
			wantMapped: true, wantKind: mapper.KindExact, wantSource: mapper.SourceMapUsers, wantUser: "dave"},
		{name: "static account, default username", config: true, args: []string{"--arn", "acs:ram::5555:assumed-role/r/s"},
			id:         token.Identity{AccountID: "5555", ARN: "acs:ram::5555:assumed-role/r/s", CanonicalARN: "acs:ram::5555:role/r", SessionName: "s"},
			wantMapped: true, wantKind: mapper.KindAccount, wantSource: mapper.SourceMapAccounts, wantUser: "acs:ram::5555:role/r"},
		{name: "static account with template", config: true, args: []string{"--arn", "acs:ram::6666:assumed-role/r/a@b"},
			id:         token.Identity{AccountID: "6666", ARN: "acs:ram::6666:assumed-role/r/a@b", CanonicalARN: "acs:ram::6666:role/r", SessionName: "a@b"},
			wantMapped: true, wantKind: mapper.KindAccount, wantSource: mapper.SourceMapAccounts, wantUser: "acct6:a-b"},
		{name: "static account wins over a CR (static mapper first)", config: true, args: []string{"--arn", "acs:ram::5555:user/erin"},
			id:         token.Identity{AccountID: "5555", ARN: "acs:ram::5555:user/erin", CanonicalARN: "acs:ram::5555:user/erin"},
			wantMapped: true, wantKind: mapper.KindAccount, wantSource: mapper.SourceMapAccounts, wantUser: "acs:ram::5555:user/erin"},
		{name: "without --config the CR decides", args: []string{"--arn", "acs:ram::5555:user/erin"},
			id:         token.Identity{AccountID: "5555", ARN: "acs:ram::5555:user/erin", CanonicalARN: "acs:ram::5555:user/erin"},
			wantMapped: true, wantKind: mapper.KindExact, wantSource: "crd:erin-user", wantUser: "erin-crd"},
		{name: "static template error refuses, the CR is not asked", config: true, args: []string{"--arn", "acs:ram::6666:user/frank"},
			id: token.Identity{AccountID: "6666", ARN: "acs:ram::6666:user/frank", CanonicalARN: "acs:ram::6666:user/frank"}},
		{name: "other account unmapped", config: true, args: []string{"--arn", "acs:ram::7777:user/x"},
			id: token.Identity{AccountID: "7777", ARN: "acs:ram::7777:user/x", CanonicalARN: "acs:ram::7777:user/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"explain", "-o", "json"}, tt.args...)
			stages := [][]mapper.Rule{rules}
			if tt.config {
				args = append(args, "--config", cfg)
				stages = [][]mapper.Rule{staticRules, rules}
			}
			r := f.run(t, "", args...)
			var got Explanation
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("decode explain output: %v\n%s", err, r)
			}
			wantCode := ExitNotMapped
			if tt.wantMapped {
				wantCode = 0
			}
			if r.code != wantCode {
				t.Fatalf("exit %d, want %d\n%s", r.code, wantCode, r)
			}
			contains(t, "stderr", r.stderr, "broken") // the invalid object is reported, not fatal

			// The server's decision on the same rules and identity.
			res, serverMapped, err := serverMap(stages, tt.id)
			if got.Mapped != serverMapped {
				t.Fatalf("explain mapped=%v, mapper says %v (err %v)\n%s", got.Mapped, serverMapped, err, r)
			}
			if res != nil {
				if got.Source != res.Rule.Source || got.Kind != res.Kind || got.Username != res.Username || !slices.Equal(got.Groups, res.Groups) {
					t.Errorf("explain = %+v\nmapper  = %+v", got, *res)
				}
			}
			if got.Mapped != tt.wantMapped || (tt.wantMapped && (got.Kind != tt.wantKind || got.Source != tt.wantSource || got.Username != tt.wantUser)) {
				t.Errorf("explain = %+v, want mapped=%v kind=%s source=%s user=%s", got, tt.wantMapped, tt.wantKind, tt.wantSource, tt.wantUser)
			}
			if !got.Mapped && got.Reason == "" {
				t.Error("no reason given for an unmapped identity")
			}
			if strings.HasPrefix(got.Source, mapper.SourceCRDPrefix) && got.Mapping != strings.TrimPrefix(got.Source, mapper.SourceCRDPrefix) {
				t.Errorf("mapping %q does not match source %q", got.Mapping, got.Source)
			}
		})
	}
}

// serverMap decides the way ack-ram-authenticator does with its mappers in order (static file,
// then CRs): the first match wins, an error refuses, and reserved results are refused.
func serverMap(stages [][]mapper.Rule, id token.Identity) (*mapper.Result, bool, error) {
	for _, rules := range stages {
		res, ok, err := mapper.Match(rules, id)
		if err != nil {
			return nil, false, err
		}
		if ok {
			if err := mapper.CheckReserved(res.Username, res.Groups, mapper.AllowedGroups(nil)); err != nil {
				return res, false, err
			}
			return res, true, nil
		}
	}
	return nil, false, nil
}

func TestExplainTextAndErrors(t *testing.T) {
	f := newFixture(t)
	f.ok(t, "add", "--name", "dev", "--arn", "acs:ram::"+acct+":role/dev", "--username", "dev:{{SessionName}}", "-g", "devs")
	static := "server:\n  mapRoles:\n  - roleARN: acs:ram::" + acct + ":role/dev\n    username: static-dev\n  mapAccounts: [\"5555\"]\n"
	staticFirst := writeFile(t, "static.yaml", static)
	crdFirst := writeFile(t, "crd-first.yaml", static+"  mappers: [CRD, MountedFile]\n")
	fileOnly := writeFile(t, "file-only.yaml", static+"  mappers: [MountedFile]\n")
	badOrder := writeFile(t, "bad-order.yaml", static+"  mappers: [LDAP]\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{name: "mapped", args: []string{"--arn", "acs:ram::" + acct + ":assumed-role/dev/a@b"},
			wantOut: []string{"Matched by:     RAMIdentityMapping dev (exact rule, ARN acs:ram::" + acct + ":role/dev)", "Username:       dev:a-b", "Groups:         devs"}},
		{name: "not mapped", args: []string{"--arn", "acs:ram::" + acct + ":user/x"}, wantCode: ExitNotMapped,
			wantOut: []string{"not mapped: no mapping matches acs:ram::" + acct + ":user/x"}},
		{name: "missing session explained", args: []string{"--arn", "acs:ram::" + acct + ":role/dev"}, wantCode: ExitNotMapped,
			wantOut: []string{"not mapped:", "{{SessionName}} has no value", "--session-name"}},
		{name: "static file first by default", args: []string{"--arn", "acs:ram::" + acct + ":assumed-role/dev/a", "--config", staticFirst},
			wantOut: []string{"Matched by:     static mapRoles entry (MountedFile mapper) (exact rule", "Username:       static-dev"}},
		{name: "server.mappers puts CRD first", args: []string{"--arn", "acs:ram::" + acct + ":assumed-role/dev/a", "--config", crdFirst},
			wantOut: []string{"Matched by:     RAMIdentityMapping dev", "Username:       dev:a"}},
		{name: "server.mappers without CRD", args: []string{"--arn", "acs:ram::" + acct + ":user/x", "--config", fileOnly}, wantCode: ExitNotMapped,
			wantOut: []string{"not mapped"}, wantErr: []string{"does not list CRD"}},
		{name: "unknown mapper", args: []string{"--arn", "acs:ram::1:user/x", "--config", badOrder}, wantCode: 1, wantErr: []string{`unknown backend "LDAP"`}},
		{name: "static only", args: []string{"--arn", "acs:ram::5555:user/x", "--config", staticFirst, "--no-cluster"},
			wantOut: []string{"static mapAccounts entry (MountedFile mapper) (account rule, account 5555)", "Username:       acs:ram::5555:user/x"}},
		{name: "glob refused", args: []string{"--arn", "acs:ram::1:role/*"}, wantCode: 2, wantErr: []string{"not a glob"}},
		{name: "bad arn", args: []string{"--arn", "acs:ram::1:thing"}, wantCode: 2, wantErr: []string{"Error: --arn"}},
		{name: "no arn", args: nil, wantCode: 2, wantErr: []string{"--arn is required"}},
		{name: "session conflicts", args: []string{"--arn", "acs:ram::1:assumed-role/r/s", "--session-name", "t"}, wantCode: 2, wantErr: []string{"differs"}},
		{name: "session for a user", args: []string{"--arn", "acs:ram::1:user/u", "--session-name", "t"}, wantCode: 2, wantErr: []string{"only for roles"}},
		{name: "account conflicts", args: []string{"--arn", "acs:ram::1:user/u", "--account-id", "2"}, wantCode: 2, wantErr: []string{"does not match"}},
		{name: "missing config file", args: []string{"--arn", "acs:ram::1:user/u", "--config", "/nonexistent/x.yaml"}, wantCode: 1, wantErr: []string{"read --config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, "", append([]string{"explain"}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.wantCode, r)
			}
			contains(t, "stdout", r.stdout, tt.wantOut...)
			contains(t, "stderr", r.stderr, tt.wantErr...)
			if tt.wantCode == ExitNotMapped && strings.Contains(r.stderr, "Error:") {
				t.Errorf("not-mapped should be one clear line, not an error:\n%s", r.stderr)
			}
		})
	}
}
