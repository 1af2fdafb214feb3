package credentials

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// TestMain sets up the process CA (SSL_CERT_FILE), disables ECS metadata and
// clears proxies and ALIBABA_CLOUD_* variables for every test in the package.
func TestMain(m *testing.M) { emulatortest.Main(m) }

const (
	emuAccount   = "1234567890123456"
	emuClusterID = "c0123456789abcdef0123456789abcdef"
	emuIssuer    = "https://oidc.example.test/creds"
	emuAKID      = "LTAI5tCredsTestAdminKey1"
	emuAKSecret  = "SECRET-admin-key-secret-000000"
	emuSubject   = "system:serviceaccount:team:app"
)

// emuFixture is a running emulator with roles for every STS-backed source.
type emuFixture struct {
	srv       *emulator.Server
	ep        cloud.Endpoints
	key       *ecdsa.PrivateKey // the cluster's service-account signing key
	roleA     string            // trusts the whole account
	roleB     string            // trusts only role-a sessions
	rrsaRole  string            // trusts the cluster's OIDC provider for emuSubject
	oidcARN   string
	otherUser emulator.AccessKey // a user of the same account, for trust failures
}

func startEmulator(t *testing.T) *emuFixture {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := writeFile(t, dir, "sa.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	oidcARN := "acs:ram::" + emuAccount + ":oidc-provider/ack-rrsa-" + emuClusterID
	rrsaTrust := fmt.Sprintf(`{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":[%q]},`+
		`"Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com","oidc:iss":%q,"oidc:sub":%q}}}]}`, oidcARN, emuIssuer, emuSubject)
	seed := &emulator.Seed{
		Accounts: []emulator.AccountSeed{{
			ID: emuAccount,
			Users: []emulator.UserSeed{
				{Name: "admin", ID: "20000000000000001", AccessKeys: []emulator.AccessKey{{ID: emuAKID, Secret: emuAKSecret}}},
				{Name: "other", ID: "20000000000000002", AccessKeys: []emulator.AccessKey{{ID: "LTAI5tCredsTestOtherKey1", Secret: "SECRET-other-000000000000"}}},
			},
			Roles: []emulator.RoleSeed{
				{Name: "role-a", TrustPolicy: `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + emuAccount + `:root"]}}]}`},
				{Name: "role-b", TrustPolicy: `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + emuAccount + `:role/role-a"]}}]}`},
				{Name: "rrsa-role", TrustPolicy: rrsaTrust},
			},
		}},
		Clusters: []emulator.ClusterSeed{{
			ID: emuClusterID, AccountID: emuAccount, Name: "creds", RegionID: "cn-hangzhou", State: "running",
			APIServerURL: "https://127.0.0.1:6443", ServiceAccountIssuer: emuIssuer, ServiceAccountKeyFiles: []string{pub},
			RRSA: emulator.RRSAConfig{Enabled: true},
		}},
	}
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed))
	return &emuFixture{
		srv: srv, ep: cloud.Endpoints{STS: srv.Info().Endpoint}, key: key,
		roleA:     "acs:ram::" + emuAccount + ":role/role-a",
		roleB:     "acs:ram::" + emuAccount + ":role/role-b",
		rrsaRole:  "acs:ram::" + emuAccount + ":role/rrsa-role",
		oidcARN:   oidcARN,
		otherUser: emulator.AccessKey{ID: "LTAI5tCredsTestOtherKey1", Secret: "SECRET-other-000000000000"},
	}
}

// token signs a service-account JWT with key.
func (f *emuFixture) token(t *testing.T, key *ecdsa.PrivateKey, subject string) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(sig).Claims(jwt.Claims{
		Issuer: emuIssuer, Subject: subject, Audience: jwt.Audience{"sts.aliyuncs.com"},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestEmulatorSTSSources(t *testing.T) {
	f := startEmulator(t)
	adminEnv := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": emuAKID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": emuAKSecret}
	cases := []struct {
		name        string
		env         map[string]string
		files       map[string]string // {TOKEN} = a valid SA token, {HOME}
		opts        func(o *Options, home string)
		wantARN     string // GetCallerIdentity ARN
		wantAssume  int    // AssumeRole calls
		wantOIDC    int    // AssumeRoleWithOIDC calls
		wantErr     []string
		errAtGet    bool
		wantIDType  string
		wantSession string
	}{
		{name: "env access key (static)", env: adminEnv,
			wantARN: "acs:ram::" + emuAccount + ":user/admin", wantIDType: "RAMUser"},
		{name: "env access key + ALIBABA_CLOUD_ROLE_ARN", env: with(adminEnv, "ALIBABA_CLOUD_ROLE_ARN", "{ROLE_A}", "ALIBABA_CLOUD_ROLE_SESSION_NAME", "env-sess"),
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/role-a/env-sess", wantAssume: 1, wantIDType: "AssumedRoleUser"},
		{name: "aliyun CLI RamRoleArn", files: map[string]string{".aliyun/config.json": cliJSON("r",
			`{"name":"r","mode":"RamRoleArn","access_key_id":"`+emuAKID+`","access_key_secret":"`+emuAKSecret+`","ram_role_arn":"{ROLE_A}","ram_session_name":"cli-sess"}`)},
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/role-a/cli-sess", wantAssume: 1},
		{name: "aliyun CLI ChainableRamRoleArn", files: map[string]string{".aliyun/config.json": cliJSON("chain",
			`{"name":"base","mode":"RamRoleArn","access_key_id":"`+emuAKID+`","access_key_secret":"`+emuAKSecret+`","ram_role_arn":"{ROLE_A}"}`,
			`{"name":"chain","mode":"ChainableRamRoleArn","source_profile":"base","ram_role_arn":"{ROLE_B}","ram_session_name":"chained"}`)},
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/role-b/chained", wantAssume: 2},
		{name: "INI ram_role_arn", files: map[string]string{".alibabacloud/credentials": "[default]\ntype = ram_role_arn\naccess_key_id = " + emuAKID +
			"\naccess_key_secret = " + emuAKSecret + "\nrole_arn = {ROLE_A}\nrole_session_name = ini-sess\n"},
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/role-a/ini-sess", wantAssume: 1},
		{name: "env RRSA trio (OIDC)", env: map[string]string{"ALIBABA_CLOUD_ROLE_ARN": "{RRSA_ROLE}", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "{OIDC_ARN}", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "{HOME}/token"},
			files:   map[string]string{"token": "{TOKEN}"},
			opts:    func(o *Options, _ string) { o.RoleSessionName = "pod-sess" },
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/rrsa-role/pod-sess", wantOIDC: 1},
		{name: "aliyun CLI OIDC", files: map[string]string{"token": "{TOKEN}", ".aliyun/config.json": cliJSON("o",
			`{"name":"o","mode":"OIDC","ram_role_arn":"{RRSA_ROLE}","oidc_provider_arn":"{OIDC_ARN}","oidc_token_file":"{HOME}/token","ram_session_name":"cli-oidc"}`)},
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/rrsa-role/cli-oidc", wantOIDC: 1},
		{name: "INI oidc_role_arn", files: map[string]string{"token": "{TOKEN}", ".alibabacloud/credentials": "[default]\ntype = oidc_role_arn\nrole_arn = {RRSA_ROLE}\noidc_provider_arn = {OIDC_ARN}\noidc_token_file_path = {HOME}/token\nrole_session_name = ini-oidc\n"},
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/rrsa-role/ini-oidc", wantOIDC: 1},
		{name: "--role-arn on top of env access key", env: adminEnv, opts: func(o *Options, _ string) { o.RoleARN, o.RoleSessionName = f.roleA, "on-top" },
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/role-a/on-top", wantAssume: 1},
		{name: "--role-arn on top of CLI RamRoleArn", files: map[string]string{".aliyun/config.json": cliJSON("r",
			`{"name":"r","mode":"RamRoleArn","access_key_id":"`+emuAKID+`","access_key_secret":"`+emuAKSecret+`","ram_role_arn":"{ROLE_A}"}`)},
			opts:    func(o *Options, _ string) { o.RoleARN = f.roleB },
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/role-b/" + DefaultRoleSessionName, wantAssume: 2},
		{name: "--role-arn on top of OIDC", env: map[string]string{"ALIBABA_CLOUD_ROLE_ARN": "{RRSA_ROLE}", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "{OIDC_ARN}", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "{HOME}/token"},
			files: map[string]string{"token": "{TOKEN}"}, opts: func(o *Options, _ string) { o.RoleARN = f.roleA },
			wantARN: "acs:ram::" + emuAccount + ":assumed-role/role-a/" + DefaultRoleSessionName, wantAssume: 1, wantOIDC: 1},

		// failures reported by STS
		{name: "role does not trust caller", env: adminEnv, opts: func(o *Options, _ string) { o.RoleARN = f.roleB },
			errAtGet: true, wantErr: []string{"then AssumeRole " + f.roleB, "assume role " + f.roleB}},
		{name: "role does not exist", env: with(adminEnv, "ALIBABA_CLOUD_ROLE_ARN", "acs:ram::"+emuAccount+":role/nope"),
			errAtGet: true, wantErr: []string{"environment ALIBABA_CLOUD_ROLE_ARN", "role/nope"}},
		{name: "OIDC token for another subject", env: map[string]string{"ALIBABA_CLOUD_ROLE_ARN": "{RRSA_ROLE}", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "{OIDC_ARN}", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "{HOME}/token"},
			files: map[string]string{"token": "{OTHER_SUB_TOKEN}"}, errAtGet: true, wantErr: []string{"AssumeRoleWithOIDC", "with OIDC"}},
		{name: "OIDC token signed by an unknown key", env: map[string]string{"ALIBABA_CLOUD_ROLE_ARN": "{RRSA_ROLE}", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "{OIDC_ARN}", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "{HOME}/token"},
			files: map[string]string{"token": "{FOREIGN_TOKEN}"}, errAtGet: true, wantErr: []string{"assume role " + f.rrsaRole + " with OIDC"}},
		{name: "wrong access key secret", env: map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": emuAKID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SECRET-wrong", "ALIBABA_CLOUD_ROLE_ARN": "{ROLE_A}"},
			errAtGet: true, wantErr: []string{"assume role " + f.roleA}},
	}
	foreign, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			sub := strings.NewReplacer(
				"{HOME}", home, "{ROLE_A}", f.roleA, "{ROLE_B}", f.roleB, "{RRSA_ROLE}", f.rrsaRole, "{OIDC_ARN}", f.oidcARN,
				"{TOKEN}", f.token(t, f.key, emuSubject), "{OTHER_SUB_TOKEN}", f.token(t, f.key, "system:serviceaccount:team:other"),
				"{FOREIGN_TOKEN}", f.token(t, foreign, emuSubject),
			).Replace
			setupFiles(t, home, tc.files, sub)
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = sub(v)
			}
			o := Options{Env: envMap(env), HomeDir: home, Endpoints: &f.ep}
			if tc.opts != nil {
				tc.opts(&o, home)
			}
			assumeBefore, oidcBefore := f.srv.Calls("sts", "AssumeRole"), f.srv.Calls("sts", "AssumeRoleWithOIDC")
			ctx := context.Background()
			res, err := o.Resolve(ctx) // the real path: pkg/cloud STS over HTTPS
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			c, err := res.Get(ctx)
			if tc.errAtGet {
				if err == nil {
					t.Fatalf("Get succeeded, want error")
				}
				t.Logf("error: %v", err)
				assertErr(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if tc.wantAssume+tc.wantOIDC > 0 {
				if !strings.HasPrefix(c.AccessKeyID, "STS.") || c.SecurityToken == "" || !c.Expiration.After(time.Now().Add(30*time.Minute)) {
					t.Errorf("not temporary credentials: %v", c)
				}
				if res.Static {
					t.Error("Static = true for an STS-backed source")
				}
			}
			id, err := Whoami(ctx, res, f.ep)
			if err != nil {
				t.Fatalf("Whoami: %v", err)
			}
			if id.ARN != tc.wantARN || id.AccountID != emuAccount {
				t.Errorf("identity = %+v, want ARN %s", id, tc.wantARN)
			}
			if tc.wantIDType != "" && id.IdentityType != tc.wantIDType {
				t.Errorf("IdentityType = %q, want %q", id.IdentityType, tc.wantIDType)
			}
			// A second Get is served from the cache: no further STS calls.
			if _, err := res.Get(ctx); err != nil {
				t.Fatal(err)
			}
			if n := f.srv.Calls("sts", "AssumeRole") - assumeBefore; n != tc.wantAssume {
				t.Errorf("AssumeRole calls = %d, want %d", n, tc.wantAssume)
			}
			if n := f.srv.Calls("sts", "AssumeRoleWithOIDC") - oidcBefore; n != tc.wantOIDC {
				t.Errorf("AssumeRoleWithOIDC calls = %d, want %d", n, tc.wantOIDC)
			}
		})
	}
}

// TestEmulatorSTSDown checks that an unreachable STS names the source and
// that a later Get recovers once STS is back.
func TestEmulatorSTSDown(t *testing.T) {
	f := startEmulator(t)
	o := Options{
		Env:     envMap(map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": emuAKID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": emuAKSecret, "ALIBABA_CLOUD_ROLE_ARN": f.roleA}),
		HomeDir: t.TempDir(), Endpoints: &f.ep,
	}
	ctx := context.Background()
	res, err := o.Resolve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.SetFault("sts", emulator.Fault{Mode: "down"})
	_, err = res.Get(ctx)
	if err == nil {
		t.Fatal("Get succeeded with STS down")
	}
	assertErr(t, err, []string{"environment ALIBABA_CLOUD_ROLE_ARN", "assume role " + f.roleA})
	var apiErr *cloud.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("error %v does not wrap *cloud.APIError", err)
	}
	f.srv.SetFault("sts", emulator.Fault{})
	if _, err := res.Get(ctx); err != nil {
		t.Fatalf("Get after recovery: %v", err)
	}
}

// TestEmulatorCredentialForSDK checks that Resolved.Credential works as a
// credentials-go Credential for pkg/cloud clients (the adapter path).
func TestEmulatorCredentialForSDK(t *testing.T) {
	f := startEmulator(t)
	home := t.TempDir()
	writeFile(t, home, "token", f.token(t, f.key, emuSubject))
	o := Options{
		Env: envMap(map[string]string{"ALIBABA_CLOUD_ROLE_ARN": f.rrsaRole, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": f.oidcARN,
			"ALIBABA_CLOUD_OIDC_TOKEN_FILE": filepath.Join(home, "token")}),
		HomeDir: home, Endpoints: &f.ep,
	}
	res, err := o.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.NewSTS(res.Credential, f.ep)
	if err != nil {
		t.Fatal(err)
	}
	id, err := client.GetCallerIdentity(context.Background())
	if err != nil {
		t.Fatalf("GetCallerIdentity with the adapter credential: %v", err)
	}
	if !strings.Contains(id.ARN, ":assumed-role/rrsa-role/") {
		t.Errorf("ARN = %s", id.ARN)
	}
	if got := *res.Credential.GetType(); got != "oidc_role_arn" {
		t.Errorf("GetType = %q", got)
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
