// Package mapper maps verified RAM identities to Kubernetes users and groups. It is the one
// implementation of matching and templating, shared by ack-ram-authenticator and
// "kubectl ack map explain", so the two can never disagree.
//
// Precedence: a rule whose ARN equals the identity's canonical ARN (case-insensitively) wins over
// any glob; among globs the most specific wins (most literal characters, then fewest wildcards);
// account rules (Rule.Account equal to the identity's account) come last. Remaining ties are broken
// by Source, then ARN/Account, then position, so the result never depends on map or informer order.
package mapper

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Rule sources.
const (
	SourceMapRoles    = "config:mapRoles"
	SourceMapUsers    = "config:mapUsers"
	SourceMapAccounts = "config:mapAccounts"
	// SourceCRDPrefix is followed by the RAMIdentityMapping name.
	SourceCRDPrefix = "crd:"
)

// Result kinds.
const (
	KindExact   = "exact"
	KindGlob    = "glob"
	KindAccount = "account"
)

// ReservedPrefix starts Kubernetes' reserved user and group names.
const ReservedPrefix = "system:"

// GroupMasters is Kubernetes' cluster-admin group.
const GroupMasters = "system:masters"

// AllowedGroups returns the reserved groups mappings may grant when server.allowedGroups is
// configured (non-nil, even empty) or not (nil): by default system:masters, the documented admin
// mapping of the official add-on and of EKS's aws-auth; "allowedGroups: []" allows none.
func AllowedGroups(configured []string) []string {
	if configured == nil {
		return []string{GroupMasters}
	}
	return configured
}

// ReservedGroups returns the groups of r (templates) that start with ReservedPrefix, so the
// server can log every mapping that grants one.
func ReservedGroups(r Rule) []string {
	var out []string
	for _, g := range r.Groups {
		if hasReservedPrefix(g) {
			out = append(out, g)
		}
	}
	return out
}

// Rule is one mapping.
type Rule struct {
	// Source says where the rule comes from: SourceMapRoles, SourceMapUsers, SourceMapAccounts or
	// SourceCRDPrefix+name.
	Source string
	// ARN is a canonical ARN or an ARN glob ("*", "?"); empty for account rules.
	ARN string
	// Username is a template (see RenderTemplate). Empty for an account rule means the
	// identity's canonical ARN.
	Username string
	// Groups are templates.
	Groups []string
	// Account maps every identity of this account id; used only when ARN is empty.
	Account string
	// AllowAnyAccount lets ARN have a wildcard in its account id, matching identities of every
	// Alibaba Cloud account; without it such a rule is invalid (see ErrAnyAccount).
	AllowAnyAccount bool
}

// ErrAnyAccount is wrapped by the validation error of a rule whose ARN pattern has a wildcard
// account id ("acs:ram::*:..." or "?" in the account) without AllowAnyAccount.
var ErrAnyAccount = errors.New("the ARN pattern matches every Alibaba Cloud account")

// AnyAccount reports whether the rule matches identities of any account: an ARN pattern with a
// wildcard account id that the rule opted in to.
func (r Rule) AnyAccount() bool { return r.AllowAnyAccount && r.ARN != "" && arn.AccountIsGlob(r.ARN) }

// Result is the mapping chosen for an identity.
type Result struct {
	// Rule is the winning rule.
	Rule Rule
	// Kind is KindExact, KindGlob or KindAccount.
	Kind string
	// Username and Groups are rendered.
	Username string
	Groups   []string
}

// Validate checks the rule's ARN pattern (or account id) and templates.
func (r Rule) Validate() error {
	switch {
	case r.ARN != "" && r.Account != "":
		return fmt.Errorf("rule from %s: set either an ARN or an account, not both", r.Source)
	case r.ARN != "":
		if err := arn.ValidatePattern(r.ARN); err != nil {
			return fmt.Errorf("rule from %s: %w", r.Source, err)
		}
		if arn.AccountIsGlob(r.ARN) && !r.AllowAnyAccount {
			return fmt.Errorf("rule from %s: %w: %s has a wildcard in its account id, so identities of accounts you do not control match it too; "+
				"write the account id, or opt in with allowAnyAccount: true (spec.allowAnyAccount of a RAMIdentityMapping, "+
				"kubectl ack-map add --allow-any-account)", r.Source, ErrAnyAccount, r.ARN)
		}
		if r.Username == "" {
			return fmt.Errorf("rule from %s for %s: username is required", r.Source, r.ARN)
		}
	case r.Account != "":
		if !isDigits(r.Account) {
			return fmt.Errorf("rule from %s: account id %q must be digits", r.Source, r.Account)
		}
	default:
		return fmt.Errorf("rule from %s: an ARN or an account is required", r.Source)
	}
	if err := ValidateTemplate(r.Username); err != nil {
		return fmt.Errorf("rule from %s: username: %w", r.Source, err)
	}
	for _, g := range r.Groups {
		if g == "" {
			return fmt.Errorf("rule from %s: empty group name", r.Source)
		}
		if err := ValidateTemplate(g); err != nil {
			return fmt.Errorf("rule from %s: group: %w", r.Source, err)
		}
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// candidate is a matching rule with its ranking data.
type candidate struct {
	idx       int
	kind      int // 0 exact, 1 glob, 2 account: lower wins
	literals  int
	wildcards int
}

// better reports whether a ranks before b.
func better(rules []Rule, a, b candidate) bool {
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	if a.literals != b.literals {
		return a.literals > b.literals
	}
	if a.wildcards != b.wildcards {
		return a.wildcards < b.wildcards
	}
	ra, rb := rules[a.idx], rules[b.idx]
	if ra.Source != rb.Source {
		return ra.Source < rb.Source
	}
	if ra.ARN != rb.ARN {
		return ra.ARN < rb.ARN
	}
	if ra.Account != rb.Account {
		return ra.Account < rb.Account
	}
	return a.idx < b.idx
}

// Match picks the best rule for id and renders its username and groups. It returns false when no
// rule matches, and an error when id has no usable ARN or the winning rule's templates cannot be
// rendered for id (the identity is then refused rather than mapped by a weaker rule).
func Match(rules []Rule, id token.Identity) (*Result, bool, error) {
	canonical := id.CanonicalARN
	if canonical == "" {
		c, err := arn.Canonicalize(id.ARN)
		if err != nil {
			return nil, false, fmt.Errorf("map identity: %w", err)
		}
		canonical = c
	}
	best := candidate{idx: -1}
	for i := range rules {
		c, ok := rank(rules[i], canonical, id.AccountID)
		if !ok {
			continue
		}
		c.idx = i
		if best.idx < 0 || better(rules, c, best) {
			best = c
		}
	}
	if best.idx < 0 {
		return nil, false, nil
	}
	r := rules[best.idx]
	res := &Result{Rule: r, Kind: [...]string{KindExact, KindGlob, KindAccount}[best.kind]}
	var err error
	if r.Username == "" && best.kind == 2 {
		// A bare mapAccounts id maps to the canonical ARN (assumed-role → role), as on the
		// official add-on, so RBAC bindings written for it keep working.
		res.Username = canonical
	} else if res.Username, err = RenderTemplate(r.Username, id); err != nil {
		return nil, false, fmt.Errorf("map %s with rule from %s: username: %w", id.ARN, r.Source, err)
	}
	if res.Username == "" {
		return nil, false, fmt.Errorf("map %s with rule from %s: username is empty", id.ARN, r.Source)
	}
	if len(r.Groups) > 0 {
		res.Groups = make([]string, 0, len(r.Groups))
	}
	for _, g := range r.Groups {
		s, err := RenderTemplate(g, id)
		if err != nil {
			return nil, false, fmt.Errorf("map %s with rule from %s: group: %w", id.ARN, r.Source, err)
		}
		if !slices.Contains(res.Groups, s) {
			res.Groups = append(res.Groups, s)
		}
	}
	return res, true, nil
}

// rank reports whether r matches and how strongly.
func rank(r Rule, canonical, account string) (candidate, bool) {
	switch {
	case r.ARN == "":
		if r.Account != "" && r.Account == account {
			return candidate{kind: 2}, true
		}
	case arn.IsGlob(r.ARN):
		if arn.Match(r.ARN, canonical) {
			c := candidate{kind: 1}
			for _, ch := range r.ARN {
				if ch == '*' || ch == '?' {
					c.wildcards++
				} else {
					c.literals++
				}
			}
			return c, true
		}
	default:
		// Fast path without parsing: rule ARNs are normally canonical already. Only a rule written
		// as an assumed-role ARN needs canonicalising (arn.Equal) to match its role.
		if strings.EqualFold(r.ARN, canonical) || (containsFold(r.ARN, "assumed-role/") && arn.Equal(r.ARN, canonical)) {
			return candidate{kind: 0}, true
		}
	}
	return candidate{}, false
}

// containsFold reports whether s contains the ASCII string sub, ignoring case, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// ErrReserved is wrapped by CheckReserved errors.
var ErrReserved = errors.New("reserved name")

// CheckReserved refuses a mapping result that would impersonate Kubernetes system identities:
// usernames starting with "system:" always, and groups starting with "system:" unless listed in
// allowedGroups (the server passes AllowedGroups(server.allowedGroups), so system:masters by
// default). The prefix is compared case-insensitively so look-alike names are refused too.
func CheckReserved(username string, groups []string, allowedGroups []string) error {
	if username == "" {
		return errors.New("mapped username is empty")
	}
	if hasReservedPrefix(username) {
		return fmt.Errorf("%w: username %q starts with %q", ErrReserved, username, ReservedPrefix)
	}
	for _, g := range groups {
		if hasReservedPrefix(g) && !slices.Contains(allowedGroups, g) {
			return fmt.Errorf("%w: group %q starts with %q and is not in the allowed groups", ErrReserved, g, ReservedPrefix)
		}
	}
	return nil
}

func hasReservedPrefix(s string) bool {
	return len(s) >= len(ReservedPrefix) && strings.EqualFold(s[:len(ReservedPrefix)], ReservedPrefix)
}
