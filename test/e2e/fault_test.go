package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// TestSTSFault breaks the last hop (authenticator → STS) with the emulator's fault injection:
// kubectl must fail cleanly (non-zero exit, 401, within a bound, no hang) while STS is down,
// failing, throttling or slow, and work again once it is back.
func TestSTSFault(t *testing.T) {
	ctx := context.Background()
	_, u := newRAMUser(t, faultUser)
	// Far above the bound below, so a hang shows as a timeout rather than as a slow failure.
	u.SetTimeout(2 * time.Minute)
	tokenLogin(t, u)
	must(t, u.Kubectl(ctx, "get", "ns"))
	t.Cleanup(func() {
		if err := stack.SetFault(context.Background(), "sts", harness.Fault{}); err != nil {
			t.Errorf("clear the STS fault: %v", err)
		}
	})

	for _, tc := range []struct {
		mode  string
		delay string
		bound time.Duration
	}{
		// The authenticator answers quickly when STS is down or failing...
		{"down", "", 15 * time.Second},
		{"5xx", "", 15 * time.Second},
		// ...but answers HTTP 429 + Retry-After to throttling, which kube-apiserver's webhook
		// client retries until its own 30 s request timeout.
		{"throttle", "", 45 * time.Second},
		// STS answering after 20 s: the authenticator's 5 s STS timeout must cut it short.
		{"slow", "20s", 15 * time.Second},
	} {
		mode, delay, bound := tc.mode, tc.delay, tc.bound
		t.Run(mode, func(t *testing.T) {
			if err := stack.SetFault(ctx, "sts", harness.Fault{Mode: mode, Delay: delay}); err != nil {
				t.Fatal(err)
			}
			// Tokens are signed per second and both kube-apiserver and the authenticator cache
			// verified ones, so kubectl fails once it sends a token made after the fault: clear
			// the ack-login cache until it does.
			var failed *harness.Result
			eventually(t, "kubectl fails with a new token while STS is "+mode, 30*time.Second, func() (bool, string) {
				if r := u.Kubectl(ctx, "ack-login", "cache", "clear"); r.Err() != nil {
					return false, r.String()
				}
				r := u.Kubectl(ctx, "get", "ns")
				if r.ExitCode == 0 {
					return false, "kubectl still succeeds (a cached token): " + r.String()
				}
				failed = r
				return true, ""
			})
			mustFail(t, failed, unauthorized)
			if failed.Elapsed > bound {
				t.Errorf("kubectl took %s to fail with STS %s, want under %s", failed.Elapsed.Round(time.Millisecond), mode, bound)
			}
			t.Logf("STS %s: kubectl failed cleanly after %s", mode, failed.Elapsed.Round(time.Millisecond))

			if err := stack.SetFault(ctx, "sts", harness.Fault{}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "kubectl works again after STS recovered", 30*time.Second, func() (bool, string) {
				if r := u.Kubectl(ctx, "ack-login", "cache", "clear"); r.Err() != nil {
					return false, r.String()
				}
				r := u.Kubectl(ctx, "get", "ns")
				return r.Err() == nil, r.String()
			})
		})
	}
}
