package authenticator

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// TokenVerifier is what the cache needs from pkg/token.Verifier.
type TokenVerifier interface {
	Parse(tok string) (*token.Request, error)
	VerifyRequest(ctx context.Context, req *token.Request) (*token.Identity, error)
}

// rejectTTL bounds how long an STS rejection is remembered, so a replayed bad token costs one
// STS call per minute at most while a fixed clock skew or key problem heals quickly.
const rejectTTL = time.Minute

type cacheEntry struct {
	id      *token.Identity
	err     error // an STS rejection (never throttling or unavailability)
	expires time.Time
}

// IdentityCache verifies tokens through STS and remembers the answers, keyed by the SHA-256 of
// the token, until the token expires. Concurrent verifications of one token share one STS call.
// It is safe for concurrent use.
type IdentityCache struct {
	v     TokenVerifier
	max   int
	clock func() time.Time
	obs   verifyObserver

	mu      sync.RWMutex
	entries map[[sha256.Size]byte]cacheEntry
	group   singleflight.Group
	// keyBufs recycles the buffers tokens are copied into for hashing: a token is 1–2 KiB and
	// the cached path should not allocate that per request.
	keyBufs sync.Pool
}

// verifyObserver receives cache and STS events (metrics).
type verifyObserver interface {
	cacheHit()
	cacheMiss()
	cacheSize(n int)
	stsCall(err error, d time.Duration)
}

type nopObserver struct{}

func (nopObserver) cacheHit()                    {}
func (nopObserver) cacheMiss()                   {}
func (nopObserver) cacheSize(int)                {}
func (nopObserver) stsCall(error, time.Duration) {}

// NewIdentityCache returns a cache of at most maxEntries identities (≤ 0: DefaultCacheSize).
// clock nil means time.Now.
func NewIdentityCache(v TokenVerifier, maxEntries int, clock func() time.Time) *IdentityCache {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheSize
	}
	if clock == nil {
		clock = time.Now
	}
	return &IdentityCache{v: v, max: maxEntries, clock: clock, obs: nopObserver{}, entries: map[[sha256.Size]byte]cacheEntry{}}
}

// Len returns the number of cached entries.
func (c *IdentityCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// Verify returns the identity behind tok: from the cache, or after local checks and one STS
// call shared by all concurrent callers with the same token. Errors are those of pkg/token
// (ErrInvalidToken, ErrSTSRejected, ErrSTSThrottled, ErrSTSUnavailable) or ctx's error.
func (c *IdentityCache) Verify(ctx context.Context, tok string) (*token.Identity, error) {
	key := c.tokenKey(tok)
	if e, ok := c.lookup(key); ok {
		c.obs.cacheHit()
		return e.id, e.err
	}
	c.obs.cacheMiss()
	req, err := c.v.Parse(tok)
	if err != nil {
		return nil, err
	}
	ch := c.group.DoChan(string(key[:]), func() (any, error) {
		// A flight that ended between our cache miss and DoChan has stored its answer already:
		// look again so that the token still costs one STS call.
		if e, ok := c.lookup(key); ok {
			return e.id, e.err
		}
		// The first caller's cancellation must not fail the others; the verifier's own timeout
		// bounds the call.
		start := time.Now()
		id, err := c.v.VerifyRequest(context.WithoutCancel(ctx), req)
		c.obs.stsCall(err, time.Since(start))
		switch {
		case err == nil:
			c.store(key, cacheEntry{id: id, expires: req.Expiry()})
		case errors.Is(err, token.ErrSTSRejected):
			exp := c.clock().Add(rejectTTL)
			if req.Expiry().Before(exp) {
				exp = req.Expiry()
			}
			c.store(key, cacheEntry{err: err, expires: exp})
		}
		return id, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*token.Identity), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// tokenKey is the SHA-256 of tok; the cache never holds token text.
func (c *IdentityCache) tokenKey(tok string) [sha256.Size]byte {
	bp, _ := c.keyBufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, token.MaxTokenBytes)
		bp = &b
	}
	b := append((*bp)[:0], tok...)
	key := sha256.Sum256(b)
	if cap(b) <= 2*token.MaxTokenBytes {
		*bp = b
		c.keyBufs.Put(bp)
	}
	return key
}

// lookup returns the unexpired entry for key.
func (c *IdentityCache) lookup(key [sha256.Size]byte) (cacheEntry, bool) {
	now := c.clock()
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return cacheEntry{}, false
	}
	return e, true
}

// store adds an entry, first dropping expired ones and then arbitrary ones when full.
func (c *IdentityCache) store(key [sha256.Size]byte, e cacheEntry) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, k)
			}
		}
		// Still full: evict arbitrary entries (map order is unspecified), a tenth at a time so
		// the sweep above is not repeated on every insert.
		for k := range c.entries {
			if len(c.entries) < c.max-c.max/10 {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = e
	c.obs.cacheSize(len(c.entries))
}
