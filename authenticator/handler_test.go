package authenticator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/file"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// fakeVerifier accepts tokens "good-*" as one identity; Parse rejects "bad*". It is only for the
// handler's pure request/response logic; the real verifier is tested against the emulator.
type fakeVerifier struct{ err error }

func (f fakeVerifier) Parse(tok string) (*token.Request, error) {
	if strings.HasPrefix(tok, "bad") {
		return nil, &token.ParseError{Reason: "token does not start with k8s-ack-v2."}
	}
	return fakeRequest(tok, time.Now()), nil
}

func (f fakeVerifier) VerifyRequest(context.Context, *token.Request) (*token.Identity, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &token.Identity{AccountID: "1234567890123456", ARN: "acs:ram::1234567890123456:user/alice",
		CanonicalARN: "acs:ram::1234567890123456:user/alice", PrincipalID: "2001", UserID: "2001", AccessKeyID: "LTAIfake"}, nil
}

func newTestHandler(t *testing.T, v authenticator.TokenVerifier) *authenticator.Handler {
	t.Helper()
	rules, err := mapper.StaticConfig{MapUsers: []mapper.UserMapping{{UserARN: "acs:ram::1234567890123456:user/alice", Username: "alice", Groups: []string{"devs"}}}}.Rules()
	if err != nil {
		t.Fatal(err)
	}
	a := authenticator.NewAuthenticator(authenticator.NewIdentityCache(v, authenticator.CacheConfig{Size: 10}), []authenticator.Mapper{file.New(rules)}, nil)
	return authenticator.NewHandler(a, authenticator.NewMetrics(), nil)
}

func TestHandler(t *testing.T) {
	huge := `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"` + strings.Repeat("a", authenticator.MaxBodyBytes) + `"}}`
	tests := []struct {
		name        string
		method      string
		body        string
		verifier    fakeVerifier
		wantStatus  int
		wantAPI     string
		wantAuth    bool
		wantInBody  string
		wantUser    string
		wantNoToken string
	}{
		{name: "v1 echo", method: "POST", body: string(reviewBody(authenticator.APIVersionV1, "good-1")), wantStatus: 200, wantAPI: authenticator.APIVersionV1, wantAuth: true, wantUser: "alice"},
		{name: "v1beta1 echo", method: "POST", body: string(reviewBody(authenticator.APIVersionV1beta1, "good-2")), wantStatus: 200, wantAPI: authenticator.APIVersionV1beta1, wantAuth: true, wantUser: "alice"},
		{name: "locally invalid token", method: "POST", body: string(reviewBody(authenticator.APIVersionV1, "bad-secret-token-text")), wantStatus: 200, wantAPI: authenticator.APIVersionV1, wantInBody: "does not start with", wantNoToken: "bad-secret-token-text"},
		{name: "empty token", method: "POST", body: string(reviewBody(authenticator.APIVersionV1, "")), wantStatus: 200, wantAPI: authenticator.APIVersionV1, wantInBody: "no token"},
		{name: "throttled is 429", method: "POST", body: string(reviewBody(authenticator.APIVersionV1, "good-3")), verifier: fakeVerifier{err: &token.STSError{Kind: token.ErrSTSThrottled, Code: "Throttling.User"}}, wantStatus: 429, wantAPI: authenticator.APIVersionV1, wantInBody: "throttled", wantNoToken: "Throttling.User"},
		{name: "unavailable denies", method: "POST", body: string(reviewBody(authenticator.APIVersionV1, "good-4")), verifier: fakeVerifier{err: &token.STSError{Kind: token.ErrSTSUnavailable, Err: errors.New("dial tcp 10.0.0.1:443: i/o timeout")}}, wantStatus: 200, wantAPI: authenticator.APIVersionV1, wantInBody: "STS is unavailable", wantNoToken: "10.0.0.1"},
		{name: "malformed body", method: "POST", body: "{not json", wantStatus: 400, wantInBody: "not a JSON TokenReview"},
		{name: "wrong kind", method: "POST", body: `{"apiVersion":"authentication.k8s.io/v1","kind":"SubjectAccessReview","spec":{}}`, wantStatus: 400, wantInBody: "expected kind TokenReview"},
		{name: "unknown version", method: "POST", body: `{"apiVersion":"authentication.k8s.io/v2","kind":"TokenReview","spec":{}}`, wantStatus: 400, wantInBody: "apiVersion"},
		{name: "wrong method", method: "GET", wantStatus: 405, wantInBody: "use POST"},
		{name: "body limit", method: "POST", body: huge, wantStatus: 413, wantInBody: "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, tc.verifier)
			req := httptest.NewRequest(tc.method, "/authenticate", strings.NewReader(tc.body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			body := rec.Body.String()
			if tc.wantInBody != "" && !strings.Contains(body, tc.wantInBody) {
				t.Errorf("body %q lacks %q", body, tc.wantInBody)
			}
			if tc.wantNoToken != "" && strings.Contains(body, tc.wantNoToken) {
				t.Errorf("body %q leaks %q", body, tc.wantNoToken)
			}
			if tc.wantAPI == "" {
				return
			}
			var rv review
			if err := json.Unmarshal(rec.Body.Bytes(), &rv); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if rv.APIVersion != tc.wantAPI || rv.Kind != "TokenReview" || rv.Status.Authenticated != tc.wantAuth || rv.Status.User.Username != tc.wantUser {
				t.Errorf("answer = %+v, want %s authenticated=%v user %q", rv, tc.wantAPI, tc.wantAuth, tc.wantUser)
			}
		})
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	notReady := errors.New("informer has not synced")
	var ready error = notReady
	a := authenticator.NewAuthenticator(authenticator.NewIdentityCache(fakeVerifier{}, authenticator.CacheConfig{Size: 10}), nil, nil)
	h := authenticator.NewHandler(a, authenticator.NewMetrics(), func() error { return ready })
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "not synced") {
		t.Errorf("/readyz before ready = %d %q, want 503", code, body)
	}
	ready = nil
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz when ready = %d, want 200", code)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/authenticate", bytes.NewReader(reviewBody(authenticator.APIVersionV1, "good"))))
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `ack_ram_authenticator_denials_total{reason="unmapped"} 1`) || !strings.Contains(body, "ack_ram_authenticator_cache_misses_total 1") {
		t.Errorf("/metrics = %d, lacks the denial and cache miss:\n%s", code, body)
	}
	if code, _ := get("/nothing"); code != http.StatusNotFound {
		t.Errorf("/nothing = %d, want 404", code)
	}
}

// TestHandlerNeverClaimsAudiences: whatever audiences the request asks about, the answer names
// none, so kube-apiserver applies its own audience rules instead of accepting a k8s-ack-v2 token
// as minted for e.g. Vault (issue 13).
func TestHandlerNeverClaimsAudiences(t *testing.T) {
	tests := []struct {
		name       string
		apiVersion string
		audiences  []string
	}{
		{name: "v1 foreign audience", apiVersion: authenticator.APIVersionV1, audiences: []string{"vault"}},
		{name: "v1 several audiences", apiVersion: authenticator.APIVersionV1, audiences: []string{"https://kubernetes.default.svc", "kube-rbac-proxy"}},
		{name: "v1beta1 foreign audience", apiVersion: authenticator.APIVersionV1beta1, audiences: []string{"vault"}},
		{name: "v1 no audiences", apiVersion: authenticator.APIVersionV1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, fakeVerifier{})
			body, err := json.Marshal(map[string]any{"apiVersion": tc.apiVersion, "kind": "TokenReview",
				"spec": map[string]any{"token": "good-aud", "audiences": tc.audiences}})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", "/authenticate", bytes.NewReader(body)))
			var rv struct {
				APIVersion string `json:"apiVersion"`
				Status     map[string]json.RawMessage
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &rv); err != nil {
				t.Fatalf("answer %d is not JSON: %v", rec.Code, err)
			}
			if rec.Code != 200 || rv.APIVersion != tc.apiVersion || string(rv.Status["authenticated"]) != "true" {
				t.Fatalf("answer %d %s, want %s authenticated", rec.Code, rec.Body.String(), tc.apiVersion)
			}
			if aud, ok := rv.Status["audiences"]; ok {
				t.Errorf("status.audiences = %s, want it absent", aud)
			}
		})
	}
}
