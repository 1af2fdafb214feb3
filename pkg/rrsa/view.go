package rrsa

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// statementView is what this package understands of one raw statement. Parsing is lenient in
// the ways RAM is (a string or a list of strings wherever RAM takes either), so every equivalent
// spelling of a statement reads the same.
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
	if err := v.parsePrincipal(); err != nil {
		return nil, err
	}
	if c, ok := v.fields["Condition"]; ok {
		if err := json.Unmarshal(c, &v.cond); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (v *statementView) parsePrincipal() error {
	p, ok := v.fields["Principal"]
	if !ok {
		return nil
	}
	var principal map[string]json.RawMessage
	if err := json.Unmarshal(p, &principal); err != nil {
		return err
	}
	for k, pv := range principal {
		if k != "Federated" {
			v.otherPrincipals = true
			continue
		}
		fed, err := stringList(pv)
		if err != nil {
			return err
		}
		v.federated = fed
	}
	return nil
}

func (v *statementView) allows() bool { return strings.EqualFold(v.effect, "Allow") }

// actionMatches reports whether the statement's actions cover sts:AssumeRole, as RAM reads them.
func (v *statementView) actionMatches() bool {
	return slices.ContainsFunc(v.actions, func(a string) bool {
		return strings.EqualFold(a, ActionAssumeRole) || a == "sts:*" || a == "*"
	})
}

// federates reports whether the statement names provider among its federated principals.
func (v *statementView) federates(provider string) bool {
	return slices.ContainsFunc(v.federated, func(f string) bool { return strings.EqualFold(f, provider) })
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

// subjects returns the oidc:sub values under StringEquals and StringLike.
func (v *statementView) subjects() map[string][]string {
	out := map[string][]string{}
	for _, op := range []string{OperatorStringEquals, OperatorStringLike} {
		if vals, ok, err := v.values(op, ConditionKeySubject); ok && err == nil {
			out[op] = vals
		}
	}
	return out
}

// hasOnly reports whether the statement has no top-level fields besides the RRSA ones (and Sid).
func (v *statementView) hasOnly() bool {
	for k := range v.fields {
		switch k {
		case "Action", "Effect", "Principal", "Condition", "Sid":
		default:
			return false
		}
	}
	return true
}

// exactTarget reports whether the statement is an RRSA statement for this provider and issuer
// and nothing else: Allow sts:AssumeRole for only this federated principal, oidc:aud and oidc:iss
// under StringEquals naming the audience and issuer, oidc:sub under StringEquals or StringLike,
// and no other condition that could restrict it. It returns the operator oidc:sub lives under and
// its values. Such a statement grants exactly its subjects; folded lists of subjects (which
// earlier versions of kubectl-ack wrote) qualify as well as the one-subject form.
func (v *statementView) exactTarget(oidcArn, issuer string) (op string, subs []string, ok bool) {
	if !v.allows() || !v.actionMatches() || v.otherPrincipals || len(v.federated) != 1 ||
		!strings.EqualFold(v.federated[0], oidcArn) || !v.hasOnly() {
		return "", nil, false
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
				if !slices.Contains(vals, Audience) {
					return "", nil, false
				}
			case operator == OperatorStringEquals && key == ConditionKeyIssuer:
				if !slices.Contains(vals, issuer) {
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
	_, hasAud := v.cond[OperatorStringEquals][ConditionKeyAudience]
	_, hasIss := v.cond[OperatorStringEquals][ConditionKeyIssuer]
	if !hasAud || !hasIss || subOps != 1 {
		return "", nil, false
	}
	return op, subs, true
}

// trusts reports whether the statement is for this provider and issuer at all (looser than
// exactTarget: extra conditions or principals are allowed), for listing and removal.
func (v *statementView) trusts(oidcArn, issuer string) bool {
	if !v.allows() || !v.actionMatches() || !v.federates(oidcArn) {
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
// statement, keeping every other field as it was. One value is written as a string, as the
// official tool writes it, so a statement left with one subject reads as the official shape.
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
