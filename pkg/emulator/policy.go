package emulator

import (
	"bytes"
	"encoding/json"
	"path"
	"strings"
)

// stringList is a policy field that may be a string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = stringList{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	*l = ss
	return nil
}

type policyDoc struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Effect    string                           `json:"Effect"`
	Action    stringList                       `json:"Action"`
	Resource  stringList                       `json:"Resource,omitempty"`
	Principal map[string]stringList            `json:"Principal,omitempty"`
	Condition map[string]map[string]stringList `json:"Condition,omitempty"`
}

func parsePolicy(doc string) (*policyDoc, *apiError) {
	var p policyDoc
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&p); err != nil {
		return nil, newErr(400, "MalformedPolicyDocument", "The policy document is not valid JSON or has an unexpected shape: %v", err)
	}
	if dec.More() {
		return nil, newErr(400, "MalformedPolicyDocument", "The policy document has trailing data.")
	}
	if p.Version != "1" {
		return nil, newErr(400, "MalformedPolicyDocument", "The policy document Version must be \"1\".")
	}
	if len(p.Statement) == 0 {
		return nil, newErr(400, "MalformedPolicyDocument", "The policy document needs at least one Statement.")
	}
	for i, st := range p.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, newErr(400, "MalformedPolicyDocument", "Statement %d: Effect must be Allow or Deny.", i)
		}
		if len(st.Action) == 0 {
			return nil, newErr(400, "MalformedPolicyDocument", "Statement %d: Action is required.", i)
		}
		for op, conds := range st.Condition {
			switch op {
			case "StringEquals", "StringLike", "StringNotEquals", "StringNotLike":
			default:
				// RAM knows more operators; the emulator rejects the ones it cannot evaluate so a
				// test never silently passes on an unevaluated condition.
				return nil, newErr(400, "MalformedPolicyDocument", "Statement %d: condition operator %s is not supported by the emulator.", i, op)
			}
			if len(conds) == 0 {
				return nil, newErr(400, "MalformedPolicyDocument", "Statement %d: empty %s condition.", i, op)
			}
		}
	}
	return &p, nil
}

// validateTrustPolicy checks an AssumeRolePolicyDocument: a valid policy whose statements name a
// Principal and the sts:AssumeRole action.
func validateTrustPolicy(doc string) *apiError {
	p, e := parsePolicy(doc)
	if e != nil {
		return e
	}
	for i, st := range p.Statement {
		if len(st.Principal) == 0 {
			return newErr(400, "MalformedPolicyDocument", "Statement %d: a trust policy statement needs a Principal.", i)
		}
		for k := range st.Principal {
			switch k {
			case "RAM", "Service", "Federated":
			default:
				return newErr(400, "MalformedPolicyDocument", "Statement %d: unknown principal type %s.", i, k)
			}
		}
		for _, a := range st.Action {
			if !strings.EqualFold(a, "sts:AssumeRole") {
				return newErr(400, "MalformedPolicyDocument", "Statement %d: a trust policy allows only the sts:AssumeRole action.", i)
			}
		}
	}
	return nil
}

// trustRequest is what a trust policy is evaluated against.
type trustRequest struct {
	caller    *principal          // RAM caller (AssumeRole)
	federated string              // OIDC provider ARN (AssumeRoleWithOIDC)
	context   map[string][]string // condition keys (lower-case) → values
}

// evaluateTrust: a Deny statement that matches wins; otherwise some Allow statement must match.
func evaluateTrust(doc string, tr trustRequest) bool {
	p, e := parsePolicy(doc)
	if e != nil {
		return false
	}
	allowed := false
	for _, st := range p.Statement {
		if !actionMatches(st.Action) || !principalMatches(st.Principal, tr) || !conditionsMatch(st.Condition, tr.context) {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

func actionMatches(actions stringList) bool {
	for _, a := range actions {
		if strings.EqualFold(a, "sts:AssumeRole") || a == "sts:*" || a == "*" {
			return true
		}
	}
	return false
}

func principalMatches(pr map[string]stringList, tr trustRequest) bool {
	if tr.federated != "" {
		for _, f := range pr["Federated"] {
			if strings.EqualFold(f, tr.federated) {
				return true
			}
		}
		return false
	}
	c := tr.caller
	if c == nil {
		return false
	}
	for _, entry := range pr["RAM"] {
		switch {
		case entry == c.AccountID,
			strings.EqualFold(entry, "acs:ram::"+c.AccountID+":root"):
			return true
		case c.Kind == "user" && strings.EqualFold(entry, c.ARN()):
			return true
		case c.Kind == "assumed-role" && strings.EqualFold(entry, roleARN(c.AccountID, c.RoleName)):
			return true
		}
	}
	return false
}

func conditionsMatch(conds map[string]map[string]stringList, ctx map[string][]string) bool {
	for op, kv := range conds {
		for key, want := range kv {
			have := ctx[strings.ToLower(key)]
			match := false
			for _, h := range have {
				for _, w := range want {
					var ok bool
					switch op {
					case "StringEquals", "StringNotEquals":
						ok = h == w
					case "StringLike", "StringNotLike":
						ok = globMatch(w, h)
					}
					if ok {
						match = true
					}
				}
			}
			if strings.HasPrefix(op, "StringNot") {
				if len(have) == 0 || match {
					return false
				}
			} else if !match {
				return false
			}
		}
	}
	return true
}

// globMatch matches * (any run, including /) and ? (one character), anchored.
func globMatch(pattern, s string) bool {
	// path.Match treats / specially; replace it on both sides with a character that cannot appear.
	const sep = "\x00"
	p := strings.ReplaceAll(strings.ReplaceAll(pattern, "\\", "\\\\"), "[", "\\[")
	ok, err := path.Match(strings.ReplaceAll(p, "/", sep), strings.ReplaceAll(s, "/", sep))
	return err == nil && ok
}
