package authenticator_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// countingVerifier is a fake for the cache's pure logic: every token verifies (or fails with
// err) and calls are counted. Tokens "date=<unix>" carry their signing time.
type countingVerifier struct {
	calls atomic.Int64
	err   error
	date  time.Time
}

func (v *countingVerifier) Parse(string) (*token.Request, error) {
	// Widen the window between a cache miss and joining the flight, where a flight can end.
	for i := 0; i < 5; i++ {
		runtime.Gosched()
	}
	return &token.Request{Date: v.date}, nil
}

func (v *countingVerifier) VerifyRequest(context.Context, *token.Request) (*token.Identity, error) {
	v.calls.Add(1)
	if v.err != nil {
		return nil, v.err
	}
	return &token.Identity{ARN: "acs:ram::1:user/a", UserID: "1"}, nil
}

// TestCacheCollapsesWithoutOverlap: with no artificial delay, flights end while other callers
// are between their cache miss and joining; still exactly one call per token.
func TestCacheCollapsesWithoutOverlap(t *testing.T) {
	v := &countingVerifier{date: time.Now()}
	c := authenticator.NewIdentityCache(v, 1000, nil)
	const tokens, callers = 50, 40
	var wg sync.WaitGroup
	var failures atomic.Int64
	for i := 0; i < tokens; i++ {
		for j := 0; j < callers; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Verify(context.Background(), "tok-"+strconv.Itoa(i)); err != nil {
					failures.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Errorf("%d verifications failed", failures.Load())
	}
	if got := v.calls.Load(); got != tokens {
		t.Errorf("STS calls = %d, want %d (one per token)", got, tokens)
	}
}

func TestCacheExpiryAndBounds(t *testing.T) {
	signed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := signed
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ctx := context.Background()

	tests := []struct {
		name      string
		err       error
		advance   time.Duration
		wantCalls int64
	}{
		{name: "identity cached until expiry", advance: token.ServerValidity - time.Second, wantCalls: 1},
		{name: "identity dropped at expiry", advance: token.ServerValidity, wantCalls: 2},
		{name: "rejection remembered briefly", err: &token.STSError{Kind: token.ErrSTSRejected}, advance: 30 * time.Second, wantCalls: 1},
		{name: "rejection forgotten after a minute", err: &token.STSError{Kind: token.ErrSTSRejected}, advance: time.Minute, wantCalls: 2},
		{name: "unavailability never cached", err: &token.STSError{Kind: token.ErrSTSUnavailable}, wantCalls: 2},
		{name: "throttling never cached", err: &token.STSError{Kind: token.ErrSTSThrottled}, wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			now = signed
			mu.Unlock()
			v := &countingVerifier{err: tc.err, date: signed}
			c := authenticator.NewIdentityCache(v, 10, clock)
			_, err1 := c.Verify(ctx, "t")
			advance(tc.advance)
			_, err2 := c.Verify(ctx, "t")
			if (tc.err == nil) != (err1 == nil) || !errors.Is(err2, tc.err) && tc.err != nil {
				t.Errorf("errors %v, %v; want %v", err1, err2, tc.err)
			}
			if got := v.calls.Load(); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
		})
	}

	t.Run("bounded size", func(t *testing.T) {
		v := &countingVerifier{date: time.Now()}
		c := authenticator.NewIdentityCache(v, 100, nil)
		for i := 0; i < 1000; i++ {
			if _, err := c.Verify(ctx, "t"+strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
		}
		if n := c.Len(); n > 100 || n < 50 {
			t.Errorf("cache holds %d entries, want at most 100 (and not emptied)", n)
		}
	})
}

// TestCacheCallerCancel: a caller that gives up gets its context error quickly, and the shared
// flight still completes for the others.
func TestCacheCallerCancel(t *testing.T) {
	release := make(chan struct{})
	v := &blockingVerifier{release: release, started: make(chan struct{}, 1)}
	c := authenticator.NewIdentityCache(v, 10, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Verify(ctx, "t"); errc <- err }()
	<-v.started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v", err)
	}
	close(release)
	if _, err := c.Verify(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
	if v.calls.Load() != 1 {
		t.Errorf("calls = %d, want 1: the flight of the cancelled caller should have been reused", v.calls.Load())
	}
}

type blockingVerifier struct {
	release chan struct{}
	started chan struct{}
	calls   atomic.Int64
}

func (v *blockingVerifier) Parse(string) (*token.Request, error) {
	return &token.Request{Date: time.Now()}, nil
}

func (v *blockingVerifier) VerifyRequest(context.Context, *token.Request) (*token.Identity, error) {
	v.calls.Add(1)
	v.started <- struct{}{}
	<-v.release
	return &token.Identity{ARN: "acs:ram::1:user/a", UserID: "1"}, nil
}
