package cloud

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// TestAuthErrors checks the three signature schemes (STS RPC HMAC-SHA1, RAM ACS3-HMAC-SHA256, CS
// ROA HMAC-SHA1) reject a wrong secret and an unknown key, and that the errors classify as
// ErrAuth without echoing the secret.
func TestAuthErrors(t *testing.T) {
	env := newTestEnv(t)
	const wrongSecret = "wrong-secret-0123456789abcdefghij"
	tests := []struct {
		name, keyID, secret string
		wantCode            string
	}{
		{"wrong secret", env.info.AccessKeyID, wrongSecret, "SignatureDoesNotMatch"},
		{"unknown key", "LTAI5tUnknownKey00000000", wrongSecret, "InvalidAccessKeyId.NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := NewClients(akCredential(t, tt.keyID, tt.secret, ""), env.ep)
			if err != nil {
				t.Fatal(err)
			}
			cl.SetCallOptions(CallOptions{Retry: RetryPolicy{MaxAttempts: 1}})
			ctx := ctxT(t)
			errs := map[string]error{}
			_, errs["sts"] = cl.STS.GetCallerIdentity(ctx)
			_, errs["ram"] = cl.RAM.GetRole(ctx, "any")
			_, errs["cs"] = cl.CS.DescribeClusterDetail(ctx, env.info.ClusterID)
			for svc, err := range errs {
				t.Logf("%s: %v", svc, err)
				var apiErr *APIError
				if !errors.Is(err, ErrAuth) || !errors.As(err, &apiErr) {
					t.Errorf("%s: err = %v, want ErrAuth", svc, err)
					continue
				}
				if apiErr.Code != tt.wantCode || apiErr.Service != svc || apiErr.RequestID == "" {
					t.Errorf("%s: APIError = %+v, want code %s with a request id", svc, *apiErr, tt.wantCode)
				}
				if msg := err.Error(); strings.Contains(msg, tt.secret) || !strings.Contains(msg, tt.wantCode) {
					t.Errorf("%s: Error() = %q: must name the code and never the secret", svc, msg)
				}
			}
		})
	}
}

func TestExpiredSTSToken(t *testing.T) {
	now := time.Now()
	clock := &fakeClock{now: now}
	env := newTestEnv(t, emulatortest.WithClock(clock.Now))
	ctx := ctxT(t)
	trust := `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + env.info.AccountID + `:root"]}}]}`
	role, err := env.cl.RAM.CreateRole(ctx, CreateRoleInput{Name: "short", AssumeRolePolicyDocument: trust})
	if err != nil {
		t.Fatal(err)
	}
	out, err := env.cl.STS.AssumeRole(ctx, AssumeRoleInput{RoleARN: role.ARN, SessionName: "session", Duration: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	tmp, err := NewSTS(akCredential(t, c.AccessKeyID, c.AccessKeySecret, c.SecurityToken), env.ep)
	if err != nil {
		t.Fatal(err)
	}
	tmp.Retry.MaxAttempts = 1
	clock.set(now.Add(20 * time.Minute))
	if _, err := tmp.GetCallerIdentity(ctx); !errors.Is(err, ErrAuth) {
		t.Fatalf("GetCallerIdentity with an expired token = %v, want ErrAuth", err)
	}
}

func TestRetryOnReads(t *testing.T) {
	tests := []struct {
		name      string
		service   string
		fault     emulator.Fault
		call      func(ctx context.Context, env *testEnv) error
		wantErr   error // nil = success
		wantSleep int32
	}{
		{"sts throttled twice", "sts", emulator.Fault{Mode: "throttle", Count: 2},
			func(ctx context.Context, env *testEnv) error { _, err := env.cl.STS.GetCallerIdentity(ctx); return err }, nil, 2},
		{"ram 5xx once", "ram", emulator.Fault{Mode: "5xx", Count: 1},
			func(ctx context.Context, env *testEnv) error {
				_, err := env.cl.RAM.GetPolicy(ctx, "AliyunOSSReadOnlyAccess", PolicyTypeSystem)
				return err
			}, nil, 1},
		{"cs throttled (429) twice", "cs", emulator.Fault{Mode: "throttle", Count: 2},
			func(ctx context.Context, env *testEnv) error {
				_, err := env.cl.CS.DescribeClusterDetail(ctx, env.info.ClusterID)
				return err
			}, nil, 2},
		{"cs connection dropped once", "cs", emulator.Fault{Mode: "down", Count: 1},
			func(ctx context.Context, env *testEnv) error {
				_, err := env.cl.CS.DescribeClusters(ctx, "")
				return err
			}, nil, 1},
		{"cs kubeconfig 5xx once", "cs", emulator.Fault{Mode: "5xx", Count: 1},
			func(ctx context.Context, env *testEnv) error {
				_, err := env.cl.CS.DescribeClusterUserKubeconfig(ctx, env.info.ClusterID, false, 30)
				return err
			}, nil, 1},
		{"ram 5xx persists: bounded attempts", "ram", emulator.Fault{Mode: "5xx"},
			func(ctx context.Context, env *testEnv) error {
				_, err := env.cl.RAM.ListPoliciesForRole(ctx, "x")
				return err
			}, ErrUnavailable, 2},
		{"sts throttle persists", "sts", emulator.Fault{Mode: "throttle"},
			func(ctx context.Context, env *testEnv) error { _, err := env.cl.STS.GetCallerIdentity(ctx); return err }, ErrThrottled, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t) // MaxAttempts 3
			env.srv.SetFault(tt.service, tt.fault)
			err := tt.call(ctxT(t), env)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("call = %v, want success after retries", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("call = %v, want %v", err, tt.wantErr)
			}
			if got := env.sleeps.Load(); got != tt.wantSleep {
				t.Fatalf("retries = %d, want %d", got, tt.wantSleep)
			}
		})
	}
}

func TestNoRetryOnWrites(t *testing.T) {
	tests := []struct {
		name    string
		service string
		mode    string
		call    func(ctx context.Context, env *testEnv) error
		check   func(ctx context.Context, env *testEnv) error // must report the write was not applied
		wantErr error
	}{
		{"CreateRole throttled", "ram", "throttle",
			func(ctx context.Context, env *testEnv) error {
				_, err := env.cl.RAM.CreateRole(ctx, CreateRoleInput{Name: "w", AssumeRolePolicyDocument: trustDoc})
				return err
			},
			func(ctx context.Context, env *testEnv) error {
				if _, err := env.cl.RAM.GetRole(ctx, "w"); !errors.Is(err, ErrNotFound) {
					return errors.New("role exists after a failed create")
				}
				return nil
			}, ErrThrottled},
		{"ModifyCluster 5xx", "cs", "5xx",
			func(ctx context.Context, env *testEnv) error {
				_, err := env.cl.CS.ModifyClusterRRSA(ctx, env.info.ClusterID, true)
				return err
			},
			func(ctx context.Context, env *testEnv) error {
				if c, _ := env.srv.Cluster(env.info.ClusterID); c.State != "running" {
					return errors.New("a task started after a failed ModifyCluster")
				}
				return nil
			}, ErrUnavailable},
		{"AssumeRole throttled", "sts", "throttle",
			func(ctx context.Context, env *testEnv) error {
				_, err := env.cl.STS.AssumeRole(ctx, AssumeRoleInput{RoleARN: "acs:ram::" + env.info.AccountID + ":role/x", SessionName: "session"})
				return err
			}, nil, ErrThrottled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			ctx := ctxT(t)
			env.srv.SetFault(tt.service, emulator.Fault{Mode: tt.mode, Count: 1})
			if err := tt.call(ctx, env); !errors.Is(err, tt.wantErr) {
				t.Fatalf("call = %v, want %v", err, tt.wantErr)
			}
			if got := env.sleeps.Load(); got != 0 {
				t.Fatalf("write retried %d times, want 0", got)
			}
			if tt.check != nil {
				if err := tt.check(ctx, env); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestContextTimeout(t *testing.T) {
	env := newTestEnv(t)
	env.srv.SetFault("cs", emulator.Fault{Mode: "slow", Delay: 30 * time.Second})
	env.srv.SetFault("ram", emulator.Fault{Mode: "slow", Delay: 30 * time.Second})

	// Deadline from the caller.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := env.cl.CS.DescribeClusterDetail(ctx, env.info.ClusterID)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want deadline exceeded / ErrUnavailable", err)
	}
	if elapsed > 5*time.Second {
		t.Fatalf("call returned after %v, want promptly after the 300ms deadline", elapsed)
	}
	if !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("Error() = %q, want it to say the call timed out", err)
	}

	// Default timeout from CallOptions when the context has none.
	env.cl.RAM.Timeout = 300 * time.Millisecond
	start = time.Now()
	_, err = env.cl.RAM.GetRole(context.Background(), "x")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("GetRole = %v after %v, want a prompt deadline error", err, time.Since(start))
	}

	// Cancellation.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := env.cl.CS.DescribeClusterLogs(ctx, env.info.ClusterID)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("canceled call did not return")
	}
}
