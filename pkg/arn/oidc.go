package arn

import (
	"fmt"
	"strings"
)

// TypeOIDCProvider is the resource type of a RAM OIDC identity provider ARN,
// acs:ram::<account>:oidc-provider/<name>, such as an ACK cluster's RRSA provider.
//
// Parse does not accept it: OIDC providers are never callers, so the identity paths (token
// verification, mappings) keep refusing them. Use ParseOIDCProvider.
const TypeOIDCProvider = "oidc-provider"

// Role returns the ARN of role name in account.
func Role(account, name string) ARN { return ARN{AccountID: account, Type: TypeRole, Name: name} }

// OIDCProvider returns the ARN of OIDC provider name in account.
func OIDCProvider(account, name string) ARN {
	return ARN{AccountID: account, Type: TypeOIDCProvider, Name: name}
}

// ParseOIDCProvider parses acs:ram::<account>:oidc-provider/<name>. The prefix and the type are
// matched case-insensitively, the account id must be digits and the name non-empty.
func ParseOIDCProvider(s string) (ARN, error) {
	if len(s) < len(Prefix) || !strings.EqualFold(s[:len(Prefix)], Prefix) {
		return ARN{}, fmt.Errorf("%w %q: must start with %q", ErrInvalid, s, Prefix)
	}
	acct, res, ok := strings.Cut(s[len(Prefix):], ":")
	if !ok || !isDigits(acct) {
		return ARN{}, fmt.Errorf("%w %q: want acs:ram::<account id>:oidc-provider/<name>", ErrInvalid, s)
	}
	typ, name, ok := strings.Cut(res, "/")
	if !ok || !strings.EqualFold(typ, TypeOIDCProvider) || name == "" || strings.Contains(name, "/") {
		return ARN{}, fmt.Errorf("%w %q: want acs:ram::<account id>:oidc-provider/<name>", ErrInvalid, s)
	}
	return OIDCProvider(acct, name), nil
}

// ParseRole parses a role ARN, acs:ram::<account>:role/<name> (the name may carry a path).
func ParseRole(s string) (ARN, error) {
	a, err := Parse(s)
	if err != nil {
		return ARN{}, err
	}
	if a.Type != TypeRole {
		return ARN{}, fmt.Errorf("%w %q: want a role ARN, acs:ram::<account id>:role/<name>, not a %s ARN", ErrInvalid, s, a.Type)
	}
	return a, nil
}
