package cloud

import (
	"context"
	"errors"
	"strconv"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"
)

// STS is a typed Security Token Service client (RPC style, HMAC-SHA1 signatures).
type STS struct {
	// CallOptions tune timeouts, retries and transport; set them before the first call.
	CallOptions
	b base
}

// NewSTS returns an STS client for ep.STSEndpoint(). cred may be nil: the client is then
// anonymous and only AssumeRoleWithOIDC works.
func NewSTS(cred credentials.Credential, ep Endpoints) (*STS, error) {
	b, err := newBase("sts", ep.STSEndpoint(), ep, cred)
	if err != nil {
		return nil, err
	}
	return &STS{b: b}, nil
}

// Endpoint returns the host[:port] the client talks to.
func (c *STS) Endpoint() string { return c.b.endpoint }

// CallerIdentity is the identity behind the credential.
type CallerIdentity struct {
	AccountID    string
	ARN          string
	IdentityType string // "Account", "RAMUser" or "AssumedRoleUser"
	PrincipalID  string
	UserID       string
	RoleID       string
}

// STSCredentials are temporary credentials issued by STS.
type STSCredentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
	Expiration      time.Time
}

// GetCallerIdentity returns who the client's credential is.
func (c *STS) GetCallerIdentity(ctx context.Context) (*CallerIdentity, error) {
	const action = "GetCallerIdentity"
	if err := c.b.requireCredential(action); err != nil {
		return nil, err
	}
	body, err := fetch(ctx, &c.b, &c.CallOptions, action, true, sts.NewClient, func(cl *sts.Client) (*sts.GetCallerIdentityResponseBody, error) {
		resp, err := cl.GetCallerIdentity()
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	})
	if err != nil {
		return nil, err
	}
	return &CallerIdentity{
		AccountID:    tea.StringValue(body.AccountId),
		ARN:          tea.StringValue(body.Arn),
		IdentityType: tea.StringValue(body.IdentityType),
		PrincipalID:  tea.StringValue(body.PrincipalId),
		UserID:       tea.StringValue(body.UserId),
		RoleID:       tea.StringValue(body.RoleId),
	}, nil
}

// AssumeRoleInput are the parameters of AssumeRole.
type AssumeRoleInput struct {
	RoleARN     string
	SessionName string // "" = "kubectl-ack-<unix time>"
	// Duration of the credentials; 0 uses the service default (1 hour).
	Duration time.Duration
	// Policy optionally narrows the permissions of the session (JSON policy document).
	Policy string
	// ExternalID is sent as ExternalId for roles whose trust policy requires sts:ExternalId.
	ExternalID string
}

// AssumeRoleOutput is the result of AssumeRole.
type AssumeRoleOutput struct {
	Credentials    STSCredentials
	AssumedRoleARN string
	AssumedRoleID  string
}

// AssumeRole issues temporary credentials of a RAM role. It is a write (never retried): each call
// mints new credentials.
func (c *STS) AssumeRole(ctx context.Context, in AssumeRoleInput) (*AssumeRoleOutput, error) {
	const action = "AssumeRole"
	if err := c.b.requireCredential(action); err != nil {
		return nil, err
	}
	if in.RoleARN == "" {
		return nil, &APIError{Service: "sts", Action: action, Message: "a role ARN is required", Kind: ErrInvalid}
	}
	req := &sts.AssumeRoleRequest{RoleArn: tea.String(in.RoleARN), RoleSessionName: tea.String(sessionName(in.SessionName))}
	if in.Duration > 0 {
		req.DurationSeconds = tea.Int64(int64(in.Duration / time.Second))
	}
	if in.ExternalID != "" {
		req.ExternalId = tea.String(in.ExternalID)
	}
	if in.Policy != "" {
		req.Policy = tea.String(in.Policy)
	}
	return fetch(ctx, &c.b, &c.CallOptions, action, false, sts.NewClient, func(cl *sts.Client) (*AssumeRoleOutput, error) {
		resp, err := cl.AssumeRole(req)
		if err != nil || resp.Body == nil || resp.Body.Credentials == nil {
			return nil, err // no credentials: fetch reports an empty response
		}
		b := resp.Body
		out := &AssumeRoleOutput{Credentials: stsCreds(b.Credentials.AccessKeyId, b.Credentials.AccessKeySecret, b.Credentials.SecurityToken, b.Credentials.Expiration)}
		if u := b.AssumedRoleUser; u != nil {
			out.AssumedRoleARN, out.AssumedRoleID = tea.StringValue(u.Arn), tea.StringValue(u.AssumedRoleId)
		}
		return out, nil
	})
}

// AssumeRoleWithOIDCInput are the parameters of AssumeRoleWithOIDC.
type AssumeRoleWithOIDCInput struct {
	RoleARN         string
	OIDCProviderARN string
	OIDCToken       string
	SessionName     string        // "" = "kubectl-ack-<unix time>"
	Duration        time.Duration // 0 = service default
}

// AssumeRoleWithOIDCOutput is the result of AssumeRoleWithOIDC.
type AssumeRoleWithOIDCOutput struct {
	Credentials    STSCredentials
	AssumedRoleARN string
	OIDCSubject    string
	OIDCIssuer     string
	OIDCAudience   string
}

// AssumeRoleWithOIDC exchanges an OIDC token (e.g. a projected ServiceAccount token) for
// temporary credentials of a role. The call is anonymous: the client's credential, if any, is
// not used.
func (c *STS) AssumeRoleWithOIDC(ctx context.Context, in AssumeRoleWithOIDCInput) (*AssumeRoleWithOIDCOutput, error) {
	const action = "AssumeRoleWithOIDC"
	if in.RoleARN == "" || in.OIDCProviderARN == "" || in.OIDCToken == "" {
		return nil, &APIError{Service: "sts", Action: action, Message: "role ARN, OIDC provider ARN and OIDC token are required", Kind: ErrInvalid}
	}
	req := &sts.AssumeRoleWithOIDCRequest{
		RoleArn:         tea.String(in.RoleARN),
		OIDCProviderArn: tea.String(in.OIDCProviderARN),
		OIDCToken:       tea.String(in.OIDCToken),
	}
	req.RoleSessionName = tea.String(sessionName(in.SessionName))
	if in.Duration > 0 {
		req.DurationSeconds = tea.Int64(int64(in.Duration / time.Second))
	}
	anonymous := func(cfg *openapi.Config) (*sts.Client, error) {
		cfg.Credential = nil // anonymous by design
		return sts.NewClient(cfg)
	}
	return fetch(ctx, &c.b, &c.CallOptions, action, false, anonymous, func(cl *sts.Client) (*AssumeRoleWithOIDCOutput, error) {
		resp, err := cl.AssumeRoleWithOIDC(req)
		if err != nil || resp.Body == nil || resp.Body.Credentials == nil {
			return nil, err // no credentials: fetch reports an empty response
		}
		b := resp.Body
		out := &AssumeRoleWithOIDCOutput{Credentials: stsCreds(b.Credentials.AccessKeyId, b.Credentials.AccessKeySecret, b.Credentials.SecurityToken, b.Credentials.Expiration)}
		if u := b.AssumedRoleUser; u != nil {
			out.AssumedRoleARN = tea.StringValue(u.Arn)
		}
		if t := b.OIDCTokenInfo; t != nil {
			out.OIDCSubject, out.OIDCIssuer, out.OIDCAudience = tea.StringValue(t.Subject), tea.StringValue(t.Issuer), tea.StringValue(t.ClientIds)
		}
		return out, nil
	})
}

// sessionName returns name, or when empty a default: RoleSessionName is mandatory, and naming the
// session after the tool and the time shows in ActionTrail where it came from.
func sessionName(name string) string {
	if name != "" {
		return name
	}
	return "kubectl-ack-" + strconv.FormatInt(time.Now().Unix(), 10)
}

func stsCreds(id, secret, token, expiration *string) STSCredentials {
	return STSCredentials{
		AccessKeyID:     tea.StringValue(id),
		AccessKeySecret: tea.StringValue(secret),
		SecurityToken:   tea.StringValue(token),
		Expiration:      parseTime(tea.StringValue(expiration)),
	}
}

// parseTime accepts the timestamp layouts the services use; unknown layouts yield the zero time.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

var errEmptyResponse = errors.New("empty response from the service")

func errEmpty(service, action string) error {
	return &APIError{Service: service, Action: action, Message: errEmptyResponse.Error(), Kind: ErrUnavailable, cause: errEmptyResponse}
}
