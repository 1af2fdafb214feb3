package emulator_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

func TestFaults(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	tests := []struct {
		name       string
		service    string
		fault      emulator.Fault
		call       func() error
		wantCode   string
		wantStatus int
		wantNet    bool // a transport error rather than an answer
	}{
		{"sts throttle", "sts", emulator.Fault{Mode: "throttle", Count: 1}, func() error {
			_, err := newSTS(t, in, adminCreds(in), nil).GetCallerIdentity()
			return err
		}, "Throttling.User", 400, false},
		{"cs throttle", "cs", emulator.Fault{Mode: "throttle", Count: 1}, func() error {
			_, err := newCS(t, in, adminCreds(in), nil).DescribeClusterDetail(tea.String(in.ClusterID))
			return err
		}, "Throttling.User", 429, false},
		{"ram 5xx", "ram", emulator.Fault{Mode: "5xx", Count: 1}, func() error {
			_, err := newRAM(t, in, adminCreds(in), nil).GetPolicy(&ram.GetPolicyRequest{PolicyName: tea.String("AdministratorAccess"), PolicyType: tea.String("System")})
			return err
		}, "InternalError", 500, false},
		{"sts down", "sts", emulator.Fault{Mode: "down", Count: 1}, func() error {
			_, err := newSTS(t, in, adminCreds(in), nil).GetCallerIdentity()
			return err
		}, "", 0, true},
		{"cs slow beyond the client timeout", "cs", emulator.Fault{Mode: "slow", Delay: 5 * time.Second, Count: 1}, func() error {
			_, err := newCS(t, in, adminCreds(in), nil).DescribeClusterDetailWithOptions(tea.String(in.ClusterID), nil,
				&util.RuntimeOptions{ReadTimeout: tea.Int(200)})
			return err
		}, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.SetFault(tt.service, tt.fault)
			start := time.Now()
			err := tt.call()
			if err == nil {
				t.Fatal("want an error")
			}
			if tt.wantNet {
				if errStatus(err) != 0 {
					t.Errorf("want a transport error, got status %d: %v", errStatus(err), err)
				}
				if time.Since(start) > 3*time.Second {
					t.Errorf("took %v", time.Since(start))
				}
			} else if got := errCode(t, err); got != tt.wantCode || errStatus(err) != tt.wantStatus {
				t.Errorf("got %q/%d, want %q/%d", got, errStatus(err), tt.wantCode, tt.wantStatus)
			}
			// Count 1: the next call is served normally.
			if err := tt.call(); err != nil {
				t.Errorf("fault not cleared after one use: %v", err)
			}
		})
	}
	srv.SetFault("sts", emulator.Fault{Mode: "5xx"})
	for range 2 {
		if _, err := newSTS(t, in, adminCreds(in), nil).GetCallerIdentity(); errStatus(err) != 500 {
			t.Errorf("persistent fault: %v", err)
		}
	}
	srv.SetFault("sts", emulator.Fault{})
	if _, err := newSTS(t, in, adminCreds(in), nil).GetCallerIdentity(); err != nil {
		t.Errorf("after clearing: %v", err)
	}
}

func adminDo(t *testing.T, in emulator.Info, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "https://"+in.Endpoint+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(emulator.AdminHeader, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestAdminAPI(t *testing.T) {
	srv := emulatortest.Start(t)
	in := srv.Info()
	if code, _ := adminDo(t, in, "GET", "/_emulator/info", "wrong", nil); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	code, b := adminDo(t, in, "GET", "/_emulator/info", in.AdminToken, nil)
	var got emulator.Info
	if err := json.Unmarshal(b, &got); code != 200 || err != nil || got != in {
		t.Errorf("info: %d %s", code, b)
	}
	code, b = adminDo(t, in, "POST", "/_emulator/users", in.AdminToken, map[string]string{"accountId": in.AccountID, "name": "carol"})
	var u map[string]string
	if err := json.Unmarshal(b, &u); code != 200 || err != nil || u["arn"] != "acs:ram::"+in.AccountID+":user/carol" {
		t.Fatalf("create user: %d %s", code, b)
	}
	resp, err := newSTS(t, in, creds{id: u["accessKeyId"], secret: u["accessKeySecret"]}, nil).GetCallerIdentity()
	if err != nil || tea.StringValue(resp.Body.UserId) != u["userId"] {
		t.Errorf("new user identity: %v %v", resp, err)
	}
	code, b = adminDo(t, in, "PATCH", "/_emulator/clusters/"+in.ClusterID, in.AdminToken, map[string]any{"state": "updating", "rrsa": map[string]any{"enabled": true}})
	if code != 200 {
		t.Fatalf("patch: %d %s", code, b)
	}
	if c, _ := srv.Cluster(in.ClusterID); c.State != "updating" || !c.RRSA.Enabled || c.RRSA.OIDCArn == "" || c.Name != "demo" {
		t.Errorf("patched cluster: %+v", c)
	}
	if code, _ := adminDo(t, in, "PUT", "/_emulator/faults/cs", in.AdminToken, map[string]any{"mode": "5xx", "count": 1}); code != 200 {
		t.Errorf("set fault: %d", code)
	}
	if _, err := newCS(t, in, adminCreds(in), nil).DescribeClusterDetail(tea.String(in.ClusterID)); errStatus(err) != 500 {
		t.Errorf("fault via admin API: %v", err)
	}
	if code, _ := adminDo(t, in, "PUT", "/_emulator/faults/cs", in.AdminToken, map[string]any{"mode": "explode"}); code != 400 {
		t.Errorf("bad fault mode: %d", code)
	}
	if code, _ := adminDo(t, in, "PUT", "/_emulator/faults/ecs", in.AdminToken, map[string]any{"mode": "down"}); code != 404 {
		t.Errorf("unknown service: %d", code)
	}
	code, b = adminDo(t, in, "GET", "/_emulator/calls", in.AdminToken, nil)
	var calls map[string]map[string]int
	if err := json.Unmarshal(b, &calls); code != 200 || err != nil || calls["sts"]["GetCallerIdentity"] != 1 {
		t.Errorf("calls: %d %s", code, b)
	}
}

func TestSeedParsingAndStateDir(t *testing.T) {
	_, err := emulator.ParseSeed([]byte("accounts:\n- id: \"1\"\n  unknownField: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "unknownField") {
		t.Errorf("unknown seed field: %v", err)
	}
	seed, err := emulator.ParseSeed([]byte(`
accounts:
- id: "1234567890123456"
  users: [{name: admin, id: "200000000000000001", accessKeys: [{id: LTAIseedkey0001, secret: seedsecret}]}]
  roles: [{name: r1, trustPolicy: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}]}', attachedPolicies: [{name: p1, type: Custom}]}]
  policies: [{name: p1, type: Custom, document: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}'}]
clusters:
- id: c0123456789abcdef0123456789abcdef
  accountId: "1234567890123456"
  rrsa: {enabled: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed), emulatortest.WithStateDir(dir))
	in := srv.Info()
	if in.AccessKeyID != "LTAIseedkey0001" || in.UserID != "200000000000000001" || in.ClusterID != "c0123456789abcdef0123456789abcdef" {
		t.Errorf("info = %+v", in)
	}
	if r, ok := srv.Role("1234567890123456", "R1"); !ok || len(r.AttachedPolicies) != 1 {
		t.Errorf("seeded role = %+v %v", r, ok)
	}
	c, _ := srv.Cluster(in.ClusterID)
	if c.RRSA.OIDCArn != "acs:ram::1234567890123456:oidc-provider/ack-rrsa-"+in.ClusterID || c.RRSA.Issuer != emulator.DefaultIssuer(in.ClusterID) {
		t.Errorf("seeded RRSA = %+v", c.RRSA)
	}
	b, err := readFile(dir + "/info.json")
	var fromFile emulator.Info
	if err != nil || json.Unmarshal(b, &fromFile) != nil || fromFile != in {
		t.Errorf("info.json = %s (%v)", b, err)
	}
	if _, err := emulator.New(emulator.Config{Seed: &emulator.Seed{Clusters: []emulator.ClusterSeed{{ID: "bad", AccountID: "1"}}}}); err == nil {
		t.Error("invalid cluster id accepted")
	}
}

func TestStateDirReusesCA(t *testing.T) {
	dir := t.TempDir()
	first, err := emulator.New(emulator.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	caPEM := first.CA().CertPEM
	_ = first.Close()
	second, err := emulator.New(emulator.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = second.Close() }()
	if !bytes.Equal(caPEM, second.CA().CertPEM) {
		t.Error("restart with the same state dir generated a new CA")
	}
	if err := second.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if first.Info().AccessKeyID != "" || second.Info().AccessKeyID == "" {
		t.Errorf("info before/after start: %q %q", first.Info().AccessKeyID, second.Info().AccessKeyID)
	}
}

var errEmpty = errors.New("empty file")

func readFile(path string) ([]byte, error) {
	b, err := osReadFile(path)
	if err == nil && len(b) == 0 {
		return nil, errEmpty
	}
	return b, err
}
