package token_test

import (
	"encoding/base64"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// FuzzParse fuzzes the token text and, separately, the JSON inside it: mutations of base64 text
// rarely decode to JSON the structural checks see, so the second input reaches them directly.
func FuzzParse(f *testing.F) {
	valid := signAt(f, testNow, "")
	withSTS := signAt(f, testNow, testSTS)
	seeds := []struct {
		tok string
		js  string
	}{
		{valid, rawJSON(f, valid)},
		{withSTS, rawJSON(f, withSTS)},
		{valid[:len(valid)/2], `{"clusterId":"c","method":"POST","path":"/","query":{"ACKClusterId":"c"},"headers":{}}`},
		{token.Prefix, `{"clusterId":"c","clusterId":"c"}`},
		{"", `{"headers":{"a":{"b":1}}}`},
		{encode(`{}`), strings.Replace(rawJSON(f, valid), `"x-acs-action"`, `"X-ACS-ACTION":"x","x-acs-action"`, 1)},
		{valid, strings.Replace(rawJSON(f, valid), `"query":{`, `"query":{"ackclusterid":"x",`, 1)},
		{valid, strings.Replace(rawJSON(f, withSTS), `"Authorization"`, `"authorization"`, 1)},
		{valid, strings.Replace(rawJSON(f, valid), `"user-agent":"test/1"`, `"user-agent":"t\u0000"`, 1)},
		{valid, strings.Replace(rawJSON(f, valid), `"x-acs-date"`, `"x-acs-\u0064ate"`, 1)},
	}
	for _, s := range seeds {
		f.Add(s.tok, []byte(s.js))
	}
	f.Fuzz(func(t *testing.T, tok string, js []byte) {
		checkParse(t, tok)
		checkParse(t, token.Prefix+base64.StdEncoding.EncodeToString(js))
	})
}

// checkParse asserts that Parse either rejects tok with a *ParseError or returns a request that
// satisfies every documented rule.
func checkParse(t *testing.T, tok string) {
	req, err := token.Parse(tok, testCluster, testNow)
	if err != nil {
		var pe *token.ParseError
		if !errors.As(err, &pe) || !errors.Is(err, token.ErrInvalidToken) || pe.Reason == "" {
			t.Fatalf("rejection is not a *ParseError: %T %v", err, err)
		}
		if req != nil {
			t.Fatal("non-nil request with an error")
		}
		return
	}
	if len(tok) > token.MaxTokenBytes {
		t.Fatalf("accepted %d bytes", len(tok))
	}
	if req.ClusterID != testCluster || req.Query["ACKClusterId"] != testCluster || len(req.Query) != 1 {
		t.Fatalf("accepted a token for another cluster: %+v", req)
	}
	if req.Method != "POST" || req.Path != "/" {
		t.Fatalf("accepted method/path %s %s", req.Method, req.Path)
	}
	h := req.Headers
	if h["x-acs-action"] != token.Action || h["x-acs-version"] != token.APIVersion ||
		h["x-acs-content-sha256"] != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("accepted token without the required header values: %+v", h)
	}
	allowed := map[string]bool{"authorization": true, "user-agent": true, "x-acs-action": true, "x-acs-version": true,
		"x-acs-date": true, "x-acs-content-sha256": true, "x-acs-security-token": true, "x-acs-signature-nonce": true}
	for k, v := range h {
		if !allowed[k] {
			t.Fatalf("accepted header %q", k)
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
				t.Fatalf("accepted control character %#x in %s", c, k)
			}
		}
	}
	// Parse accepts the three Authorization fields in any order.
	rest, ok := strings.CutPrefix(h["authorization"], token.Algorithm+" ")
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	if !ok || req.AccessKeyID == "" || fields["Credential"] != req.AccessKeyID || len(fields) != 3 {
		t.Fatalf("accepted Authorization %q for key %q", h["authorization"], req.AccessKeyID)
	}
	signedList := fields["SignedHeaders"]
	signed := map[string]bool{}
	for _, n := range strings.Split(signedList, ";") {
		signed[n] = true
	}
	for k := range h {
		if strings.HasPrefix(k, "x-acs-") && !signed[k] {
			t.Fatalf("accepted unsigned header %s (SignedHeaders %q)", k, signedList)
		}
	}
	if req.Date.Format(token.DateFormat) != h["x-acs-date"] {
		t.Fatalf("date %v does not match x-acs-date %q", req.Date, h["x-acs-date"])
	}
	if req.Date.Before(testNow.Add(-token.ServerValidity)) || req.Date.After(testNow.Add(token.MaxClockSkew)) {
		t.Fatalf("accepted date %v", req.Date)
	}
	checkIdentityKey(t, req, signed)
}

// checkIdentityKey asserts that the identity key ignores the user-agent exactly when it is not
// signed, and always covers the signature.
func checkIdentityKey(t *testing.T, req *token.Request, signed map[string]bool) {
	key := req.IdentityKey()
	variant := *req
	variant.Headers = maps.Clone(req.Headers)
	variant.Headers["user-agent"] = req.Headers["user-agent"] + "-variant"
	if same := variant.IdentityKey() == key; same == signed["user-agent"] {
		t.Fatalf("identity key same=%v for another user-agent, signed=%v", same, signed["user-agent"])
	}
	variant.Headers = maps.Clone(req.Headers)
	variant.Headers["authorization"] += "0"
	if variant.IdentityKey() == key {
		t.Fatal("identity key ignores the signature")
	}
}

func BenchmarkSign(b *testing.B) {
	in := token.SignInput{ClusterID: testCluster, AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: testSTS, Now: testNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := token.Sign(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	tok := signAt(b, testNow, testSTS)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.Parse(tok, testCluster, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
