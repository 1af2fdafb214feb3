// Package arn parses, canonicalises and matches Alibaba Cloud RAM ARNs.
//
// Supported forms:
//
//	acs:ram::<account>:user/<name>
//	acs:ram::<account>:role/<name>            (the name may carry a path: role/path/name)
//	acs:ram::<account>:root
//	acs:ram::<account>:assumed-role/<role>/<session>
//
// An assumed-role ARN canonicalises to the ARN of its role, so that a mapping written for a role
// matches every session of it. Comparison is case-insensitive (RAM names are case-insensitive and
// STS reports assumed-role names in lower case), so nothing is lower-cased on output: callers
// compare with Equal or Match.
package arn

import (
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every RAM ARN.
const Prefix = "acs:ram::"

// Resource types of RAM ARNs.
const (
	TypeUser        = "user"
	TypeRole        = "role"
	TypeRoot        = "root"
	TypeAssumedRole = "assumed-role"
)

// ErrInvalid is wrapped by every parse and validation error of this package.
var ErrInvalid = errors.New("invalid RAM ARN")

// ARN is a parsed RAM ARN.
type ARN struct {
	// AccountID is the Alibaba Cloud account id (digits).
	AccountID string
	// Type is one of TypeUser, TypeRole, TypeRoot, TypeAssumedRole (always lower case).
	Type string
	// Name is the user or role name; for roles it may include a path ("path/name"); empty for root.
	Name string
	// Session is the role session name of an assumed-role ARN, empty otherwise.
	Session string
}

// Parse parses a RAM ARN. The "acs:ram::" prefix and the resource type are matched
// case-insensitively; the account id must be digits and names must be non-empty.
func Parse(s string) (ARN, error) {
	if len(s) < len(Prefix) || !strings.EqualFold(s[:len(Prefix)], Prefix) {
		return ARN{}, fmt.Errorf("%w %q: must start with %q", ErrInvalid, s, Prefix)
	}
	rest := s[len(Prefix):]
	acct, res, ok := strings.Cut(rest, ":")
	if !ok {
		return ARN{}, fmt.Errorf("%w %q: missing resource after the account id", ErrInvalid, s)
	}
	if !isDigits(acct) {
		return ARN{}, fmt.Errorf("%w %q: account id must be digits", ErrInvalid, s)
	}
	if strings.EqualFold(res, TypeRoot) {
		return ARN{AccountID: acct, Type: TypeRoot}, nil
	}
	typ, name, ok := strings.Cut(res, "/")
	if !ok {
		return ARN{}, fmt.Errorf("%w %q: resource must be root, user/<name>, role/<name> or assumed-role/<role>/<session>", ErrInvalid, s)
	}
	if err := checkSegments(name); err != nil {
		return ARN{}, fmt.Errorf("%w %q: %v", ErrInvalid, s, err)
	}
	switch strings.ToLower(typ) {
	case TypeUser:
		return ARN{AccountID: acct, Type: TypeUser, Name: name}, nil
	case TypeRole:
		return ARN{AccountID: acct, Type: TypeRole, Name: name}, nil
	case TypeAssumedRole:
		// Session names cannot contain "/", so the session is the last segment and everything
		// before it is the role (with any path).
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return ARN{}, fmt.Errorf("%w %q: assumed-role needs <role>/<session>", ErrInvalid, s)
		}
		return ARN{AccountID: acct, Type: TypeAssumedRole, Name: name[:i], Session: name[i+1:]}, nil
	}
	return ARN{}, fmt.Errorf("%w %q: unknown resource type %q", ErrInvalid, s, typ)
}

// checkSegments rejects empty names and empty path segments ("a//b", trailing "/").
func checkSegments(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" {
			return errors.New("empty path segment")
		}
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats the ARN with the canonical "acs:ram::" prefix and lower-case type.
func (a ARN) String() string {
	switch a.Type {
	case TypeRoot:
		return Prefix + a.AccountID + ":" + TypeRoot
	case TypeAssumedRole:
		return Prefix + a.AccountID + ":" + TypeAssumedRole + "/" + a.Name + "/" + a.Session
	}
	return Prefix + a.AccountID + ":" + a.Type + "/" + a.Name
}

// Canonical returns the ARN that mappings are matched against: the role ARN for an assumed
// role, the ARN itself otherwise.
func (a ARN) Canonical() ARN {
	if a.Type == TypeAssumedRole {
		return ARN{AccountID: a.AccountID, Type: TypeRole, Name: a.Name}
	}
	return a
}

// Canonicalize parses s and returns its canonical form (assumed-role → role, normalised prefix
// and type). Name case is preserved: compare results with Equal.
func Canonicalize(s string) (string, error) {
	a, err := Parse(s)
	if err != nil {
		return "", err
	}
	return a.Canonical().String(), nil
}

// Equal reports whether a and b name the same canonical identity, ignoring case: their
// CanonicalKeys are equal. Unparseable input is compared as plain text (case-insensitively), so
// Equal never errors.
func Equal(a, b string) bool {
	return CanonicalKey(a) == CanonicalKey(b)
}
