package credentials

import (
	"context"
	"errors"
	"fmt"
	"time"

	alicred "github.com/aliyun/credentials-go/credentials"
)

// Credentials is one set of Alibaba Cloud credentials.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	// SecurityToken is set for temporary (STS) credentials.
	SecurityToken string
	// Expiration is when temporary credentials stop working; zero when
	// unknown or never (long-lived access keys).
	Expiration time.Time
}

// String never shows the secret or the token, so a Credentials value that
// ends up in a log line or an error message leaks nothing.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{AccessKeyID:%s, AccessKeySecret:<redacted>, SecurityToken:%s, Expiration:%s}",
		c.AccessKeyID, redactedIfSet(c.SecurityToken), c.Expiration.Format(time.RFC3339))
}

// GoString keeps %#v from printing secrets too.
func (c Credentials) GoString() string { return c.String() }

func redactedIfSet(s string) string {
	if s == "" {
		return `""`
	}
	return "<redacted>"
}

func (c Credentials) valid() error {
	if c.AccessKeyID == "" {
		return errors.New("access key id is empty")
	}
	if c.AccessKeySecret == "" {
		return errors.New("access key secret is empty")
	}
	return nil
}

// provider yields credentials; implementations that fetch temporary
// credentials cache and refresh them.
type provider interface {
	retrieve(ctx context.Context) (Credentials, error)
}

// staticProvider returns fixed credentials (access key or a stored STS token).
type staticProvider struct{ c Credentials }

func (p staticProvider) retrieve(ctx context.Context) (Credentials, error) {
	if err := ctx.Err(); err != nil {
		return Credentials{}, err
	}
	return p.c, nil
}

// fetchFunc obtains fresh credentials from a source (STS, URI, process, ...).
type fetchFunc func(ctx context.Context) (Credentials, error)

// Refresh margins. credentials-go refreshes 180s before expiry, which is
// shorter than the 10-minute lifetime of a k8s-ack-v2 token signed with the
// credentials, so its providers could hand out credentials that die while a
// token made from them is still cached by kubectl. We refresh earlier.
const (
	defaultRefreshMargin = 15 * time.Minute
	// credentials without an expiration are refetched after this long
	// (processes and URIs that omit Expiration may still rotate).
	noExpiryTTL = 5 * time.Minute
)

// refreshingProvider caches fetched credentials and refetches them before
// they expire. It is safe for concurrent use; concurrent callers that find
// the cache stale wait for a single fetch instead of each calling the source
// (credentials-go's RAM role and URI providers mutate their cache without a
// lock, which is one reason this package has its own).
type refreshingProvider struct {
	fetch  fetchFunc
	margin time.Duration
	now    func() time.Time
	// sem is a one-slot semaphore guarding cur; a channel rather than a
	// mutex so waiting honours ctx cancellation.
	sem     chan struct{}
	cur     *Credentials
	fetched time.Time
}

func newRefreshing(fetch fetchFunc, now func() time.Time) *refreshingProvider {
	if now == nil {
		now = time.Now
	}
	return &refreshingProvider{fetch: fetch, margin: defaultRefreshMargin, now: now, sem: make(chan struct{}, 1)}
}

// stale reports whether c must be refetched at time now. The margin shrinks
// to half the credential's lifetime for short-lived credentials (e.g. a 15
// minute STS session), so those are not refetched on every call.
func (p *refreshingProvider) stale(now time.Time) bool {
	if p.cur == nil {
		return true
	}
	if p.cur.Expiration.IsZero() {
		return now.Sub(p.fetched) >= noExpiryTTL
	}
	margin := p.margin
	if life := p.cur.Expiration.Sub(p.fetched); life > 0 && life/2 < margin {
		margin = life / 2
	}
	return !now.Add(margin).Before(p.cur.Expiration)
}

func (p *refreshingProvider) retrieve(ctx context.Context) (Credentials, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return Credentials{}, ctx.Err()
	}
	defer func() { <-p.sem }()
	now := p.now()
	if !p.stale(now) {
		return *p.cur, nil
	}
	c, err := p.fetch(ctx)
	if err != nil {
		// Keep serving still-valid cached credentials when a refresh inside
		// the margin fails (e.g. STS briefly unavailable).
		if p.cur != nil && !p.cur.Expiration.IsZero() && now.Before(p.cur.Expiration.Add(-time.Minute)) {
			return *p.cur, nil
		}
		return Credentials{}, err
	}
	if err := c.valid(); err != nil {
		return Credentials{}, err
	}
	p.cur, p.fetched = &c, now
	return c, nil
}

// defaultCredentialTimeout bounds fetches made through the context-less
// credentials-go Credential interface.
const defaultCredentialTimeout = 2 * time.Minute

// credentialAdapter exposes a provider as a credentials-go Credential so the
// Alibaba SDK clients (pkg/cloud) can sign with it.
type credentialAdapter struct {
	p        provider
	typeName string
}

var _ alicred.Credential = (*credentialAdapter)(nil)

func (a *credentialAdapter) get() (Credentials, error) {
	ctx, cancel := context.WithTimeout(context.Background(), defaultCredentialTimeout)
	defer cancel()
	return a.p.retrieve(ctx)
}

// GetCredential implements credentials-go's Credential.
func (a *credentialAdapter) GetCredential() (*alicred.CredentialModel, error) {
	c, err := a.get()
	if err != nil {
		return nil, err
	}
	name := "kubectl-ack/" + a.typeName
	return &alicred.CredentialModel{
		AccessKeyId:     &c.AccessKeyID,
		AccessKeySecret: &c.AccessKeySecret,
		SecurityToken:   &c.SecurityToken,
		Type:            &a.typeName,
		ProviderName:    &name,
	}, nil
}

// GetAccessKeyId implements the deprecated part of Credential.
func (a *credentialAdapter) GetAccessKeyId() (*string, error) {
	c, err := a.get()
	if err != nil {
		return nil, err
	}
	return &c.AccessKeyID, nil
}

// GetAccessKeySecret implements the deprecated part of Credential.
func (a *credentialAdapter) GetAccessKeySecret() (*string, error) {
	c, err := a.get()
	if err != nil {
		return nil, err
	}
	return &c.AccessKeySecret, nil
}

// GetSecurityToken implements the deprecated part of Credential.
func (a *credentialAdapter) GetSecurityToken() (*string, error) {
	c, err := a.get()
	if err != nil {
		return nil, err
	}
	return &c.SecurityToken, nil
}

// GetBearerToken implements Credential; bearer tokens are not used.
func (a *credentialAdapter) GetBearerToken() *string {
	s := ""
	return &s
}

// GetType implements Credential.
func (a *credentialAdapter) GetType() *string {
	t := a.typeName
	return &t
}

// staticCredential builds the credentials-go Credential for fixed
// credentials using credentials-go's own static providers.
func staticCredential(c Credentials) (alicred.Credential, error) {
	// Both values are checked non-empty first: credentials-go's builders
	// silently fall back to the process environment for empty fields, which
	// would defeat Options.Env.
	if err := c.valid(); err != nil {
		return nil, err
	}
	cfg := new(alicred.Config).SetAccessKeyId(c.AccessKeyID).SetAccessKeySecret(c.AccessKeySecret)
	if c.SecurityToken != "" {
		cfg.SetType("sts").SetSecurityToken(c.SecurityToken)
	} else {
		cfg.SetType("access_key")
	}
	return alicred.NewCredential(cfg)
}
