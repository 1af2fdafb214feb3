package rrsa

import (
	"encoding/json"
	"reflect"
	"testing"
)

// officialStatement is the statement ack-ram-tool writes for one association: Action a string,
// one federated principal in a list, oidc:aud and oidc:iss under StringEquals and oidc:sub under
// StringEquals, or under StringLike when the namespace or the service account is "*".
func officialStatement(provider, issuer, ns, sa string) map[string]any {
	eq := map[string]any{"oidc:aud": "sts.aliyuncs.com", "oidc:iss": issuer}
	cond := map[string]any{"StringEquals": eq}
	if ns == "*" || sa == "*" {
		cond["StringLike"] = map[string]any{"oidc:sub": "system:serviceaccount:" + ns + ":" + sa}
	} else {
		eq["oidc:sub"] = "system:serviceaccount:" + ns + ":" + sa
	}
	return map[string]any{"Action": "sts:AssumeRole", "Condition": cond, "Effect": "Allow",
		"Principal": map[string]any{"Federated": []any{provider}}}
}

// officialTool models how ack-ram-tool reads and writes a trust policy: it decodes the document
// into generic maps, treats an association as present only when some statement encodes to the
// same JSON as the statement it would write, and otherwise appends that statement and writes
// the whole document back.
type officialTool struct{ t *testing.T }

func (o officialTool) statements(doc string) []any {
	o.t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		o.t.Fatalf("official tool cannot read %s: %v", doc, err)
	}
	list, _ := m["Statement"].([]any)
	return list
}

func (o officialTool) includes(doc string, stmt map[string]any) bool {
	want, _ := json.Marshal(stmt)
	for _, s := range o.statements(doc) {
		got, _ := json.Marshal(s)
		if string(got) == string(want) {
			return true
		}
	}
	return false
}

// associate returns the document after `ack-ram-tool rrsa associate-role` and whether it appended.
func (o officialTool) associate(doc, ns, sa string) (string, bool) {
	stmt := officialStatement(testARN, testIssuer, ns, sa)
	if o.includes(doc, stmt) {
		return doc, false
	}
	out, err := json.MarshalIndent(map[string]any{"Version": "1", "Statement": append(o.statements(doc), stmt)}, " ", " ")
	if err != nil {
		o.t.Fatal(err)
	}
	return string(out), true
}

func ours(t *testing.T, doc, ns, sa string) (string, bool) {
	t.Helper()
	p, changed, err := Merge(mustPolicy(t, doc), mustStmt(t, ns, sa))
	if err != nil {
		t.Fatal(err)
	}
	return jsonOf(t, p), changed
}

var interopSubjects = [][2]string{{"default", "app"}, {"team", "*"}, {"*", "worker"}, {"*", "*"}}

// Both tools on one role, in both orders: the second tool finds every association the first
// wrote, so nothing is duplicated, and nothing is lost.
func TestInteropWithOfficialTool(t *testing.T) {
	start := `{"Version":"1","Statement":[` + foreignECS + `]}`
	off := officialTool{t}
	wantRefs := []ServiceAccountRef{{Namespace: "*", Name: "*", Wildcard: true}, {Namespace: "*", Name: "worker", Wildcard: true},
		{Namespace: "default", Name: "app"}, {Namespace: "team", Name: "*", Wildcard: true}}
	tests := []struct {
		name          string
		first, second func(doc, ns, sa string) (string, bool)
	}{
		{name: "ours then official", first: func(d, ns, sa string) (string, bool) { return ours(t, d, ns, sa) }, second: off.associate},
		{name: "official then ours", first: off.associate, second: func(d, ns, sa string) (string, bool) { return ours(t, d, ns, sa) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := start
			for _, s := range interopSubjects {
				var changed bool
				if doc, changed = tt.first(doc, s[0], s[1]); !changed {
					t.Fatalf("first tool did not add %v", s)
				}
			}
			for _, s := range interopSubjects {
				var changed bool
				if doc, changed = tt.second(doc, s[0], s[1]); changed {
					t.Errorf("second tool did not recognise %v and appended a duplicate:\n%s", s, doc)
				}
			}
			p := mustPolicy(t, doc)
			if len(p.Statement) != 1+len(interopSubjects) {
				t.Errorf("want the foreign statement and one per association, got %d:\n%s", len(p.Statement), doc)
			}
			if got := ListAssociations(p, testARN, testIssuer); !reflect.DeepEqual(got, wantRefs) {
				t.Errorf("associations = %v, want %v", got, wantRefs)
			}
			// Removing one association leaves exactly the others, which the official tool still finds.
			p, changed, err := Remove(p, testARN, testIssuer, "team", "*")
			if err != nil || !changed {
				t.Fatalf("remove: changed=%v err=%v", changed, err)
			}
			left := jsonOf(t, p)
			for _, s := range interopSubjects {
				if got := off.includes(left, officialStatement(testARN, testIssuer, s[0], s[1])); got != (s != [2]string{"team", "*"}) {
					t.Errorf("after removing team/*: official tool sees %v = %v", s, got)
				}
			}
			if string(p.Statement[0]) != foreignECS && !Equal(`{"Statement":[`+string(p.Statement[0])+`]}`, `{"Statement":[`+foreignECS+`]}`) {
				t.Errorf("foreign statement changed: %s", p.Statement[0])
			}
		})
	}
}

// A statement our earlier versions folded several subjects into is read as all of them; taking
// one out leaves the rest, and a last remaining subject is written in the official shape.
func TestFoldedLegacyStatement(t *testing.T) {
	folded := `{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":["` + testARN + `"]},"Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com","oidc:iss":"` + testIssuer + `","oidc:sub":["system:serviceaccount:a:one","system:serviceaccount:a:two"]}}}`
	doc := `{"Version":"1","Statement":[` + folded + `]}`
	for _, sa := range []string{"one", "two"} {
		if _, changed := ours(t, doc, "a", sa); changed {
			t.Errorf("associate a/%s changed a policy that already trusts it", sa)
		}
	}
	if got := ListAssociations(mustPolicy(t, doc), testARN, testIssuer); len(got) != 2 {
		t.Errorf("associations = %v", got)
	}
	p, changed, err := Remove(mustPolicy(t, doc), testARN, testIssuer, "a", "one")
	if err != nil || !changed || len(p.Statement) != 1 {
		t.Fatalf("remove: changed=%v err=%v %s", changed, err, jsonOf(t, p))
	}
	if !(officialTool{t}).includes(jsonOf(t, p), officialStatement(testARN, testIssuer, "a", "two")) {
		t.Errorf("the remaining subject is not in the official shape: %s", jsonOf(t, p))
	}
}

// The statement Merge writes is, after the official tool's JSON round trip, exactly its own.
func TestStatementIsOfficialShape(t *testing.T) {
	for _, s := range interopSubjects {
		b, err := json.Marshal(mustStmt(t, s[0], s[1]))
		if err != nil {
			t.Fatal(err)
		}
		var got any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(officialStatement(testARN, testIssuer, s[0], s[1]))
		if string(g) != string(w) {
			t.Errorf("%v:\n got %s\nwant %s", s, g, w)
		}
	}
}
