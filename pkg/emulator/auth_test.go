package emulator_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// schemes call one operation per signature scheme with the real SDK clients.
var schemes = []struct {
	name string
	call func(t *testing.T, in emulator.Info, c creds, rec *recorder) error
}{
	{"RPC (STS)", func(t *testing.T, in emulator.Info, c creds, rec *recorder) error {
		_, err := newSTS(t, in, c, rec).GetCallerIdentity()
		return err
	}},
	{"ACS3 (RAM)", func(t *testing.T, in emulator.Info, c creds, rec *recorder) error {
		_, err := newRAM(t, in, c, rec).GetPolicy(&ram.GetPolicyRequest{PolicyName: tea.String("AliyunCSFullAccess"), PolicyType: tea.String("System")})
		return err
	}},
	{"ROA (CS)", func(t *testing.T, in emulator.Info, c creds, rec *recorder) error {
		_, err := newCS(t, in, c, rec).DescribeClusterDetail(tea.String(in.ClusterID))
		return err
	}},
}

func TestSignatureNegativeCases(t *testing.T) {
	clock := &offsetClock{}
	seed := seedWith(t, emulator.RoleSeed{Name: "r"})
	acct := seed.Accounts[0].ID
	seed.Accounts[0].Roles[0].TrustPolicy = trustRAM(acct)
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed), emulatortest.WithClock(clock.now))
	in := srv.Info()
	good := adminCreds(in)
	ar, err := newSTS(t, in, good, nil).AssumeRole(&sts.AssumeRoleRequest{
		RoleArn: tea.String("acs:ram::" + acct + ":role/r"), RoleSessionName: tea.String("short"), DurationSeconds: tea.Int64(900),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	stsCreds := creds{id: *ar.Body.Credentials.AccessKeyId, secret: *ar.Body.Credentials.AccessKeySecret, token: *ar.Body.Credentials.SecurityToken}

	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) {
			tests := []struct {
				name       string
				creds      creds
				offset     time.Duration
				wantCode   string
				wantStatus int
			}{
				{"valid", good, 0, "", 0},
				{"valid sts token", stsCreds, 0, "", 0},
				{"wrong secret", creds{id: good.id, secret: good.secret + "x"}, 0, "SignatureDoesNotMatch", 400},
				{"unknown key", creds{id: "LTAInotthere", secret: good.secret}, 0, "InvalidAccessKeyId.NotFound", 404},
				{"stale timestamp", good, 20 * time.Minute, "InvalidTimeStamp.Expired", 400},
				{"future timestamp", good, -20 * time.Minute, "InvalidTimeStamp.Expired", 400},
				{"sts key without token", creds{id: stsCreds.id, secret: stsCreds.secret}, 0, "InvalidSecurityToken.MismatchWithAccessKey", 400},
				{"sts key with other token", creds{id: stsCreds.id, secret: stsCreds.secret, token: "CAISother"}, 0, "InvalidSecurityToken.MismatchWithAccessKey", 400},
				{"expired sts token", stsCreds, 16 * time.Minute, "InvalidSecurityToken.Expired", 400},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					clock.set(tt.offset)
					defer clock.set(0)
					err := sc.call(t, in, tt.creds, nil)
					if got := errCode(t, err); got != tt.wantCode {
						t.Fatalf("code = %q, want %q (err %v)", got, tt.wantCode, err)
					}
					if err != nil && errStatus(err) != tt.wantStatus {
						t.Errorf("status = %d, want %d", errStatus(err), tt.wantStatus)
					}
				})
			}
		})
	}
}

func TestNonceReplay(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) {
			rec := newRecorder()
			if err := sc.call(t, in, adminCreds(in), rec); err != nil {
				t.Fatalf("first call: %v", err)
			}
			resp, body := rec.replay(t)
			if resp.StatusCode != 400 || !strings.Contains(string(body), "SignatureNonceUsed") {
				t.Errorf("replay: status %d body %s, want 400 SignatureNonceUsed", resp.StatusCode, body)
			}
		})
	}
}

func TestTamperedRequests(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	tests := []struct {
		name     string
		call     func(t *testing.T, rec *recorder) error
		mutate   func(r *http.Request, body []byte) []byte
		wantCode string
	}{
		{
			name: "ACS3 body added after signing",
			call: func(t *testing.T, rec *recorder) error {
				_, err := newRAM(t, in, adminCreds(in), rec).GetRole(&ram.GetRoleRequest{RoleName: tea.String("x")})
				return err
			},
			mutate: func(r *http.Request, body []byte) []byte {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return []byte("Description=evil")
			},
			wantCode: "SignatureDoesNotMatch",
		},
		{
			name: "ACS3 query changed after signing",
			call: func(t *testing.T, rec *recorder) error {
				_, err := newRAM(t, in, adminCreds(in), rec).GetRole(&ram.GetRoleRequest{RoleName: tea.String("x")})
				return err
			},
			mutate: func(r *http.Request, body []byte) []byte {
				q := r.URL.Query()
				q.Set("RoleName", "evil")
				r.URL.RawQuery = q.Encode()
				return body
			},
			wantCode: "SignatureDoesNotMatch",
		},
		{
			name: "RPC parameter changed after signing",
			call: func(t *testing.T, rec *recorder) error {
				_, err := newSTS(t, in, adminCreds(in), rec).AssumeRole(&sts.AssumeRoleRequest{
					RoleArn: tea.String("acs:ram::" + in.AccountID + ":role/a"), RoleSessionName: tea.String("s1")})
				return err
			},
			mutate: func(r *http.Request, body []byte) []byte {
				q := r.URL.Query()
				q.Set("RoleSessionName", "s2")
				r.URL.RawQuery = q.Encode()
				return body
			},
			wantCode: "SignatureDoesNotMatch",
		},
		{
			name: "ROA path changed after signing",
			call: func(t *testing.T, rec *recorder) error {
				_, err := newCS(t, in, adminCreds(in), rec).DescribeClusterDetail(tea.String(in.ClusterID))
				return err
			},
			mutate: func(r *http.Request, body []byte) []byte {
				r.URL.Path += "x"
				return body
			},
			wantCode: "SignatureDoesNotMatch",
		},
		{
			name: "ROA Content-MD5 not matching the body",
			call: func(t *testing.T, rec *recorder) error {
				_, err := newCS(t, in, adminCreds(in), rec).DescribeClusterDetail(tea.String(in.ClusterID))
				return err
			},
			mutate: func(r *http.Request, body []byte) []byte {
				r.Header.Set("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==") // MD5 of the empty body
				return []byte("{}")
			},
			wantCode: "InvalidContentMD5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			rec.mutate = tt.mutate
			err := tt.call(t, rec)
			if got := errCode(t, err); got != tt.wantCode {
				t.Errorf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
		})
	}
}

// signACS3 signs a request the way k8s-ack-v2 tokens do: POST / with ACKClusterId in the query,
// x-acs-* headers signed, host and nonce not.
func signACS3(secret string, query url.Values, h http.Header, body []byte) string {
	names := []string{}
	for k := range h {
		l := strings.ToLower(k)
		if strings.HasPrefix(l, "x-acs-") {
			names = append(names, l)
		}
	}
	sortStrings(names)
	var canonHeaders strings.Builder
	for _, n := range names {
		canonHeaders.WriteString(n + ":" + strings.TrimSpace(h.Get(n)) + "\n")
	}
	keys := []string{}
	for k := range query {
		keys = append(keys, k)
	}
	sortStrings(keys)
	qp := []string{}
	for _, k := range keys {
		qp = append(qp, k+"="+strings.ReplaceAll(url.QueryEscape(query.Get(k)), "+", "%20"))
	}
	sum := sha256.Sum256(body)
	cr := "POST\n/\n" + strings.Join(qp, "&") + "\n" + canonHeaders.String() + "\n" + strings.Join(names, ";") + "\n" + hex.EncodeToString(sum[:])
	crh := sha256.Sum256([]byte(cr))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("ACS3-HMAC-SHA256\n" + hex.EncodeToString(crh[:])))
	return "Credential=%s,SignedHeaders=" + strings.Join(names, ";") + ",Signature=" + hex.EncodeToString(mac.Sum(nil))
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestTokenStyleACS3 sends GetCallerIdentity exactly as a k8s-ack-v2 token verifier does.
func TestTokenStyleACS3(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	send := func(t *testing.T, secret string) (int, map[string]any) {
		empty := sha256.Sum256(nil)
		h := http.Header{}
		h.Set("x-acs-action", "GetCallerIdentity")
		h.Set("x-acs-version", "2015-04-01")
		h.Set("x-acs-date", time.Now().UTC().Format("2006-01-02T15:04:05Z"))
		h.Set("x-acs-content-sha256", hex.EncodeToString(empty[:]))
		q := url.Values{"ACKClusterId": {in.ClusterID}}
		auth := signACS3(secret, q, h, nil)
		h.Set("Authorization", "ACS3-HMAC-SHA256 "+strings.Replace(auth, "%s", in.AccessKeyID, 1))
		h.Set("User-Agent", "kubectl-ack-test")
		req, err := http.NewRequest("POST", "https://"+in.Endpoint+"/?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		return resp.StatusCode, m
	}
	status, m := send(t, in.AccessKeySecret)
	if status != 200 || m["Arn"] != "acs:ram::"+in.AccountID+":user/"+in.UserName || m["IdentityType"] != "RAMUser" {
		t.Errorf("valid token request: %d %v", status, m)
	}
	status, m = send(t, in.AccessKeySecret+"x")
	if status != 400 || m["Code"] != "SignatureDoesNotMatch" || m["RequestId"] == "" || m["HostId"] == nil {
		t.Errorf("wrong secret: %d %v", status, m)
	}
}

func TestAnonymousOnlyForOIDC(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	_, err := newSTS(t, in, creds{}, nil).AssumeRoleWithOIDC(&sts.AssumeRoleWithOIDCRequest{
		RoleArn: tea.String("acs:ram::" + in.AccountID + ":role/x"), OIDCProviderArn: tea.String("acs:ram::" + in.AccountID + ":oidc-provider/none"),
		OIDCToken: tea.String("a.b.c"), RoleSessionName: tea.String("s1"),
	})
	if got := errCode(t, err); got != "EntityNotExist.OIDCProvider" {
		t.Errorf("anonymous OIDC: code %q, want EntityNotExist.OIDCProvider (it must pass authentication)", got)
	}
	req, _ := http.NewRequest("GET", "https://"+in.Endpoint+"/?Action=GetCallerIdentity&Version=2015-04-01&Format=JSON", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("anonymous GetCallerIdentity: status %d, want 400", resp.StatusCode)
	}
}
