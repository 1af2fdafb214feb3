package arn_test

import (
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in        string
		want      arn.ARN
		canonical string
		err       bool
	}{
		{in: "acs:ram::123:user/alice", want: arn.ARN{AccountID: "123", Type: "user", Name: "alice"}, canonical: "acs:ram::123:user/alice"},
		{in: "acs:ram::123:role/Admin", want: arn.ARN{AccountID: "123", Type: "role", Name: "Admin"}, canonical: "acs:ram::123:role/Admin"},
		{in: "acs:ram::123:Role/Admin", want: arn.ARN{AccountID: "123", Type: "role", Name: "Admin"}, canonical: "acs:ram::123:role/Admin"},
		{in: "ACS:RAM::123:ROLE/admin", want: arn.ARN{AccountID: "123", Type: "role", Name: "admin"}, canonical: "acs:ram::123:role/admin"},
		{in: "acs:ram::123:role/path/to/admin", want: arn.ARN{AccountID: "123", Type: "role", Name: "path/to/admin"}, canonical: "acs:ram::123:role/path/to/admin"},
		{in: "acs:ram::123:root", want: arn.ARN{AccountID: "123", Type: "root"}, canonical: "acs:ram::123:root"},
		{in: "acs:ram::123:assumed-role/dev/bob@example.com", want: arn.ARN{AccountID: "123", Type: "assumed-role", Name: "dev", Session: "bob@example.com"}, canonical: "acs:ram::123:role/dev"},
		{in: "acs:ram::123:assumed-role/path/dev/s1", want: arn.ARN{AccountID: "123", Type: "assumed-role", Name: "path/dev", Session: "s1"}, canonical: "acs:ram::123:role/path/dev"},
		{in: "", err: true},
		{in: "arn:aws:iam::123:role/x", err: true},
		{in: "acs:ram::abc:role/x", err: true},
		{in: "acs:ram:::role/x", err: true},
		{in: "acs:ram::123", err: true},
		{in: "acs:ram::123:role", err: true},
		{in: "acs:ram::123:role/", err: true},
		{in: "acs:ram::123:role/a//b", err: true},
		{in: "acs:ram::123:group/x", err: true},
		{in: "acs:ram::123:assumed-role/dev", err: true},
		{in: "acs:ram::123:assumed-role/dev/", err: true},
		{in: "acs:ram::123:oidc-provider/x", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := arn.Parse(tc.in)
			if tc.err {
				if err == nil || !errors.Is(err, arn.ErrInvalid) {
					t.Fatalf("Parse = %+v, %v; want ErrInvalid", got, err)
				}
				if _, err := arn.Canonicalize(tc.in); err == nil {
					t.Error("Canonicalize accepted")
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Parse = %+v, %v; want %+v", got, err, tc.want)
			}
			c, err := arn.Canonicalize(tc.in)
			if err != nil || c != tc.canonical {
				t.Errorf("Canonicalize = %q, %v; want %q", c, err, tc.canonical)
			}
			// String round-trips through Parse.
			again, err := arn.Parse(got.String())
			if err != nil || again != got {
				t.Errorf("round trip %q → %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"acs:ram::1:role/Admin", "acs:ram::1:role/admin", true},
		{"acs:ram::1:assumed-role/admin/s", "ACS:RAM::1:Role/ADMIN", true},
		{"acs:ram::1:role/admin", "acs:ram::2:role/admin", false},
		{"acs:ram::1:user/admin", "acs:ram::1:role/admin", false},
		{"acs:ram::1:root", "acs:ram::1:ROOT", true},
		{"not an arn", "NOT AN ARN", true},
		{"acs:ram::1:role/a", "acs:ram::1:role/ab", false},
	}
	for _, tc := range tests {
		if got := arn.Equal(tc.a, tc.b); got != tc.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"acs:ram::1:role/admin", "acs:ram::1:role/admin", true},
		{"acs:ram::1:role/ADMIN", "acs:ram::1:role/admin", true},
		{"acs:ram::1:role/admin", "acs:ram::1:role/admin2", false},
		{"acs:ram::1:role/*", "acs:ram::1:role/admin", true},
		{"acs:ram::1:role/*", "acs:ram::1:role/path/admin", true}, // "*" crosses "/" (unlike path.Match)
		{"acs:ram::1:role/*", "acs:ram::1:user/admin", false},
		{"acs:ram::*:role/dev-*", "acs:ram::42:role/dev-team", true},
		{"acs:ram::*:role/dev-*", "acs:ram::42:role/ops-team", false},
		{"acs:ram::1:role/dev-?", "acs:ram::1:role/dev-a", true},
		{"acs:ram::1:role/dev-?", "acs:ram::1:role/dev-ab", false},
		{"acs:ram::1:role/dev-?", "acs:ram::1:role/dev-", false},
		{"acs:ram::1:role/*-admin", "acs:ram::1:role/x-admin-admin", true},
		{"acs:ram::1:role/*a*b*c", "acs:ram::1:role/xaybzc", true},
		{"acs:ram::1:role/*a*b*c", "acs:ram::1:role/xaybz", false},
		{"*", "", true},
		{"", "", true},
		{"?", "", false},
		{"", "x", false},
		{"acs:ram::1:role/a", "prefix-acs:ram::1:role/a", false}, // anchored at the start
		{"acs:ram::1:role/a", "acs:ram::1:role/a-suffix", false}, // anchored at the end
		{"acs:ram::1:role/[ab]", "acs:ram::1:role/a", false},     // no character classes
		{"acs:ram::1:role/[ab]", "acs:ram::1:role/[AB]", true},
		{"acs:ram::1:role/.*", "acs:ram::1:role/x", false}, // not a regexp
		{"acs:ram::1:role/é?", "acs:ram::1:role/Éx", true},
		{"acs:ram::1:role/k", "acs:ram::1:role/\u212a", true}, // Kelvin sign folds to k, like EqualFold
	}
	for _, tc := range tests {
		if got := arn.Match(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
	// Documented reason not to use path.Match.
	if ok, _ := path.Match("acs:ram::1:role/*", "acs:ram::1:role/path/admin"); ok {
		t.Error("path.Match crossed a slash; the comment in Match is wrong")
	}
}

func TestIsGlob(t *testing.T) {
	for s, want := range map[string]bool{"acs:ram::1:role/*": true, "acs:ram::?:root": true, "acs:ram::1:role/a": false} {
		if arn.IsGlob(s) != want {
			t.Errorf("IsGlob(%q) != %v", s, want)
		}
	}
}

func TestValidatePattern(t *testing.T) {
	tests := []struct {
		in  string
		err string
	}{
		{in: "acs:ram::123:role/admin"},
		{in: "acs:ram::123:role/*"},
		{in: "acs:ram::*:role/dev-*"},
		{in: "acs:ram::12?:user/bob"},
		{in: "acs:ram::123:root"},
		{in: "ACS:RAM::123:Role/Admin"},
		{in: "acs:ram::123:role/path/admin"},
		{in: "arn:aws:iam::123:role/x", err: "must start"},
		{in: "acs:ram::abc:role/x", err: "digits"},
		{in: "acs:ram:::role/x", err: "empty account"},
		{in: "acs:ram::123", err: "missing resource"},
		{in: "acs:ram::123:*", err: "resource must be"},
		{in: "acs:ram::123:group/x", err: "unknown resource type"},
		{in: "acs:ram::123:*/x", err: "unknown resource type"},
		{in: "acs:ram::123:assumed-role/x/s", err: "assumed-role"},
		{in: "acs:ram::123:role/", err: "empty name"},
		{in: "acs:ram::123:role/a b", err: "white space"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			err := arn.ValidatePattern(tc.in)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("ValidatePattern: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, arn.ErrInvalid) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

// FuzzMatch checks the matcher against simple properties: no panics, every string matches itself
// and "*", literal patterns match exactly the case-folded equal strings, and a pattern made by
// replacing characters of s with "?" or "*" still matches s.
func FuzzMatch(f *testing.F) {
	f.Add("acs:ram::1:role/*", "acs:ram::1:role/admin", uint8(3))
	f.Add("*a*b?", "xxaybz", uint8(0))
	f.Add("", "", uint8(1))
	f.Add("é?k", "ÉxK", uint8(7))
	f.Fuzz(func(t *testing.T, pattern, s string, seed uint8) {
		_ = arn.Match(pattern, s)
		if !arn.Match("*", s) {
			t.Fatalf("* does not match %q", s)
		}
		if !arn.IsGlob(s) && !arn.Match(s, s) {
			t.Fatalf("%q does not match itself", s)
		}
		if !arn.IsGlob(pattern) && arn.Match(pattern, s) != strings.EqualFold(pattern, s) && isASCII(pattern+s) {
			t.Fatalf("literal Match(%q, %q) disagrees with EqualFold", pattern, s)
		}
		if !isASCII(s) || arn.IsGlob(s) {
			return
		}
		b := []byte(s)
		for i := range b {
			switch (int(seed) + i) % 5 {
			case 0:
				b[i] = '?'
			case 1:
				b[i] = '*'
			}
		}
		if !arn.Match(string(b), s) {
			t.Fatalf("generalised pattern %q does not match %q", b, s)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestPatternType(t *testing.T) {
	tests := map[string]string{
		"acs:ram::123:role/dev":         "role",
		"acs:ram::123:ROLE/*":           "role",
		"acs:ram::*:user/a?":            "user",
		"acs:ram::123:root":             "root",
		"acs:ram::123:assumed-role/r/s": "assumed-role",
		"arn:aws:iam::1:role/x":         "role",
		"acs:ram:123:role/x":            "",
		"not an arn":                    "",
		"acs:ram::123":                  "",
	}
	for in, want := range tests {
		if got := arn.PatternType(in); got != want {
			t.Errorf("PatternType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAccountIsGlob(t *testing.T) {
	tests := []struct {
		pattern string
		want    bool
	}{
		{"acs:ram::*:role/dev", true},
		{"acs:ram::12?:user/bob", true},
		{"acs:ram::1234*:root", true},
		{"ACS:RAM::*:root", true},
		{"acs:ram::123:role/*", false},
		{"acs:ram::123:user/a?b", false},
		{"acs:ram::123:root", false},
		{"acs:ram::123:role/path/*:x", false},
	}
	for _, tc := range tests {
		if got := arn.AccountIsGlob(tc.pattern); got != tc.want {
			t.Errorf("AccountIsGlob(%q) = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}
