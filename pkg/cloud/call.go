package cloud

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"

	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

// sdkTimeoutMargin is how far past the context deadline the SDK's own timeouts are set.
const sdkTimeoutMargin = 100 * time.Millisecond

// DefaultTimeout bounds a call (all of its attempts) when the caller's context has no deadline.
const DefaultTimeout = 30 * time.Second

// RetryPolicy controls how idempotent reads (Get*, Describe*, List*) are retried on throttling,
// 5xx and connection failures. Writes are never retried: a write whose response was lost may
// have been applied.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts of a read (default 4; 1 disables retries).
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt (default 200ms); it doubles per attempt.
	BaseDelay time.Duration
	// MaxDelay caps one backoff (default 5s).
	MaxDelay time.Duration
	// Sleep waits d or until ctx is done; nil uses a timer. Tests inject a fake to avoid sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0,1) used to randomise the backoff; nil uses math/rand/v2.
	Jitter func() float64
}

func (p RetryPolicy) attempts() int {
	if p.MaxAttempts <= 0 {
		return 4
	}
	return p.MaxAttempts
}

// Backoff returns the delay before attempt number attempt+1 (attempt counts from 1): exponential
// with "equal jitter" (half fixed, half random) so that concurrent clients spread out.
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	base, maxDelay := p.BaseDelay, p.MaxDelay
	if base <= 0 {
		base = 200 * time.Millisecond
	}
	if maxDelay <= 0 {
		maxDelay = 5 * time.Second
	}
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	j := p.Jitter
	if j == nil {
		j = rand.Float64
	}
	return d/2 + time.Duration(j()*float64(d/2))
}

func (p RetryPolicy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// CallOptions are the per-client knobs shared by STS, RAM and CS. The zero value is production
// ready; set fields before the first call.
type CallOptions struct {
	// Timeout applies when the caller's context has no deadline (default DefaultTimeout).
	Timeout time.Duration
	// Retry is the retry policy of idempotent reads.
	Retry RetryPolicy
	// UserAgent is appended to the SDK's user agent (default "kubectl-ack/<version>").
	UserAgent string
	// Transport carries the HTTPS requests (default: a clone of http.DefaultTransport, which
	// honours HTTPS_PROXY/NO_PROXY and SSL_CERT_FILE).
	Transport http.RoundTripper
}

// base is what every service client shares.
type base struct {
	service  string
	endpoint string
	region   string
	cred     credentials.Credential
	// transport is created once per client so connections are reused across calls.
	transport http.RoundTripper
}

func newBase(service, endpoint string, ep Endpoints, cred credentials.Credential) (base, error) {
	if err := ValidateEndpoint(endpoint); err != nil {
		return base{}, fmt.Errorf("%s endpoint: %w", service, err)
	}
	if !regionRE.MatchString(ep.Region()) {
		return base{}, fmt.Errorf("invalid region ID %q: expected lowercase letters, digits and dashes such as cn-hangzhou", ep.RegionID)
	}
	return base{
		service:   service,
		endpoint:  endpoint,
		region:    ep.Region(),
		cred:      cred,
		transport: http.DefaultTransport.(*http.Transport).Clone(),
	}, nil
}

// ctxHTTPClient implements the SDK's dara.HttpClient: it ignores the transport the SDK builds per
// request and sends the request with the call's context, which makes the otherwise
// context-unaware SDK calls cancellable and bounded by the caller's deadline.
type ctxHTTPClient struct {
	ctx context.Context
	rt  http.RoundTripper
}

func (c ctxHTTPClient) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	client := &http.Client{Transport: c.rt}
	return client.Do(req.WithContext(c.ctx))
}

// config builds the SDK configuration of one attempt.
func (b *base) config(ctx context.Context, o *CallOptions) *openapi.Config {
	rt := o.Transport
	if rt == nil {
		rt = b.transport
	}
	ua := o.UserAgent
	if ua == "" {
		ua = "kubectl-ack/" + version.Version
	}
	cfg := &openapi.Config{
		Endpoint:   tea.String(b.endpoint),
		RegionId:   tea.String(b.region),
		Protocol:   tea.String("HTTPS"),
		UserAgent:  tea.String(ua),
		HttpClient: ctxHTTPClient{ctx: ctx, rt: rt},
	}
	// The SDK applies its own read/connect timeouts too. They are set a little past the deadline
	// so that the context (enforced by ctxHTTPClient) always ends the attempt first and the
	// caller gets a deadline error rather than an SDK "empty response" racing it.
	if dl, ok := ctx.Deadline(); ok {
		ms := int((time.Until(dl)+sdkTimeoutMargin+time.Millisecond-1)/time.Millisecond) + 1
		cfg.ReadTimeout, cfg.ConnectTimeout = tea.Int(ms), tea.Int(ms)
	}
	if b.cred != nil {
		cfg.Credential = b.cred
	}
	return cfg
}

// call runs fn with a fresh SDK config per attempt. Reads retry throttling and unavailability
// with backoff; every error is classified.
func (b *base) call(ctx context.Context, o *CallOptions, action string, read bool, fn func(cfg *openapi.Config) error) error {
	if _, ok := ctx.Deadline(); !ok {
		timeout := o.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	attempts := 1
	if read {
		attempts = o.Retry.attempts()
	}
	var err error
	for attempt := 1; ; attempt++ {
		if cerr := ctx.Err(); cerr != nil {
			return b.ctxError(action, cerr, err)
		}
		err = fn(b.config(ctx, o))
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return b.ctxError(action, cerr, err)
		}
		err = classify(b.service, action, err)
		if attempt >= attempts || !retryable(err) {
			return err
		}
		if serr := o.Retry.sleep(ctx, o.Retry.Backoff(attempt)); serr != nil {
			return b.ctxError(action, serr, err)
		}
	}
}

// callWith runs fn, through b.call, with a client that newClient makes from each attempt's
// configuration.
func callWith[C any](ctx context.Context, b *base, o *CallOptions, action string, read bool,
	newClient func(*openapi.Config) (C, error), fn func(C) error) error {
	return b.call(ctx, o, action, read, func(cfg *openapi.Config) error {
		cl, err := newClient(cfg)
		if err != nil {
			return err
		}
		return fn(cl)
	})
}

// fetch is callWith for a call that answers with a body: it returns the body get extracts
// from the response. A missing body is an empty-response error (ErrUnavailable), so callers
// never see a nil body without an error.
func fetch[C, B any](ctx context.Context, b *base, o *CallOptions, action string, read bool,
	newClient func(*openapi.Config) (C, error), get func(C) (*B, error)) (*B, error) {
	var body *B
	err := callWith(ctx, b, o, action, read, newClient, func(cl C) error {
		var err error
		body, err = get(cl)
		return err
	})
	if err != nil {
		return nil, err
	}
	if body == nil {
		return nil, errEmpty(b.service, action)
	}
	return body, nil
}

// ctxError reports a call stopped by its context; errors.Is matches both ErrUnavailable and the
// context error.
func (b *base) ctxError(action string, cerr, last error) error {
	msg := "canceled"
	if errors.Is(cerr, context.DeadlineExceeded) {
		msg = "timed out"
	}
	e := &APIError{Service: b.service, Action: action, Message: msg, Kind: ErrUnavailable, cause: cerr}
	var prev *APIError
	if last != nil && errors.As(last, &prev) {
		e.Code, e.RequestID, e.HTTPStatus = prev.Code, prev.RequestID, prev.HTTPStatus
		e.Message = msg + " (last error: " + prev.Message + ")"
	}
	return e
}

func retryable(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return e.Kind == ErrThrottled || e.Kind == ErrUnavailable
}

// requireCredential fails early, with a fixable message, instead of letting the SDK fail
// obscurely when an authenticated call has no credential.
func (b *base) requireCredential(action string) error {
	if b.cred == nil {
		return fmt.Errorf("%s %s: no credentials configured (this call must be signed): configure an access key, profile or role", b.service, action)
	}
	return nil
}
