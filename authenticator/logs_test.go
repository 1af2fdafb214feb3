package authenticator_test

import (
	"bytes"
	"flag"
	"net/http"
	"strings"
	"sync"
	"testing"

	"k8s.io/klog/v2"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// lockedBuffer collects klog output written from server goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// captureKlog sends klog output (at -v verbosity) to a buffer until the test ends.
func captureKlog(t *testing.T, verbosity string) *lockedBuffer {
	t.Helper()
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	buf := &lockedBuffer{}
	for k, v := range map[string]string{"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL", "v": verbosity} {
		if err := fs.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	klog.SetOutput(buf)
	t.Cleanup(func() {
		klog.Flush()
		_ = fs.Set("v", "0")
		_ = fs.Set("logtostderr", "true")
		_ = fs.Set("stderrthreshold", "ERROR")
	})
	return buf
}

// TestLogsNeverHoldTokens: every outcome is logged (denials with their reason) and no log line
// holds token text, the security token or the secret, whatever the request.
func TestLogsNeverHoldTokens(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	assumed := assumeRole(t, info, "log-role", "log-session")
	cfg := baseConfig(t, info)
	cfg.Server.StaticConfig = mapper.StaticConfig{
		MapUsers: []mapper.UserMapping{{UserARN: "acs:ram::" + info.AccountID + ":user/*", Username: "u-{{UserID}}"}},
		MapRoles: []mapper.RoleMapping{{RoleARN: "acs:ram::" + info.AccountID + ":role/log-role", Username: "system:{{SessionName}}"}},
	}
	logs := captureKlog(t, "2")
	r := startServer(t, cfg, authenticator.Options{})

	tests := []struct {
		name    string
		tok     string
		secrets []string // must not appear in the logs, besides the token itself
		status  int
		logged  string // must appear in the logs
	}{
		{"allowed (at -v 2)", sign(t, info.ClusterID, info.AccessKeyID, info.AccessKeySecret, ""), []string{info.AccessKeySecret}, http.StatusOK, `"authenticated"`},
		{"other cluster", sign(t, "c0ther", info.AccessKeyID, info.AccessKeySecret, ""), []string{info.AccessKeySecret}, http.StatusOK, `reason="invalid_token"`},
		{"wrong secret", sign(t, info.ClusterID, assumed.Credentials.AccessKeyID, "wrong-secret-value", assumed.Credentials.SecurityToken), []string{assumed.Credentials.SecurityToken, "wrong-secret-value"}, http.StatusOK, `reason="sts_rejected"`},
		{"reserved name", sign(t, info.ClusterID, assumed.Credentials.AccessKeyID, assumed.Credentials.AccessKeySecret, assumed.Credentials.SecurityToken), []string{assumed.Credentials.SecurityToken, assumed.Credentials.AccessKeySecret}, http.StatusOK, `reason="reserved_name"`},
		{"not a k8s-ack-v2 token", "opaque-bearer-token-0123456789abcdef", nil, http.StatusOK, `reason="invalid_token"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(logs.String())
			if status, _ := r.post(t, authenticator.APIVersionV1, tc.tok); status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
			klog.Flush()
			out := logs.String()[before:]
			if !strings.Contains(out, tc.logged) {
				t.Errorf("logs lack %s:\n%s", tc.logged, out)
			}
			// The token's payload (past the prefix) in any slice long enough to identify it.
			payload := strings.TrimPrefix(tc.tok, "k8s-ack-v2.")
			for i := 0; i+24 <= len(payload); i += 24 {
				if strings.Contains(out, payload[i:i+24]) {
					t.Fatalf("logs hold token text %q:\n%s", payload[i:i+24], out)
				}
			}
			for _, s := range tc.secrets {
				if s != "" && strings.Contains(out, s) {
					t.Errorf("logs hold a secret:\n%s", out)
				}
			}
		})
	}
}
