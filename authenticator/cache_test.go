package authenticator_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// countingVerifier is a fake for the cache's pure logic: every token verifies (or fails with
// err) and calls are counted. All tokens carry the signing time date.
type countingVerifier struct {
	calls atomic.Int64
	err   error
	date  time.Time
}

func (v *countingVerifier) Parse(tok string) (*token.Request, error) {
	// Widen the window between a cache miss and joining the flight, where a flight can end.
	for i := 0; i < 5; i++ {
		runtime.Gosched()
	}
	return fakeRequest(tok, v.date), nil
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
	c := authenticator.NewIdentityCache(v, authenticator.CacheConfig{Size: 1000, Gate: wideGate})
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
			c := authenticator.NewIdentityCache(v, authenticator.CacheConfig{Size: 10, Clock: clock})
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
		c := authenticator.NewIdentityCache(v, authenticator.CacheConfig{Size: 100, Gate: wideGate})
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
	c := authenticator.NewIdentityCache(v, authenticator.CacheConfig{Size: 10})
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

// wideGate lets the pure cache tests make as many STS calls as they like.
var wideGate = authenticator.GateConfig{Rate: 1e9, Burst: 1e6, Concurrency: 1e6}

// fakeRequest is what fake verifiers parse tok into: its text stands in for the signature, so
// distinct fake tokens have distinct identity keys.
func fakeRequest(tok string, date time.Time) *token.Request {
	return &token.Request{Date: date, AccessKeyID: "LTAIfake", Headers: map[string]string{
		token.HeaderAuthorization: token.Algorithm + " Credential=LTAIfake,SignedHeaders=x-acs-date,Signature=" + tok}}
}

type blockingVerifier struct {
	release chan struct{}
	started chan struct{}
	calls   atomic.Int64
}

func (v *blockingVerifier) Parse(tok string) (*token.Request, error) {
	return fakeRequest(tok, time.Now()), nil
}

func (v *blockingVerifier) VerifyRequest(context.Context, *token.Request) (*token.Identity, error) {
	v.calls.Add(1)
	v.started <- struct{}{}
	<-v.release
	return &token.Identity{ARN: "acs:ram::1:user/a", UserID: "1"}, nil
}

// verdictVerifier accepts tokens starting with "good" and has STS reject the others; calls are
// counted per token.
type verdictVerifier struct {
	mu    sync.Mutex
	calls map[string]int
}

func (v *verdictVerifier) Parse(tok string) (*token.Request, error) {
	return fakeRequest(tok, time.Now()), nil
}

func (v *verdictVerifier) VerifyRequest(_ context.Context, req *token.Request) (*token.Identity, error) {
	authz := req.Headers[token.HeaderAuthorization]
	tok := authz[strings.LastIndex(authz, "=")+1:]
	v.mu.Lock()
	v.calls[tok]++
	v.mu.Unlock()
	if strings.HasPrefix(tok, "good") {
		return &token.Identity{ARN: "acs:ram::1:user/" + tok, UserID: tok}, nil
	}
	return nil, &token.STSError{Kind: token.ErrSTSRejected, Code: "InvalidAccessKeyId.NotFound"}
}

// TestRefusedTokensNeverEvictIdentities: refused tokens fill their own bounded cache; verified
// identities stay, even when the identity cache is nearly full.
func TestRefusedTokensNeverEvictIdentities(t *testing.T) {
	v := &verdictVerifier{calls: map[string]int{}}
	c := authenticator.NewIdentityCache(v, authenticator.CacheConfig{Size: 2, NegativeSize: 16, Gate: wideGate})
	ctx := context.Background()
	for _, tok := range []string{"good-a", "good-b"} {
		if _, err := c.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 1000; i++ {
		if _, err := c.Verify(ctx, "bad-"+strconv.Itoa(i)); !errors.Is(err, token.ErrSTSRejected) {
			t.Fatalf("bad token: %v", err)
		}
	}
	for _, tok := range []string{"good-a", "good-b", "good-a"} {
		if _, err := c.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if v.calls["good-a"] != 1 || v.calls["good-b"] != 1 {
		t.Errorf("STS calls for the identities = %d, %d, want 1 each: refused tokens evicted them", v.calls["good-a"], v.calls["good-b"])
	}
	if c.Len() != 2 || c.RefusedLen() > 16 || c.RefusedLen() == 0 {
		t.Errorf("cache holds %d identities and %d refusals, want 2 and 1..16", c.Len(), c.RefusedLen())
	}
	// A refusal still in the bounded cache is answered without STS.
	if _, err := c.Verify(ctx, "bad-999"); !errors.Is(err, token.ErrSTSRejected) || v.calls["bad-999"] != 1 {
		t.Errorf("recent refusal: %v after %d calls, want a cached rejection", err, v.calls["bad-999"])
	}
}

// TestSTSGate: tokens not verified yet pass the gate while it has a rate token and a free slot;
// past it they get ErrSTSGate without an STS call, which is never cached.
func TestSTSGate(t *testing.T) {
	start := time.Now()
	var mu sync.Mutex
	now := start
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx := context.Background()

	t.Run("rate and burst", func(t *testing.T) {
		v := &countingVerifier{date: start}
		c := authenticator.NewIdentityCache(v, authenticator.CacheConfig{Clock: clock, Gate: authenticator.GateConfig{Rate: 1, Burst: 3, Concurrency: 10}})
		tests := []struct {
			tok     string
			advance time.Duration
			wantErr error
		}{
			{tok: "a"}, {tok: "b"}, {tok: "c"},
			{tok: "d", wantErr: authenticator.ErrSTSGate},
			{tok: "a"}, // verified: never gated
			{tok: "d", advance: time.Second},
			{tok: "e", wantErr: authenticator.ErrSTSGate},
		}
		for i, tc := range tests {
			mu.Lock()
			now = now.Add(tc.advance)
			mu.Unlock()
			if _, err := c.Verify(ctx, tc.tok); !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("step %d (%s): err = %v, want %v", i, tc.tok, err, tc.wantErr)
			}
		}
		if got := v.calls.Load(); got != 4 {
			t.Errorf("STS calls = %d, want 4 (a, b, c, then d after a second)", got)
		}
	})

	t.Run("concurrency", func(t *testing.T) {
		v := &blockingVerifier{release: make(chan struct{}), started: make(chan struct{}, 2)}
		c := authenticator.NewIdentityCache(v, authenticator.CacheConfig{Gate: authenticator.GateConfig{Rate: 1000, Burst: 1000, Concurrency: 2}})
		errs := make(chan error, 2)
		for _, tok := range []string{"x", "y"} {
			go func() { _, err := c.Verify(ctx, tok); errs <- err }()
		}
		<-v.started
		<-v.started
		if _, err := c.Verify(ctx, "z"); !errors.Is(err, authenticator.ErrSTSGate) {
			t.Fatalf("third concurrent token: %v, want ErrSTSGate", err)
		}
		close(v.release)
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		v.started = make(chan struct{}, 1)
		if _, err := c.Verify(ctx, "z"); err != nil {
			t.Fatalf("after the others finished: %v (a gate rejection must not be cached)", err)
		}
		if got := v.calls.Load(); got != 3 {
			t.Errorf("STS calls = %d, want 3", got)
		}
	})
}
