package authenticator

import (
	"errors"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/kubectl-ack/kubectl-ack/pkg/authconfig"
)

// Defaults of the STS gate and the cache of refused tokens (server.stsRate, stsBurst,
// stsConcurrency, negativeCacheSize); their home is pkg/authconfig.
const (
	DefaultSTSRate           = authconfig.DefaultSTSRate
	DefaultSTSBurst          = authconfig.DefaultSTSBurst
	DefaultSTSConcurrency    = authconfig.DefaultSTSConcurrency
	DefaultNegativeCacheSize = authconfig.DefaultNegativeCacheSize
)

// ErrSTSGate is returned when a token that is not verified yet would exceed the STS gate's rate or
// concurrency; the server answers 429 so that kube-apiserver retries. It is never cached.
var ErrSTSGate = errors.New("too many tokens are waiting for verification by STS")

// Gate rejection reasons (the sts_gate_rejections_total{reason} label).
const (
	GateRejectRate        = "rate"
	GateRejectConcurrency = "concurrency"
)

// GateConfig bounds the STS calls made for tokens that are not verified yet. Zero fields take
// the defaults.
type GateConfig struct {
	// Rate is the sustained number of calls per second; Burst how many may be made at once.
	Rate  float64
	Burst int
	// Concurrency bounds the calls in flight.
	Concurrency int
}

func (g GateConfig) withDefaults() GateConfig {
	if g.Rate <= 0 {
		g.Rate = DefaultSTSRate
	}
	if g.Burst <= 0 {
		g.Burst = DefaultSTSBurst
	}
	if g.Concurrency <= 0 {
		g.Concurrency = DefaultSTSConcurrency
	}
	return g
}

// stsGate admits an STS call when both a concurrency slot and a rate token are free, without
// waiting: a caller past it is told to retry (429) instead of queueing, so a flood of bad tokens
// holds no goroutines and no memory.
type stsGate struct {
	limiter *rate.Limiter
	slots   *semaphore.Weighted
	clock   func() time.Time
}

func newSTSGate(c GateConfig, clock func() time.Time) *stsGate {
	c = c.withDefaults()
	return &stsGate{
		limiter: rate.NewLimiter(rate.Limit(c.Rate), c.Burst),
		slots:   semaphore.NewWeighted(int64(c.Concurrency)),
		clock:   clock,
	}
}

// acquire returns a release function, or the reason (GateRejectRate or GateRejectConcurrency)
// why the call may not be made now.
func (g *stsGate) acquire() (release func(), rejected string) {
	// The slot first: a call refused for concurrency must not use up a rate token.
	if !g.slots.TryAcquire(1) {
		return nil, GateRejectConcurrency
	}
	if !g.limiter.AllowN(g.clock(), 1) {
		g.slots.Release(1)
		return nil, GateRejectRate
	}
	return func() { g.slots.Release(1) }, ""
}
