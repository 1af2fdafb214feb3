package cloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/spf13/pflag"
)

func TestEndpointsDerived(t *testing.T) {
	tests := []struct {
		name          string
		ep            Endpoints
		sts, ram, cs  string
		wantRegion    string
		wantValidates bool
	}{
		{"default region", Endpoints{}, "sts.cn-hangzhou.aliyuncs.com", "ram.aliyuncs.com", "cs.cn-hangzhou.aliyuncs.com", "cn-hangzhou", true},
		{"region", Endpoints{RegionID: "ap-southeast-1"}, "sts.ap-southeast-1.aliyuncs.com", "ram.aliyuncs.com", "cs.ap-southeast-1.aliyuncs.com", "ap-southeast-1", true},
		{"vpc", Endpoints{RegionID: "cn-beijing", VPC: true}, "sts-vpc.cn-beijing.aliyuncs.com", "ram.vpc-proxy.aliyuncs.com", "cs-anony-vpc.cn-beijing.aliyuncs.com", "cn-beijing", true},
		{"overrides win over vpc", Endpoints{RegionID: "cn-beijing", VPC: true, STS: "127.0.0.1:8443", RAM: "ram.example.com", CS: "[::1]:9443"},
			"127.0.0.1:8443", "ram.example.com", "[::1]:9443", "cn-beijing", true},
		{"bad region", Endpoints{RegionID: "CN_Hangzhou"}, "sts.CN_Hangzhou.aliyuncs.com", "ram.aliyuncs.com", "cs.CN_Hangzhou.aliyuncs.com", "CN_Hangzhou", false},
		{"scheme in override", Endpoints{STS: "https://sts.example.com"}, "https://sts.example.com", "ram.aliyuncs.com", "cs.cn-hangzhou.aliyuncs.com", "cn-hangzhou", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ep.STSEndpoint(); got != tt.sts {
				t.Errorf("STSEndpoint() = %q, want %q", got, tt.sts)
			}
			if got := tt.ep.RAMEndpoint(); got != tt.ram {
				t.Errorf("RAMEndpoint() = %q, want %q", got, tt.ram)
			}
			if got := tt.ep.CSEndpoint(); got != tt.cs {
				t.Errorf("CSEndpoint() = %q, want %q", got, tt.cs)
			}
			if got := tt.ep.Region(); got != tt.wantRegion {
				t.Errorf("Region() = %q, want %q", got, tt.wantRegion)
			}
			err := tt.ep.Validate()
			if (err == nil) != tt.wantValidates {
				t.Errorf("Validate() = %v, want valid=%v", err, tt.wantValidates)
			}
			_, nerr := NewClients(nil, tt.ep)
			if (nerr == nil) != tt.wantValidates {
				t.Errorf("NewClients() = %v, want valid=%v", nerr, tt.wantValidates)
			}
		})
	}
}

func TestValidateEndpoint(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // substring; "" = valid
	}{
		{"sts.cn-hangzhou.aliyuncs.com", ""},
		{"127.0.0.1:8443", ""},
		{"localhost:1", ""},
		{"[::1]:443", ""},
		{"host.example.com.", ""},
		{"", "empty"},
		{"https://sts.aliyuncs.com", "without a scheme"},
		{"http://127.0.0.1:80", "without a scheme"},
		{"sts.aliyuncs.com/path", "without path"},
		{"sts.aliyuncs.com?x=1", "without path"},
		{"user@sts.aliyuncs.com", "without path"},
		{"sts aliyuncs.com", "without path"},
		{"127.0.0.1:0", "invalid port"},
		{"127.0.0.1:99999", "invalid port"},
		{"127.0.0.1:abc", "invalid port"},
		{"::1", "brackets"},
		{"-bad-.example.com", "invalid host"},
		{"bad_host.example.com", "invalid host"},
		{":443", "empty host"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			err := ValidateEndpoint(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateEndpoint(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateEndpoint(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestEndpointsFlagsAndEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want Endpoints
	}{
		{"nothing", nil, nil, Endpoints{}},
		{"env only",
			map[string]string{EnvRegionID: "cn-shanghai", EnvSTSEndpoint: "sts.local:1", EnvRAMEndpoint: "ram.local:2", EnvCSEndpoint: "cs.local:3", EnvVPCEndpoint: "true"},
			nil,
			Endpoints{RegionID: "cn-shanghai", STS: "sts.local:1", RAM: "ram.local:2", CS: "cs.local:3", VPC: true}},
		{"flags override env",
			map[string]string{EnvRegionID: "cn-shanghai", EnvSTSEndpoint: "sts.local:1", EnvVPCEndpoint: "true"},
			[]string{"--region-id=cn-beijing", "--sts-endpoint=127.0.0.1:9", "--vpc-endpoint=false", "--cs-endpoint", "cs.flag:4"},
			Endpoints{RegionID: "cn-beijing", STS: "127.0.0.1:9", CS: "cs.flag:4"}},
		{"bad vpc env ignored", map[string]string{EnvVPCEndpoint: "maybe"}, nil, Endpoints{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{EnvRegionID, EnvSTSEndpoint, EnvRAMEndpoint, EnvCSEndpoint, EnvVPCEndpoint} {
				t.Setenv(k, tt.env[k])
			}
			var ep Endpoints
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			ep.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if ep != tt.want {
				t.Fatalf("endpoints = %+v, want %+v", ep, tt.want)
			}
		})
	}
}

func TestApplyEnvKeepsExplicitValues(t *testing.T) {
	env := map[string]string{EnvRegionID: "cn-shanghai", EnvSTSEndpoint: "sts.env:1"}
	ep := Endpoints{STS: "sts.explicit:2"}
	ep.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	want := Endpoints{RegionID: "cn-shanghai", STS: "sts.explicit:2"}
	if ep != want {
		t.Fatalf("ApplyEnv = %+v, want %+v", ep, want)
	}
}

// sdkErr builds the error the SDK returns for an HTTP error response (see dara.TeaSDKError).
func sdkErr(status int, code, message, requestID string) error {
	data := map[string]any{"Code": code, "Message": message, "RequestId": requestID, "statusCode": status}
	return tea.NewSDKError(map[string]any{
		"code":       code,
		"statusCode": status,
		"message":    fmt.Sprintf("code: %d, %s request id: %s", status, message, requestID),
		"data":       data,
	})
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantKind error // nil: not an *APIError
		wantCode string
		wantReq  string
	}{
		{"role not found", sdkErr(404, "EntityNotExist.Role", "The role not exists: r1.", "R1"), ErrNotFound, "EntityNotExist.Role", "R1"},
		{"policy not found 404", sdkErr(404, "EntityNotExist.Policy", "x", "R2"), ErrNotFound, "EntityNotExist.Policy", "R2"},
		{"cluster not found", sdkErr(400, "ErrorClusterNotFound", "cluster not found", "R3"), ErrNotFound, "ErrorClusterNotFound", "R3"},
		{"bare 404", sdkErr(404, "", "not here", ""), ErrNotFound, "", ""},
		{"already exists", sdkErr(409, "EntityAlreadyExists.Role", "exists", "R4"), ErrAlreadyExists, "EntityAlreadyExists.Role", "R4"},
		{"already exists 400", sdkErr(400, "EntityAlreadyExists.Role.Policy", "exists", ""), ErrAlreadyExists, "EntityAlreadyExists.Role.Policy", ""},
		{"throttling", sdkErr(400, "Throttling.User", "slow down", "R5"), ErrThrottled, "Throttling.User", "R5"},
		{"429", sdkErr(429, "TooMany", "slow down", ""), ErrThrottled, "TooMany", ""},
		{"signature", sdkErr(400, "SignatureDoesNotMatch", "bad sig", ""), ErrAuth, "SignatureDoesNotMatch", ""},
		{"unknown key 404 is auth", sdkErr(404, "InvalidAccessKeyId.NotFound", "no key", ""), ErrAuth, "InvalidAccessKeyId.NotFound", ""},
		{"bad token", sdkErr(400, "InvalidSecurityToken.Expired", "expired", ""), ErrAuth, "InvalidSecurityToken.Expired", ""},
		{"no permission", sdkErr(403, "NoPermission", "denied", ""), ErrAuth, "NoPermission", ""},
		{"forbidden", sdkErr(403, "Forbidden.RAM", "denied", ""), ErrAuth, "Forbidden.RAM", ""},
		{"stale timestamp", sdkErr(400, "InvalidTimeStamp.Expired", "stale", ""), ErrAuth, "InvalidTimeStamp.Expired", ""},
		{"nonce", sdkErr(400, "SignatureNonceUsed", "replay", ""), ErrAuth, "SignatureNonceUsed", ""},
		{"401", sdkErr(401, "Whatever", "x", ""), ErrAuth, "Whatever", ""},
		{"invalid parameter", sdkErr(400, "InvalidParameter.RoleName", "bad name", ""), ErrInvalid, "InvalidParameter.RoleName", ""},
		{"malformed policy", sdkErr(400, "MalformedPolicyDocument", "bad json", ""), ErrInvalid, "MalformedPolicyDocument", ""},
		{"other 400", sdkErr(400, "SomethingElse", "x", ""), ErrInvalid, "SomethingElse", ""},
		{"500", sdkErr(500, "InternalError", "boom", "R6"), ErrUnavailable, "InternalError", "R6"},
		{"503", sdkErr(503, "ServiceUnavailable", "down", ""), ErrUnavailable, "ServiceUnavailable", ""},
		{"openapi ClientError", &openapi.ClientError{StatusCode: tea.Int(404), Code: tea.String("EntityNotExist.User"),
			Message: tea.String("code: 404, no user request id: R7"), RequestId: tea.String("R7")}, ErrNotFound, "EntityNotExist.User", "R7"},
		{"openapi ThrottlingError", &openapi.ThrottlingError{StatusCode: tea.Int(400), Code: tea.String("Throttling"),
			Message: tea.String("code: 400, slow request id: R8")}, ErrThrottled, "Throttling", "R8"},
		{"connection refused", &url.Error{Op: "Post", URL: "https://127.0.0.1:1/?AccessKeyId=LTAIsecret", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, ErrUnavailable, "", ""},
		{"eof", fmt.Errorf("read: %w", io.EOF), ErrUnavailable, "", ""},
		{"deadline", context.DeadlineExceeded, ErrUnavailable, "", ""},
		{"local error", errors.New("cannot build request"), nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("ram", "GetRole", tt.err)
			var apiErr *APIError
			if tt.wantKind == nil {
				if errors.As(err, &apiErr) {
					t.Fatalf("classify = %#v, want a plain error", apiErr)
				}
				if !errors.Is(err, tt.err) {
					t.Fatalf("classify lost the cause: %v", err)
				}
				return
			}
			if !errors.As(err, &apiErr) {
				t.Fatalf("classify = %T %v, want *APIError", err, err)
			}
			for _, k := range []error{ErrNotFound, ErrAlreadyExists, ErrThrottled, ErrAuth, ErrInvalid, ErrUnavailable} {
				if got, want := errors.Is(err, k), k == tt.wantKind; got != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v (err: %v)", k, got, want, err)
				}
			}
			if apiErr.Code != tt.wantCode || apiErr.RequestID != tt.wantReq {
				t.Errorf("code/request id = %q/%q, want %q/%q", apiErr.Code, apiErr.RequestID, tt.wantCode, tt.wantReq)
			}
			msg := err.Error()
			if !strings.Contains(msg, "ram GetRole") {
				t.Errorf("Error() = %q, want service and action", msg)
			}
			if tt.wantCode != "" && !strings.Contains(msg, tt.wantCode) {
				t.Errorf("Error() = %q, want code %q", msg, tt.wantCode)
			}
			if tt.wantReq != "" && !strings.Contains(msg, tt.wantReq) {
				t.Errorf("Error() = %q, want request id %q", msg, tt.wantReq)
			}
			if strings.Contains(msg, "LTAIsecret") || strings.Contains(msg, "SDKError") {
				t.Errorf("Error() = %q leaks the URL query or SDK formatting", msg)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("errors.Is(err, cause) = false; Unwrap must expose the cause")
			}
		})
	}
}

func TestAPIErrorHidesStringToSign(t *testing.T) {
	secretToken := "CAIS-very-secret-token"
	msg := "Specified signature is not matched with our calculation. server string to sign is:GET&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3D" + secretToken
	err := classify("sts", "GetCallerIdentity", sdkErr(400, "SignatureDoesNotMatch", msg, "REQ"))
	s := err.Error()
	if strings.Contains(s, secretToken) || strings.Contains(s, "SecurityToken") {
		t.Fatalf("Error() leaks the string to sign: %q", s)
	}
	if !strings.Contains(s, "Specified signature is not matched with our calculation. (server string-to-sign omitted)") || !strings.Contains(s, "REQ") {
		t.Fatalf("Error() lost the useful part: %q", s)
	}
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("kind = %v, want ErrAuth", err)
	}
}

func TestParseMetaData(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     RRSAConfig
		wantMeta bool
	}{
		{"empty", "", RRSAConfig{}, false},
		{"not json", "{", RRSAConfig{}, false},
		{"no rrsa", `{"Addons":[]}`, RRSAConfig{}, true},
		{"disabled", `{"RRSAConfig":{"enabled":false}}`, RRSAConfig{}, true},
		{"enabled", `{"RRSAConfig":{"enabled":true,"issuer":"https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1,https://kubernetes.default.svc","audience":"sts.aliyuncs.com","oidc_name":"ack-rrsa-c1","oidc_arn":"acs:ram::123:oidc-provider/ack-rrsa-c1"}}`,
			RRSAConfig{Enabled: true, Issuer: "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1",
				Issuers:  []string{"https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1", "https://kubernetes.default.svc"},
				Audience: "sts.aliyuncs.com", OIDCName: "ack-rrsa-c1", OIDCArn: "acs:ram::123:oidc-provider/ack-rrsa-c1"}, true},
		{"string enabled, spaces", `{"RRSAConfig":{"enabled":"true","issuer":" https://a , ,https://b "}}`,
			RRSAConfig{Enabled: true, Issuer: "https://a", Issuers: []string{"https://a", "https://b"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta, got := ParseMetaData(tt.in)
			if (meta != nil) != tt.wantMeta {
				t.Errorf("meta = %v, want present=%v", meta, tt.wantMeta)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
				t.Errorf("RRSA = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseMasterURL(t *testing.T) {
	tests := []struct{ in, pub, intra string }{
		{`{"api_server_endpoint":"https://1.2.3.4:6443","intranet_api_server_endpoint":"https://10.0.0.1:6443"}`, "https://1.2.3.4:6443", "https://10.0.0.1:6443"},
		{`{"intranet_api_server_endpoint":"https://10.0.0.1:6443"}`, "", "https://10.0.0.1:6443"},
		{"", "", ""},
		{"not json", "", ""},
	}
	for _, tt := range tests {
		pub, intra := ParseMasterURL(tt.in)
		if pub != tt.pub || intra != tt.intra {
			t.Errorf("ParseMasterURL(%q) = %q, %q; want %q, %q", tt.in, pub, intra, tt.pub, tt.intra)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 200 * time.Millisecond, 400 * time.Millisecond},
		{10, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		for _, j := range []float64{0, 0.5, 0.999} {
			p.Jitter = func() float64 { return j }
			d := p.Backoff(tt.attempt)
			if d < tt.min || d > tt.max {
				t.Errorf("Backoff(%d) with jitter %v = %v, want in [%v, %v]", tt.attempt, j, d, tt.min, tt.max)
			}
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02T11:04:05+08:00", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02T03:04Z", time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)},
		{"", time.Time{}},
		{"garbage", time.Time{}},
	}
	for _, tt := range tests {
		if got := parseTime(tt.in); !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestCallRetryPolicy drives base.call with canned SDK errors: reads retry throttling and 5xx up
// to MaxAttempts, writes and non-retryable errors are tried once.
func TestCallRetryPolicy(t *testing.T) {
	tests := []struct {
		name         string
		read         bool
		errs         []error // returned by successive attempts; nil = success
		wantAttempts int
		wantKind     error // nil = success
	}{
		{"read throttled then ok", true, []error{sdkErr(400, "Throttling", "", ""), sdkErr(503, "ServiceUnavailable", "", ""), nil}, 3, nil},
		{"read gives up", true, []error{sdkErr(500, "", "", ""), sdkErr(500, "", "", ""), sdkErr(500, "", "", ""), sdkErr(500, "", "", "")}, 3, ErrUnavailable},
		{"read not found not retried", true, []error{sdkErr(404, "EntityNotExist.Role", "", "")}, 1, ErrNotFound},
		{"read connection error retried", true, []error{io.ErrUnexpectedEOF, nil}, 2, nil},
		{"write throttled not retried", false, []error{sdkErr(400, "Throttling", "", ""), nil}, 1, ErrThrottled},
		{"write 500 not retried", false, []error{sdkErr(500, "", "", ""), nil}, 1, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := newBase("ram", "ram.example.com", Endpoints{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var slept []time.Duration
			o := &CallOptions{Retry: RetryPolicy{MaxAttempts: 3, Sleep: func(_ context.Context, d time.Duration) error {
				slept = append(slept, d)
				return nil
			}}}
			attempts := 0
			err = b.call(context.Background(), o, "GetRole", tt.read, func(*openapi.Config) error {
				e := tt.errs[attempts]
				attempts++
				return e
			})
			if attempts != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", attempts, tt.wantAttempts)
			}
			if len(slept) != attempts-1 {
				t.Errorf("slept %d times, want %d", len(slept), attempts-1)
			}
			if tt.wantKind == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("err = %v, want %v", err, tt.wantKind)
			}
		})
	}
}

func TestCallDefaultTimeoutAndCancel(t *testing.T) {
	b, err := newBase("cs", "cs.example.com", Endpoints{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// No deadline: the call gets DefaultTimeout (or the configured Timeout) and the SDK config
	// carries matching read/connect timeouts.
	var gotDeadline bool
	var readTimeout int
	o := &CallOptions{Timeout: 5 * time.Second}
	err = b.call(context.Background(), o, "DescribeClusterDetail", true, func(cfg *openapi.Config) error {
		hc := cfg.HttpClient.(ctxHTTPClient)
		dl, ok := hc.ctx.Deadline()
		gotDeadline = ok && time.Until(dl) <= 5*time.Second
		readTimeout = tea.IntValue(cfg.ReadTimeout)
		return nil
	})
	// The SDK's own timeout lies just past the deadline, so the context always fires first.
	if err != nil || !gotDeadline || readTimeout < 5000 || readTimeout > 5000+int(sdkTimeoutMargin/time.Millisecond)+2 {
		t.Fatalf("err=%v deadline=%v readTimeout=%d: want a 5s deadline and an SDK timeout just past it", err, gotDeadline, readTimeout)
	}

	// Canceled while backing off: the call returns at once with the context error.
	ctx, cancel := context.WithCancel(context.Background())
	o = &CallOptions{Retry: RetryPolicy{MaxAttempts: 5, Sleep: func(ctx context.Context, _ time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}}}
	attempts := 0
	err = b.call(ctx, o, "DescribeClusterDetail", true, func(*openapi.Config) error {
		attempts++
		return sdkErr(503, "ServiceUnavailable", "", "R")
	})
	if attempts != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("attempts=%d err=%v: want 1 attempt and a canceled/unavailable error", attempts, err)
	}
}
