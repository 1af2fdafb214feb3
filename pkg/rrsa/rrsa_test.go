package rrsa

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	testARN    = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0123"
	testIssuer = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0123"
	foreignECS = `{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]},"Sid":"keep-me"}`
)

func mustStmt(t *testing.T, ns, sa string) Statement {
	t.Helper()
	s, err := BuildStatement(testARN, testIssuer, ns, sa)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustPolicy(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := ParsePolicy(doc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonOf(t *testing.T, p *Policy) string {
	t.Helper()
	s, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildStatement(t *testing.T) {
	tests := []struct {
		name, ns, sa string
		wantOp       string
		wantErr      bool
	}{
		{name: "exact", ns: "default", sa: "app", wantOp: OperatorStringEquals},
		{name: "wildcard sa", ns: "default", sa: "*", wantOp: OperatorStringLike},
		{name: "wildcard ns", ns: "*", sa: "app", wantOp: OperatorStringLike},
		{name: "empty ns", ns: "", sa: "app", wantErr: true},
		{name: "colon", ns: "a:b", sa: "app", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := BuildStatement(testARN, testIssuer, tt.ns, tt.sa)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidStatement) {
					t.Fatalf("err = %v, want ErrInvalidStatement", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Action    string
				Effect    string
				Principal struct{ Federated []string }
				Condition map[string]map[string]string
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.Action != "sts:AssumeRole" || got.Effect != "Allow" || !reflect.DeepEqual(got.Principal.Federated, []string{testARN}) {
				t.Errorf("bad statement %s", b)
			}
			eq := got.Condition[OperatorStringEquals]
			if eq[ConditionKeyAudience] != Audience || eq[ConditionKeyIssuer] != testIssuer {
				t.Errorf("aud/iss wrong: %s", b)
			}
			if got.Condition[tt.wantOp][ConditionKeySubject] != "system:serviceaccount:"+tt.ns+":"+tt.sa {
				t.Errorf("sub not under %s: %s", tt.wantOp, b)
			}
			if tt.wantOp == OperatorStringLike {
				if _, ok := eq[ConditionKeySubject]; ok {
					t.Errorf("wildcard sub also under StringEquals: %s", b)
				}
			}
		})
	}
}

func TestParsePolicyRoundTrip(t *testing.T) {
	tests := []struct {
		name, doc, want string
		wantErr         bool
	}{
		{name: "empty", doc: "", want: `{"Version":"1","Statement":[]}`},
		{name: "single statement object", doc: `{"Version":"1","Statement":` + foreignECS + `}`, want: `{"Version":"1","Statement":[` + foreignECS + `]}`},
		{name: "unknown top-level kept", doc: `{"Statement":[],"Version":"1","X-Note":{"a":1}}`, want: `{"Version":"1","Statement":[],"X-Note":{"a":1}}`},
		{name: "whitespace compacted", doc: "{\"Version\": \"1\", \"Statement\": [ {\"Effect\" : \"Deny\"} ]}", want: `{"Version":"1","Statement":[{"Effect":"Deny"}]}`},
		{name: "not json", doc: "{", wantErr: true},
		{name: "statement not object", doc: `{"Statement":["x"]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.doc)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := jsonOf(t, p)
			// json.Compact keeps the bytes of keys; compare semantically but also check order.
			if !Equal(got, tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !strings.HasPrefix(got, `{"Version":"1","Statement":[`) {
				t.Errorf("Version/Statement not first: %s", got)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	base := `{"Version":"1","Statement":[` + foreignECS + `]}`
	existing := func(op string, subs ...string) string {
		var v any = subs
		if len(subs) == 1 {
			v = subs[0]
		}
		cond := map[string]map[string]any{OperatorStringEquals: {ConditionKeyAudience: Audience, ConditionKeyIssuer: testIssuer}}
		if op == OperatorStringEquals {
			cond[op][ConditionKeySubject] = v
		} else {
			cond[op] = map[string]any{ConditionKeySubject: v}
		}
		b, _ := json.Marshal(map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Federated": []string{testARN}}, "Condition": cond})
		return string(b)
	}
	tests := []struct {
		name          string
		doc           string
		ns, sa        string
		wantChanged   bool
		wantStmts     int
		wantForeign   bool
		wantSubsInOne []string // subs expected together in one statement under wantOp
		wantOp        string
	}{
		{name: "empty policy gets statement", doc: "", ns: "default", sa: "app", wantChanged: true, wantStmts: 1,
			wantSubsInOne: []string{"system:serviceaccount:default:app"}, wantOp: OperatorStringEquals},
		{name: "foreign statement kept", doc: base, ns: "default", sa: "app", wantChanged: true, wantStmts: 2, wantForeign: true,
			wantSubsInOne: []string{"system:serviceaccount:default:app"}, wantOp: OperatorStringEquals},
		{name: "already present is no-op", doc: `{"Version":"1","Statement":[` + foreignECS + `,` + existing(OperatorStringEquals, "system:serviceaccount:default:app") + `]}`,
			ns: "default", sa: "app", wantChanged: false, wantStmts: 2, wantForeign: true,
			wantSubsInOne: []string{"system:serviceaccount:default:app"}, wantOp: OperatorStringEquals},
		{name: "present in list is no-op", doc: `{"Version":"1","Statement":[` + existing(OperatorStringEquals, "system:serviceaccount:a:b", "system:serviceaccount:default:app") + `]}`,
			ns: "default", sa: "app", wantChanged: false, wantStmts: 1,
			wantSubsInOne: []string{"system:serviceaccount:a:b", "system:serviceaccount:default:app"}, wantOp: OperatorStringEquals},
		// One statement per association, never folded into another statement's oidc:sub list:
		// ack-ram-tool recognises only its own one-subject shape.
		{name: "new subject gets its own statement", doc: `{"Version":"1","Statement":[` + foreignECS + `,` + existing(OperatorStringEquals, "system:serviceaccount:a:b") + `]}`,
			ns: "default", sa: "app", wantChanged: true, wantStmts: 3, wantForeign: true,
			wantSubsInOne: []string{"system:serviceaccount:default:app"}, wantOp: OperatorStringEquals},
		{name: "present in a folded list is no-op", doc: `{"Version":"1","Statement":[` + existing(OperatorStringLike, "system:serviceaccount:x:*", "system:serviceaccount:team:*") + `]}`,
			ns: "team", sa: "*", wantChanged: false, wantStmts: 1,
			wantSubsInOne: []string{"system:serviceaccount:x:*", "system:serviceaccount:team:*"}, wantOp: OperatorStringLike},
		{name: "pattern under StringEquals is not an association", doc: `{"Version":"1","Statement":[` + existing(OperatorStringEquals, "system:serviceaccount:team:*") + `]}`,
			ns: "team", sa: "*", wantChanged: true, wantStmts: 2,
			wantSubsInOne: []string{"system:serviceaccount:team:*"}, wantOp: OperatorStringLike},
		{name: "wildcard uses StringLike, new statement", doc: `{"Version":"1","Statement":[` + existing(OperatorStringEquals, "system:serviceaccount:a:b") + `]}`,
			ns: "team", sa: "*", wantChanged: true, wantStmts: 2,
			wantSubsInOne: []string{"system:serviceaccount:team:*"}, wantOp: OperatorStringLike},
		{name: "wildcard not folded into StringLike statement", doc: `{"Version":"1","Statement":[` + existing(OperatorStringLike, "system:serviceaccount:x:*") + `]}`,
			ns: "team", sa: "*", wantChanged: true, wantStmts: 2,
			wantSubsInOne: []string{"system:serviceaccount:team:*"}, wantOp: OperatorStringLike},
		{name: "other issuer not merged into", doc: `{"Version":"1","Statement":[` + strings.Replace(existing(OperatorStringEquals, "system:serviceaccount:a:b"), testIssuer, "https://other", 1) + `]}`,
			ns: "default", sa: "app", wantChanged: true, wantStmts: 2,
			wantSubsInOne: []string{"system:serviceaccount:default:app"}, wantOp: OperatorStringEquals},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.doc)
			before := jsonOf(t, p)
			s := mustStmt(t, tt.ns, tt.sa)
			got, changed, err := Merge(p, s)
			if err != nil {
				t.Fatal(err)
			}
			if jsonOf(t, p) != before {
				t.Error("Merge modified its input")
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v, want %v", changed, tt.wantChanged)
			}
			if len(got.Statement) != tt.wantStmts {
				t.Fatalf("statements = %d, want %d: %s", len(got.Statement), tt.wantStmts, jsonOf(t, got))
			}
			if tt.wantForeign && string(got.Statement[0]) != foreignECS {
				t.Errorf("foreign statement changed: %s", got.Statement[0])
			}
			if !Contains(got, s) {
				t.Errorf("result does not contain statement: %s", jsonOf(t, got))
			}
			found := false
			for _, raw := range got.Statement {
				v, err := parseView(raw)
				if err != nil {
					continue
				}
				vals, ok, _ := v.values(tt.wantOp, ConditionKeySubject)
				if ok && reflect.DeepEqual(vals, tt.wantSubsInOne) {
					found = true
				}
			}
			if !found {
				t.Errorf("no statement with %s oidc:sub = %v: %s", tt.wantOp, tt.wantSubsInOne, jsonOf(t, got))
			}
			again, changed2, err := Merge(got, s)
			if err != nil || changed2 || jsonOf(t, again) != jsonOf(t, got) {
				t.Errorf("second merge not a no-op: changed=%v err=%v", changed2, err)
			}
		})
	}
}

func TestMergeDoesNotWidenStatementWithExtraConditions(t *testing.T) {
	doc := `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":["` + testARN + `"]},"Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com","oidc:iss":"` + testIssuer + `","oidc:sub":"system:serviceaccount:a:b"},"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}`
	got, changed, err := Merge(mustPolicy(t, doc), mustStmt(t, "default", "app"))
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	if len(got.Statement) != 2 {
		t.Fatalf("want a new statement, got %s", jsonOf(t, got))
	}
	if !Equal(`{"Statement":[`+string(got.Statement[0])+`]}`, doc) {
		t.Errorf("statement with extra condition was modified: %s", got.Statement[0])
	}
}

func TestRemove(t *testing.T) {
	multi := `{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":["` + testARN + `"]},"Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com","oidc:iss":"` + testIssuer + `","oidc:sub":["system:serviceaccount:a:b","system:serviceaccount:default:app"]}}}`
	single, _ := json.Marshal(mustStmt(t, "default", "app"))
	otherCluster, _ := json.Marshal(Statement{OIDCProviderARN: testARN + "x", Issuer: testIssuer + "x", Namespace: "default", ServiceAccount: "app"})
	tests := []struct {
		name        string
		doc         string
		wantChanged bool
		wantRefs    []ServiceAccountRef
		wantStmts   int
	}{
		{name: "drop sub keeps other subs", doc: `{"Version":"1","Statement":[` + foreignECS + `,` + multi + `]}`, wantChanged: true,
			wantRefs: []ServiceAccountRef{{Namespace: "a", Name: "b"}}, wantStmts: 2},
		{name: "drop whole statement when empty", doc: `{"Version":"1","Statement":[` + foreignECS + `,` + string(single) + `]}`, wantChanged: true,
			wantStmts: 1},
		{name: "other cluster untouched", doc: `{"Version":"1","Statement":[` + string(otherCluster) + `]}`, wantChanged: false, wantStmts: 1},
		{name: "absent is no-op", doc: `{"Version":"1","Statement":[` + foreignECS + `]}`, wantChanged: false, wantStmts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := Remove(mustPolicy(t, tt.doc), testARN, testIssuer, "default", "app")
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.wantChanged {
				t.Errorf("changed = %v", changed)
			}
			if len(got.Statement) != tt.wantStmts {
				t.Fatalf("statements = %d: %s", len(got.Statement), jsonOf(t, got))
			}
			if refs := ListAssociations(got, testARN, testIssuer); !reflect.DeepEqual(refs, tt.wantRefs) {
				t.Errorf("refs = %v, want %v", refs, tt.wantRefs)
			}
			if strings.Contains(tt.doc, "ecs.aliyuncs.com") && string(got.Statement[0]) != foreignECS {
				t.Errorf("foreign statement changed: %s", got.Statement[0])
			}
		})
	}
}

func TestListAssociations(t *testing.T) {
	p := NewPolicy()
	for _, sa := range [][2]string{{"b", "x"}, {"a", "y"}, {"a", "*"}, {"a", "y"}} {
		var err error
		p, _, err = Merge(p, mustStmt(t, sa[0], sa[1]))
		if err != nil {
			t.Fatal(err)
		}
	}
	p.Statement = append(p.Statement, json.RawMessage(foreignECS))
	want := []ServiceAccountRef{{Namespace: "a", Name: "*", Wildcard: true}, {Namespace: "a", Name: "y"}, {Namespace: "b", Name: "x"}}
	if got := ListAssociations(p, testARN, testIssuer); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := ListAssociations(p, testARN, "https://other"); len(got) != 0 {
		t.Errorf("other issuer: got %v", got)
	}
}

func TestDiffAndEqual(t *testing.T) {
	old := `{"Version":"1","Statement":[` + foreignECS + `]}`
	merged, _, err := Merge(mustPolicy(t, old), mustStmt(t, "default", "app"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Diff(old, jsonOf(t, merged))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d, "+      \"Condition\"") && !strings.Contains(d, `+        "StringEquals"`) {
		t.Errorf("diff lacks added lines:\n%s", d)
	}
	if !strings.HasPrefix(d, "--- current") {
		t.Errorf("diff header: %q", d)
	}
	if d2, _ := Diff(old, old); d2 != "" {
		t.Errorf("diff of same doc = %q", d2)
	}
	if !Equal(`{"Statement":[],"Version":"1"}`, ` {"Version":"1"}`) || Equal(old, jsonOf(t, merged)) || Equal("{", "{") {
		t.Error("Equal wrong")
	}
}
