package emulator_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

const testIssuer = "https://oidc-ack.example.com/c1"

type oidcEnv struct {
	srv      *emulator.Server
	in       emulator.Info
	key      *rsa.PrivateKey
	otherKey *rsa.PrivateKey
	provider string
	roleARN  string
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func startOIDC(t *testing.T) *oidcEnv {
	t.Helper()
	e := &oidcEnv{key: rsaKey(t), otherKey: rsaKey(t)}
	der, err := x509.MarshalPKIXPublicKey(&e.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "sa.pub")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	seed := seedWith(t)
	acct := seed.Accounts[0].ID
	c := &seed.Clusters[0]
	c.ServiceAccountIssuer = testIssuer
	c.ServiceAccountKeyFiles = []string{keyFile}
	c.RRSA.Enabled = true
	e.provider = "acs:ram::" + acct + ":oidc-provider/ack-rrsa-" + c.ID
	trust, _ := json.Marshal(map[string]any{
		"Version": "1",
		"Statement": []any{map[string]any{
			"Action": "sts:AssumeRole", "Effect": "Allow",
			"Principal": map[string]any{"Federated": []string{e.provider}},
			"Condition": map[string]any{
				"StringEquals": map[string]any{"oidc:iss": testIssuer, "oidc:aud": "sts.aliyuncs.com"},
				"StringLike":   map[string]any{"oidc:sub": "system:serviceaccount:apps:*"},
			},
		}},
	})
	seed.Accounts[0].Roles = []emulator.RoleSeed{{Name: "pod-role", TrustPolicy: string(trust)}}
	e.roleARN = "acs:ram::" + acct + ":role/pod-role"
	e.srv = emulatortest.Start(t, emulatortest.WithSeed(seed))
	e.in = e.srv.Info()
	return e
}

func signJWT(t *testing.T, key *rsa.PrivateKey, c jwt.Claims) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAssumeRoleWithOIDC(t *testing.T) {
	e := startOIDC(t)
	now := time.Now()
	claims := func(mut func(*jwt.Claims)) jwt.Claims {
		c := jwt.Claims{Issuer: testIssuer, Subject: "system:serviceaccount:apps:web", Audience: jwt.Audience{"sts.aliyuncs.com"},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))}
		if mut != nil {
			mut(&c)
		}
		return c
	}
	tests := []struct {
		name     string
		token    string
		provider string
		wantCode string
	}{
		{"allowed", signJWT(t, e.key, claims(nil)), e.provider, ""},
		{"other namespace", signJWT(t, e.key, claims(func(c *jwt.Claims) { c.Subject = "system:serviceaccount:kube-system:web" })), e.provider, "AuthenticationFail.NoPermission"},
		{"wrong issuer", signJWT(t, e.key, claims(func(c *jwt.Claims) { c.Issuer = "https://evil" })), e.provider, "AuthenticationFail.OIDCToken.Invalid"},
		{"wrong audience", signJWT(t, e.key, claims(func(c *jwt.Claims) { c.Audience = jwt.Audience{"other"} })), e.provider, "AuthenticationFail.OIDCToken.Invalid"},
		{"expired", signJWT(t, e.key, claims(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-time.Hour)) })), e.provider, "AuthenticationFail.OIDCToken.Expired"},
		{"other signing key", signJWT(t, e.otherKey, claims(nil)), e.provider, "AuthenticationFail.OIDCToken.Invalid"},
		{"malformed", "not-a-jwt", e.provider, "InvalidParameter.OIDCToken"},
		{"unknown provider", signJWT(t, e.key, claims(nil)), e.provider + "x", "EntityNotExist.OIDCProvider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := newSTS(t, e.in, creds{}, nil).AssumeRoleWithOIDC(&sts.AssumeRoleWithOIDCRequest{
				RoleArn: tea.String(e.roleARN), OIDCProviderArn: tea.String(tt.provider),
				OIDCToken: tea.String(tt.token), RoleSessionName: tea.String("pod-session"),
			})
			if got := errCode(t, err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if err != nil {
				return
			}
			b := resp.Body
			if tea.StringValue(b.OIDCTokenInfo.Subject) != "system:serviceaccount:apps:web" || tea.StringValue(b.OIDCTokenInfo.Issuer) != testIssuer ||
				tea.StringValue(b.OIDCTokenInfo.ClientIds) != "sts.aliyuncs.com" {
				t.Errorf("OIDCTokenInfo = %s", b.OIDCTokenInfo.String())
			}
			if !strings.HasSuffix(tea.StringValue(b.AssumedRoleUser.Arn), ":assumed-role/pod-role/pod-session") {
				t.Errorf("AssumedRoleUser = %s", b.AssumedRoleUser.String())
			}
			id, err := newSTS(t, e.in, creds{id: *b.Credentials.AccessKeyId, secret: *b.Credentials.AccessKeySecret, token: *b.Credentials.SecurityToken}, nil).GetCallerIdentity()
			if err != nil || tea.StringValue(id.Body.IdentityType) != "AssumedRoleUser" {
				t.Errorf("GetCallerIdentity with OIDC credentials: %v %v", id, err)
			}
		})
	}
}

// TestCredentialsGoOIDC uses credentials-go's oidc_role_arn provider, as pods with RRSA do.
func TestCredentialsGoOIDC(t *testing.T) {
	e := startOIDC(t)
	tokFile := filepath.Join(t.TempDir(), "token")
	now := time.Now()
	tok := signJWT(t, e.key, jwt.Claims{Issuer: testIssuer, Subject: "system:serviceaccount:apps:web",
		Audience: jwt.Audience{"sts.aliyuncs.com"}, Expiry: jwt.NewNumericDate(now.Add(time.Hour))})
	if err := os.WriteFile(tokFile, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	cred, err := credentials.NewCredential(new(credentials.Config).SetType("oidc_role_arn").
		SetRoleArn(e.roleARN).SetOIDCProviderArn(e.provider).SetOIDCTokenFilePath(tokFile).
		SetRoleSessionName("cred-go").SetSTSEndpoint(e.in.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	m, err := cred.GetCredential()
	if err != nil {
		t.Fatalf("GetCredential: %v", err)
	}
	if !strings.HasPrefix(tea.StringValue(m.AccessKeyId), "STS.") || tea.StringValue(m.SecurityToken) == "" {
		t.Errorf("unexpected credential %+v", m)
	}
}
