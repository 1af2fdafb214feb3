package arn_test

import (
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

func TestCompareOfficial(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		reading arn.Reading
		differs bool
		// want* are the exact shortest examples, or "-" for "must be empty", or "" for "any".
		wantOfficialOnly string
		wantOursOnly     string
	}{
		// No wildcard: both servers compare for equality.
		{name: "plain ARN, CRD", pattern: "acs:ram::123:role/dev", reading: arn.ReadingRegexp},
		{name: "plain ARN with a dot, CRD", pattern: "acs:ram::123:role/team.a", reading: arn.ReadingRegexp},
		{name: "plain ARN, file", pattern: "acs:ram::123:user/Alice", reading: arn.ReadingExact},
		// "team-*" is the regexp "team" followed by any number of "-", matched anywhere: it
		// also catches teamlead, while every name ours matches starts with "team-".
		{name: "team-*, CRD", pattern: "acs:ram::123:role/team-*", reading: arn.ReadingRegexp, differs: true,
			wantOfficialOnly: "acs:ram::123:role/team", wantOursOnly: "-"},
		// "role/*" as a regexp is "role" then any number of "/", anywhere: every role of the
		// account, which is exactly what the glob means.
		{name: "role/*, CRD, same set", pattern: "acs:ram::123:role/*", reading: arn.ReadingRegexp},
		// The regexp is unanchored: account 1234 contains "acs:ram::123".
		{name: "account prefix, CRD", pattern: "acs:ram::123:*", reading: arn.ReadingRegexp, differs: true,
			wantOursOnly: "-"},
		// "." matches any character in the official reading.
		{name: "dot, CRD", pattern: "acs:ram::123:role/team.a*", reading: arn.ReadingRegexp, differs: true,
			wantOursOnly: "-"},
		// "?" makes the character before it optional there; here it is one character here.
		{name: "question mark, CRD", pattern: "acs:ram::123:user/?lice", reading: arn.ReadingRegexp, differs: true,
			wantOfficialOnly: "acs:ram::123:user/lice", wantOursOnly: "acs:ram::123:user/alice"},
		// "::*:" is "::" with the second colon repeated: no account digits fit, so the official
		// server maps nobody with it.
		{name: "any account, CRD", pattern: "acs:ram::*:role/admin", reading: arn.ReadingRegexp, differs: true,
			wantOfficialOnly: "-", wantOursOnly: "acs:ram::0:role/admin"},
		// The official file and ConfigMap backends compare literally: a glob matches nobody.
		{name: "glob in a file", pattern: "acs:ram::123:role/ops-*", reading: arn.ReadingExact, differs: true,
			wantOfficialOnly: "-", wantOursOnly: "acs:ram::123:role/ops-"},
		// A pattern that is not a valid regexp matches nothing on the official server.
		{name: "invalid regexp, CRD", pattern: "acs:ram::123:role/a**", reading: arn.ReadingRegexp, differs: true,
			wantOfficialOnly: "-", wantOursOnly: "acs:ram::123:role/a"},
		// Case does not matter to either reading.
		{name: "upper case, CRD", pattern: "ACS:RAM::123:ROLE/*", reading: arn.ReadingRegexp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, differs := arn.CompareOfficial(tc.pattern, tc.reading)
			if differs != tc.differs || d.Undecided {
				t.Fatalf("CompareOfficial(%q) = %+v, differs %v; want differs %v", tc.pattern, d, differs, tc.differs)
			}
			check := func(what, got, want string, official bool) {
				switch want {
				case "":
				case "-":
					if got != "" {
						t.Errorf("%s = %q, want none", what, got)
					}
					return
				default:
					if got != want {
						t.Errorf("%s = %q, want %q", what, got, want)
					}
				}
				if got == "" {
					return
				}
				// Every example must be a real identity that exactly one reading matches.
				if _, err := arn.Parse(got); err != nil {
					t.Errorf("%s %q is not an identity ARN: %v", what, got, err)
				}
				if ours, theirs := arn.Match(tc.pattern, got), arn.MatchOfficial(tc.pattern, tc.reading, got); ours == official || theirs != official {
					t.Errorf("%s %q: ours %v, official %v", what, got, ours, theirs)
				}
			}
			check("OfficialOnly", d.OfficialOnly, tc.wantOfficialOnly, true)
			check("OursOnly", d.OursOnly, tc.wantOursOnly, false)
			if tc.differs && d.OfficialOnly == "" && d.OursOnly == "" {
				t.Error("differs without an example")
			}
		})
	}
}

func TestMatchOfficial(t *testing.T) {
	tests := []struct {
		pattern, arn string
		reading      arn.Reading
		want         bool
	}{
		{"acs:ram::123:role/team-*", "acs:ram::123:role/teamlead", arn.ReadingRegexp, true},
		{"acs:ram::123:role/team-*", "acs:ram::123:role/teamlead", arn.ReadingExact, false},
		{"acs:ram::123:role/team-*", "acs:ram::123:role/team-*", arn.ReadingExact, true},
		{"acs:ram::123:role/Dev", "ACS:RAM::123:ROLE/dev", arn.ReadingExact, true},
		{"acs:ram::123:role/dev", "acs:ram::123:role/dev2", arn.ReadingRegexp, false},
		{"acs:ram::123:role/a**", "acs:ram::123:role/a", arn.ReadingRegexp, false},
	}
	for _, tc := range tests {
		if got := arn.MatchOfficial(tc.pattern, tc.reading, tc.arn); got != tc.want {
			t.Errorf("MatchOfficial(%q, %v, %q) = %v, want %v", tc.pattern, tc.reading, tc.arn, got, tc.want)
		}
	}
	if !strings.Contains(arn.ReadingRegexp.String(), "regular expression") {
		t.Errorf("ReadingRegexp.String() = %q", arn.ReadingRegexp.String())
	}
}

func BenchmarkCompareOfficial(b *testing.B) {
	for b.Loop() {
		if _, differs := arn.CompareOfficial("acs:ram::123456789012:role/team-*-admin?", arn.ReadingRegexp); !differs {
			b.Fatal("no difference")
		}
	}
}
