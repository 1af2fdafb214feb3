package arn

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsGlob reports whether s contains a wildcard ("*" or "?").
func IsGlob(s string) bool { return strings.ContainsAny(s, "*?") }

// Match reports whether canonicalARN matches pattern, anchored at both ends and
// case-insensitively. "*" matches any run of characters (including "/" and ":") and "?" exactly
// one character; every other character matches itself.
//
// It is a small iterative matcher on purpose: regular expressions would make every mapping a
// potential ReDoS or escaping bug in the authentication path, and path.Match treats "/" specially
// ("*" stops at "/", so "acs:ram::1:role/*" would not match a role with a path) and has "[...]"
// and "\" syntax that ARNs must not trigger. The matcher runs in O(len(pattern)*len(arn)) worst
// case with no allocation.
func Match(pattern, canonicalARN string) bool { return glob(pattern, canonicalARN, foldEqual) }

// MatchCase is Match with case-sensitive comparison, as policy StringLike conditions compare
// (for example an RRSA trust statement's oidc:sub pattern).
func MatchCase(pattern, s string) bool {
	return glob(pattern, s, func(a, b rune) bool { return a == b })
}

// glob is the anchored "*"/"?" matcher behind Match and MatchCase; eq compares two runes.
func glob(pattern, str string, eq func(a, b rune) bool) bool {
	p, s := pattern, str
	// Backtracking point: position after the last "*" in p and the position in s it matched up to.
	starP, starS := -1, -1
	pi, si := 0, 0
	for si < len(s) {
		if pi < len(p) {
			pr, pw := utf8.DecodeRuneInString(p[pi:])
			sr, sw := utf8.DecodeRuneInString(s[si:])
			switch {
			case pr == '*':
				starP, starS = pi+pw, si
				pi += pw
				continue
			case pr == '?' || eq(pr, sr):
				pi += pw
				si += sw
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last "*" swallow one more character and retry from just after it.
		_, sw := utf8.DecodeRuneInString(s[starS:])
		starS += sw
		pi, si = starP, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// foldEqual compares two runes under simple Unicode case folding (as strings.EqualFold does).
func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return lowerASCII(a) == lowerASCII(b)
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

func lowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// ValidatePattern checks a mapping ARN or ARN pattern: it must start with "acs:ram::", the
// account must be digits (wildcards allowed), and the resource must be "root", "user/<name>" or
// "role/<name>" (wildcards allowed in the name). Assumed-role ARNs are refused because mappings
// are matched against canonical ARNs, where sessions never appear: map the role instead.
func ValidatePattern(s string) error {
	if len(s) < len(Prefix) || !strings.EqualFold(s[:len(Prefix)], Prefix) {
		return fmt.Errorf("%w %q: must start with %q", ErrInvalid, s, Prefix)
	}
	acct, res, ok := strings.Cut(s[len(Prefix):], ":")
	if !ok {
		return fmt.Errorf("%w %q: missing resource after the account id", ErrInvalid, s)
	}
	if acct == "" {
		return fmt.Errorf("%w %q: empty account id", ErrInvalid, s)
	}
	for _, c := range acct {
		if (c < '0' || c > '9') && c != '*' && c != '?' {
			return fmt.Errorf("%w %q: account id must be digits or a glob of digits", ErrInvalid, s)
		}
	}
	if strings.EqualFold(res, TypeRoot) {
		return nil
	}
	typ, name, ok := strings.Cut(res, "/")
	if !ok {
		return fmt.Errorf("%w %q: resource must be root, user/<name> or role/<name>", ErrInvalid, s)
	}
	switch strings.ToLower(typ) {
	case TypeUser, TypeRole:
	case TypeAssumedRole:
		return fmt.Errorf("%w %q: assumed-role ARNs are matched as their role; use acs:ram::<account>:role/<name>", ErrInvalid, s)
	default:
		return fmt.Errorf("%w %q: unknown resource type %q (want root, user or role)", ErrInvalid, s, typ)
	}
	if err := checkSegments(name); err != nil {
		return fmt.Errorf("%w %q: %v", ErrInvalid, s, err)
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("%w %q: contains white space or control characters", ErrInvalid, s)
		}
	}
	return nil
}

// AccountIsGlob reports whether the account id of an ARN pattern has a wildcard ("*" or "?"), so
// that the pattern matches identities of more than one Alibaba Cloud account, including accounts
// its author does not control. Mappings must opt in to such patterns explicitly.
func AccountIsGlob(pattern string) bool {
	if len(pattern) < len(Prefix) || !strings.EqualFold(pattern[:len(Prefix)], Prefix) {
		return IsGlob(pattern)
	}
	acct, _, _ := strings.Cut(pattern[len(Prefix):], ":")
	return IsGlob(acct)
}

// PatternType returns the lower-case resource type of an ARN or ARN pattern ("user", "role",
// "root", ...), or "" when it has none. Unlike Parse it accepts globs, so configuration checks
// can tell a role pattern from a user pattern before matching.
func PatternType(pattern string) string {
	_, rest, ok := strings.Cut(pattern, "::")
	if !ok {
		return ""
	}
	_, res, ok := strings.Cut(rest, ":")
	if !ok {
		return ""
	}
	typ, _, _ := strings.Cut(res, "/")
	return strings.ToLower(typ)
}
