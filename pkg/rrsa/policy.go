// Package rrsa models RAM role trust policies for RRSA (RAM Roles for Service Accounts) in ACK
// clusters and holds the RRSA use cases below the command line:
//
//   - the policy model: build the trust statement that lets a Kubernetes service account assume a
//     role through the cluster's OIDC provider (one statement per association, in the shape
//     ack-ram-tool writes and recognises), merge it into a trust policy, remove it again, list
//     which service accounts a policy trusts and render diffs for review;
//   - the matcher (Evaluate): does a policy let service account NS/SA of a cluster in, and if
//     not, which statement came closest and what differs;
//   - the guarded trust-policy change (TrustEditor) behind the small RoleStore interface that
//     *cloud.RAM satisfies: read, edit, show, confirm, re-read, write, read back;
//   - the Kubernetes side: access checks and the service account annotation;
//   - the doctor (Doctor.Diagnose): why a pod does not get its role, check by check from the
//     cluster's RRSA state to a live AssumeRoleWithOIDC, each failure with its fix.
//
// The policy functions are pure. Statements that do not belong to the cluster's OIDC provider
// ("foreign" statements) are kept byte for byte (modulo JSON whitespace), so that changing a
// policy never rewrites what other tools or people put in it. Nothing here prints or exits.
package rrsa

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Audience is the audience every RRSA OIDC token carries and the trust statement requires.
const Audience = "sts.aliyuncs.com"

// PolicyVersion is the only RAM policy language version.
const PolicyVersion = "1"

// Condition keys used by RRSA trust statements.
const (
	ConditionKeyAudience = "oidc:aud"
	ConditionKeyIssuer   = "oidc:iss"
	ConditionKeySubject  = "oidc:sub"
)

// Condition operators used by RRSA trust statements.
const (
	OperatorStringEquals = "StringEquals"
	OperatorStringLike   = "StringLike"
)

// ActionAssumeRole is the action RRSA trust statements allow.
const ActionAssumeRole = "sts:AssumeRole"

// Policy is a RAM policy document ({"Version":"1","Statement":[...]}).
//
// Statements are kept as raw JSON so that statements this package does not understand or does not
// need to change survive a round trip unchanged; unknown top-level fields are kept as well.
type Policy struct {
	// Version is the policy language version, "1" for every RAM policy.
	Version string
	// Statement holds the statements as raw JSON objects, in document order.
	Statement []json.RawMessage

	extra map[string]json.RawMessage
}

// NewPolicy returns an empty policy document with Version "1".
func NewPolicy() *Policy {
	return &Policy{Version: PolicyVersion}
}

// ParsePolicy parses a RAM policy document. An empty or blank document yields an empty policy, as
// RAM returns for roles that trust nobody.
func ParsePolicy(doc string) (*Policy, error) {
	if strings.TrimSpace(doc) == "" {
		return NewPolicy(), nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &fields); err != nil {
		return nil, fmt.Errorf("parse policy document: %w", err)
	}
	p := &Policy{}
	for k, v := range fields {
		switch k {
		case "Version":
			if err := json.Unmarshal(v, &p.Version); err != nil {
				return nil, fmt.Errorf("parse policy document: Version must be a string: %w", err)
			}
		case "Statement":
			// RAM accepts a single statement object as well as a list.
			trimmed := bytes.TrimSpace(v)
			switch {
			case len(trimmed) > 0 && trimmed[0] == '{':
				p.Statement = []json.RawMessage{append(json.RawMessage(nil), trimmed...)}
			case string(trimmed) == "null":
			default:
				if err := json.Unmarshal(v, &p.Statement); err != nil {
					return nil, fmt.Errorf("parse policy document: Statement must be a list of objects: %w", err)
				}
			}
			for i, s := range p.Statement {
				if t := bytes.TrimSpace(s); len(t) == 0 || t[0] != '{' {
					return nil, fmt.Errorf("parse policy document: Statement[%d] is not an object", i)
				}
			}
		default:
			if p.extra == nil {
				p.extra = map[string]json.RawMessage{}
			}
			p.extra[k] = v
		}
	}
	if p.Version == "" {
		p.Version = PolicyVersion
	}
	return p, nil
}

// Clone returns a deep copy of p.
func (p *Policy) Clone() *Policy {
	c := &Policy{Version: p.Version}
	for _, s := range p.Statement {
		c.Statement = append(c.Statement, append(json.RawMessage(nil), s...))
	}
	if p.extra != nil {
		c.extra = make(map[string]json.RawMessage, len(p.extra))
		for k, v := range p.extra {
			c.extra[k] = append(json.RawMessage(nil), v...)
		}
	}
	return c
}

// MarshalJSON renders the document compactly with Version first, then Statement, then any unknown
// top-level fields in key order.
func (p *Policy) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"Version":`)
	v, err := json.Marshal(p.Version)
	if err != nil {
		return nil, err
	}
	buf.Write(v)
	buf.WriteString(`,"Statement":[`)
	for i, s := range p.Statement {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := json.Compact(&buf, s); err != nil {
			return nil, fmt.Errorf("statement %d: %w", i, err)
		}
	}
	buf.WriteByte(']')
	keys := make([]string, 0, len(p.extra))
	for k := range p.extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		buf.WriteByte(',')
		buf.Write(kb)
		buf.WriteByte(':')
		if err := json.Compact(&buf, p.extra[k]); err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON parses a policy document, see ParsePolicy.
func (p *Policy) UnmarshalJSON(b []byte) error {
	parsed, err := ParsePolicy(string(b))
	if err != nil {
		return err
	}
	*p = *parsed
	return nil
}

// JSON returns the compact document, the form sent to RAM.
func (p *Policy) JSON() (string, error) {
	b, err := p.MarshalJSON()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Pretty returns the document indented by two spaces, the form shown to people and diffed.
func (p *Policy) Pretty() (string, error) {
	b, err := p.MarshalJSON()
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return "", err
	}
	return out.String(), nil
}

// Equal reports whether two policy documents are semantically the same (key order, whitespace and
// the single-statement shorthand ignored; statement order significant). Unparseable documents are
// never equal.
func Equal(a, b string) bool {
	na, err := normalize(a)
	if err != nil {
		return false
	}
	nb, err := normalize(b)
	if err != nil {
		return false
	}
	return na == nb
}

func normalize(doc string) (string, error) {
	p, err := ParsePolicy(doc)
	if err != nil {
		return "", err
	}
	b, err := p.MarshalJSON()
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	// encoding/json sorts map keys, so re-marshalling gives a canonical form.
	out, err := json.Marshal(v)
	return string(out), err
}
