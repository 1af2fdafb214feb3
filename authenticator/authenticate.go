package authenticator

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"k8s.io/klog/v2"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Extra keys of an authenticated user.
const (
	ExtraARN          = "arn"
	ExtraCanonicalARN = "canonicalArn"
	ExtraSessionName  = "sessionName"
	ExtraAccessKeyID  = "accessKeyId"
	ExtraPrincipalID  = "principalId"
)

// UIDPrefix starts user.uid: "ack-ram-authenticator:<account id>:<user id>".
const UIDPrefix = "ack-ram-authenticator:"

// User is the Kubernetes user a token authenticates as.
type User struct {
	Username string              `json:"username"`
	UID      string              `json:"uid"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// Outcome is the result of Authenticate.
type Outcome struct {
	// User is set when the token is accepted.
	User *User
	// Identity is the verified RAM identity (also set for unmapped and refused identities).
	Identity *token.Identity
	// Mapper and Rule say which mapper and rule mapped the identity.
	Mapper string
	Rule   *mapper.Result
	// HTTPStatus is 200, or 429 when STS or the STS gate throttled and the API server should
	// retry.
	HTTPStatus int
	// Reason is a denial reason safe to return to users: no token text and no STS internals.
	Reason string
	// ReasonCode is the denials_total{reason} label.
	ReasonCode string
	// Err is the underlying error, for server logs (never contains the token).
	Err error
}

// Authenticator verifies tokens and maps identities. It is safe for concurrent use.
type Authenticator struct {
	cache         *IdentityCache
	mappers       []Mapper
	allowedGroups []string
}

// NewAuthenticator combines a cache and mappers (asked in order; the first match wins).
// allowedGroups are the "system:" groups mappings may grant.
func NewAuthenticator(c *IdentityCache, mappers []Mapper, allowedGroups []string) *Authenticator {
	return &Authenticator{cache: c, mappers: mappers, allowedGroups: allowedGroups}
}

// Cache returns the identity cache.
func (a *Authenticator) Cache() *IdentityCache { return a.cache }

// Authenticate verifies tok and maps it. It never returns the token text in any field.
func (a *Authenticator) Authenticate(ctx context.Context, tok string) Outcome {
	if tok == "" {
		return Outcome{HTTPStatus: http.StatusOK, Reason: "no token in the TokenReview", ReasonCode: ReasonInvalidToken, Err: errors.New("empty token")}
	}
	id, err := a.cache.Verify(ctx, tok)
	if err != nil {
		return verifyFailure(err)
	}
	d := mapper.Decide(a.mappers, *id, a.allowedGroups)
	switch {
	case d.Mapped():
		return Outcome{Identity: id, Mapper: d.Stage, Rule: d.Result, HTTPStatus: http.StatusOK, User: userFor(id, d.Result)}
	case d.Err != nil && errors.Is(d.Err, mapper.ErrReserved):
		return Outcome{Identity: id, Mapper: d.Stage, Rule: d.Result, HTTPStatus: http.StatusOK, ReasonCode: ReasonReserved, Err: d.Err,
			Reason: fmt.Sprintf("the mapping for %s (%s) is refused: %v; reserved names are only allowed for groups in server.allowedGroups", id.ARN, d.Result.Rule.Source, d.Err)}
	case d.Err != nil:
		return Outcome{Identity: id, Mapper: d.Stage, HTTPStatus: http.StatusOK, ReasonCode: ReasonMappingError, Err: d.Err,
			Reason: fmt.Sprintf("the %s mapping for %s could not be applied: %v", d.Stage, id.ARN, d.Err)}
	}
	return Outcome{Identity: id, HTTPStatus: http.StatusOK, ReasonCode: ReasonUnmapped, Err: errors.New("no mapping matched"),
		Reason: fmt.Sprintf("RAM identity %s is not mapped to a Kubernetes user: ask a cluster administrator to add a RAMIdentityMapping or a mapRoles/mapUsers entry for it", id.ARN)}
}

func userFor(id *token.Identity, res *mapper.Result) *User {
	extra := map[string][]string{
		ExtraARN:          {id.ARN},
		ExtraCanonicalARN: {id.CanonicalARN},
		ExtraAccessKeyID:  {id.AccessKeyID},
		ExtraPrincipalID:  {id.PrincipalID},
	}
	if id.SessionName != "" {
		extra[ExtraSessionName] = []string{id.SessionName}
	}
	return &User{
		Username: res.Username,
		UID:      UIDPrefix + id.AccountID + ":" + id.UserID,
		Groups:   res.Groups,
		Extra:    extra,
	}
}

// verifyFailure turns a verification error into a denial with a user-safe reason.
func verifyFailure(err error) Outcome {
	o := Outcome{HTTPStatus: http.StatusOK, Err: err}
	var pe *token.ParseError
	switch {
	case errors.As(err, &pe):
		o.ReasonCode, o.Reason = ReasonInvalidToken, pe.Error()
	case errors.Is(err, token.ErrSTSThrottled):
		o.HTTPStatus, o.ReasonCode = http.StatusTooManyRequests, ReasonSTSThrottled
		o.Reason = "STS throttled the verification of the token; retry later"
	case errors.Is(err, ErrSTSGate):
		o.HTTPStatus, o.ReasonCode = http.StatusTooManyRequests, ReasonSTSGate
		o.Reason = "too many new tokens are being verified right now; retry later"
	case errors.Is(err, token.ErrSTSRejected):
		o.ReasonCode = ReasonSTSRejected
		o.Reason = "STS rejected the token: its access key is unknown or disabled, its security token expired, or the signature is wrong; get a new token with valid credentials"
	case errors.Is(err, token.ErrSTSUnavailable):
		o.ReasonCode = ReasonSTSUnavailable
		o.Reason = "the token could not be verified because STS is unavailable; retry later"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		o.ReasonCode = ReasonCanceled
		o.Reason = "verification was cancelled or timed out; retry later"
	default:
		o.ReasonCode = ReasonSTSUnavailable
		o.Reason = "the token could not be verified; retry later"
	}
	return o
}

// logOutcome logs a denial at info level (always) and a success at V(2), never with the token.
func logOutcome(o Outcome, apiVersion string) {
	if o.User != nil {
		if klogV := klog.V(2); klogV.Enabled() {
			klogV.InfoS("authenticated", "arn", o.Identity.ARN, "username", o.User.Username, "groups", o.User.Groups, "mapper", o.Mapper, "rule", o.Rule.Rule.Source, "apiVersion", apiVersion)
		}
		return
	}
	kv := []any{"reason", o.ReasonCode, "message", o.Reason, "apiVersion", apiVersion}
	if o.Identity != nil {
		kv = append(kv, "arn", o.Identity.ARN, "accessKeyId", o.Identity.AccessKeyID)
	}
	if o.Err != nil {
		kv = append(kv, "err", o.Err.Error())
	}
	var se *token.STSError
	if errors.As(o.Err, &se) && se.Message != "" {
		kv = append(kv, "stsMessage", se.Message)
	}
	klog.InfoS("denied", kv...)
}
