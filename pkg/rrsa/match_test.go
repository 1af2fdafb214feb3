package rrsa_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

const (
	evIssuer = "https://oidc.example.test/ev"
	evNS     = "apps"
	evSA     = "web"
)

// oidcCluster is an emulator with one RRSA cluster whose service-account signing key the test
// holds, so it can mint the tokens kube-apiserver would.
type oidcCluster struct {
	srv      *emulator.Server
	key      *ecdsa.PrivateKey
	account  string
	provider string
}

func newOIDCCluster(t *testing.T) *oidcCluster {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(t.TempDir(), "sa.pub")
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	seed, err := emulator.DefaultSeed()
	if err != nil {
		t.Fatal(err)
	}
	c := &seed.Clusters[0]
	c.ServiceAccountIssuer, c.ServiceAccountKeyFiles, c.RRSA = evIssuer, []string{pub}, emulator.RRSAConfig{Enabled: true}
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed))
	acct := seed.Accounts[0].ID
	return &oidcCluster{srv: srv, key: key, account: acct,
		provider: "acs:ram::" + acct + ":oidc-provider/ack-rrsa-" + seed.Clusters[0].ID}
}

func (c *oidcCluster) token(t *testing.T, sub string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: c.key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: evIssuer, Subject: sub, Audience: jwt.Audience{rrsa.Audience},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(10 * time.Minute))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// stsAllows asks the emulator's STS whether the policy lets the service account in.
func (c *oidcCluster) stsAllows(t *testing.T, role, doc string) bool {
	t.Helper()
	if _, ok := c.srv.Role(c.account, role); !ok {
		if _, err := c.srv.CreateRole(c.account, role, doc); err != nil {
			t.Fatal(err)
		}
	} else if err := c.srv.SetRoleTrustPolicy(c.account, role, doc); err != nil {
		t.Fatal(err)
	}
	sts, err := cloud.NewSTS(nil, cloud.Endpoints{STS: c.srv.Endpoint(), RegionID: "cn-hangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sts.AssumeRoleWithOIDC(context.Background(), cloud.AssumeRoleWithOIDCInput{
		RoleARN: "acs:ram::" + c.account + ":role/" + role, OIDCProviderARN: c.provider,
		OIDCToken: c.token(t, rrsa.Subject(evNS, evSA)), SessionName: "ev",
	})
	if err != nil && !errors.Is(err, cloud.ErrAuth) {
		t.Fatalf("AssumeRoleWithOIDC failed other than by authorization: %v", err)
	}
	return err == nil
}

// TestEvaluate checks the matcher against a table of policies, and every verdict against the
// emulator's STS, which evaluates the same policy for a real token.
func TestEvaluate(t *testing.T) {
	c := newOIDCCluster(t)
	target := rrsa.Target{OIDCProviderARN: c.provider, Issuer: evIssuer, Namespace: evNS, ServiceAccount: evSA}
	stmt := func(eq, like string) string {
		s := `{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":["` + c.provider + `"]},"Condition":{"StringEquals":{` + eq + `}`
		if like != "" {
			s += `,"StringLike":{` + like + `}`
		}
		return s + `}}`
	}
	aud, iss := `"oidc:aud":"sts.aliyuncs.com"`, `"oidc:iss":"`+evIssuer+`"`
	sub := func(v string) string { return `"oidc:sub":` + v }
	healthy := stmt(aud+","+iss+","+sub(`"system:serviceaccount:apps:web"`), "")
	foreign := `{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}`
	tests := []struct {
		name        string
		statements  []string
		wantAllowed bool
		wantAspects []rrsa.Aspect // of the closest statement when not allowed
	}{
		{name: "official shape", statements: []string{foreign, healthy}, wantAllowed: true},
		{name: "folded list", statements: []string{stmt(aud+","+iss+","+sub(`["system:serviceaccount:x:y","system:serviceaccount:apps:web"]`), "")}, wantAllowed: true},
		{name: "namespace wildcard under StringLike", statements: []string{stmt(aud+","+iss, sub(`"system:serviceaccount:*:web"`))}, wantAllowed: true},
		{name: "literal under StringLike", statements: []string{stmt(aud+","+iss, sub(`"system:serviceaccount:apps:web"`))}, wantAllowed: true},
		{name: "other namespace", statements: []string{foreign, stmt(aud+","+iss+","+sub(`"system:serviceaccount:other:web"`), "")},
			wantAspects: []rrsa.Aspect{rrsa.AspectNamespace}},
		{name: "other service account", statements: []string{stmt(aud+","+iss+","+sub(`"system:serviceaccount:apps:api"`), "")},
			wantAspects: []rrsa.Aspect{rrsa.AspectServiceAccount}},
		{name: "wildcard under StringEquals", statements: []string{stmt(aud+","+iss+","+sub(`"system:serviceaccount:apps:*"`), "")},
			wantAspects: []rrsa.Aspect{rrsa.AspectOperator}},
		{name: "wrong audience", statements: []string{stmt(`"oidc:aud":"sts.example.com",`+iss+","+sub(`"system:serviceaccount:apps:web"`), "")},
			wantAspects: []rrsa.Aspect{rrsa.AspectAudience}},
		{name: "wrong issuer", statements: []string{stmt(aud+`,"oidc:iss":"https://other.example"`+","+sub(`"system:serviceaccount:apps:web"`), "")},
			wantAspects: []rrsa.Aspect{rrsa.AspectIssuer}},
		{name: "other provider", statements: []string{strings.Replace(healthy, "ack-rrsa-", "ack-rrsa-x", 1)},
			wantAspects: []rrsa.Aspect{rrsa.AspectProvider}},
		{name: "closest of several", statements: []string{
			stmt(`"oidc:aud":"sts.example.com",`+iss+","+sub(`"system:serviceaccount:other:api"`), ""),
			stmt(aud+","+iss+","+sub(`"system:serviceaccount:other:web"`), ""),
		}, wantAspects: []rrsa.Aspect{rrsa.AspectNamespace}},
		{name: "deny wins", statements: []string{healthy, strings.Replace(healthy, `"Allow"`, `"Deny"`, 1)}},
		{name: "negated condition", statements: []string{stmt(aud+","+iss, sub(`"system:serviceaccount:apps:*"`)),
			strings.Replace(stmt(aud, ""), `"StringEquals"`, `"StringNotEquals"`, 1)},
			wantAllowed: true},
		{name: "no Allow statement", statements: []string{strings.Replace(foreign, "Allow", "Deny", 1)}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"Version":"1","Statement":[` + strings.Join(tt.statements, ",") + `]}`
			p, err := rrsa.ParsePolicy(doc)
			if err != nil {
				t.Fatal(err)
			}
			ev := rrsa.Evaluate(p, target)
			if ev.Allowed != tt.wantAllowed {
				t.Fatalf("Allowed = %v, want %v: %+v", ev.Allowed, tt.wantAllowed, ev)
			}
			if sts := c.stsAllows(t, "ev-"+strings.Repeat("r", i+1), doc); sts != ev.Allowed {
				t.Fatalf("the emulator's STS says allowed=%v, Evaluate says %v", sts, ev.Allowed)
			}
			if ev.Allowed {
				if ev.Closest != nil || len(ev.Allowing) == 0 {
					t.Errorf("allowed but closest=%v allowing=%v", ev.Closest, ev.Allowing)
				}
				return
			}
			var got []rrsa.Aspect
			if ev.Closest != nil {
				for _, d := range ev.Closest.Differences {
					got = append(got, d.Aspect)
					if d.Message == "" {
						t.Errorf("difference without a message: %+v", d)
					}
				}
			}
			if !reflect.DeepEqual(got, tt.wantAspects) {
				t.Errorf("closest differences = %v, want %v (%+v)", got, tt.wantAspects, ev.Closest)
			}
		})
	}
}
