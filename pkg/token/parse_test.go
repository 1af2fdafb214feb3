package token_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

const (
	testCluster = "c0123456789abcdef0123456789abcdef"
	testAK      = "LTAI5tTestAccessKey00000"
	testSecret  = "testSecretValue"
	testSTS     = "CAIStestsecuritytoken"
)

var testNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func signAt(t testing.TB, now time.Time, sts string) string {
	t.Helper()
	tok, _, err := token.Sign(token.SignInput{ClusterID: testCluster, AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: sts, UserAgent: "test/1", Now: now})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

// rawJSON returns the decoded JSON of a token.
func rawJSON(t testing.TB, tok string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(tok, token.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func encode(js string) string {
	return token.Prefix + base64.StdEncoding.EncodeToString([]byte(js))
}

// mutate signs a valid token, applies fn to its decoded JSON and re-encodes it.
func mutate(t testing.TB, sts string, fn func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(rawJSON(t, signAt(t, testNow, sts))), &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return encode(string(b))
}

func headers(m map[string]any) map[string]any { return m["headers"].(map[string]any) }
func query(m map[string]any) map[string]any   { return m["query"].(map[string]any) }

func TestSignFormat(t *testing.T) {
	tok, exp, err := token.Sign(token.SignInput{ClusterID: testCluster, AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: testSTS, UserAgent: "ua/1", Now: testNow.Add(300 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "k8s-ack-v2.") {
		t.Fatalf("prefix: %q", tok[:12])
	}
	if want := testNow.Add(10 * time.Minute); !exp.Equal(want) {
		t.Errorf("expiration = %v, want %v", exp, want)
	}
	js := rawJSON(t, tok)
	// Field order and names as ack-ram-tool writes them; maps are sorted by encoding/json.
	wantPrefix := `{"clusterId":"` + testCluster + `","method":"POST","path":"/","query":{"ACKClusterId":"` + testCluster + `"},"headers":{"Authorization":"ACS3-HMAC-SHA256 Credential=` + testAK +
		`,SignedHeaders=x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-version,Signature=`
	if !strings.HasPrefix(js, wantPrefix) {
		t.Fatalf("JSON = %s\nwant prefix %s", js, wantPrefix)
	}
	for _, want := range []string{`"user-agent":"ua/1"`, `"x-acs-action":"GetCallerIdentity"`, `"x-acs-version":"2015-04-01"`, `"x-acs-date":"2025-03-04T05:06:07Z"`, `"x-acs-security-token":"` + testSTS + `"`,
		`"x-acs-content-sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"`} {
		if !strings.Contains(js, want) {
			t.Errorf("JSON lacks %s: %s", want, js)
		}
	}
	// Deterministic: same input, same token.
	tok2, _, _ := token.Sign(token.SignInput{ClusterID: testCluster, AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: testSTS, UserAgent: "ua/1", Now: testNow})
	if tok2 != tok {
		t.Error("Sign is not deterministic")
	}
	req, err := token.Parse(tok, testCluster, testNow)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if req.AccessKeyID != testAK || req.ClusterID != testCluster || !req.Date.Equal(testNow) || req.Headers["x-acs-security-token"] != testSTS || req.Headers["authorization"] == "" {
		t.Errorf("Parse = %+v", req)
	}
}

func TestSignKnownSignature(t *testing.T) {
	// Signature computed independently (Python hmac/hashlib over the ACS3 canonical request) for
	// these inputs; it pins the canonical request layout.
	tok, _, err := token.Sign(token.SignInput{ClusterID: "c1", AccessKeyID: "AK", AccessKeySecret: "SK", Now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), UserAgent: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Signature=" + knownSignature; !strings.Contains(rawJSON(t, tok), want) {
		t.Errorf("token JSON %s lacks %s", rawJSON(t, tok), want)
	}
}

func TestSignErrors(t *testing.T) {
	for _, in := range []token.SignInput{
		{AccessKeyID: "a", AccessKeySecret: "b"},
		{ClusterID: "c", AccessKeySecret: "b"},
		{ClusterID: "c", AccessKeyID: "a"},
	} {
		if _, _, err := token.Sign(in); err == nil {
			t.Errorf("Sign(%+v) succeeded", in)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		tok  string
		now  time.Time
	}{
		{"AK token", signAt(t, testNow, ""), testNow},
		{"STS token", signAt(t, testNow, testSTS), testNow},
		{"15 minutes old", signAt(t, testNow, ""), testNow.Add(15 * time.Minute)},
		{"5 minutes in the future", signAt(t, testNow, ""), testNow.Add(-5 * time.Minute)},
		{"lower-case authorization key", mutate(t, "", func(m map[string]any) {
			h := headers(m)
			h["authorization"] = h["Authorization"]
			delete(h, "Authorization")
		}), testNow},
		{"no user-agent", mutate(t, "", func(m map[string]any) { delete(headers(m), "user-agent") }), testNow},
		{"signed nonce", nonceToken(t), testNow},
		{"user-agent with tab and UTF-8", mutate(t, "", func(m map[string]any) { headers(m)["user-agent"] = "kubectl\tack/1 (Zürich)" }), testNow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := token.Parse(tc.tok, testCluster, tc.now); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

// nonceToken adds a signed x-acs-signature-nonce header (syntactically; the signature itself is
// only checked by STS).
func nonceToken(t *testing.T) string {
	return mutate(t, "", func(m map[string]any) {
		h := headers(m)
		h["x-acs-signature-nonce"] = "abc"
		h["Authorization"] = strings.Replace(h["Authorization"].(string), "x-acs-date;", "x-acs-date;x-acs-signature-nonce;", 1)
	})
}

func setAuthz(m map[string]any, fn func(string) string) {
	h := headers(m)
	h["Authorization"] = fn(h["Authorization"].(string))
}

// TestParseRejects has one case per DESIGN.md rule, each token breaking exactly that rule.
func TestParseRejects(t *testing.T) {
	valid := signAt(t, testNow, "")
	validJSON := rawJSON(t, valid)
	tests := []struct {
		name    string
		tok     string
		cluster string
		now     time.Time
		reason  string // substring of ParseError.Reason
	}{
		{name: "too large", tok: valid + strings.Repeat("A", token.MaxTokenBytes), reason: "larger"},
		{name: "wrong prefix", tok: "k8s-ack-v1." + strings.TrimPrefix(valid, token.Prefix), reason: "does not start"},
		{name: "prefix case", tok: "K8S-ACK-V2." + strings.TrimPrefix(valid, token.Prefix), reason: "does not start"},
		{name: "empty", tok: "", reason: "does not start"},
		{name: "base64 url alphabet", tok: token.Prefix + base64.URLEncoding.EncodeToString([]byte(validJSON+"~~~??>>")), reason: "base64"},
		{name: "base64 unpadded", tok: token.Prefix + base64.RawStdEncoding.EncodeToString([]byte(validJSON+"x")), reason: "base64"},
		{name: "base64 with newline", tok: valid[:40] + "\n" + valid[40:], reason: "base64"},
		{name: "base64 non-canonical padding bits", tok: token.Prefix + "QR==", reason: "base64"},
		{name: "not JSON", tok: encode("hello"), reason: "not an object"},
		{name: "JSON array", tok: encode("[]"), reason: "not an object"},
		{name: "invalid UTF-8", tok: encode(strings.Replace(validJSON, `"POST"`, "\"PO\xffST\"", 1)), reason: "UTF-8"},
		{name: "trailing data", tok: encode(validJSON + "{}"), reason: "trailing"},
		{name: "nested value in headers", tok: mutate(t, "", func(m map[string]any) { headers(m)["user-agent"] = map[string]any{"a": "b"} }), reason: "object of strings"},
		{name: "number in query", tok: mutate(t, "", func(m map[string]any) { query(m)["ACKClusterId"] = 1 }), reason: "object of strings"},
		{name: "null method", tok: mutate(t, "", func(m map[string]any) { m["method"] = nil }), reason: "strings"},
		{name: "headers not an object", tok: mutate(t, "", func(m map[string]any) { m["headers"] = "x" }), reason: "object of strings"},
		{name: "duplicate top-level key", tok: encode(strings.Replace(validJSON, `"method":"POST"`, `"method":"POST","method":"GET"`, 1)), reason: "repeats"},
		{name: "duplicate query key", tok: encode(strings.Replace(validJSON, `"query":{`, `"query":{"ACKClusterId":"cother",`, 1)), reason: "repeats"},
		{name: "case-variant query key", tok: mutate(t, "", func(m map[string]any) { query(m)["ackclusterid"] = "c2" }), reason: "repeats"},
		{name: "case-variant header key", tok: mutate(t, "", func(m map[string]any) { headers(m)["X-Acs-Action"] = "AssumeRole" }), reason: "repeats"},
		{name: "case-variant authorization", tok: mutate(t, "", func(m map[string]any) { headers(m)["authorization"] = headers(m)["Authorization"] }), reason: "repeats"},
		{name: "exact duplicate header key", tok: encode(strings.Replace(validJSON, `"headers":{`, `"headers":{"x-acs-version":"2015-04-01",`, 1)), reason: "repeats"},
		{name: "non-ASCII header key", tok: mutate(t, "", func(m map[string]any) {
			h := headers(m)
			h["x-acs-security-to\u212aen"] = "CAISx"
		}), reason: "ASCII"},
		{name: "unknown top-level key", tok: mutate(t, "", func(m map[string]any) { m["expiration"] = "x" }), reason: "unknown key"},
		{name: "missing headers", tok: mutate(t, "", func(m map[string]any) { delete(m, "headers") }), reason: "missing headers"},
		{name: "missing clusterId", tok: mutate(t, "", func(m map[string]any) { delete(m, "clusterId") }), reason: "missing clusterId"},
		{name: "method GET", tok: mutate(t, "", func(m map[string]any) { m["method"] = "GET" }), reason: "POST"},
		{name: "path", tok: mutate(t, "", func(m map[string]any) { m["path"] = "/x" }), reason: "path"},
		{name: "cross-cluster replay", tok: valid, cluster: "c99999999999999999999999999999999", reason: "different cluster"},
		{name: "unsigned clusterId field differs", tok: mutate(t, "", func(m map[string]any) { m["clusterId"] = "cother" }), reason: "clusterId does not match"},
		{name: "clusterId field set to server cluster but query differs", tok: func() string {
			tok, _, _ := token.Sign(token.SignInput{ClusterID: "cother", AccessKeyID: testAK, AccessKeySecret: testSecret, Now: testNow})
			var m map[string]any
			_ = json.Unmarshal([]byte(rawJSON(t, tok)), &m)
			m["clusterId"] = testCluster
			b, _ := json.Marshal(m)
			return encode(string(b))
		}(), reason: "different cluster"},
		{name: "missing ACKClusterId", tok: mutate(t, "", func(m map[string]any) { m["query"] = map[string]any{} }), reason: "exactly"},
		{name: "unknown query key", tok: mutate(t, "", func(m map[string]any) { query(m)["Action"] = "AssumeRole" }), reason: "exactly"},
		{name: "renamed query key", tok: mutate(t, "", func(m map[string]any) { m["query"] = map[string]any{"ackclusterid": testCluster} }), reason: "exactly"},
		{name: "unknown header", tok: mutate(t, "", func(m map[string]any) { headers(m)["host"] = "evil.example.com" }), reason: "unknown header"},
		{name: "unknown x-acs header", tok: mutate(t, "", func(m map[string]any) { headers(m)["x-acs-accesskey-id"] = testAK }), reason: "unknown header"},
		{name: "missing action", tok: mutate(t, "", func(m map[string]any) { delete(headers(m), "x-acs-action") }), reason: "missing header x-acs-action"},
		{name: "wrong action", tok: mutate(t, "", func(m map[string]any) { headers(m)["x-acs-action"] = "AssumeRole" }), reason: "x-acs-action"},
		{name: "action case", tok: mutate(t, "", func(m map[string]any) { headers(m)["x-acs-action"] = "getcalleridentity" }), reason: "x-acs-action"},
		{name: "wrong version", tok: mutate(t, "", func(m map[string]any) { headers(m)["x-acs-version"] = "2015-05-01" }), reason: "x-acs-version"},
		{name: "wrong content hash", tok: mutate(t, "", func(m map[string]any) { headers(m)["x-acs-content-sha256"] = strings.Repeat("0", 64) }), reason: "content-sha256"},
		{name: "missing authorization", tok: mutate(t, "", func(m map[string]any) { delete(headers(m), "Authorization") }), reason: "missing header authorization"},
		{name: "wrong algorithm", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return strings.Replace(s, "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1) })
		}), reason: "ACS3-HMAC-SHA256"},
		{name: "ROA authorization", tok: mutate(t, "", func(m map[string]any) { headers(m)["Authorization"] = "acs " + testAK + ":abc" }), reason: "ACS3-HMAC-SHA256"},
		{name: "missing credential", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return strings.Replace(s, "Credential="+testAK, "Credential=", 1) })
		}), reason: "Credential"},
		{name: "credential with odd characters", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return strings.Replace(s, "Credential="+testAK, "Credential="+testAK+"/x", 1) })
		}), reason: "Credential"},
		{name: "short signature", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return s[:len(s)-2] })
		}), reason: "Signature"},
		{name: "repeated field", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return s + ",Credential=" + testAK })
		}), reason: "repeats"},
		{name: "unknown field", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return s + ",Foo=bar" })
		}), reason: "unknown field"},
		{name: "signed headers without action", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return strings.Replace(s, "x-acs-action;", "", 1) })
		}), reason: "SignedHeaders must include x-acs-action"},
		{name: "signed headers without version", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return strings.Replace(s, ";x-acs-version", "", 1) })
		}), reason: "SignedHeaders must include x-acs-version"},
		{name: "signed headers without date", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return strings.Replace(s, "x-acs-date;", "", 1) })
		}), reason: "SignedHeaders must include x-acs-date"},
		{name: "signed headers without content-sha256", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return strings.Replace(s, "x-acs-content-sha256;", "", 1) })
		}), reason: "SignedHeaders must include x-acs-content-sha256"},
		{name: "unsigned security token", tok: mutate(t, "", func(m map[string]any) { headers(m)["x-acs-security-token"] = testSTS }), reason: "x-acs-security-token"},
		{name: "unsigned nonce", tok: mutate(t, "", func(m map[string]any) { headers(m)["x-acs-signature-nonce"] = "n" }), reason: "every x-acs-* header"},
		{name: "signed header not present", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return strings.Replace(s, "SignedHeaders=", "SignedHeaders=host;", 1) })
		}), reason: "does not carry"},
		{name: "signed headers unsorted", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string {
				return strings.Replace(s, "x-acs-action;x-acs-content-sha256", "x-acs-content-sha256;x-acs-action", 1)
			})
		}), reason: "sorted"},
		{name: "signed headers upper case", tok: mutate(t, "", func(m map[string]any) {
			setAuthz(m, func(s string) string { return strings.Replace(s, "x-acs-version", "X-Acs-Version", 1) })
		}), reason: "SignedHeaders"},
		{name: "newline in user-agent", tok: mutate(t, "", func(m map[string]any) { headers(m)["user-agent"] = "ua/1\r\nX-Evil: 1" }), reason: "control character"},
		{name: "NUL in security token", tok: mutate(t, testSTS, func(m map[string]any) { headers(m)["x-acs-security-token"] = testSTS + "\x00" }), reason: "control character"},
		{name: "DEL in user-agent", tok: mutate(t, "", func(m map[string]any) { headers(m)["user-agent"] = "ua/1\x7f" }), reason: "control character"},
		{name: "empty security token", tok: mutate(t, testSTS, func(m map[string]any) { headers(m)["x-acs-security-token"] = "" }), reason: "empty"},
		{name: "date format", tok: mutate(t, "", func(m map[string]any) { headers(m)["x-acs-date"] = testNow.Format(time.RFC1123) }), reason: "x-acs-date"},
		{name: "date with offset", tok: mutate(t, "", func(m map[string]any) { headers(m)["x-acs-date"] = "2025-03-04T05:06:07+00:00" }), reason: "x-acs-date"},
		{name: "stale date", tok: valid, now: testNow.Add(15*time.Minute + time.Second), reason: "expired"},
		{name: "future date", tok: valid, now: testNow.Add(-5*time.Minute - time.Second), reason: "future"},
		{name: "server without cluster id", tok: valid, cluster: "-", reason: "no cluster id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cluster, now := testCluster, testNow
			if tc.cluster == "-" {
				cluster = ""
			} else if tc.cluster != "" {
				cluster = tc.cluster
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			req, err := token.Parse(tc.tok, cluster, now)
			if err == nil {
				t.Fatalf("Parse accepted: %+v", req)
			}
			var pe *token.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, token.ErrInvalidToken) {
				t.Fatalf("err = %T %v, want *ParseError", err, err)
			}
			if !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to mention %q", pe.Reason, tc.reason)
			}
			if strings.Contains(err.Error(), testAK) || strings.Contains(err.Error(), testSTS) || (len(tc.tok) > 20 && strings.Contains(err.Error(), tc.tok[11:31])) {
				t.Errorf("error leaks token text: %v", err)
			}
		})
	}
}

const knownSignature = "8127332295b09d782a649443c388a033af6b4e9b53a87a662f4834ea111dbf12"
