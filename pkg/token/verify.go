package token

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// Errors of Verify, matched with errors.Is. Local rejections match ErrInvalidToken.
var (
	// ErrSTSRejected: STS refused the signed request (bad signature, unknown or disabled key,
	// invalid or expired security token, ...): the token is not valid.
	ErrSTSRejected = errors.New("STS rejected the token")
	// ErrSTSThrottled: STS throttled the call (Throttling* code or HTTP 429); retry later.
	ErrSTSThrottled = errors.New("STS throttled the request")
	// ErrSTSUnavailable: STS could not be reached or failed (timeout, connection error, 5xx,
	// unexpected answer); the token may be valid.
	ErrSTSUnavailable = errors.New("STS is unavailable")
)

// DefaultTimeout bounds one STS call when VerifierConfig.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// maxResponseBytes bounds how much of an STS answer is read.
const maxResponseBytes = 1 << 20

// STSError describes a failed STS call. Error() carries the HTTP status, the STS error code and
// the request id, never the token or STS's message (which can echo request internals); Message is
// kept for server-side logs.
type STSError struct {
	// Kind is ErrSTSRejected, ErrSTSThrottled or ErrSTSUnavailable.
	Kind       error
	HTTPStatus int
	Code       string
	Message    string
	RequestID  string
	// Err is the transport error, if any.
	Err error
}

// Error implements error.
func (e *STSError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Is matches the error's Kind.
func (e *STSError) Is(target error) bool { return target == e.Kind }

// Unwrap returns the transport error.
func (e *STSError) Unwrap() error { return e.Err }

// Identity is the verified caller behind a token.
type Identity struct {
	// AccountID is the Alibaba Cloud account id.
	AccountID string
	// ARN is the ARN STS reported (assumed-role ARNs include the session).
	ARN string
	// CanonicalARN is ARN with assumed-role mapped to its role (see pkg/arn).
	CanonicalARN string
	// PrincipalID is STS's PrincipalId (user id, or "<roleId>:<session>").
	PrincipalID string
	// UserID is STS's UserId, or PrincipalId when STS reports none (assumed roles), so it is
	// never empty for a verified identity.
	UserID string
	// RoleID is set for assumed roles.
	RoleID string
	// SessionName is the role session name of an assumed role, empty otherwise.
	SessionName string
	// AccessKeyID is the key that signed the token.
	AccessKeyID string
	// IdentityType is "Account", "RAMUser" or "AssumedRoleUser".
	IdentityType string
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// ClusterID is this cluster's id; tokens for other clusters are refused (required).
	ClusterID string
	// STSEndpoint is host[:port] of STS, always reached over HTTPS (required).
	STSEndpoint string
	// HTTPClient is used for STS calls if set (redirects are disabled on a copy of it); otherwise
	// a client trusting RootCAs (nil: the system pool, which honours SSL_CERT_FILE) is built.
	HTTPClient *http.Client
	// RootCAs is used only when HTTPClient is nil.
	RootCAs *x509.CertPool
	// Timeout bounds each STS call; zero means DefaultTimeout.
	Timeout time.Duration
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Verifier verifies tokens: local checks (Parse), then STS GetCallerIdentity at the configured
// endpoint. It is safe for concurrent use.
type Verifier struct {
	clusterID string
	endpoint  string
	client    *http.Client
	timeout   time.Duration
	clock     func() time.Time
}

// NewVerifier validates cfg and returns a Verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.ClusterID == "" {
		return nil, errors.New("token verifier: cluster id is required")
	}
	if err := validateEndpoint(cfg.STSEndpoint); err != nil {
		return nil, fmt.Errorf("token verifier: %w", err)
	}
	v := &Verifier{clusterID: cfg.ClusterID, endpoint: cfg.STSEndpoint, timeout: cfg.Timeout, clock: cfg.Clock}
	if v.timeout <= 0 {
		v.timeout = DefaultTimeout
	}
	if v.clock == nil {
		v.clock = time.Now
	}
	var c http.Client
	if cfg.HTTPClient != nil {
		c = *cfg.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
		// Many concurrent verifications go to one host.
		tr.MaxIdleConnsPerHost = 64
		c = http.Client{Transport: tr, Timeout: v.timeout}
	}
	// Never follow redirects: the answer must come from the configured endpoint.
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return errors.New("STS redirects are not followed")
	}
	v.client = &c
	return v, nil
}

// validateEndpoint accepts host[:port] only: no scheme, user info, path, query or fragment.
func validateEndpoint(ep string) error {
	if ep == "" {
		return errors.New("STS endpoint is required")
	}
	u, err := url.Parse("https://" + ep)
	if err != nil || u.Host != ep || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Hostname() == "" {
		return fmt.Errorf("STS endpoint %q must be host[:port] without scheme or path", ep)
	}
	return nil
}

// ClusterID returns the cluster id tokens must be bound to.
func (v *Verifier) ClusterID() string { return v.clusterID }

// Parse runs the local checks only, with the verifier's cluster id and clock.
func (v *Verifier) Parse(token string) (*Request, error) {
	return Parse(token, v.clusterID, v.clock())
}

// Verify checks token locally, then asks STS who signed it. It returns the identity and the time
// until which the token is accepted (x-acs-date + ServerValidity): a verified identity may be
// cached until then. Errors match ErrInvalidToken, ErrSTSRejected, ErrSTSThrottled or
// ErrSTSUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (*Identity, time.Time, error) {
	req, err := v.Parse(token)
	if err != nil {
		return nil, time.Time{}, err
	}
	id, err := v.VerifyRequest(ctx, req)
	if err != nil {
		return nil, time.Time{}, err
	}
	return id, req.Expiry(), nil
}

// VerifyRequest sends an already parsed request to STS and returns the identity.
func (v *Verifier) VerifyRequest(ctx context.Context, req *Request) (*Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	// Rebuilt from the allowed keys only; the host is ours, never the token's.
	u := "https://" + v.endpoint + "/?" + url.Values{QueryClusterID: {req.ClusterID}}.Encode()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, http.NoBody)
	if err != nil {
		return nil, &STSError{Kind: ErrSTSUnavailable, Err: err}
	}
	for name := range allowedHeaders {
		if val, ok := req.Headers[name]; ok {
			hr.Header.Set(name, val)
		}
	}
	hr.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(hr)
	if err != nil {
		return nil, &STSError{Kind: ErrSTSUnavailable, Err: sanitizeURLError(err)}
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, &STSError{Kind: ErrSTSUnavailable, HTTPStatus: resp.StatusCode, Err: fmt.Errorf("read STS response: %w", err)}
	}
	if len(body) > maxResponseBytes {
		return nil, &STSError{Kind: ErrSTSUnavailable, HTTPStatus: resp.StatusCode, Err: errors.New("STS response larger than 1 MiB")}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, classify(resp.StatusCode, body)
	}
	return identityFrom(body, req.AccessKeyID)
}

// sanitizeURLError drops the URL from transport errors; it only holds the endpoint and cluster
// id, but keeping messages short and uniform helps the logs.
func sanitizeURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s STS: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

type stsErrorBody struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestId"`
}

// classify maps a non-200 STS answer to an error kind.
func classify(status int, body []byte) error {
	var eb stsErrorBody
	_ = json.Unmarshal(body, &eb)
	e := &STSError{HTTPStatus: status, Code: eb.Code, Message: eb.Message, RequestID: eb.RequestID}
	switch {
	case status == http.StatusTooManyRequests || strings.HasPrefix(eb.Code, "Throttling"):
		e.Kind = ErrSTSThrottled
	case status >= 500:
		e.Kind = ErrSTSUnavailable
	case status >= 400:
		e.Kind = ErrSTSRejected
	default:
		// 1xx/3xx (redirects are not followed): not an answer from STS we can trust.
		e.Kind = ErrSTSUnavailable
	}
	return e
}

type callerIdentityBody struct {
	AccountID    string `json:"AccountId"`
	Arn          string `json:"Arn"`
	PrincipalID  string `json:"PrincipalId"`
	UserID       string `json:"UserId"`
	RoleID       string `json:"RoleId"`
	IdentityType string `json:"IdentityType"`
	RequestID    string `json:"RequestId"`
}

// identityFrom parses a GetCallerIdentity answer; anything inconsistent is treated as an STS
// failure rather than an identity.
func identityFrom(body []byte, accessKeyID string) (*Identity, error) {
	var b callerIdentityBody
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&b); err != nil {
		return nil, &STSError{Kind: ErrSTSUnavailable, HTTPStatus: http.StatusOK, Err: fmt.Errorf("malformed GetCallerIdentity answer: %w", err)}
	}
	bad := func(what string) error {
		return &STSError{Kind: ErrSTSUnavailable, HTTPStatus: http.StatusOK, RequestID: b.RequestID, Err: errors.New("GetCallerIdentity answer " + what)}
	}
	parsed, err := arn.Parse(b.Arn)
	if err != nil {
		return nil, bad("has an invalid Arn")
	}
	if b.AccountID == "" || b.AccountID != parsed.AccountID {
		return nil, bad("has an AccountId that does not match its Arn")
	}
	id := &Identity{
		AccountID:    b.AccountID,
		ARN:          b.Arn,
		CanonicalARN: parsed.Canonical().String(),
		PrincipalID:  b.PrincipalID,
		UserID:       b.UserID,
		RoleID:       b.RoleID,
		SessionName:  parsed.Session,
		AccessKeyID:  accessKeyID,
		IdentityType: b.IdentityType,
	}
	if id.UserID == "" {
		id.UserID = b.PrincipalID
	}
	if id.UserID == "" {
		return nil, bad("has neither UserId nor PrincipalId")
	}
	return id, nil
}
