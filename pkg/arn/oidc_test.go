package arn_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

func TestParseOIDCProvider(t *testing.T) {
	tests := []struct {
		in   string
		want arn.ARN
		err  bool
	}{
		{in: "acs:ram::123:oidc-provider/ack-rrsa-c1", want: arn.OIDCProvider("123", "ack-rrsa-c1")},
		{in: "ACS:RAM::123:OIDC-Provider/ack-rrsa-c1", want: arn.OIDCProvider("123", "ack-rrsa-c1")},
		{in: "acs:ram::123:role/x", err: true},
		{in: "acs:ram::abc:oidc-provider/x", err: true},
		{in: "acs:ram::123:oidc-provider/", err: true},
		{in: "acs:ram::123:oidc-provider/a/b", err: true},
		{in: "acs:ram::123:oidc-provider", err: true},
		{in: "acs:ram::123", err: true},
		{in: "", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := arn.ParseOIDCProvider(tc.in)
			if tc.err {
				if !errors.Is(err, arn.ErrInvalid) {
					t.Fatalf("ParseOIDCProvider = %+v, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseOIDCProvider = %+v, %v; want %+v", got, err, tc.want)
			}
			if s := got.String(); s != "acs:ram::123:oidc-provider/ack-rrsa-c1" {
				t.Errorf("String = %q", s)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    arn.ARN
		wantErr string
	}{
		{in: "acs:ram::123:role/app", want: arn.Role("123", "app")},
		{in: "acs:ram::123:role/path/app", want: arn.Role("123", "path/app")},
		{in: "acs:ram::123:user/bob", wantErr: "not a user ARN"},
		{in: "app", wantErr: "must start with"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := arn.ParseRole(tc.in)
			if tc.wantErr != "" {
				if !errors.Is(err, arn.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseRole = %+v, %v; want %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want || got.String() != tc.in {
				t.Fatalf("ParseRole = %+v (%s), %v; want %+v", got, got, err, tc.want)
			}
		})
	}
}

func TestMatchCase(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"system:serviceaccount:team:*", "system:serviceaccount:team:app", true},
		{"system:serviceaccount:*:app", "system:serviceaccount:a/b:app", true},
		{"system:serviceaccount:team:?pp", "system:serviceaccount:team:app", true},
		{"system:serviceaccount:Team:*", "system:serviceaccount:team:app", false},
		{"system:serviceaccount:team:app", "system:serviceaccount:team:app", true},
		{"system:serviceaccount:team:app", "system:serviceaccount:team:apps", false},
	}
	for _, tc := range tests {
		if got := arn.MatchCase(tc.pattern, tc.s); got != tc.want {
			t.Errorf("MatchCase(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
