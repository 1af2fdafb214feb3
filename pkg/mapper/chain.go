package mapper

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Mapper names accepted in the authenticator's server.mappers.
const (
	// MapperMountedFile maps with the configuration file's mapRoles, mapUsers and mapAccounts.
	MapperMountedFile = "MountedFile"
	// MapperCRD maps with RAMIdentityMapping objects.
	MapperCRD = "CRD"
)

// Order normalises a configured mapper order (names compared case-insensitively, each at most
// once). Without one it is MountedFile, then CRD when the cluster's objects can be read
// (crdAvailable). Naming CRD without crdAvailable is an error.
func Order(configured []string, crdAvailable bool) ([]string, error) {
	if len(configured) == 0 {
		if crdAvailable {
			return []string{MapperMountedFile, MapperCRD}, nil
		}
		return []string{MapperMountedFile}, nil
	}
	out := make([]string, 0, len(configured))
	for _, m := range configured {
		var name string
		switch {
		case strings.EqualFold(m, MapperMountedFile):
			name = MapperMountedFile
		case strings.EqualFold(m, MapperCRD):
			name = MapperCRD
			if !crdAvailable {
				return nil, errors.New("server.mappers lists CRD but there is no Kubernetes configuration: pass --kubeconfig or run in a pod")
			}
		default:
			return nil, fmt.Errorf("server.mappers: unknown mapper %q (known: %s, %s)", m, MapperMountedFile, MapperCRD)
		}
		for _, seen := range out {
			if seen == name {
				return nil, fmt.Errorf("server.mappers lists %s twice", name)
			}
		}
		out = append(out, name)
	}
	return out, nil
}

// Stage is one mapper of a chain: it maps an identity with its own rules. ok is false when it has
// no rule for the identity; an error refuses the identity.
type Stage interface {
	Name() string
	Map(id token.Identity) (res *Result, ok bool, err error)
}

// RuleStage is a Stage over a fixed set of rules.
type RuleStage struct {
	StageName string
	Rules     []Rule
}

// Name implements Stage.
func (s RuleStage) Name() string { return s.StageName }

// Map implements Stage.
func (s RuleStage) Map(id token.Identity) (*Result, bool, error) { return Match(s.Rules, id) }

// Decision is the outcome of Decide.
type Decision struct {
	// Stage names the mapper that decided; empty when none matched.
	Stage string
	// Result is the winning rule and rendered user; nil when none matched or the stage failed.
	Result *Result
	// Err is set when the identity is refused: the deciding stage failed (a template without a
	// value, rules not loaded) or its result uses a reserved name (errors.Is(Err, ErrReserved)).
	Err error
}

// Mapped reports whether the identity is mapped and allowed.
func (d Decision) Mapped() bool { return d.Result != nil && d.Err == nil }

// Decide asks stages in order: the first that matches decides, an error refuses the identity
// (later stages are not asked, so a broken rule never falls through to a weaker one), and the
// result must pass CheckReserved with allowedGroups. It is the authenticator's decision, and the
// one "kubectl ack-map explain" reports.
func Decide(stages []Stage, id token.Identity, allowedGroups []string) Decision {
	for _, s := range stages {
		res, ok, err := s.Map(id)
		if err != nil {
			return Decision{Stage: s.Name(), Err: err}
		}
		if !ok {
			continue
		}
		return Decision{Stage: s.Name(), Result: res, Err: CheckReserved(res.Username, res.Groups, allowedGroups)}
	}
	return Decision{}
}
