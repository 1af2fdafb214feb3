package token_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// reencode applies fn to the JSON of tok and encodes the result with the given layout.
func reencode(t *testing.T, tok string, fn func(m map[string]any), layout func([]byte) []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(rawJSON(t, tok)), &m); err != nil {
		t.Fatal(err)
	}
	if fn != nil {
		fn(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if layout != nil {
		b = layout(b)
	}
	return encode(string(b))
}

// renameHeader moves a header to another spelling of its name.
func renameHeader(from, to string) func(m map[string]any) {
	return func(m map[string]any) {
		h := headers(m)
		for k, v := range h {
			if strings.EqualFold(k, from) {
				delete(h, k)
				h[to] = v
			}
		}
	}
}

func setHeader(name string, fn func(string) string) func(m map[string]any) {
	return func(m map[string]any) {
		h := headers(m)
		for k, v := range h {
			if strings.EqualFold(k, name) {
				h[k] = fn(v.(string))
			}
		}
	}
}

// TestIdentityKey: the key ignores exactly what the signature does not cover (the unsigned
// user-agent, header name case, JSON layout, the order of the Authorization fields) and changes
// with everything it covers.
func TestIdentityKey(t *testing.T) {
	base := signAt(t, testNow, testSTS)
	uaSigned := reencode(t, base, setHeader("Authorization", func(v string) string {
		return strings.Replace(v, "SignedHeaders=", "SignedHeaders=user-agent;", 1)
	}), nil)
	tests := []struct {
		name     string
		of, tok  string
		wantSame bool
	}{
		{name: "another user-agent", tok: reencode(t, base, setHeader("user-agent", func(string) string { return "curl/8" }), nil), wantSame: true},
		{name: "no user-agent", tok: reencode(t, base, func(m map[string]any) { delete(headers(m), "user-agent") }, nil), wantSame: true},
		{name: "header names in other letter case", tok: reencode(t, base, func(m map[string]any) {
			renameHeader("x-acs-date", "X-Acs-Date")(m)
			renameHeader("authorization", "AUTHORIZATION")(m)
		}, nil), wantSame: true},
		{name: "JSON spacing and escapes", tok: reencode(t, base, nil, func(b []byte) []byte {
			s := strings.ReplaceAll(string(b), `":`, `" : `)
			return []byte(strings.Replace(s, `"POST"`, `"\u0050OST"`, 1))
		}), wantSame: true},
		{name: "Authorization fields reordered", tok: reencode(t, base, setHeader("Authorization", func(v string) string {
			alg, rest, _ := strings.Cut(v, " ")
			f := strings.Split(rest, ",")
			return alg + " " + f[2] + "," + f[0] + "," + f[1]
		}), nil), wantSame: true},
		{name: "another signature", tok: reencode(t, base, setHeader("Authorization", func(v string) string {
			last := v[len(v)-1]
			repl := byte('0')
			if last == '0' {
				repl = '1'
			}
			return v[:len(v)-1] + string(repl)
		}), nil)},
		{name: "another access key id", tok: reencode(t, base, setHeader("Authorization", func(v string) string {
			return strings.Replace(v, testAK, "LTAI5tOtherAccessKey0000", 1)
		}), nil)},
		{name: "another signing time", tok: signAt(t, testNow.Add(-time.Second), testSTS)},
		{name: "another security token", tok: signAt(t, testNow, testSTS+"x")},
		{name: "signed user-agent is covered", of: uaSigned, tok: reencode(t, uaSigned, setHeader("user-agent", func(string) string { return "curl/8" }), nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			of := base
			if tc.of != "" {
				of = tc.of
			}
			a, err := token.Parse(of, testCluster, testNow)
			if err != nil {
				t.Fatalf("Parse original: %v", err)
			}
			b, err := token.Parse(tc.tok, testCluster, testNow)
			if err != nil {
				t.Fatalf("Parse variant: %v", err)
			}
			if of == tc.tok {
				t.Fatal("the variant is the original token")
			}
			if same := a.IdentityKey() == b.IdentityKey(); same != tc.wantSame {
				t.Errorf("same key = %v, want %v", same, tc.wantSame)
			}
		})
	}
}
