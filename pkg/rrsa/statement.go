package rrsa

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// SubjectPrefix prefixes the oidc:sub claim of every Kubernetes service account token.
const SubjectPrefix = "system:serviceaccount:"

// ErrInvalidStatement is returned when a statement cannot be built from the given parameters.
var ErrInvalidStatement = errors.New("invalid RRSA trust statement")

// Statement is the trust statement that lets one service account (or a wildcard set of them)
// assume a role through a cluster's OIDC provider. Its JSON form is
//
//	{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":[OIDCProviderARN]},
//	 "Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com","oidc:iss":Issuer,
//	 "oidc:sub":"system:serviceaccount:NS:SA"}}}
//
// with oidc:sub under StringLike instead when the namespace or name contains a wildcard.
type Statement struct {
	// OIDCProviderARN is the cluster's RAM OIDC provider, acs:ram::<account>:oidc-provider/<name>.
	OIDCProviderARN string
	// Issuer is the cluster's service account token issuer (the first of RRSAConfig.issuer).
	Issuer string
	// Namespace and ServiceAccount name the trusted service account; either may contain * or ?.
	Namespace, ServiceAccount string
}

// BuildStatement returns the trust statement for service account ns/sa of the cluster whose OIDC
// provider is oidcArn and whose token issuer is issuer.
func BuildStatement(oidcArn, issuer, ns, sa string) (Statement, error) {
	s := Statement{OIDCProviderARN: oidcArn, Issuer: issuer, Namespace: ns, ServiceAccount: sa}
	return s, s.Validate()
}

// Validate reports whether s has everything a trust statement needs.
func (s Statement) Validate() error {
	switch {
	case strings.TrimSpace(s.OIDCProviderARN) == "":
		return fmt.Errorf("%w: OIDC provider ARN is empty (is RRSA enabled for the cluster?)", ErrInvalidStatement)
	case strings.TrimSpace(s.Issuer) == "":
		return fmt.Errorf("%w: issuer is empty (is RRSA enabled for the cluster?)", ErrInvalidStatement)
	case s.Namespace == "" || s.ServiceAccount == "":
		return fmt.Errorf("%w: namespace and service account must not be empty", ErrInvalidStatement)
	case strings.Contains(s.Namespace, ":") || strings.Contains(s.ServiceAccount, ":"):
		return fmt.Errorf("%w: namespace and service account must not contain ':'", ErrInvalidStatement)
	}
	return nil
}

// Subject returns the oidc:sub value, system:serviceaccount:NS:SA.
func (s Statement) Subject() string { return Subject(s.Namespace, s.ServiceAccount) }

// Wildcard reports whether the subject is a pattern rather than one service account.
func (s Statement) Wildcard() bool { return isPattern(s.Subject()) }

// SubjectOperator returns the condition operator oidc:sub goes under: StringLike for patterns,
// StringEquals otherwise.
func (s Statement) SubjectOperator() string {
	if s.Wildcard() {
		return OperatorStringLike
	}
	return OperatorStringEquals
}

// MarshalJSON renders the statement as a RAM trust policy statement.
func (s Statement) MarshalJSON() ([]byte, error) {
	cond := map[string]map[string]any{
		OperatorStringEquals: {
			ConditionKeyAudience: Audience,
			ConditionKeyIssuer:   s.Issuer,
		},
	}
	if op := s.SubjectOperator(); op == OperatorStringEquals {
		cond[op][ConditionKeySubject] = s.Subject()
	} else {
		cond[op] = map[string]any{ConditionKeySubject: s.Subject()}
	}
	return json.Marshal(map[string]any{
		"Action":    ActionAssumeRole,
		"Effect":    "Allow",
		"Principal": map[string]any{"Federated": []string{s.OIDCProviderARN}},
		"Condition": cond,
	})
}

// Subject returns the oidc:sub claim of service account ns/sa.
func Subject(ns, sa string) string { return SubjectPrefix + ns + ":" + sa }

func isPattern(s string) bool { return strings.ContainsAny(s, "*?") }

// ServiceAccountRef names a service account (or, with Wildcard, a pattern of them) that a trust
// policy trusts.
type ServiceAccountRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Wildcard is true when Namespace or Name is a StringLike pattern.
	Wildcard bool `json:"wildcard,omitempty"`
}

// String returns NS/NAME.
func (r ServiceAccountRef) String() string { return r.Namespace + "/" + r.Name }

// statementView is what this package understands of one raw statement.
type statementView struct {
	fields    map[string]json.RawMessage
	effect    string
	actions   []string
	federated []string
	// otherPrincipals is true when Principal has keys besides Federated.
	otherPrincipals bool
	// cond holds the raw condition values by operator and key; values are decoded on demand.
	cond map[string]map[string]json.RawMessage
}

// stringList decodes a JSON string or list of strings.
func stringList(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("want a string or a list of strings: %w", err)
	}
	return many, nil
}

// parseView decodes the parts of a statement RRSA cares about. An error means the statement is
// not one this package can reason about; callers then leave it alone.
func parseView(raw json.RawMessage) (*statementView, error) {
	v := &statementView{}
	if err := json.Unmarshal(raw, &v.fields); err != nil {
		return nil, err
	}
	if e, ok := v.fields["Effect"]; ok {
		if err := json.Unmarshal(e, &v.effect); err != nil {
			return nil, err
		}
	}
	if a, ok := v.fields["Action"]; ok {
		actions, err := stringList(a)
		if err != nil {
			return nil, err
		}
		v.actions = actions
	}
	if p, ok := v.fields["Principal"]; ok {
		var principal map[string]json.RawMessage
		if err := json.Unmarshal(p, &principal); err != nil {
			return nil, err
		}
		for k, pv := range principal {
			if k != "Federated" {
				v.otherPrincipals = true
				continue
			}
			fed, err := stringList(pv)
			if err != nil {
				return nil, err
			}
			v.federated = fed
		}
	}
	if c, ok := v.fields["Condition"]; ok {
		if err := json.Unmarshal(c, &v.cond); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (v *statementView) allowsAssumeRole() bool {
	if !strings.EqualFold(v.effect, "Allow") {
		return false
	}
	return slices.ContainsFunc(v.actions, func(a string) bool { return strings.EqualFold(a, ActionAssumeRole) })
}

// values returns the decoded values of condition key under operator op (nil when absent).
func (v *statementView) values(op, key string) ([]string, bool, error) {
	raw, ok := v.cond[op][key]
	if !ok {
		return nil, false, nil
	}
	vals, err := stringList(raw)
	return vals, true, err
}

// exactTarget reports whether the statement is an RRSA statement for exactly this provider, issuer
// and audience, with no other principals, actions or conditions: only such a statement may take
// more subjects, because anything extra would change what the added subject is allowed.
// It returns the operator oidc:sub lives under and its values.
func (v *statementView) exactTarget(oidcArn, issuer string) (op string, subs []string, ok bool) {
	if !v.allowsAssumeRole() || len(v.actions) != 1 || v.otherPrincipals ||
		len(v.federated) != 1 || v.federated[0] != oidcArn {
		return "", nil, false
	}
	for k := range v.fields {
		switch k {
		case "Action", "Effect", "Principal", "Condition", "Sid":
		default:
			return "", nil, false
		}
	}
	subOps := 0
	for operator, keys := range v.cond {
		for key := range keys {
			vals, _, err := v.values(operator, key)
			if err != nil {
				return "", nil, false
			}
			switch {
			case operator == OperatorStringEquals && key == ConditionKeyAudience:
				if len(vals) != 1 || vals[0] != Audience {
					return "", nil, false
				}
			case operator == OperatorStringEquals && key == ConditionKeyIssuer:
				if len(vals) != 1 || vals[0] != issuer {
					return "", nil, false
				}
			case (operator == OperatorStringEquals || operator == OperatorStringLike) && key == ConditionKeySubject:
				op, subs = operator, vals
				subOps++
			default:
				return "", nil, false
			}
		}
	}
	if _, ok := v.cond[OperatorStringEquals][ConditionKeyAudience]; !ok {
		return "", nil, false
	}
	if _, ok := v.cond[OperatorStringEquals][ConditionKeyIssuer]; !ok {
		return "", nil, false
	}
	if subOps != 1 {
		return "", nil, false
	}
	return op, subs, true
}

// trusts reports whether the statement is for this provider and issuer at all (looser than
// exactTarget: extra conditions or principals are allowed), for listing and removal.
func (v *statementView) trusts(oidcArn, issuer string) bool {
	if !v.allowsAssumeRole() || !slices.Contains(v.federated, oidcArn) {
		return false
	}
	if issuer == "" {
		return true
	}
	for op := range v.cond {
		if vals, ok, err := v.values(op, ConditionKeyIssuer); ok && err == nil && slices.Contains(vals, issuer) {
			return true
		}
	}
	return false
}

// setCondition replaces (or, with nil vals, deletes) one condition key and re-renders the
// statement, keeping every other field as it was.
func (v *statementView) setCondition(op, key string, vals []string) (json.RawMessage, error) {
	if v.cond == nil {
		v.cond = map[string]map[string]json.RawMessage{}
	}
	if vals == nil {
		delete(v.cond[op], key)
		if len(v.cond[op]) == 0 {
			delete(v.cond, op)
		}
	} else {
		var raw []byte
		var err error
		if len(vals) == 1 {
			raw, err = json.Marshal(vals[0])
		} else {
			raw, err = json.Marshal(vals)
		}
		if err != nil {
			return nil, err
		}
		if v.cond[op] == nil {
			v.cond[op] = map[string]json.RawMessage{}
		}
		v.cond[op][key] = raw
	}
	c, err := json.Marshal(v.cond)
	if err != nil {
		return nil, err
	}
	v.fields["Condition"] = c
	return json.Marshal(v.fields)
}

// Contains reports whether the policy already grants exactly what s grants: a statement for the
// same provider, audience and issuer, without extra conditions, whose oidc:sub values include
// s's subject under the right operator. A literal subject under StringLike counts too, as it
// matches the same single service account.
func Contains(p *Policy, s Statement) bool {
	for _, raw := range p.Statement {
		v, err := parseView(raw)
		if err != nil {
			continue
		}
		op, subs, ok := v.exactTarget(s.OIDCProviderARN, s.Issuer)
		if !ok || !slices.Contains(subs, s.Subject()) {
			continue
		}
		if op == s.SubjectOperator() || op == OperatorStringLike {
			return true
		}
	}
	return false
}

// Merge returns a copy of p that also trusts s, and whether anything changed. It is idempotent:
// when p already contains s (see Contains) the copy is unchanged. Otherwise the subject is added to
// the first statement for the same provider, audience and issuer whose oidc:sub uses the same
// operator and that has no extra conditions, which keeps the policy small (RAM limits the size of
// trust policies); if there is none, s is appended as a new statement. Every other statement is
// kept as it was.
func Merge(p *Policy, s Statement) (*Policy, bool, error) {
	if err := s.Validate(); err != nil {
		return nil, false, err
	}
	out := p.Clone()
	if Contains(p, s) {
		return out, false, nil
	}
	for i, raw := range out.Statement {
		v, err := parseView(raw)
		if err != nil {
			continue
		}
		op, subs, ok := v.exactTarget(s.OIDCProviderARN, s.Issuer)
		if !ok || op != s.SubjectOperator() {
			continue
		}
		updated, err := v.setCondition(op, ConditionKeySubject, append(slices.Clone(subs), s.Subject()))
		if err != nil {
			return nil, false, fmt.Errorf("update statement %d: %w", i, err)
		}
		out.Statement[i] = updated
		return out, true, nil
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, false, err
	}
	out.Statement = append(out.Statement, raw)
	return out, true, nil
}

// Remove returns a copy of p that no longer trusts service account ns/sa (a pattern is removed
// only by the identical pattern) through the given provider and issuer, and whether anything
// changed. Only that subject is taken out of each statement; a statement whose oidc:sub would be
// left empty is dropped entirely, because deleting just the condition would trust every service
// account. Statements for other providers and all foreign statements are kept as they were.
func Remove(p *Policy, oidcArn, issuer, ns, sa string) (*Policy, bool, error) {
	out := p.Clone()
	sub := Subject(ns, sa)
	changed := false
	kept := out.Statement[:0:0]
	for i, raw := range out.Statement {
		v, err := parseView(raw)
		if err != nil || !v.trusts(oidcArn, issuer) {
			kept = append(kept, raw)
			continue
		}
		drop := false
		for _, op := range []string{OperatorStringEquals, OperatorStringLike} {
			vals, ok, err := v.values(op, ConditionKeySubject)
			if !ok || err != nil || !slices.Contains(vals, sub) {
				continue
			}
			rest := slices.DeleteFunc(slices.Clone(vals), func(x string) bool { return x == sub })
			changed = true
			if len(rest) == 0 {
				drop = true
				break
			}
			updated, err := v.setCondition(op, ConditionKeySubject, rest)
			if err != nil {
				return nil, false, fmt.Errorf("update statement %d: %w", i, err)
			}
			raw = updated
		}
		if !drop {
			kept = append(kept, raw)
		}
	}
	out.Statement = kept
	return out, changed, nil
}

// ListAssociations returns the service accounts p trusts through the given provider (and issuer,
// when not empty), sorted and without duplicates. Statements with extra conditions are included:
// the role does trust those service accounts, under the extra conditions.
func ListAssociations(p *Policy, oidcArn, issuer string) []ServiceAccountRef {
	seen := map[ServiceAccountRef]bool{}
	var refs []ServiceAccountRef
	for _, raw := range p.Statement {
		v, err := parseView(raw)
		if err != nil || !v.trusts(oidcArn, issuer) {
			continue
		}
		for _, op := range []string{OperatorStringEquals, OperatorStringLike} {
			vals, _, err := v.values(op, ConditionKeySubject)
			if err != nil {
				continue
			}
			for _, sub := range vals {
				rest, ok := strings.CutPrefix(sub, SubjectPrefix)
				if !ok {
					continue
				}
				ns, name, ok := strings.Cut(rest, ":")
				if !ok {
					continue
				}
				ref := ServiceAccountRef{Namespace: ns, Name: name, Wildcard: op == OperatorStringLike && isPattern(sub)}
				if !seen[ref] {
					seen[ref] = true
					refs = append(refs, ref)
				}
			}
		}
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].Namespace != refs[j].Namespace {
			return refs[i].Namespace < refs[j].Namespace
		}
		return refs[i].Name < refs[j].Name
	})
	return refs
}

// Diff returns a unified diff between the pretty forms of two policy documents ("" when they are
// the same). Documents that do not parse are diffed as they are.
func Diff(oldDoc, newDoc string) (string, error) {
	pretty := func(doc string) string {
		p, err := ParsePolicy(doc)
		if err != nil {
			return doc
		}
		s, err := p.Pretty()
		if err != nil {
			return doc
		}
		return s + "\n"
	}
	a, b := pretty(oldDoc), pretty(newDoc)
	if a == b {
		return "", nil
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(a),
		B:        difflib.SplitLines(b),
		FromFile: "current",
		ToFile:   "proposed",
		Context:  3,
	})
}
