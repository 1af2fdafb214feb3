package mapper

import (
	"fmt"
	"sync/atomic"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// RuleSet is a Stage whose rules are replaced as a whole when their source changes (the
// alibabacloud-auth ConfigMap, a watched file). It refuses identities until the first Set, so a
// request is never answered from rules that have not been read yet. It is safe for concurrent
// use.
type RuleSet struct {
	name    string
	rules   atomic.Pointer[[]Rule]
	observe Observer
}

// NewRuleSet returns an empty, not yet loaded rule set for the backend name. observe, if not nil,
// is told every new set of rules.
func NewRuleSet(name string, observe Observer) *RuleSet {
	return &RuleSet{name: name, observe: observe}
}

// Name implements Stage.
func (s *RuleSet) Name() string { return s.name }

// Map implements Stage.
func (s *RuleSet) Map(id token.Identity) (*Result, bool, error) {
	rules := s.rules.Load()
	if rules == nil {
		return nil, false, fmt.Errorf("%s mappings are not loaded yet", s.name)
	}
	return Match(*rules, id)
}

// Set replaces the rules (validated ones: see StaticConfig.Rules) and marks the set loaded.
func (s *RuleSet) Set(rules []Rule) {
	if rules == nil {
		rules = []Rule{}
	}
	s.rules.Store(&rules)
	if s.observe != nil {
		s.observe(s.name, rules)
	}
}

// HasSynced reports whether Set was called.
func (s *RuleSet) HasSynced() bool { return s.rules.Load() != nil }

// Rules returns the current rules (nil before the first Set).
func (s *RuleSet) Rules() []Rule {
	if r := s.rules.Load(); r != nil {
		return *r
	}
	return nil
}
