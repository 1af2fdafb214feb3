package arn

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CanonicalKey is the comparison key of a mapping ARN or ARN pattern: two of them name the same
// identity (or are the same pattern) exactly when their keys are equal, which is what Equal
// reports. It is the one answer to "same mapping ARN?" for ack-map's duplicate checks and derived
// names and for the status.canonicalARN that ack-ram-authenticator writes.
//
//   - Surrounding white space is ignored.
//   - A plain ARN is canonicalised: an assumed-role ARN becomes its role ARN, and the prefix and
//     resource type are normalised.
//   - A glob is kept as written: its text is its meaning, and no canonical ARN carries a session
//     (an assumed-role glob matches nothing, so it is not the same as its role).
//   - Anything that does not parse is compared as written.
//   - Letters are case-folded the way Match and strings.EqualFold fold them (so "K" and the Kelvin
//     sign, or "s" and "ſ", give one key), lower case where a lower-case form exists.
func CanonicalKey(s string) string {
	s = strings.TrimSpace(s)
	if !IsGlob(s) {
		if c, err := Canonicalize(s); err == nil {
			s = c
		}
	}
	return foldKey(s)
}

// foldKey maps every rune of s to one representative of its case-folding orbit.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune returns the representative of r's simple case-folding orbit (the runes
// unicode.SimpleFold cycles through, which is what EqualFold and Match compare): its smallest
// lower-case member, else its smallest member. Being a function of the orbit, two runes get
// the same representative exactly when they fold to each other.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return lowerASCII(r)
	}
	least, lower := r, rune(-1)
	for f := r; ; {
		least = min(least, f)
		if unicode.IsLower(f) && (lower < 0 || f < lower) {
			lower = f
		}
		if f = unicode.SimpleFold(f); f == r {
			break
		}
	}
	if lower >= 0 {
		return lower
	}
	return least
}
