package cloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

func TestSTSGetCallerIdentity(t *testing.T) {
	env := newTestEnv(t)
	id, err := env.cl.STS.GetCallerIdentity(ctxT(t))
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	want := CallerIdentity{
		AccountID:    env.info.AccountID,
		ARN:          "acs:ram::" + env.info.AccountID + ":user/" + env.info.UserName,
		IdentityType: "RAMUser",
		UserID:       env.info.UserID,
	}
	if id.AccountID != want.AccountID || id.ARN != want.ARN || id.IdentityType != want.IdentityType || id.UserID != want.UserID || id.PrincipalID == "" {
		t.Fatalf("identity = %+v, want %+v with a principal id", *id, want)
	}
	if got := env.srv.Calls("sts", "GetCallerIdentity"); got != 1 {
		t.Fatalf("emulator saw %d GetCallerIdentity calls, want 1", got)
	}
}

func TestSTSAssumeRole(t *testing.T) {
	env := newTestEnv(t)
	ctx := ctxT(t)
	trust := `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + env.info.AccountID + `:root"]}}]}`
	role, err := env.cl.RAM.CreateRole(ctx, CreateRoleInput{Name: "assumable", AssumeRolePolicyDocument: trust})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	before := time.Now()
	out, err := env.cl.STS.AssumeRole(ctx, AssumeRoleInput{RoleARN: role.ARN, SessionName: "alice", Duration: 15 * time.Minute})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	c := out.Credentials
	if c.AccessKeyID == "" || c.AccessKeySecret == "" || c.SecurityToken == "" {
		t.Fatalf("credentials incomplete: id=%q token set=%v", c.AccessKeyID, c.SecurityToken != "")
	}
	if d := c.Expiration.Sub(before); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("expiration in %v, want about 15m", d)
	}
	wantARN := "acs:ram::" + env.info.AccountID + ":assumed-role/assumable/alice"
	if out.AssumedRoleARN != wantARN || !strings.HasPrefix(out.AssumedRoleID, role.RoleID+":") {
		t.Errorf("assumed role = %q / %q, want %q / %s:...", out.AssumedRoleARN, out.AssumedRoleID, wantARN, role.RoleID)
	}

	// A default session name is generated when none is given.
	if dflt, err := env.cl.STS.AssumeRole(ctx, AssumeRoleInput{RoleARN: role.ARN}); err != nil ||
		!strings.HasPrefix(dflt.AssumedRoleARN, "acs:ram::"+env.info.AccountID+":assumed-role/assumable/kubectl-ack-") {
		t.Fatalf("AssumeRole without session name = %+v, %v", dflt, err)
	}

	// The temporary credentials work for signed calls.
	tmp, err := NewSTS(akCredential(t, c.AccessKeyID, c.AccessKeySecret, c.SecurityToken), env.ep)
	if err != nil {
		t.Fatal(err)
	}
	id, err := tmp.GetCallerIdentity(ctx)
	if err != nil {
		t.Fatalf("GetCallerIdentity with STS token: %v", err)
	}
	if id.IdentityType != "AssumedRoleUser" || id.ARN != wantARN || id.RoleID != role.RoleID {
		t.Fatalf("identity = %+v, want AssumedRoleUser %s", *id, wantARN)
	}

	// Negative cases.
	tests := []struct {
		name string
		in   AssumeRoleInput
		want error
	}{
		{"missing role", AssumeRoleInput{RoleARN: "acs:ram::" + env.info.AccountID + ":role/nope", SessionName: "session"}, ErrNotFound},
		{"bad session name", AssumeRoleInput{RoleARN: role.ARN, SessionName: "no spaces allowed"}, ErrInvalid},
		{"no role", AssumeRoleInput{SessionName: "session"}, ErrInvalid},
		{"too long", AssumeRoleInput{RoleARN: role.ARN, SessionName: "session", Duration: 48 * time.Hour}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.cl.STS.AssumeRole(ctx, tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("AssumeRole = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSTSAssumeRoleNotTrusted(t *testing.T) {
	env := newTestEnv(t)
	ctx := ctxT(t)
	trust := `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}]}`
	role, err := env.cl.RAM.CreateRole(ctx, CreateRoleInput{Name: "ecs-only", AssumeRolePolicyDocument: trust})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	_, err = env.cl.STS.AssumeRole(ctx, AssumeRoleInput{RoleARN: role.ARN, SessionName: "session"})
	var apiErr *APIError
	if !errors.Is(err, ErrAuth) || !errors.As(err, &apiErr) || apiErr.HTTPStatus != 403 || apiErr.RequestID == "" {
		t.Fatalf("AssumeRole = %v, want ErrAuth with HTTP 403 and a request id", err)
	}
}

// rrsaCluster enables RRSA on the default cluster with a fresh service-account key and returns a
// function that mints tokens.
func rrsaCluster(t *testing.T, env *testEnv) (issuer, oidcARN string, mint func(sub, aud string, exp time.Time) string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(t.TempDir(), "sa.pub")
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer = "https://oidc.example.com/" + env.info.ClusterID
	err = env.srv.UpdateCluster(env.info.ClusterID, func(c *emulator.Cluster) {
		c.ServiceAccountKeyFiles = []string{pubFile}
		c.ServiceAccountIssuer = issuer
		c.RRSA = emulator.RRSAConfig{Enabled: true, Issuer: issuer + ",https://kubernetes.default.svc"}
	})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := env.srv.Cluster(env.info.ClusterID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mint = func(sub, aud string, exp time.Time) string {
		tok, err := jwt.Signed(signer).Claims(jwt.Claims{
			Issuer: issuer, Subject: sub, Audience: jwt.Audience{aud},
			Expiry: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(time.Now()),
		}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	return issuer, c.RRSA.OIDCArn, mint
}

func TestSTSAssumeRoleWithOIDC(t *testing.T) {
	env := newTestEnv(t)
	ctx := ctxT(t)
	issuer, oidcARN, mint := rrsaCluster(t, env)
	trust := `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":["` + oidcARN + `"]},` +
		`"Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com","oidc:iss":"` + issuer + `","oidc:sub":"system:serviceaccount:default:app"}}}]}`
	role, err := env.cl.RAM.CreateRole(ctx, CreateRoleInput{Name: "pod-role", AssumeRolePolicyDocument: trust})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	anon, err := NewSTS(nil, env.ep) // AssumeRoleWithOIDC is anonymous
	if err != nil {
		t.Fatal(err)
	}
	good := mint("system:serviceaccount:default:app", "sts.aliyuncs.com", time.Now().Add(time.Hour))
	out, err := anon.AssumeRoleWithOIDC(ctx, AssumeRoleWithOIDCInput{RoleARN: role.ARN, OIDCProviderARN: oidcARN, OIDCToken: good, SessionName: "app"})
	if err != nil {
		t.Fatalf("AssumeRoleWithOIDC: %v", err)
	}
	if out.Credentials.SecurityToken == "" || out.Credentials.Expiration.IsZero() ||
		out.OIDCSubject != "system:serviceaccount:default:app" || out.OIDCIssuer != issuer || out.OIDCAudience != "sts.aliyuncs.com" ||
		out.AssumedRoleARN != "acs:ram::"+env.info.AccountID+":assumed-role/pod-role/app" {
		t.Fatalf("output = %+v", out)
	}
	// The default session name is accepted by the service.
	if _, err := anon.AssumeRoleWithOIDC(ctx, AssumeRoleWithOIDCInput{RoleARN: role.ARN, OIDCProviderARN: oidcARN, OIDCToken: good}); err != nil {
		t.Fatalf("AssumeRoleWithOIDC without session name: %v", err)
	}

	tests := []struct {
		name  string
		token string
		arn   string
		want  error
	}{
		{"other service account", mint("system:serviceaccount:default:other", "sts.aliyuncs.com", time.Now().Add(time.Hour)), oidcARN, ErrAuth},
		{"wrong audience", mint("system:serviceaccount:default:app", "other", time.Now().Add(time.Hour)), oidcARN, ErrAuth},
		{"expired", mint("system:serviceaccount:default:app", "sts.aliyuncs.com", time.Now().Add(-time.Hour)), oidcARN, ErrAuth},
		{"garbage token", "not-a-jwt", oidcARN, ErrInvalid},
		{"unknown provider", good, "acs:ram::" + env.info.AccountID + ":oidc-provider/nope", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := anon.AssumeRoleWithOIDC(ctx, AssumeRoleWithOIDCInput{RoleARN: role.ARN, OIDCProviderARN: tt.arn, OIDCToken: tt.token, SessionName: "app"})
			if !errors.Is(err, tt.want) {
				t.Fatalf("AssumeRoleWithOIDC = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAnonymousClientNeedsCredentialForSignedCalls(t *testing.T) {
	env := newTestEnv(t)
	anon, err := NewClients(nil, env.ep)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	checks := map[string]error{}
	_, checks["sts"] = anon.STS.GetCallerIdentity(ctx)
	_, checks["ram"] = anon.RAM.GetRole(ctx, "x")
	_, checks["cs"] = anon.CS.DescribeClusterDetail(ctx, env.info.ClusterID)
	for svc, err := range checks {
		if err == nil || !strings.Contains(err.Error(), "no credentials configured") {
			t.Errorf("%s: err = %v, want a missing-credentials error", svc, err)
		}
	}
	if n := env.srv.Calls("sts", "GetCallerIdentity") + env.srv.Calls("ram", "GetRole") + env.srv.Calls("cs", "DescribeClusterDetail"); n != 0 {
		t.Errorf("anonymous signed calls reached the emulator %d times", n)
	}
}
