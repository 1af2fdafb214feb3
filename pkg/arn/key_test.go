package arn_test

import (
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// TestCanonicalKey covers the inputs on which the two earlier copies of this key disagreed —
// pkg/mapper/crd.CanonicalPattern (status.canonicalARN) and plugins/mapping.canonicalKey
// (ack-map's duplicate checks and derived names) — and the inputs both already agreed on.
func TestCanonicalKey(t *testing.T) {
	tests := []struct {
		name, in, want string
		// crdWas and mapWas are what the two copies returned where they disagreed.
		crdWas, mapWas string
	}{
		{name: "plain role", in: "acs:ram::1:role/Dev", want: "acs:ram::1:role/dev"},
		{name: "assumed role is its role", in: "ACS:RAM::1:Assumed-Role/Dev/alice", want: "acs:ram::1:role/dev"},
		{name: "root", in: " acs:ram::1:ROOT\n", want: "acs:ram::1:root"},
		{name: "glob in the name", in: "acs:ram::1:ROLE/ops-*", want: "acs:ram::1:role/ops-*"},
		{name: "glob in the account", in: "acs:ram::*:role/Admin", want: "acs:ram::*:role/admin"},
		{name: "account not digits", in: "acs:ram::not-digits:role/x", want: "acs:ram::not-digits:role/x",
			crdWas: "", mapWas: "acs:ram::not-digits:role/x"},
		{name: "empty path segment", in: "acs:ram::1:role/dev/", want: "acs:ram::1:role/dev/",
			crdWas: "", mapWas: "acs:ram::1:role/dev/"},
		{name: "not an ARN", in: "Not An ARN", want: "not an arn", crdWas: "", mapWas: "not an arn"},
		// An assumed-role glob parses, so one copy canonicalised it to its role and called it a
		// duplicate of the role's mapping; it matches no canonical ARN, so it is not the role.
		{name: "assumed-role glob", in: "acs:ram::1:assumed-role/Dev/*", want: "acs:ram::1:assumed-role/dev/*",
			crdWas: "acs:ram::1:assumed-role/dev/*", mapWas: "acs:ram::1:role/dev"},
		// strings.ToLower leaves "ſ" (long s) alone, but Match and EqualFold fold it to "s": both
		// copies gave "ſam" a key of its own although the server maps it as "sam".
		{name: "long s folds to s", in: "acs:ram::1:user/ſam", want: "acs:ram::1:user/sam",
			crdWas: "acs:ram::1:user/ſam", mapWas: "acs:ram::1:user/ſam"},
		{name: "Kelvin sign folds to k", in: "acs:ram::1:user/\u212aate", want: "acs:ram::1:user/kate"},
		{name: "non-ASCII lower case", in: "acs:ram::1:user/ÉMILE", want: "acs:ram::1:user/émile"},
		// No lower-case form in its folding orbit: kept, so that it equals no "i".
		{name: "dotted capital I", in: "acs:ram::1:user/\u0130", want: "acs:ram::1:user/\u0130"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := arn.CanonicalKey(tt.in); got != tt.want {
				t.Fatalf("CanonicalKey(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tt.crdWas != tt.mapWas && tt.crdWas != tt.want && tt.mapWas != tt.want {
				t.Errorf("the table says neither earlier copy was right for %q", tt.in)
			}
		})
	}
}

// TestCanonicalKeyAgreesWithEqualAndMatch: two mapping ARNs share a key exactly when Equal says
// they name one identity and, for plain ARNs, when a mapping written with one matches the other.
func TestCanonicalKeyAgreesWithEqualAndMatch(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"acs:ram::1:role/admin", "ACS:RAM::1:Role/ADMIN", true},
		{"acs:ram::1:assumed-role/admin/s", "acs:ram::1:role/admin", true},
		{"acs:ram::1:user/sam", "acs:ram::1:user/ſam", true},
		{"acs:ram::1:user/kate", "acs:ram::1:user/\u212aate", true},
		{"acs:ram::1:user/i", "acs:ram::1:user/\u0130", false},
		{"acs:ram::1:assumed-role/dev/*", "acs:ram::1:role/dev", false},
		{"acs:ram::x:role/a", "acs:ram::y:role/a", false},
		{"acs:ram::1:role/a", "acs:ram::1:role/ab", false},
		{"acs:ram::1:role/a", "acs:ram::2:role/a", false},
	}
	for _, tt := range tests {
		ka, kb := arn.CanonicalKey(tt.a), arn.CanonicalKey(tt.b)
		if (ka == kb) != tt.same || arn.Equal(tt.a, tt.b) != tt.same {
			t.Errorf("%q vs %q: keys %q %q, Equal %v; want same=%v", tt.a, tt.b, ka, kb, arn.Equal(tt.a, tt.b), tt.same)
		}
		ca, errA := arn.Canonicalize(tt.a)
		cb, errB := arn.Canonicalize(tt.b)
		if errA == nil && errB == nil && !strings.ContainsAny(tt.a+tt.b, "*?") && arn.Match(ca, cb) != tt.same {
			t.Errorf("Match(%q, %q) = %v, but the keys say same=%v", ca, cb, arn.Match(ca, cb), tt.same)
		}
	}
}
