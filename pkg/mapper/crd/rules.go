// Package crd is the CRD backend of the authenticator: RAMIdentityMapping objects, watched through
// a shared informer, converted to rules with RuleFromMapping (which "kubectl ack-map explain" uses
// too, so both read an object the same way).
package crd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// RuleFromMapping converts a RAMIdentityMapping into a validated Rule. The server and
// "kubectl ack-map explain" both use it, so they always agree on what an object means. The
// object's status is ignored: it is written by the server and never trusted from users.
func RuleFromMapping(m *v1alpha1.RAMIdentityMapping) (mapper.Rule, error) {
	r := mapper.Rule{
		Source:   mapper.SourceCRDPrefix + m.Name,
		ARN:      strings.TrimSpace(m.Spec.ARN),
		Username: m.Spec.Username,
		Groups:   slices.Clone(m.Spec.Groups),

		AllowAnyAccount: m.Spec.AllowAnyAccount,
	}
	if r.ARN == "" {
		return mapper.Rule{}, fmt.Errorf("RAMIdentityMapping %q: spec.arn is required", m.Name)
	}
	if err := r.Validate(); err != nil {
		return mapper.Rule{}, fmt.Errorf("RAMIdentityMapping %q: %w", m.Name, err)
	}
	return r, nil
}

// RulesFromMappings converts every mapping it can and returns the errors of the others, so one
// bad object never disables the rest.
func RulesFromMappings(ms []*v1alpha1.RAMIdentityMapping) ([]mapper.Rule, []error) {
	rules := make([]mapper.Rule, 0, len(ms))
	var errs []error
	for _, m := range ms {
		r, err := RuleFromMapping(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r)
	}
	return rules, errs
}
