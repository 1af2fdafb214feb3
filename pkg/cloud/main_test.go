package cloud

import (
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// testEnv is an emulator plus clients signed with its admin user's key.
type testEnv struct {
	srv    *emulator.Server
	info   emulator.Info
	ep     Endpoints
	cl     *Clients
	sleeps *atomic.Int32 // backoff sleeps taken by the clients (one per retry)
}

func newTestEnv(t *testing.T, opts ...emulatortest.Option) *testEnv {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t, opts...)
	info := srv.Info()
	ep := Endpoints{RegionID: info.RegionID, STS: info.Endpoint, RAM: info.Endpoint, CS: info.Endpoint}
	cl, err := NewClients(akCredential(t, info.AccessKeyID, info.AccessKeySecret, ""), ep)
	if err != nil {
		t.Fatalf("NewClients: %v", err)
	}
	sleeps := &atomic.Int32{}
	cl.SetCallOptions(CallOptions{Retry: RetryPolicy{MaxAttempts: 3, Sleep: countingSleep(sleeps)}})
	return &testEnv{srv: srv, info: info, ep: ep, cl: cl, sleeps: sleeps}
}

// countingSleep records backoffs instead of sleeping, so retry tests run instantly.
func countingSleep(n *atomic.Int32) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		if d <= 0 {
			panic("backoff must be positive")
		}
		n.Add(1)
		return ctx.Err()
	}
}

func akCredential(t *testing.T, id, secret, token string) credentials.Credential {
	t.Helper()
	cfg := new(credentials.Config).SetType("access_key").SetAccessKeyId(id).SetAccessKeySecret(secret)
	if token != "" {
		cfg.SetType("sts").SetSecurityToken(token)
	}
	cred, err := credentials.NewCredential(cfg)
	if err != nil {
		t.Fatalf("credential: %v", err)
	}
	return cred
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sameJSON compares two JSON documents semantically (services may reformat policies).
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Errorf("not JSON: %q: %v", a, err)
		return false
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Errorf("not JSON: %q: %v", b, err)
		return false
	}
	return reflect.DeepEqual(x, y)
}

// fakeClock is a settable clock for the emulator (e.g. to expire STS tokens).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
