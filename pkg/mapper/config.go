package mapper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// StaticConfig is the static mapping part of the ack-ram-authenticator configuration file
// (under "server:"), with the official add-on's keys. It is shared by the server and
// "ack-map import/export".
type StaticConfig struct {
	MapRoles    []RoleMapping    `json:"mapRoles,omitempty"`
	MapUsers    []UserMapping    `json:"mapUsers,omitempty"`
	MapAccounts []AccountMapping `json:"mapAccounts,omitempty"`
}

// RoleMapping maps a RAM role (ARN or glob) to a username and groups (templates).
type RoleMapping struct {
	RoleARN  string   `json:"roleARN"`
	Username string   `json:"username"`
	Groups   []string `json:"groups,omitempty"`
	// AllowAnyAccount must be true for an ARN pattern with a wildcard account id.
	AllowAnyAccount bool `json:"allowAnyAccount,omitempty"`
}

// UserMapping maps a RAM user (ARN or glob) to a username and groups (templates).
type UserMapping struct {
	UserARN  string   `json:"userARN"`
	Username string   `json:"username"`
	Groups   []string `json:"groups,omitempty"`
	// AllowAnyAccount must be true for an ARN pattern with a wildcard account id.
	AllowAnyAccount bool `json:"allowAnyAccount,omitempty"`
}

// AccountMapping maps every identity of an account. In the file it is either a bare account id
// string (as in the official add-on: username = the caller's canonical ARN, no groups) or an object
// {"accountID", "username", "groups"}.
type AccountMapping struct {
	AccountID string   `json:"accountID"`
	Username  string   `json:"username,omitempty"`
	Groups    []string `json:"groups,omitempty"`
}

// UnmarshalJSON accepts a bare account id string or an object.
func (a *AccountMapping) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = AccountMapping{AccountID: s}
		return nil
	}
	type plain AccountMapping
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	// Strict like the rest of the file: a misspelt "usrname" must not map silently.
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*a = AccountMapping(p)
	return nil
}

// Rules converts the configuration to rules and validates each (ARN patterns, account ids,
// templates). All problems are reported together.
func (c StaticConfig) Rules() ([]Rule, error) {
	rules := make([]Rule, 0, len(c.MapRoles)+len(c.MapUsers)+len(c.MapAccounts))
	var errs []error
	add := func(r Rule, where string, i int) {
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", where, i, err))
			return
		}
		rules = append(rules, r)
	}
	for i, m := range c.MapRoles {
		if m.RoleARN == "" {
			errs = append(errs, fmt.Errorf("mapRoles[%d]: roleARN is required", i))
			continue
		}
		if t := arn.PatternType(m.RoleARN); t != "role" {
			errs = append(errs, fmt.Errorf("mapRoles[%d]: roleARN %q is not a role ARN (acs:ram::<account>:role/<name>)", i, m.RoleARN))
			continue
		}
		add(Rule{Source: SourceMapRoles, ARN: m.RoleARN, Username: m.Username, Groups: m.Groups, AllowAnyAccount: m.AllowAnyAccount}, "mapRoles", i)
	}
	for i, m := range c.MapUsers {
		if m.UserARN == "" {
			errs = append(errs, fmt.Errorf("mapUsers[%d]: userARN is required", i))
			continue
		}
		if t := arn.PatternType(m.UserARN); t != "user" && t != "root" {
			errs = append(errs, fmt.Errorf("mapUsers[%d]: userARN %q is not a user or root ARN", i, m.UserARN))
			continue
		}
		add(Rule{Source: SourceMapUsers, ARN: m.UserARN, Username: m.Username, Groups: m.Groups, AllowAnyAccount: m.AllowAnyAccount}, "mapUsers", i)
	}
	for i, m := range c.MapAccounts {
		if m.AccountID == "" {
			errs = append(errs, fmt.Errorf("mapAccounts[%d]: accountID is required", i))
			continue
		}
		add(Rule{Source: SourceMapAccounts, Account: m.AccountID, Username: m.Username, Groups: m.Groups}, "mapAccounts", i)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid mapping configuration: %w", err)
	}
	return rules, nil
}

// DecodeStrict decodes YAML (or JSON) into v: keys are matched case-insensitively and unknown
// keys are errors. The error drops the YAML-to-JSON layers, leaving e.g. `unknown field "grups"`.
func DecodeStrict(b []byte, v any) error {
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		msg := err.Error()
		for _, p := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
			msg = strings.TrimPrefix(msg, p)
		}
		return fmt.Errorf("%s%w", msg, errorMark{err})
	}
	return nil
}

// errorMark keeps the original decoding error reachable with errors.As/Is without repeating its
// text.
type errorMark struct{ err error }

func (errorMark) Error() string   { return "" }
func (e errorMark) Unwrap() error { return e.err }
