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

// CacheConfig configures an IdentityCache. Zero fields take the defaults.
type CacheConfig struct {
	// Size bounds the verified identities (entries, default DefaultCacheSize).
	Size int
	// NegativeSize bounds the tokens STS refused (entries, default DefaultNegativeCacheSize).
	NegativeSize int
	// Gate bounds the STS calls for tokens that are not verified yet.
	Gate GateConfig
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// IdentityCache verifies tokens through STS and remembers the answers until the token expires.
// Concurrent verifications of one token share one STS call, and calls for tokens not verified
// yet pass a rate and concurrency gate (past it: ErrSTSGate). Verified identities and refused
// tokens are kept apart, each bounded, so refused tokens can never evict an identity. The cache
// never holds token text, only SHA-256 keys. It is safe for concurrent use.
type IdentityCache struct {
	v     TokenVerifier
	clock func() time.Time
	obs   verifyObserver
	gate  *stsGate

	// ids holds verified identities by token.Request.IdentityKey, so variants of a token that
	// differ only in what the signature does not cover (the user-agent, say) share one entry and
	// one STS call. aliases hold the same entries by the SHA-256 of the verified token's text, so
	// that repeats of it are answered without parsing.
	ids, aliases *boundedMap
	// refused holds STS rejections by the SHA-256 of the token text, not by IdentityKey: a
	// variant that STS refused must never shadow the token it was made from.
	refused *boundedMap
	group   singleflight.Group
	// keyBufs recycles the buffers tokens are copied into for hashing: a token is 1–2 KiB and
	// the cached path should not allocate that per request.
	keyBufs sync.Pool
}

// verifyObserver receives cache, gate and STS events (metrics).
type verifyObserver interface {
	cacheHit()
	cacheMiss()
	cacheSize(n int)
	refusedSize(n int)
	gateRejected(reason string)
	stsCall(err error, d time.Duration)
}

type nopObserver struct{}

func (nopObserver) cacheHit()                    {}
func (nopObserver) cacheMiss()                   {}
func (nopObserver) cacheSize(int)                {}
func (nopObserver) refusedSize(int)              {}
func (nopObserver) gateRejected(string)          {}
func (nopObserver) stsCall(error, time.Duration) {}

// NewIdentityCache returns a cache that verifies tokens with v.
func NewIdentityCache(v TokenVerifier, c CacheConfig) *IdentityCache {
	if c.Size <= 0 {
		c.Size = DefaultCacheSize
	}
	if c.NegativeSize <= 0 {
		c.NegativeSize = DefaultNegativeCacheSize
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return &IdentityCache{
		v: v, clock: c.Clock, obs: nopObserver{}, gate: newSTSGate(c.Gate, c.Clock),
		ids: newBoundedMap(c.Size), aliases: newBoundedMap(c.Size), refused: newBoundedMap(c.NegativeSize),
	}
}

// Len returns the number of cached identities.
func (c *IdentityCache) Len() int { return c.ids.len() }

// RefusedLen returns the number of cached STS rejections.
func (c *IdentityCache) RefusedLen() int { return c.refused.len() }

// Verify returns the identity behind tok: from the cache, or after local checks and one STS
// call shared by all concurrent callers with the same token. Errors are those of pkg/token
// (ErrInvalidToken, ErrSTSRejected, ErrSTSThrottled, ErrSTSUnavailable), ErrSTSGate or ctx's
// error.
func (c *IdentityCache) Verify(ctx context.Context, tok string) (*token.Identity, error) {
	raw := c.tokenKey(tok)
	now := c.clock()
	if e, ok := c.aliases.lookup(raw, now); ok {
		c.obs.cacheHit()
		return e.id, nil
	}
	if e, ok := c.refused.lookup(raw, now); ok {
		c.obs.cacheHit()
		return nil, e.err
	}
	// Tokens that fail the local checks never reach the gate or STS.
	req, err := c.v.Parse(tok)
	if err != nil {
		c.obs.cacheMiss()
		return nil, err
	}
	idKey := req.IdentityKey()
	if e, ok := c.ids.lookup(idKey, now); ok {
		c.obs.cacheHit()
		return e.id, nil
	}
	c.obs.cacheMiss()
	ch := c.group.DoChan(string(raw[:]), func() (any, error) {
		return c.verifySTS(ctx, raw, idKey, req)
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

// verifySTS is one flight: it asks STS, through the gate, and stores the answer.
func (c *IdentityCache) verifySTS(ctx context.Context, raw, idKey [sha256.Size]byte, req *token.Request) (*token.Identity, error) {
	// A flight that ended between our lookups and DoChan has stored its answer already: look
	// again so that the token still costs one STS call.
	now := c.clock()
	if e, ok := c.ids.lookup(idKey, now); ok {
		return e.id, nil
	}
	if e, ok := c.refused.lookup(raw, now); ok {
		return nil, e.err
	}
	release, rejected := c.gate.acquire()
	if release == nil {
		c.obs.gateRejected(rejected)
		return nil, ErrSTSGate
	}
	// The first caller's cancellation must not fail the others; the verifier's own timeout
	// bounds the call.
	start := time.Now()
	id, err := c.v.VerifyRequest(context.WithoutCancel(ctx), req)
	release()
	c.obs.stsCall(err, time.Since(start))
	now = c.clock()
	switch {
	case err == nil:
		e := cacheEntry{id: id, expires: req.Expiry()}
		c.obs.cacheSize(c.ids.store(idKey, e, now))
		c.aliases.store(raw, e, now)
	case errors.Is(err, token.ErrSTSRejected):
		e := cacheEntry{err: err, expires: now.Add(rejectTTL)}
		if exp := req.Expiry(); exp.Before(e.expires) {
			e.expires = exp
		}
		c.obs.refusedSize(c.refused.store(raw, e, now))
	}
	return id, err
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

// boundedMap holds cache entries until they expire, up to a fixed number of them.
type boundedMap struct {
	max     int
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]cacheEntry
}

func newBoundedMap(max int) *boundedMap {
	return &boundedMap{max: max, entries: map[[sha256.Size]byte]cacheEntry{}}
}

func (m *boundedMap) len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.entries)
}

// lookup returns the entry for key unless it expired at now.
func (m *boundedMap) lookup(key [sha256.Size]byte, now time.Time) (cacheEntry, bool) {
	m.mu.RLock()
	e, ok := m.entries[key]
	m.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return cacheEntry{}, false
	}
	return e, true
}

// store adds an entry, first dropping expired ones and then arbitrary ones when full, and
// returns the number of entries.
func (m *boundedMap) store(key [sha256.Size]byte, e cacheEntry, now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= m.max {
		for k, old := range m.entries {
			if !now.Before(old.expires) {
				delete(m.entries, k)
			}
		}
		// Still full: evict arbitrary entries (map order is unspecified), a tenth at a time so
		// the sweep above is not repeated on every insert.
		for k := range m.entries {
			if len(m.entries) < m.max-m.max/10 {
				break
			}
			delete(m.entries, k)
		}
	}
	m.entries[key] = e
	return len(m.entries)
}
