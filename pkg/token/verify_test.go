package token_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newVerifier(t *testing.T, info emulator.Info, timeout time.Duration) *token.Verifier {
	t.Helper()
	v, err := token.NewVerifier(token.VerifierConfig{ClusterID: info.ClusterID, STSEndpoint: info.Endpoint, Timeout: timeout})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func sign(t *testing.T, cluster, ak, secret, sts string) string {
	t.Helper()
	tok, _, err := token.Sign(token.SignInput{ClusterID: cluster, AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: sts})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func akCredential(t *testing.T, id, secret string) credentials.Credential {
	t.Helper()
	cred, err := credentials.NewCredential(new(credentials.Config).SetType("access_key").SetAccessKeyId(id).SetAccessKeySecret(secret))
	if err != nil {
		t.Fatalf("credential: %v", err)
	}
	return cred
}

// assumeRole creates a role trusted by the account and returns temporary credentials of it.
func assumeRole(t *testing.T, info emulator.Info, roleName, session string) *cloud.AssumeRoleOutput {
	t.Helper()
	ctx := ctxT(t)
	ep := cloud.Endpoints{RegionID: info.RegionID, STS: info.Endpoint, RAM: info.Endpoint, CS: info.Endpoint}
	cred := akCredential(t, info.AccessKeyID, info.AccessKeySecret)
	ram, err := cloud.NewRAM(cred, ep)
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + info.AccountID + `:root"]}}]}`
	role, err := ram.CreateRole(ctx, cloud.CreateRoleInput{Name: roleName, AssumeRolePolicyDocument: trust})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	stsc, err := cloud.NewSTS(cred, ep)
	if err != nil {
		t.Fatal(err)
	}
	out, err := stsc.AssumeRole(ctx, cloud.AssumeRoleInput{RoleARN: role.ARN, SessionName: session})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	return out
}

func TestVerifyIdentities(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	user, userKey, err := srv.CreateUser(info.AccountID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	rootKey, err := srv.CreateRootAccessKey(info.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	assumed := assumeRole(t, info, "Dev-Role", "bob@example.com")
	acct := info.AccountID

	tests := []struct {
		name                              string
		ak, secret, sts                   string
		wantARN, wantCanonical, wantType  string
		wantSession, wantUserID, wantRole string
	}{
		{
			name: "RAM user", ak: userKey.ID, secret: userKey.Secret,
			wantARN: "acs:ram::" + acct + ":user/alice", wantCanonical: "acs:ram::" + acct + ":user/alice",
			wantType: "RAMUser", wantUserID: user.UserID,
		},
		{
			name: "assumed role", ak: assumed.Credentials.AccessKeyID, secret: assumed.Credentials.AccessKeySecret, sts: assumed.Credentials.SecurityToken,
			wantARN: assumed.AssumedRoleARN, wantCanonical: "acs:ram::" + acct + ":role/dev-role",
			wantType: "AssumedRoleUser", wantSession: "bob@example.com", wantRole: "set",
		},
		{
			name: "root", ak: rootKey.ID, secret: rootKey.Secret,
			wantARN: "acs:ram::" + acct + ":root", wantCanonical: "acs:ram::" + acct + ":root",
			wantType: "Account", wantUserID: acct,
		},
	}
	v := newVerifier(t, info, 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Calls(emulator.ServiceSTS, "GetCallerIdentity")
			tok := sign(t, info.ClusterID, tc.ak, tc.secret, tc.sts)
			id, exp, err := v.Verify(ctxT(t), tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id.ARN != tc.wantARN || !strings.EqualFold(id.CanonicalARN, tc.wantCanonical) || id.IdentityType != tc.wantType {
				t.Errorf("identity = %+v, want ARN %s canonical %s type %s", id, tc.wantARN, tc.wantCanonical, tc.wantType)
			}
			if id.AccountID != acct || id.AccessKeyID != tc.ak || id.SessionName != tc.wantSession {
				t.Errorf("identity = %+v, want account %s key %s session %q", id, acct, tc.ak, tc.wantSession)
			}
			if tc.wantUserID != "" && id.UserID != tc.wantUserID {
				t.Errorf("UserID = %q, want %q", id.UserID, tc.wantUserID)
			}
			if id.UserID == "" || id.PrincipalID == "" {
				t.Errorf("UserID/PrincipalID empty: %+v", id)
			}
			if (tc.wantRole != "") != (id.RoleID != "") {
				t.Errorf("RoleID = %q", id.RoleID)
			}
			if d := time.Until(exp); d < 14*time.Minute || d > 15*time.Minute+time.Second {
				t.Errorf("expiry in %v, want about 15m", d)
			}
			if got := srv.Calls(emulator.ServiceSTS, "GetCallerIdentity") - before; got != 1 {
				t.Errorf("STS calls = %d, want 1", got)
			}
		})
	}
}

func TestVerifyRejectedBySTS(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	_, key, err := srv.CreateUser(info.AccountID, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	assumed := assumeRole(t, info, "r1", "s1")
	v := newVerifier(t, info, 0)
	tests := []struct {
		name, ak, secret, sts, wantCode string
	}{
		{"wrong secret", key.ID, key.Secret + "x", "", "SignatureDoesNotMatch"},
		{"unknown key", "LTAIunknownkey00000000", "secret", "", "InvalidAccessKeyId.NotFound"},
		{"permanent key with a security token", key.ID, key.Secret, "CAISforged", "InvalidSecurityToken.MismatchWithAccessKey"},
		{"STS key with another token", assumed.Credentials.AccessKeyID, assumed.Credentials.AccessKeySecret, "CAISother", "InvalidSecurityToken.MismatchWithAccessKey"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := v.Verify(ctxT(t), sign(t, info.ClusterID, tc.ak, tc.secret, tc.sts))
			if !errors.Is(err, token.ErrSTSRejected) {
				t.Fatalf("err = %v, want ErrSTSRejected", err)
			}
			var se *token.STSError
			if !errors.As(err, &se) || se.Code != tc.wantCode {
				t.Fatalf("err = %#v, want code %s", err, tc.wantCode)
			}
			if strings.Contains(err.Error(), "string to sign") || strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error leaks STS internals: %v", err)
			}
		})
	}
}

func TestVerifyFaults(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	tests := []struct {
		fault emulator.Fault
		want  error
	}{
		{emulator.Fault{Mode: emulator.FaultDown}, token.ErrSTSUnavailable},
		{emulator.Fault{Mode: emulator.Fault5xx}, token.ErrSTSUnavailable},
		{emulator.Fault{Mode: emulator.FaultThrottle}, token.ErrSTSThrottled},
		{emulator.Fault{Mode: emulator.FaultSlow, Delay: 10 * time.Second}, token.ErrSTSUnavailable},
	}
	v := newVerifier(t, info, 300*time.Millisecond)
	for _, tc := range tests {
		t.Run(tc.fault.Mode, func(t *testing.T) {
			srv.SetFault(emulator.ServiceSTS, tc.fault)
			t.Cleanup(func() { srv.SetFault(emulator.ServiceSTS, emulator.Fault{}) })
			start := time.Now()
			_, _, err := v.Verify(ctxT(t), sign(t, info.ClusterID, info.AccessKeyID, info.AccessKeySecret, ""))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if errors.Is(err, token.ErrInvalidToken) || errors.Is(err, token.ErrSTSRejected) {
				t.Errorf("fault classified as a bad token: %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v, want the timeout to bound it", d)
			}
		})
	}
	// After the faults are cleared the same kind of token verifies again.
	if _, _, err := v.Verify(ctxT(t), sign(t, info.ClusterID, info.AccessKeyID, info.AccessKeySecret, "")); err != nil {
		t.Fatalf("Verify after faults: %v", err)
	}
}

func TestVerifyLocalRejectionMakesNoSTSCall(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	v := newVerifier(t, info, 0)
	// A valid token for another cluster: replay across clusters must fail before STS.
	tok := sign(t, "c0000000000000000000000000000000f", info.AccessKeyID, info.AccessKeySecret, "")
	_, _, err := v.Verify(ctxT(t), tok)
	var pe *token.ParseError
	if !errors.As(err, &pe) || !errors.Is(err, token.ErrInvalidToken) {
		t.Fatalf("err = %v, want *ParseError", err)
	}
	if n := srv.Calls(emulator.ServiceSTS, "GetCallerIdentity"); n != 0 {
		t.Errorf("STS calls = %d, want 0", n)
	}
}

// A header value net/http cannot send must be a local rejection, not an "STS unavailable" fault
// (which would be counted as an STS outage and tell the user to retry).
func TestVerifyControlCharacterIsInvalidToken(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	v := newVerifier(t, info, 0)
	valid := sign(t, info.ClusterID, info.AccessKeyID, info.AccessKeySecret, "")
	tests := []struct{ name, from, to string }{
		{"newline in user-agent", `"user-agent":"kubectl-ack/`, `"user-agent":"x\nkubectl-ack/`},
		{"NUL in user-agent", `"user-agent":"kubectl-ack/`, `"user-agent":"x\u0000kubectl-ack/`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			js := rawJSON(t, valid)
			if !strings.Contains(js, tc.from) {
				t.Fatalf("token JSON has no %s: %s", tc.from, js)
			}
			_, _, err := v.Verify(ctxT(t), encode(strings.Replace(js, tc.from, tc.to, 1)))
			var pe *token.ParseError
			if !errors.As(err, &pe) || errors.Is(err, token.ErrSTSUnavailable) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
		})
	}
	if n := srv.Calls(emulator.ServiceSTS, "GetCallerIdentity"); n != 0 {
		t.Errorf("STS calls = %d, want 0", n)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  token.VerifierConfig
		ok   bool
	}{
		{"ok", token.VerifierConfig{ClusterID: "c1", STSEndpoint: "sts.cn-hangzhou.aliyuncs.com"}, true},
		{"ok with port", token.VerifierConfig{ClusterID: "c1", STSEndpoint: "127.0.0.1:8443"}, true},
		{"no cluster", token.VerifierConfig{STSEndpoint: "sts.aliyuncs.com"}, false},
		{"no endpoint", token.VerifierConfig{ClusterID: "c1"}, false},
		{"scheme", token.VerifierConfig{ClusterID: "c1", STSEndpoint: "https://sts.aliyuncs.com"}, false},
		{"path", token.VerifierConfig{ClusterID: "c1", STSEndpoint: "sts.aliyuncs.com/x"}, false},
		{"userinfo", token.VerifierConfig{ClusterID: "c1", STSEndpoint: "u@sts.aliyuncs.com"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := token.NewVerifier(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
