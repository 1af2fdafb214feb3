package rrsa

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// Target is who asks to assume a role: one service account of one cluster, presenting a token
// from the cluster's issuer for an audience through the cluster's OIDC provider.
type Target struct {
	// OIDCProviderARN is the cluster's RAM OIDC provider.
	OIDCProviderARN string
	// Issuer is the token's iss claim (the cluster's issuer).
	Issuer string
	// Audience is the token's aud claim; empty means Audience (sts.aliyuncs.com).
	Audience string
	// Namespace and ServiceAccount name the service account (the token's sub claim).
	Namespace, ServiceAccount string
}

// Subject returns the target's oidc:sub claim.
func (t Target) Subject() string { return Subject(t.Namespace, t.ServiceAccount) }

func (t Target) audience() string {
	if t.Audience == "" {
		return Audience
	}
	return t.Audience
}

// context is the request context RAM evaluates trust conditions against (keys lower-case).
func (t Target) context() map[string][]string {
	return map[string][]string{
		ConditionKeyIssuer:   {t.Issuer},
		ConditionKeyAudience: {t.audience()},
		ConditionKeySubject:  {t.Subject()},
	}
}

// Aspect names what part of a statement keeps a target out.
type Aspect string

// Aspects of a Difference.
const (
	AspectEffect         Aspect = "effect"          // a Deny statement, or no Allow
	AspectAction         Aspect = "action"          // sts:AssumeRole not allowed
	AspectProvider       Aspect = "provider"        // Principal.Federated lacks the cluster's provider
	AspectIssuer         Aspect = "issuer"          // oidc:iss does not match
	AspectAudience       Aspect = "audience"        // oidc:aud does not match
	AspectNamespace      Aspect = "namespace"       // oidc:sub names another namespace
	AspectServiceAccount Aspect = "service-account" // oidc:sub names another service account
	AspectOperator       Aspect = "operator"        // a pattern sits under StringEquals, where * is literal
	AspectCondition      Aspect = "condition"       // another condition is not met
)

// Difference is one reason a statement does not let a target in.
type Difference struct {
	Aspect Aspect `json:"aspect"`
	// Want is what the target needs; Got is what the statement has.
	Want string `json:"want,omitempty"`
	Got  string `json:"got,omitempty"`
	// Message says it in words, with the change that would fix it.
	Message string `json:"message"`
}

// StatementMatch is one statement as seen from a target.
type StatementMatch struct {
	// Index is the statement's position in the policy.
	Index int `json:"index"`
	// Statement is the statement as written.
	Statement json.RawMessage `json:"statement"`
	// Differences are why it does not let the target in (empty when it does).
	Differences []Difference `json:"differences,omitempty"`
}

// Evaluation is the answer to "does this trust policy let the target in?", computed the way RAM
// evaluates trust policies: a matching Deny statement wins, otherwise some matching Allow
// statement is needed. A statement matches when its action covers sts:AssumeRole, its federated
// principal is the target's provider and every condition holds (StringEquals and StringNotEquals
// compare exactly, StringLike and StringNotLike with * and ? wildcards, keys case-insensitively;
// other operators are never taken as met).
type Evaluation struct {
	// Allowed reports whether the target may assume the role.
	Allowed bool `json:"allowed"`
	// Allowing are the Allow statements that match; DeniedBy the Deny statements that match.
	Allowing []StatementMatch `json:"allowing,omitempty"`
	DeniedBy []StatementMatch `json:"deniedBy,omitempty"`
	// Closest is, when nothing allows the target, the Allow statement for a federated (OIDC)
	// principal with the fewest differences (the first of equals); nil when there is none.
	Closest *StatementMatch `json:"closest,omitempty"`
}

// Evaluate reports whether p lets t in and, when it does not, which statement came closest and
// what differs. Statements that do not parse are skipped, as RAM would refuse the document.
func Evaluate(p *Policy, t Target) Evaluation {
	var ev Evaluation
	best := -1
	for i, raw := range p.Statement {
		v, err := parseView(raw)
		if err != nil {
			continue
		}
		m := StatementMatch{Index: i, Statement: raw, Differences: v.differences(t)}
		switch {
		case len(m.Differences) == 0 && v.allows():
			ev.Allowing = append(ev.Allowing, m)
		case len(m.Differences) == 0:
			ev.DeniedBy = append(ev.DeniedBy, m)
		case v.allows() && len(v.federated) > 0 && (best < 0 || len(m.Differences) < best):
			best = len(m.Differences)
			closest := m
			ev.Closest = &closest
		}
	}
	ev.Allowed = len(ev.Allowing) > 0 && len(ev.DeniedBy) == 0
	if len(ev.Allowing) > 0 {
		ev.Closest = nil
	}
	return ev
}

// differences lists why the statement does not apply to t (ignoring its effect: a Deny statement
// with no differences applies).
func (v *statementView) differences(t Target) []Difference {
	var out []Difference
	if !v.actionMatches() {
		out = append(out, Difference{Aspect: AspectAction, Want: ActionAssumeRole, Got: strings.Join(v.actions, ","),
			Message: fmt.Sprintf("Action is %q; it must include %s", strings.Join(v.actions, ","), ActionAssumeRole)})
	}
	if !v.federates(t.OIDCProviderARN) {
		out = append(out, Difference{Aspect: AspectProvider, Want: t.OIDCProviderARN, Got: strings.Join(v.federated, ","),
			Message: fmt.Sprintf("Principal.Federated is [%s]; it must name this cluster's OIDC provider %s", strings.Join(v.federated, ", "), t.OIDCProviderARN)})
	}
	ctx := t.context()
	for op, keys := range v.cond {
		for key, raw := range keys {
			vals, err := stringList(raw)
			if err != nil || conditionHolds(op, ctx[strings.ToLower(key)], vals) {
				continue
			}
			out = append(out, conditionDifference(op, strings.ToLower(key), vals, t)...)
		}
	}
	slices.SortStableFunc(out, func(a, b Difference) int { return strings.Compare(string(a.Aspect), string(b.Aspect)) })
	return out
}

// conditionHolds evaluates one condition as RAM does.
func conditionHolds(op string, have, want []string) bool {
	match := false
	for _, h := range have {
		for _, w := range want {
			switch op {
			case OperatorStringEquals, "StringNotEquals":
				match = match || h == w
			case OperatorStringLike, "StringNotLike":
				match = match || arn.MatchCase(w, h)
			}
		}
	}
	switch op {
	case OperatorStringEquals, OperatorStringLike:
		return match
	case "StringNotEquals", "StringNotLike":
		return len(have) > 0 && !match
	}
	return false
}

// conditionDifference explains a condition the target does not meet.
func conditionDifference(op, key string, vals []string, t Target) []Difference {
	got := strings.Join(vals, ",")
	switch {
	case key == ConditionKeyIssuer && (op == OperatorStringEquals || op == OperatorStringLike):
		return []Difference{{Aspect: AspectIssuer, Want: t.Issuer, Got: got,
			Message: fmt.Sprintf("oidc:iss is %q; the cluster's issuer is %q", got, t.Issuer)}}
	case key == ConditionKeyAudience && (op == OperatorStringEquals || op == OperatorStringLike):
		return []Difference{{Aspect: AspectAudience, Want: t.audience(), Got: got,
			Message: fmt.Sprintf("oidc:aud is %q; RRSA tokens carry the audience %q", got, t.audience())}}
	case key == ConditionKeySubject && (op == OperatorStringEquals || op == OperatorStringLike):
		return subjectDifference(op, vals, t)
	}
	return []Difference{{Aspect: AspectCondition, Got: op + " " + key + " " + got,
		Message: fmt.Sprintf("the condition %s %s %q is not met by service account %s/%s", op, key, got, t.Namespace, t.ServiceAccount)}}
}

// subjectDifference explains why no oidc:sub value admits the target, from the value nearest to
// it: a pattern that would match under StringLike, else the value differing in fewest parts.
func subjectDifference(op string, vals []string, t Target) []Difference {
	var best []Difference
	for _, v := range vals {
		if op == OperatorStringEquals && isPattern(v) && arn.MatchCase(v, t.Subject()) {
			return []Difference{{Aspect: AspectOperator, Want: OperatorStringLike, Got: op,
				Message: fmt.Sprintf("oidc:sub %q is a pattern under StringEquals, where * and ? are literal characters; move it to StringLike", v)}}
		}
		d := subjectParts(v, t)
		if best == nil || len(d) < len(best) {
			best = d
		}
	}
	if best == nil {
		best = []Difference{{Aspect: AspectServiceAccount, Want: t.Subject(),
			Message: fmt.Sprintf("oidc:sub under %s has no value; it must be %q", op, t.Subject())}}
	}
	return best
}

// subjectParts compares one oidc:sub value with the target part by part.
func subjectParts(v string, t Target) []Difference {
	match := func(pattern, s string) bool {
		if isPattern(pattern) {
			return arn.MatchCase(pattern, s)
		}
		return pattern == s
	}
	ns, sa, ok := SplitSubject(v)
	if !ok {
		return []Difference{{Aspect: AspectServiceAccount, Want: t.Subject(), Got: v,
			Message: fmt.Sprintf("oidc:sub %q is not a service account subject (system:serviceaccount:NS:NAME); it must be %q", v, t.Subject())}}
	}
	var out []Difference
	if !match(ns, t.Namespace) {
		out = append(out, Difference{Aspect: AspectNamespace, Want: t.Namespace, Got: ns,
			Message: fmt.Sprintf("oidc:sub %q names namespace %q, not %q", v, ns, t.Namespace)})
	}
	if !match(sa, t.ServiceAccount) {
		out = append(out, Difference{Aspect: AspectServiceAccount, Want: t.ServiceAccount, Got: sa,
			Message: fmt.Sprintf("oidc:sub %q names service account %q, not %q", v, sa, t.ServiceAccount)})
	}
	return out
}
