// Package file is the MountedFile backend of the authenticator: the mapRoles, mapUsers and
// mapAccounts of the configuration file, fixed for the life of the process.
package file

import (
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Mapper maps with the configuration file's rules.
type Mapper struct {
	rules []mapper.Rule
}

// New returns the backend over validated rules (mapper.StaticConfig.Rules).
func New(rules []mapper.Rule) *Mapper { return &Mapper{rules: rules} }

// Name implements mapper.Stage.
func (m *Mapper) Name() string { return mapper.MapperMountedFile }

// Map implements mapper.Stage.
func (m *Mapper) Map(id token.Identity) (*mapper.Result, bool, error) {
	return mapper.Match(m.rules, id)
}

// Rules returns the backend's rules.
func (m *Mapper) Rules() []mapper.Rule { return m.rules }
