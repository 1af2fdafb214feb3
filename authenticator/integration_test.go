package authenticator_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// TestIdentitiesMapAsConfigured runs the server against the emulator's STS: a RAM user, an
// assumed role (session name templates) and the root account each map through the static
// mappings; an unmapped user and reserved names are denied.
func TestIdentitiesMapAsConfigured(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	acct := info.AccountID
	alice, aliceKey, err := srv.CreateUser(acct, "alice")
	if err != nil {
		t.Fatal(err)
	}
	_, malloryKey, err := srv.CreateUser(acct, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	_, rootBob, err := srv.CreateUser(acct, "root-bob")
	if err != nil {
		t.Fatal(err)
	}
	rootKey, err := srv.CreateRootAccessKey(acct)
	if err != nil {
		t.Fatal(err)
	}
	assumed := assumeRole(t, info, "Dev-Role", "bob@example.com")
	otherAcct, otherKey, err := srv.CreateUser("1999999999999999", "carol")
	if err != nil {
		t.Fatal(err)
	}

	cfg := baseConfig(t, info)
	cfg.Server.AllowedGroups = []string{"system:masters"}
	cfg.Server.StaticConfig = mapper.StaticConfig{
		MapUsers: []mapper.UserMapping{
			{UserARN: "acs:ram::" + acct + ":user/alice", Username: "alice-{{UserID}}", Groups: []string{"devs", "system:masters"}},
			{UserARN: "acs:ram::" + acct + ":root", Username: "root-{{AccountID}}", Groups: []string{"admins"}},
			{UserARN: "acs:ram::" + acct + ":user/root-bob", Username: "system:admin"},
		},
		MapRoles: []mapper.RoleMapping{
			{RoleARN: "acs:ram::" + acct + ":role/dev-role", Username: "dev:{{SessionName}}", Groups: []string{"dev-{{SessionNameRaw}}"}},
		},
		MapAccounts: []mapper.AccountMapping{{AccountID: "1999999999999999"}},
	}
	r := startServer(t, cfg, authenticator.Options{})

	tests := []struct {
		name            string
		ak, secret, sts string
		apiVersion      string
		wantUser        string
		wantGroups      []string
		wantSession     string
		wantARN         string
		wantDenied      string
	}{
		{name: "RAM user v1", ak: aliceKey.ID, secret: aliceKey.Secret, apiVersion: authenticator.APIVersionV1,
			wantUser: "alice-" + alice.UserID, wantGroups: []string{"devs", "system:masters"}, wantARN: "acs:ram::" + acct + ":user/alice"},
		{name: "RAM user v1beta1", ak: aliceKey.ID, secret: aliceKey.Secret, apiVersion: authenticator.APIVersionV1beta1,
			wantUser: "alice-" + alice.UserID, wantGroups: []string{"devs", "system:masters"}, wantARN: "acs:ram::" + acct + ":user/alice"},
		{name: "assumed role with session templates", ak: assumed.Credentials.AccessKeyID, secret: assumed.Credentials.AccessKeySecret, sts: assumed.Credentials.SecurityToken,
			apiVersion: authenticator.APIVersionV1, wantUser: "dev:bob-example.com", wantGroups: []string{"dev-bob@example.com"}, wantSession: "bob@example.com", wantARN: assumed.AssumedRoleARN},
		{name: "root account", ak: rootKey.ID, secret: rootKey.Secret, apiVersion: authenticator.APIVersionV1,
			wantUser: "root-" + acct, wantGroups: []string{"admins"}, wantARN: "acs:ram::" + acct + ":root"},
		{name: "account mapping uses the ARN", ak: otherKey.ID, secret: otherKey.Secret, apiVersion: authenticator.APIVersionV1,
			wantUser: "acs:ram::1999999999999999:user/carol", wantARN: "acs:ram::1999999999999999:user/" + otherAcct.Name},
		{name: "unmapped user", ak: malloryKey.ID, secret: malloryKey.Secret, apiVersion: authenticator.APIVersionV1,
			wantDenied: "is not mapped to a Kubernetes user"},
		{name: "reserved username", ak: rootBob.ID, secret: rootBob.Secret, apiVersion: authenticator.APIVersionV1,
			wantDenied: "reserved name"},
		{name: "wrong secret", ak: aliceKey.ID, secret: "not-the-secret", apiVersion: authenticator.APIVersionV1,
			wantDenied: "STS rejected the token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := sign(t, info.ClusterID, tc.ak, tc.secret, tc.sts)
			status, rv := r.post(t, tc.apiVersion, tok)
			if status != http.StatusOK {
				t.Fatalf("status = %d, want 200", status)
			}
			if rv.APIVersion != tc.apiVersion || rv.Kind != "TokenReview" {
				t.Errorf("answer is %s %s, want %s TokenReview", rv.APIVersion, rv.Kind, tc.apiVersion)
			}
			if tc.wantDenied != "" {
				if rv.Status.Authenticated || !strings.Contains(rv.Status.Error, tc.wantDenied) {
					t.Fatalf("status = %+v, want denied with %q", rv.Status, tc.wantDenied)
				}
				if strings.Contains(rv.Status.Error, tok[len(tok)-20:]) {
					t.Errorf("denial reason contains token text: %q", rv.Status.Error)
				}
				return
			}
			u := rv.Status.User
			if !rv.Status.Authenticated || u.Username != tc.wantUser || !slices.Equal(u.Groups, tc.wantGroups) {
				t.Fatalf("status = %+v, want user %q groups %v", rv.Status, tc.wantUser, tc.wantGroups)
			}
			if !strings.HasPrefix(u.UID, authenticator.UIDPrefix) {
				t.Errorf("uid = %q", u.UID)
			}
			if got := u.Extra[authenticator.ExtraARN]; len(got) != 1 || !strings.EqualFold(got[0], tc.wantARN) {
				t.Errorf("extra arn = %v, want %s", got, tc.wantARN)
			}
			if got := u.Extra[authenticator.ExtraAccessKeyID]; len(got) != 1 || got[0] != tc.ak {
				t.Errorf("extra accessKeyId = %v, want %s", got, tc.ak)
			}
			if len(u.Extra[authenticator.ExtraPrincipalID]) != 1 || len(u.Extra[authenticator.ExtraCanonicalARN]) != 1 {
				t.Errorf("extra = %v: principalId and canonicalArn missing", u.Extra)
			}
			if got := u.Extra[authenticator.ExtraSessionName]; tc.wantSession != "" && (len(got) != 1 || got[0] != tc.wantSession) {
				t.Errorf("extra sessionName = %v, want %s", got, tc.wantSession)
			}
		})
	}
	_, metrics := r.get(t, "/metrics")
	for _, want := range []string{
		`ack_ram_authenticator_denials_total{reason="unmapped"} 1`,
		`ack_ram_authenticator_denials_total{reason="reserved_name"} 1`,
		`ack_ram_authenticator_denials_total{reason="sts_rejected"} 1`,
		`ack_ram_authenticator_requests_total{result="allowed"} 5`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestCrossClusterTokenRefused: a token for another cluster never reaches STS.
func TestCrossClusterTokenRefused(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	cfg := baseConfig(t, info)
	cfg.Server.MapAccounts = []mapper.AccountMapping{{AccountID: info.AccountID}}
	r := startServer(t, cfg, authenticator.Options{})
	before := srv.Calls(emulator.ServiceSTS, "GetCallerIdentity")
	status, rv := r.post(t, authenticator.APIVersionV1, sign(t, "c0ther0cluster", info.AccessKeyID, info.AccessKeySecret, ""))
	if status != http.StatusOK || rv.Status.Authenticated || !strings.Contains(rv.Status.Error, "different cluster") {
		t.Fatalf("status %d %+v, want denied for a different cluster", status, rv.Status)
	}
	if got := srv.Calls(emulator.ServiceSTS, "GetCallerIdentity") - before; got != 0 {
		t.Errorf("STS calls = %d, want 0", got)
	}
	// The same key for this cluster is accepted: the refusal was about the cluster only.
	if _, rv := r.post(t, authenticator.APIVersionV1, sign(t, info.ClusterID, info.AccessKeyID, info.AccessKeySecret, "")); !rv.Status.Authenticated {
		t.Fatalf("token for this cluster denied: %s", rv.Status.Error)
	}
}

// TestSTSFaults: STS down and 5xx deny quickly, slow STS is cut by the timeout, throttling is
// answered with 429; each is counted in the metrics.
func TestSTSFaults(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	cfg := baseConfig(t, info)
	cfg.Server.MapAccounts = []mapper.AccountMapping{{AccountID: info.AccountID}}
	cfg.Server.STSTimeout.Duration = 500 * time.Millisecond
	r := startServer(t, cfg, authenticator.Options{})

	tests := []struct {
		name       string
		fault      emulator.Fault
		wantStatus int
		wantReason string
		wantMetric string
	}{
		{name: "down", fault: emulator.Fault{Mode: emulator.FaultDown}, wantStatus: 200, wantReason: "STS is unavailable", wantMetric: `ack_ram_authenticator_sts_calls_total{result="unavailable"}`},
		{name: "5xx", fault: emulator.Fault{Mode: emulator.Fault5xx}, wantStatus: 200, wantReason: "STS is unavailable", wantMetric: `ack_ram_authenticator_sts_calls_total{result="unavailable"}`},
		{name: "slow", fault: emulator.Fault{Mode: emulator.FaultSlow, Delay: 20 * time.Second}, wantStatus: 200, wantReason: "STS is unavailable", wantMetric: `ack_ram_authenticator_sts_calls_total{result="unavailable"}`},
		{name: "throttle", fault: emulator.Fault{Mode: emulator.FaultThrottle}, wantStatus: http.StatusTooManyRequests, wantReason: "throttled", wantMetric: `ack_ram_authenticator_sts_calls_total{result="throttled"}`},
	}
	base := time.Now()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetFault(emulator.ServiceSTS, tc.fault)
			t.Cleanup(func() { srv.SetFault(emulator.ServiceSTS, emulator.Fault{}) })
			// A distinct token per case (signing times differ by seconds).
			tok := signAt(t, base.Add(-time.Duration(i)*time.Second), info.ClusterID, info.AccessKeyID, info.AccessKeySecret, "")
			start := time.Now()
			status, rv := r.post(t, authenticator.APIVersionV1, tok)
			took := time.Since(start)
			if status != tc.wantStatus || rv.Status.Authenticated || !strings.Contains(rv.Status.Error, tc.wantReason) {
				t.Fatalf("status %d %+v, want %d denied with %q", status, rv.Status, tc.wantStatus, tc.wantReason)
			}
			if strings.Contains(rv.Status.Error, "InternalError") || strings.Contains(rv.Status.Error, "Throttling.User") {
				t.Errorf("reason leaks STS internals: %q", rv.Status.Error)
			}
			if took > 3*time.Second {
				t.Errorf("answer took %v, want well under the 500ms timeout + margin", took)
			}
			_, m := r.get(t, "/metrics")
			if !strings.Contains(m, tc.wantMetric) {
				t.Errorf("metrics lack %s", tc.wantMetric)
			}
			// After the fault clears, the same token verifies: the failure was not cached.
			srv.SetFault(emulator.ServiceSTS, emulator.Fault{})
			if _, rv := r.post(t, authenticator.APIVersionV1, tok); !rv.Status.Authenticated {
				t.Fatalf("after the fault cleared: %s", rv.Status.Error)
			}
		})
	}
}

// TestCacheOneSTSCallPerToken: 50 concurrent reviews of one token make exactly one STS call,
// and later reviews are answered from the cache.
func TestCacheOneSTSCallPerToken(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	cfg := baseConfig(t, info)
	cfg.Server.MapAccounts = []mapper.AccountMapping{{AccountID: info.AccountID}}
	r := startServer(t, cfg, authenticator.Options{})
	// STS answers slowly so that all requests overlap the first call.
	srv.SetFault(emulator.ServiceSTS, emulator.Fault{Mode: emulator.FaultSlow, Delay: 300 * time.Millisecond, Count: 1})
	before := srv.Calls(emulator.ServiceSTS, "GetCallerIdentity")
	tok := sign(t, info.ClusterID, info.AccessKeyID, info.AccessKeySecret, "")
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, rv := r.post(t, authenticator.APIVersionV1, tok)
			if status != 200 || !rv.Status.Authenticated {
				errs <- rv.Status.Error
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("denied: %s", e)
	}
	for i := 0; i < 10; i++ {
		if _, rv := r.post(t, authenticator.APIVersionV1, tok); !rv.Status.Authenticated {
			t.Fatalf("cached review denied: %s", rv.Status.Error)
		}
	}
	if got := srv.Calls(emulator.ServiceSTS, "GetCallerIdentity") - before; got != 1 {
		t.Errorf("STS calls = %d for 60 reviews of one token, want 1", got)
	}
	// A second token is a second call.
	// Sign truncates to seconds: a later signing time gives a different token.
	tok2, _, err := token.Sign(token.SignInput{ClusterID: info.ClusterID, AccessKeyID: info.AccessKeyID, AccessKeySecret: info.AccessKeySecret, Now: time.Now().Add(-time.Minute)})
	if err != nil || tok2 == tok {
		t.Fatalf("second token: %v", err)
	}
	if _, rv := r.post(t, authenticator.APIVersionV1, tok2); !rv.Status.Authenticated {
		t.Fatal(rv.Status.Error)
	}
	if got := srv.Calls(emulator.ServiceSTS, "GetCallerIdentity") - before; got != 2 {
		t.Errorf("STS calls = %d after a second token, want 2", got)
	}
	if n := r.srv.Auth.Cache().Len(); n != 2 {
		t.Errorf("cache entries = %d, want 2", n)
	}
}
