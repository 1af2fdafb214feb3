package rrsa

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// Contains reports whether the policy already grants exactly what s grants: a statement for the
// same provider, audience and issuer, without extra conditions, whose oidc:sub values include
// s's subject under the right operator. The official tool's one-subject statement, the folded
// lists earlier versions of kubectl-ack wrote and a literal subject under StringLike (which
// matches the same single service account) all count. A pattern under StringEquals does not:
// there "*" is a literal character and the statement lets nobody in.
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
// when p already contains s (see Contains) the copy is unchanged. Otherwise s is appended as a
// statement of its own, in the shape ack-ram-tool writes and recognises (it treats an association
// as present only when a statement is structurally equal to the one it would write), so either
// tool run after the other finds the association and adds no duplicate. Every other statement is
// kept as it was.
func Merge(p *Policy, s Statement) (*Policy, bool, error) {
	if err := s.Validate(); err != nil {
		return nil, false, err
	}
	out := p.Clone()
	if Contains(p, s) {
		return out, false, nil
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
// changed. Only that subject is taken out of each statement, so folded lists keep their other
// subjects; a statement whose oidc:sub would be left empty is dropped entirely, because deleting
// just the condition would trust every service account. Statements for other providers and all
// foreign statements are kept as they were. The result may have no statement at all, which RAM
// refuses: see TrustEditor for how that case is handled.
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
		updated, drop, removed, err := removeSubject(v, raw, sub)
		if err != nil {
			return nil, false, fmt.Errorf("update statement %d: %w", i, err)
		}
		changed = changed || removed
		if !drop {
			kept = append(kept, updated)
		}
	}
	out.Statement = kept
	return out, changed, nil
}

// removeSubject takes sub out of the statement's oidc:sub values. drop says the statement would
// be left without a subject.
func removeSubject(v *statementView, raw json.RawMessage, sub string) (updated json.RawMessage, drop, removed bool, err error) {
	updated = raw
	for _, op := range []string{OperatorStringEquals, OperatorStringLike} {
		vals, ok, verr := v.values(op, ConditionKeySubject)
		if !ok || verr != nil || !slices.Contains(vals, sub) {
			continue
		}
		rest := slices.DeleteFunc(slices.Clone(vals), func(x string) bool { return x == sub })
		removed = true
		if len(rest) == 0 {
			return nil, true, true, nil
		}
		if updated, err = v.setCondition(op, ConditionKeySubject, rest); err != nil {
			return nil, false, false, err
		}
	}
	return updated, false, removed, nil
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
		for op, vals := range v.subjects() {
			for _, sub := range vals {
				ns, name, ok := SplitSubject(sub)
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

// SplitSubject splits system:serviceaccount:NS:SA into NS and SA.
func SplitSubject(sub string) (ns, sa string, ok bool) {
	rest, ok := strings.CutPrefix(sub, SubjectPrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, ":")
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
