package credentials

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"
	"gopkg.in/ini.v1"
)

func TestExportFormats(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ak := Credentials{AccessKeyID: "LTAIexport", AccessKeySecret: "sec'ret"}
	sts := Credentials{AccessKeyID: "STS.x", AccessKeySecret: "s", SecurityToken: "tok+/=", Expiration: now.Add(time.Hour)}
	tests := []struct {
		name, format string
		c            Credentials
		check        func(t *testing.T, out string)
	}{
		{"exec AK", "aliyun-cli-config-json", ak, func(t *testing.T, out string) {
			var m map[string]string
			if err := json.Unmarshal([]byte(out), &m); err != nil || m["mode"] != "AK" || m["access_key_id"] != "LTAIexport" || m["access_key_secret"] != "sec'ret" {
				t.Fatalf("%v %v", m, err)
			}
			if _, ok := m["sts_token"]; ok {
				t.Fatalf("sts_token in AK mode: %v", m)
			}
		}},
		{"exec STS", "exec", sts, func(t *testing.T, out string) {
			var m map[string]string
			if err := json.Unmarshal([]byte(out), &m); err != nil || m["mode"] != "StsToken" || m["sts_token"] != "tok+/=" {
				t.Fatalf("%v %v", m, err)
			}
		}},
		{"json static key expires in 15m", "ecs-metadata-json", ak, func(t *testing.T, out string) {
			var m map[string]string
			if err := json.Unmarshal([]byte(out), &m); err != nil || m["Code"] != "Success" || m["Expiration"] != "2026-12-03T10:15:00Z" {
				t.Fatalf("%v %v", m, err)
			}
			if _, ok := m["SecurityToken"]; !ok {
				t.Fatal("SecurityToken must be present (credentials-go requires it)")
			}
		}},
		{"json STS keeps its expiration", "json", sts, func(t *testing.T, out string) {
			if !strings.Contains(out, `"Expiration": "2026-12-03T11:00:00Z"`) {
				t.Fatal(out)
			}
		}},
		{"env", "environment-variables", sts, func(t *testing.T, out string) {
			for _, want := range []string{"export ALIBABA_CLOUD_ACCESS_KEY_ID='STS.x'\n", "export ALICLOUD_SECRET_KEY='s'\n",
				"export ALIBABACLOUD_SECURITY_TOKEN='tok+/='\n", "export ALICLOUD_SECURITY_TOKEN='tok+/='\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("lacks %q:\n%s", want, out)
				}
			}
		}},
		{"env quotes", "env", ak, func(t *testing.T, out string) {
			if !strings.Contains(out, `ALIBABA_CLOUD_ACCESS_KEY_SECRET='sec'\''ret'`) || strings.Contains(out, "SECURITY_TOKEN") {
				t.Fatal(out)
			}
		}},
		{"ini", "credential-file-ini", sts, func(t *testing.T, out string) {
			f, err := ini.Load([]byte(out))
			if err != nil || f.Section("default").Key("type").String() != "sts" || f.Section("default").Key("security_token").String() != "tok+/=" {
				t.Fatalf("%v:\n%s", err, out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format, err := NormalizeExportFormat(tt.format)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Export(tt.c, format, now)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, string(b))
		})
	}
	if _, err := NormalizeExportFormat("xml"); err == nil || !strings.Contains(err.Error(), "exec, json, env or ini") {
		t.Fatalf("NormalizeExportFormat(xml) = %v", err)
	}
	if _, err := Export(Credentials{}, ExportJSON, now); err == nil {
		t.Fatal("exported empty credentials")
	}
}

// TestMetadataHandlerFeedsURIClients serves credentials and reads them back with our credentials
// URI source and with credentials-go's, as other programs would.
func TestMetadataHandlerFeedsURIClients(t *testing.T) {
	want := Credentials{AccessKeyID: "STS.served", AccessKeySecret: "s", SecurityToken: "t", Expiration: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
	calls := 0
	srv := httptest.NewServer(MetadataHandler(func(context.Context) (Credentials, error) {
		calls++
		return want, nil
	}, time.Now))
	defer srv.Close()

	res, err := Options{Env: envMap(map[string]string{envCredentialsURI: srv.URL + "/"}), HomeDir: t.TempDir()}.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := res.Get(context.Background())
	if err != nil || got.AccessKeyID != want.AccessKeyID || got.SecurityToken != "t" || !got.Expiration.Equal(want.Expiration) {
		t.Fatalf("our URI source got %v, %v", got, err)
	}
	p, err := providers.NewURLCredentialsProviderBuilder().WithUrl(srv.URL + "/latest/meta-data/ram/security-credentials/" + MetadataRoleName).Build()
	if err != nil {
		t.Fatal(err)
	}
	cc, err := p.GetCredentials()
	if err != nil || cc.AccessKeyId != want.AccessKeyID || cc.SecurityToken != "t" {
		t.Fatalf("credentials-go got %+v, %v", cc, err)
	}

	get := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("GET", "/latest/meta-data/ram/security-credentials/"); code != 200 || body != MetadataRoleName {
		t.Errorf("role list: %d %q", code, body)
	}
	if code, body := get("PUT", "/latest/api/token"); code != 200 || len(body) != 32 {
		t.Errorf("IMDSv2 token: %d %q", code, body)
	}
	if code, _ := get("POST", "/"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", code)
	}
	if calls != 2 {
		t.Errorf("credentials fetched %d times, want once per credential request (2)", calls)
	}
}
