package authenticator

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Metric label values of ack_ram_authenticator_requests_total{result} and
// ack_ram_authenticator_denials_total{reason}.
const (
	ResultAllowed   = "allowed"
	ResultDenied    = "denied"
	ResultThrottled = "throttled"
	ResultBad       = "bad_request"

	ReasonInvalidToken   = "invalid_token"
	ReasonSTSRejected    = "sts_rejected"
	ReasonSTSUnavailable = "sts_unavailable"
	ReasonSTSThrottled   = "sts_throttled"
	ReasonSTSGate        = "sts_gate"
	ReasonUnmapped       = "unmapped"
	ReasonReserved       = "reserved_name"
	ReasonMappingError   = "mapping_error"
	ReasonCanceled       = "canceled"
)

// Metrics are the server's Prometheus metrics, in their own registry.
type Metrics struct {
	Registry *prometheus.Registry

	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	denials     *prometheus.CounterVec
	stsCalls    *prometheus.CounterVec
	stsLatency  prometheus.Histogram
	cacheHits   prometheus.Counter
	cacheMisses prometheus.Counter
	cacheSize   prometheus.Gauge
	refusedSize prometheus.Gauge
	gateRejects *prometheus.CounterVec

	resultChildren map[string]resultMetrics
}

// NewMetrics registers the metrics (and Go/process collectors) in a new registry.
func NewMetrics() *Metrics {
	const ns = "ack_ram_authenticator"
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total",
			Help: "TokenReview requests by result (allowed, denied, throttled, bad_request)."}, []string{"result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "request_duration_seconds",
			Help:    "Time to answer a TokenReview, by result.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}}, []string{"result"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "denials_total",
			Help: "Denied tokens by reason."}, []string{"reason"}),
		stsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sts_calls_total",
			Help: "STS GetCallerIdentity calls by result (ok, rejected, throttled, unavailable)."}, []string{"result"}),
		stsLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "sts_call_duration_seconds",
			Help: "Duration of STS GetCallerIdentity calls.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}),
		cacheHits:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "cache_hits_total", Help: "Tokens answered from the identity cache."}),
		cacheMisses: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "cache_misses_total", Help: "Tokens not in the identity cache."}),
		cacheSize:   prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "cache_entries", Help: "Entries in the identity cache."}),
		refusedSize: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "negative_cache_entries", Help: "Tokens STS refused, remembered apart from the identity cache."}),
		gateRejects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sts_gate_rejections_total",
			Help: "Tokens not verified yet that were answered 429 instead of calling STS, by the gate limit they hit (rate, concurrency)."}, []string{"reason"}),
	}
	// Both label values exist from the start, so a dashboard sees 0 rather than no series.
	m.gateRejects.WithLabelValues(GateRejectRate)
	m.gateRejects.WithLabelValues(GateRejectConcurrency)
	m.Registry.MustRegister(m.requests, m.latency, m.denials, m.stsCalls, m.stsLatency, m.cacheHits, m.cacheMisses, m.cacheSize,
		m.refusedSize, m.gateRejects, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.resultChildren = map[string]resultMetrics{}
	for _, r := range []string{ResultAllowed, ResultDenied, ResultThrottled, ResultBad} {
		m.resultChildren[r] = resultMetrics{count: m.requests.WithLabelValues(r), latency: m.latency.WithLabelValues(r)}
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

func (m *Metrics) request(result string, d time.Duration) {
	if c, ok := m.resultChildren[result]; ok {
		c.count.Inc()
		c.latency.Observe(d.Seconds())
		return
	}
	m.requests.WithLabelValues(result).Inc()
	m.latency.WithLabelValues(result).Observe(d.Seconds())
}

func (m *Metrics) denial(reason string) { m.denials.WithLabelValues(reason).Inc() }

// resultMetrics are the children of one result label, resolved once: the label lookup is a
// measurable part of the cached path.
type resultMetrics struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

func (m *Metrics) cacheHit()          { m.cacheHits.Inc() }
func (m *Metrics) cacheMiss()         { m.cacheMisses.Inc() }
func (m *Metrics) cacheSizeSet(n int) { m.cacheSize.Set(float64(n)) }

func (m *Metrics) stsCall(err error, d time.Duration) {
	result := "ok"
	switch {
	case err == nil:
	case errors.Is(err, token.ErrSTSThrottled):
		result = "throttled"
	case errors.Is(err, token.ErrSTSRejected):
		result = "rejected"
	default:
		result = "unavailable"
	}
	m.stsCalls.WithLabelValues(result).Inc()
	m.stsLatency.Observe(d.Seconds())
}

// cacheObserver adapts Metrics to verifyObserver.
type cacheObserver struct{ m *Metrics }

func (o cacheObserver) cacheHit()                          { o.m.cacheHit() }
func (o cacheObserver) cacheMiss()                         { o.m.cacheMiss() }
func (o cacheObserver) cacheSize(n int)                    { o.m.cacheSizeSet(n) }
func (o cacheObserver) refusedSize(n int)                  { o.m.refusedSize.Set(float64(n)) }
func (o cacheObserver) gateRejected(reason string)         { o.m.gateRejects.WithLabelValues(reason).Inc() }
func (o cacheObserver) stsCall(err error, d time.Duration) { o.m.stsCall(err, d) }
