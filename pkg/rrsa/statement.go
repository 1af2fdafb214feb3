package rrsa

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// SubjectPrefix prefixes the oidc:sub claim of every Kubernetes service account token.
const SubjectPrefix = "system:serviceaccount:"

// ErrInvalidStatement is returned when a statement cannot be built from the given parameters.
var ErrInvalidStatement = errors.New("invalid RRSA trust statement")

// Statement is the trust statement that lets one service account (or a wildcard set of them)
// assume a role through a cluster's OIDC provider. Its JSON form is
//
//	{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":[OIDCProviderARN]},
//	 "Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com","oidc:iss":Issuer,
//	 "oidc:sub":"system:serviceaccount:NS:SA"}}}
//
// with oidc:sub under StringLike instead when the namespace or name contains a wildcard. This is
// exactly the statement ack-ram-tool writes for one association (for a "*" namespace or name it
// too moves oidc:sub to StringLike), so each tool recognises the other's statements.
type Statement struct {
	// OIDCProviderARN is the cluster's RAM OIDC provider, acs:ram::<account>:oidc-provider/<name>.
	OIDCProviderARN string
	// Issuer is the cluster's service account token issuer (the first of RRSAConfig.issuer).
	Issuer string
	// Namespace and ServiceAccount name the trusted service account; either may contain * or ?.
	Namespace, ServiceAccount string
}

// BuildStatement returns the trust statement for service account ns/sa of the cluster whose OIDC
// provider is oidcArn and whose token issuer is issuer.
func BuildStatement(oidcArn, issuer, ns, sa string) (Statement, error) {
	s := Statement{OIDCProviderARN: oidcArn, Issuer: issuer, Namespace: ns, ServiceAccount: sa}
	return s, s.Validate()
}

// Validate reports whether s has everything a trust statement needs.
func (s Statement) Validate() error {
	switch {
	case strings.TrimSpace(s.OIDCProviderARN) == "":
		return fmt.Errorf("%w: OIDC provider ARN is empty (is RRSA enabled for the cluster?)", ErrInvalidStatement)
	case !validProvider(s.OIDCProviderARN):
		return fmt.Errorf("%w: %q is not an OIDC provider ARN (acs:ram::<account>:oidc-provider/<name>)", ErrInvalidStatement, s.OIDCProviderARN)
	case strings.TrimSpace(s.Issuer) == "":
		return fmt.Errorf("%w: issuer is empty (is RRSA enabled for the cluster?)", ErrInvalidStatement)
	case s.Namespace == "" || s.ServiceAccount == "":
		return fmt.Errorf("%w: namespace and service account must not be empty", ErrInvalidStatement)
	case strings.Contains(s.Namespace, ":") || strings.Contains(s.ServiceAccount, ":"):
		return fmt.Errorf("%w: namespace and service account must not contain ':'", ErrInvalidStatement)
	}
	return nil
}

// Subject returns the oidc:sub value, system:serviceaccount:NS:SA.
func (s Statement) Subject() string { return Subject(s.Namespace, s.ServiceAccount) }

// Wildcard reports whether the subject is a pattern rather than one service account.
func (s Statement) Wildcard() bool { return isPattern(s.Subject()) }

// SubjectOperator returns the condition operator oidc:sub goes under: StringLike for patterns,
// StringEquals otherwise.
func (s Statement) SubjectOperator() string {
	if s.Wildcard() {
		return OperatorStringLike
	}
	return OperatorStringEquals
}

// MarshalJSON renders the statement as a RAM trust policy statement.
func (s Statement) MarshalJSON() ([]byte, error) {
	cond := map[string]map[string]any{
		OperatorStringEquals: {
			ConditionKeyAudience: Audience,
			ConditionKeyIssuer:   s.Issuer,
		},
	}
	if op := s.SubjectOperator(); op == OperatorStringEquals {
		cond[op][ConditionKeySubject] = s.Subject()
	} else {
		cond[op] = map[string]any{ConditionKeySubject: s.Subject()}
	}
	return json.Marshal(map[string]any{
		"Action":    ActionAssumeRole,
		"Effect":    "Allow",
		"Principal": map[string]any{"Federated": []string{s.OIDCProviderARN}},
		"Condition": cond,
	})
}

// Subject returns the oidc:sub claim of service account ns/sa.
func Subject(ns, sa string) string { return SubjectPrefix + ns + ":" + sa }

func validProvider(s string) bool {
	_, err := arn.ParseOIDCProvider(s)
	return err == nil
}

func isPattern(s string) bool { return strings.ContainsAny(s, "*?") }

// ServiceAccountRef names a service account (or, with Wildcard, a pattern of them) that a trust
// policy trusts.
type ServiceAccountRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Wildcard is true when Namespace or Name is a StringLike pattern.
	Wildcard bool `json:"wildcard,omitempty"`
}

// String returns NS/NAME.
func (r ServiceAccountRef) String() string { return r.Namespace + "/" + r.Name }
