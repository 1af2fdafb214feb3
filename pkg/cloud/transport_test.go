package cloud

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// replayTransport sends every request twice with identical bytes (same signature and nonce) and
// returns the second answer, as a replaying attacker would.
type replayTransport struct{ rt http.RoundTripper }

func (r replayTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	first, err := r.rt.RoundTrip(withBody(req, body))
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, first.Body)
	_ = first.Body.Close()
	return r.rt.RoundTrip(withBody(req, body))
}

// tamperTransport replaces the request body after signing.
type tamperTransport struct {
	rt   http.RoundTripper
	body string
}

func (t tamperTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := readBody(req); err != nil {
		return nil, err
	}
	out := withBody(req, []byte(t.body))
	out.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return t.rt.RoundTrip(out)
}

func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	defer func() { _ = req.Body.Close() }()
	return io.ReadAll(req.Body)
}

func withBody(req *http.Request, body []byte) *http.Request {
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	return out
}

// TestRequestIntegrityErrors signs real requests with the SDKs and then replays or tampers with
// them on the wire, or lets the clock skew: the services' rejections classify as ErrAuth.
func TestRequestIntegrityErrors(t *testing.T) {
	env := newTestEnv(t)
	ctx := ctxT(t)
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)

	replay := CallOptions{Transport: replayTransport{rt: base}, Retry: RetryPolicy{MaxAttempts: 1}}
	cl, err := NewClients(akCredential(t, env.info.AccessKeyID, env.info.AccessKeySecret, ""), env.ep)
	if err != nil {
		t.Fatal(err)
	}
	cl.SetCallOptions(replay)
	errs := map[string]error{}
	_, errs["sts replay"] = cl.STS.GetCallerIdentity(ctx)
	_, errs["ram replay"] = cl.RAM.GetRole(ctx, "nope")
	_, errs["cs replay"] = cl.CS.DescribeClusterDetail(ctx, env.info.ClusterID)

	// ACS3 (RAM) signs the body hash; ROA (CS) and RPC (STS) do not sign JSON/form bodies, like
	// the real services, so only RAM can detect a tampered body.
	cl.SetCallOptions(CallOptions{Transport: tamperTransport{rt: base, body: "Description=tampered"}, Retry: RetryPolicy{MaxAttempts: 1}})
	_, errs["ram tampered body"] = cl.RAM.CreateRole(ctx, CreateRoleInput{Name: "good", AssumeRolePolicyDocument: trustDoc})
	for name, err := range errs {
		var apiErr *APIError
		if !errors.Is(err, ErrAuth) || !errors.As(err, &apiErr) {
			t.Errorf("%s: err = %v, want ErrAuth", name, err)
			continue
		}
		t.Logf("%s: %s", name, apiErr.Code)
	}
	for _, name := range []string{"good"} {
		if _, ok := env.srv.Role(env.info.AccountID, name); ok {
			t.Errorf("tampered CreateRole created role %q", name)
		}
	}
}

func TestStaleTimestamp(t *testing.T) {
	clock := &fakeClock{now: time.Now().Add(30 * time.Minute)} // the service is 30 minutes ahead
	env := newTestEnv(t, emulatortest.WithClock(clock.Now))
	env.cl.SetCallOptions(CallOptions{Retry: RetryPolicy{MaxAttempts: 1}})
	ctx := ctxT(t)
	errs := map[string]error{}
	_, errs["sts"] = env.cl.STS.GetCallerIdentity(ctx)
	_, errs["ram"] = env.cl.RAM.GetRole(ctx, "nope")
	_, errs["cs"] = env.cl.CS.DescribeClusterDetail(ctx, env.info.ClusterID)
	for svc, err := range errs {
		var apiErr *APIError
		if !errors.Is(err, ErrAuth) || !errors.As(err, &apiErr) || !strings.HasPrefix(apiErr.Code, "InvalidTimeStamp") {
			t.Errorf("%s: err = %v, want ErrAuth InvalidTimeStamp.*", svc, err)
		}
	}
}
