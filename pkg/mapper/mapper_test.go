package mapper_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

var (
	userID = token.Identity{
		AccountID: "123", ARN: "acs:ram::123:user/alice", CanonicalARN: "acs:ram::123:user/alice",
		PrincipalID: "2001", UserID: "2001", AccessKeyID: "LTAIalice", IdentityType: "RAMUser",
	}
	roleID = token.Identity{
		AccountID: "123", ARN: "acs:ram::123:assumed-role/dev-admin/bob@example.com", CanonicalARN: "acs:ram::123:role/dev-admin",
		PrincipalID: "3001:bob@example.com", UserID: "3001:bob@example.com", SessionName: "bob@example.com",
		AccessKeyID: "STS.key", IdentityType: "AssumedRoleUser",
	}
)

func TestMatchPrecedence(t *testing.T) {
	tests := []struct {
		name      string
		rules     []mapper.Rule
		id        token.Identity
		wantOK    bool
		wantKind  string
		wantUser  string
		wantGroup []string
		wantSrc   string
	}{
		{
			name:   "no rules",
			id:     userID,
			wantOK: false,
		},
		{
			name: "exact beats glob and account",
			rules: []mapper.Rule{
				{Source: "crd:glob", ARN: "acs:ram::123:user/*", Username: "glob"},
				{Source: "config:mapAccounts", Account: "123", Username: "acct"},
				{Source: "crd:exact", ARN: "acs:ram::123:user/ALICE", Username: "exact", Groups: []string{"g"}},
			},
			id: userID, wantOK: true, wantKind: "exact", wantUser: "exact", wantGroup: []string{"g"}, wantSrc: "crd:exact",
		},
		{
			name: "assumed role matches its role exactly",
			rules: []mapper.Rule{
				{Source: "config:mapRoles", ARN: "acs:ram::123:role/Dev-Admin", Username: "dev:{{SessionName}}", Groups: []string{"devs", "acct-{{AccountID}}"}},
			},
			id: roleID, wantOK: true, wantKind: "exact", wantUser: "dev:bob-example.com", wantGroup: []string{"devs", "acct-123"}, wantSrc: "config:mapRoles",
		},
		{
			name:   "canonical ARN computed when missing",
			rules:  []mapper.Rule{{Source: "crd:a", ARN: "acs:ram::123:role/dev-admin", Username: "x"}},
			id:     func() token.Identity { i := roleID; i.CanonicalARN = ""; return i }(),
			wantOK: true, wantKind: "exact", wantUser: "x", wantSrc: "crd:a",
		},
		{
			name: "most literal glob wins",
			rules: []mapper.Rule{
				{Source: "crd:a", ARN: "acs:ram::*:role/*", Username: "any"},
				{Source: "crd:b", ARN: "acs:ram::123:role/dev-*", Username: "dev"},
				{Source: "crd:c", ARN: "acs:ram::123:role/*", Username: "acct"},
			},
			id: roleID, wantOK: true, wantKind: "glob", wantUser: "dev", wantSrc: "crd:b",
		},
		{
			name: "equal literals: fewer wildcards wins",
			rules: []mapper.Rule{
				{Source: "crd:a", ARN: "acs:ram::123:role/dev-**", Username: "two"},
				{Source: "crd:b", ARN: "acs:ram::123:role/dev-*", Username: "one"},
			},
			id: roleID, wantOK: true, wantKind: "glob", wantUser: "one", wantSrc: "crd:b",
		},
		{
			name: "full tie: lexicographic source",
			rules: []mapper.Rule{
				{Source: "crd:z", ARN: "acs:ram::123:role/dev-*", Username: "z"},
				{Source: "crd:a", ARN: "acs:ram::123:role/dev-*", Username: "a"},
				{Source: "crd:m", ARN: "acs:ram::123:role/dev-*", Username: "m"},
			},
			id: roleID, wantOK: true, wantKind: "glob", wantUser: "a", wantSrc: "crd:a",
		},
		{
			name: "tie on source: lexicographic ARN",
			rules: []mapper.Rule{
				{Source: "crd:x", ARN: "acs:ram::123:role/dev-?dmin", Username: "q"},
				{Source: "crd:x", ARN: "acs:ram::123:role/dev-*dmin", Username: "s"},
			},
			// both: same literal count and one wildcard; "*" (0x2a) < "?" (0x3f)
			id: roleID, wantOK: true, wantKind: "glob", wantUser: "s", wantSrc: "crd:x",
		},
		{
			name: "account mapping last, default username is the canonical ARN (as on the official add-on)",
			rules: []mapper.Rule{
				{Source: "crd:other", ARN: "acs:ram::999:role/*", Username: "other"},
				{Source: "config:mapAccounts", Account: "123"},
			},
			id: roleID, wantOK: true, wantKind: "account", wantUser: roleID.CanonicalARN, wantSrc: "config:mapAccounts",
		},
		{
			name:  "other account does not match",
			rules: []mapper.Rule{{Source: "config:mapAccounts", Account: "999", Username: "x"}, {Source: "crd:a", ARN: "acs:ram::999:user/alice", Username: "x"}},
			id:    userID, wantOK: false,
		},
		{
			name:  "user rule does not match a role of the same name",
			rules: []mapper.Rule{{Source: "crd:a", ARN: "acs:ram::123:user/dev-admin", Username: "x"}},
			id:    roleID, wantOK: false,
		},
		{
			name:  "duplicate rendered groups collapse",
			rules: []mapper.Rule{{Source: "crd:a", ARN: userID.ARN, Username: "{{UserID}}", Groups: []string{"a", "a", "k-{{AccessKeyID}}"}}},
			id:    userID, wantOK: true, wantKind: "exact", wantUser: "2001", wantGroup: []string{"a", "k-LTAIalice"}, wantSrc: "crd:a",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Order of rules must not matter.
			for _, rules := range [][]mapper.Rule{tc.rules, reversed(tc.rules)} {
				res, ok, err := mapper.Match(rules, tc.id)
				if err != nil {
					t.Fatalf("Match: %v", err)
				}
				if ok != tc.wantOK {
					t.Fatalf("ok = %v, want %v (%+v)", ok, tc.wantOK, res)
				}
				if !ok {
					if res != nil {
						t.Fatalf("result without match: %+v", res)
					}
					continue
				}
				if res.Kind != tc.wantKind || res.Username != tc.wantUser || res.Rule.Source != tc.wantSrc || !reflect.DeepEqual(res.Groups, tc.wantGroup) {
					t.Errorf("result = %+v, want kind %s user %s groups %v source %s", res, tc.wantKind, tc.wantUser, tc.wantGroup, tc.wantSrc)
				}
			}
		})
	}
}

func reversed(r []mapper.Rule) []mapper.Rule {
	out := make([]mapper.Rule, len(r))
	for i := range r {
		out[len(r)-1-i] = r[i]
	}
	return out
}

func TestMatchFailsClosed(t *testing.T) {
	rules := []mapper.Rule{
		{Source: "config:mapUsers", ARN: "acs:ram::123:user/*", Username: "u:{{SessionName}}"},
		{Source: "config:mapAccounts", Account: "123", Username: "fallback"},
	}
	// A RAM user has no session: the winning glob cannot render and the weaker account rule must
	// not be used instead.
	res, ok, err := mapper.Match(rules, userID)
	if err == nil || ok || res != nil || !errors.Is(err, mapper.ErrTemplate) {
		t.Fatalf("Match = %+v, %v, %v; want template error", res, ok, err)
	}
	if _, _, err := mapper.Match(rules, token.Identity{ARN: "garbage"}); err == nil {
		t.Error("identity without a valid ARN mapped")
	}
}

func TestTemplates(t *testing.T) {
	tests := []struct {
		tmpl string
		id   token.Identity
		want string
		err  string
	}{
		{tmpl: "plain", id: userID, want: "plain"},
		{tmpl: "{{AccountID}}:{{UserID}}", id: userID, want: "123:2001"},
		{tmpl: "ak-{{AccessKeyID}}", id: roleID, want: "ak-STS.key"},
		{tmpl: "{{SessionName}}", id: roleID, want: "bob-example.com"},
		{tmpl: "{{SessionNameRaw}}", id: roleID, want: "bob@example.com"},
		{tmpl: "x{{SessionName}}y{{SessionNameRaw}}z", id: roleID, want: "xbob-example.comybob@example.comz"},
		{tmpl: "{{SessionName}}", id: userID, err: "no value"},
		{tmpl: "{{EC2PrivateDNSName}}", id: userID, err: "unknown placeholder"},
		// The official add-on reads it from ECS metadata; here it is refused when the mapping loads.
		{tmpl: "system:node:{{ECSPrivateDNSName}}", id: userID, err: "unknown placeholder"},
		{tmpl: "{{ AccountID }}", id: userID, err: "unknown placeholder"},
		{tmpl: "{{accountid}}", id: userID, err: "unknown placeholder"},
		{tmpl: "{{.AccountID}}", id: userID, err: "unknown placeholder"},
		{tmpl: "{{AccountID", id: userID, err: "unterminated"},
		{tmpl: "a}}b", id: userID, err: "without"},
		{tmpl: "{{printf \"%s\" 1}}", id: userID, err: "unknown placeholder"},
	}
	for _, tc := range tests {
		t.Run(tc.tmpl, func(t *testing.T) {
			got, err := mapper.RenderTemplate(tc.tmpl, tc.id)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, mapper.ErrTemplate) {
					t.Fatalf("Render = %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Render = %q, %v; want %q", got, err, tc.want)
			}
			if err := mapper.ValidateTemplate(tc.tmpl); err != nil {
				t.Errorf("ValidateTemplate: %v", err)
			}
		})
	}
}

func TestCheckReserved(t *testing.T) {
	tests := []struct {
		user    string
		groups  []string
		allowed []string
		ok      bool
	}{
		{"alice", []string{"devs"}, nil, true},
		{"system:admin", nil, nil, false},
		{"System:admin", nil, nil, false},
		{"alice", []string{"system:masters"}, nil, false},
		{"alice", []string{"system:masters"}, []string{"system:masters"}, true},
		{"alice", []string{"system:masters", "system:nodes"}, []string{"system:masters"}, false},
		{"alice", []string{"SYSTEM:masters"}, []string{"system:masters"}, false},
		{"", nil, nil, false},
		{"systemd", []string{"system-ish"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.user, tc.groups, tc.allowed), func(t *testing.T) {
			err := mapper.CheckReserved(tc.user, tc.groups, tc.allowed)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestStaticConfig(t *testing.T) {
	const doc = `{
	  "mapRoles": [{"roleARN": "acs:ram::123:role/admin", "username": "admin:{{SessionName}}", "groups": ["system:masters"]}],
	  "mapUsers": [{"userARN": "acs:ram::123:user/*", "username": "{{UserID}}"}, {"userARN": "acs:ram::123:root", "username": "root"}],
	  "mapAccounts": ["456", {"accountID": "789", "username": "acct-{{AccountID}}", "groups": ["g"]}]
	}`
	var c mapper.StaticConfig
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	rules, err := c.Rules()
	if err != nil {
		t.Fatalf("Rules: %v", err)
	}
	want := []mapper.Rule{
		{Source: mapper.SourceMapRoles, ARN: "acs:ram::123:role/admin", Username: "admin:{{SessionName}}", Groups: []string{"system:masters"}},
		{Source: mapper.SourceMapUsers, ARN: "acs:ram::123:user/*", Username: "{{UserID}}"},
		{Source: mapper.SourceMapUsers, ARN: "acs:ram::123:root", Username: "root"},
		{Source: mapper.SourceMapAccounts, Account: "456"},
		{Source: mapper.SourceMapAccounts, Account: "789", Username: "acct-{{AccountID}}", Groups: []string{"g"}},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("rules = %+v\nwant %+v", rules, want)
	}
	// Export keeps the official key names.
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"mapRoles"`, `"roleARN"`, `"mapUsers"`, `"userARN"`, `"mapAccounts"`, `"accountID"`, `"username"`, `"groups"`} {
		if !strings.Contains(string(out), k) {
			t.Errorf("marshalled config lacks %s: %s", k, out)
		}
	}

	bad := []struct {
		name string
		cfg  mapper.StaticConfig
		err  string
	}{
		{"role without ARN", mapper.StaticConfig{MapRoles: []mapper.RoleMapping{{Username: "x"}}}, "roleARN is required"},
		{"user ARN in mapRoles", mapper.StaticConfig{MapRoles: []mapper.RoleMapping{{RoleARN: "acs:ram::1:user/a", Username: "x"}}}, "not a role ARN"},
		{"role ARN in mapUsers", mapper.StaticConfig{MapUsers: []mapper.UserMapping{{UserARN: "acs:ram::1:role/a", Username: "x"}}}, "not a user or root ARN"},
		{"bad pattern", mapper.StaticConfig{MapRoles: []mapper.RoleMapping{{RoleARN: "acs:ram::x:role/a", Username: "x"}}}, "digits"},
		{"missing username", mapper.StaticConfig{MapRoles: []mapper.RoleMapping{{RoleARN: "acs:ram::1:role/a"}}}, "username is required"},
		{"unknown placeholder", mapper.StaticConfig{MapUsers: []mapper.UserMapping{{UserARN: "acs:ram::1:user/a", Username: "{{Nope}}"}}}, "unknown placeholder"},
		{"bad group template", mapper.StaticConfig{MapUsers: []mapper.UserMapping{{UserARN: "acs:ram::1:user/a", Username: "a", Groups: []string{"{{x"}}}}, "unterminated"},
		{"empty group", mapper.StaticConfig{MapUsers: []mapper.UserMapping{{UserARN: "acs:ram::1:user/a", Username: "a", Groups: []string{""}}}}, "empty group"},
		{"bad account", mapper.StaticConfig{MapAccounts: []mapper.AccountMapping{{AccountID: "12a"}}}, "digits"},
		{"empty account", mapper.StaticConfig{MapAccounts: []mapper.AccountMapping{{}}}, "accountID is required"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := tc.cfg.Rules()
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Rules = %+v, %v; want error %q", rules, err, tc.err)
			}
		})
	}
	// All problems are reported together.
	_, err = mapper.StaticConfig{MapRoles: []mapper.RoleMapping{{}}, MapAccounts: []mapper.AccountMapping{{AccountID: "x"}}}.Rules()
	if err == nil || !strings.Contains(err.Error(), "mapRoles[0]") || !strings.Contains(err.Error(), "mapAccounts[0]") {
		t.Errorf("err = %v, want both problems", err)
	}
}

func BenchmarkMatch(b *testing.B) {
	rules := make([]mapper.Rule, 0, 1000)
	for i := range 1000 {
		switch i % 4 {
		case 0:
			rules = append(rules, mapper.Rule{Source: fmt.Sprintf("crd:r%d", i), ARN: fmt.Sprintf("acs:ram::123:role/team-%d", i), Username: "u{{SessionName}}"})
		case 1:
			rules = append(rules, mapper.Rule{Source: fmt.Sprintf("crd:r%d", i), ARN: fmt.Sprintf("acs:ram::123:role/team-%d-*", i), Username: "g"})
		case 2:
			rules = append(rules, mapper.Rule{Source: fmt.Sprintf("crd:r%d", i), ARN: fmt.Sprintf("acs:ram::%d:user/*", i), Username: "x"})
		default:
			rules = append(rules, mapper.Rule{Source: "config:mapAccounts", Account: fmt.Sprint(i)})
		}
	}
	// Matches a glob near the end after scanning everything.
	id := roleID
	id.ARN, id.CanonicalARN = "acs:ram::123:assumed-role/team-997-x/s", "acs:ram::123:role/team-997-x"
	b.ReportAllocs()
	for b.Loop() {
		res, ok, err := mapper.Match(rules, id)
		if err != nil || !ok || res.Kind != mapper.KindGlob {
			b.Fatalf("Match = %+v, %v, %v", res, ok, err)
		}
	}
}

func TestMatchAssumedRoleRule(t *testing.T) {
	// A rule written with an assumed-role ARN (not accepted by validation, but possible in
	// unvalidated input) still compares on the canonical role ARN.
	rules := []mapper.Rule{{Source: "crd:a", ARN: "acs:ram::123:Assumed-Role/dev-admin/other", Username: "x"}}
	res, ok, err := mapper.Match(rules, roleID)
	if err != nil || !ok || res.Kind != mapper.KindExact {
		t.Fatalf("Match = %+v, %v, %v", res, ok, err)
	}
}
