package mapper

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Backend names accepted in the authenticator's server.backendMode (the official add-on's names;
// server.mappers is our older alias for the same list).
const (
	// MapperMountedFile maps with the configuration file's mapRoles, mapUsers and mapAccounts.
	MapperMountedFile = "MountedFile"
	// MapperACKConfigMap maps with the kube-system/alibabacloud-auth ConfigMap.
	MapperACKConfigMap = "ACKConfigMap"
	// MapperCRD maps with RAMIdentityMapping objects.
	MapperCRD = "CRD"
	// MapperDynamicFile maps with a mapping file that is reloaded when it changes.
	MapperDynamicFile = "DynamicFile"
)

// deprecatedNames are the official add-on's older spellings and what they mean now.
var deprecatedNames = map[string]string{"file": MapperMountedFile, "configmap": MapperACKConfigMap}

// needsKube reports whether a backend reads from kube-apiserver.
func needsKube(name string) bool { return name == MapperCRD || name == MapperACKConfigMap }

// Order normalises a configured backend order (names compared case-insensitively, each at most
// once; the deprecated File and ConfigMap mean MountedFile and ACKConfigMap). Without one it is
// MountedFile, then CRD when the cluster's objects can be read (kubeAvailable). Naming CRD or
// ACKConfigMap without kubeAvailable is an error.
func Order(configured []string, kubeAvailable bool) ([]string, error) {
	if len(configured) == 0 {
		if kubeAvailable {
			return []string{MapperMountedFile, MapperCRD}, nil
		}
		return []string{MapperMountedFile}, nil
	}
	out := make([]string, 0, len(configured))
	for _, m := range configured {
		name := canonicalName(m)
		if name == "" {
			return nil, fmt.Errorf("server.backendMode: unknown backend %q (known: %s, %s, %s, %s)", m, MapperMountedFile, MapperACKConfigMap, MapperCRD, MapperDynamicFile)
		}
		if needsKube(name) && !kubeAvailable {
			return nil, fmt.Errorf("server.backendMode lists %s but there is no Kubernetes configuration: pass --kubeconfig, set server.kubeconfig or run in a pod", name)
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("server.backendMode lists %s twice", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// DeprecatedNames returns a warning for every deprecated backend name in configured.
func DeprecatedNames(configured []string) []string {
	var warnings []string
	for _, m := range configured {
		if now, ok := deprecatedNames[strings.ToLower(m)]; ok {
			warnings = append(warnings, fmt.Sprintf("backend mode %q is deprecated: use %q", m, now))
		}
	}
	return warnings
}

// canonicalName returns the backend a configured name means, or "" when it means none.
func canonicalName(m string) string {
	for _, name := range []string{MapperMountedFile, MapperACKConfigMap, MapperCRD, MapperDynamicFile} {
		if strings.EqualFold(m, name) {
			return name
		}
	}
	return deprecatedNames[strings.ToLower(m)]
}

// Stage is one mapper of a chain: it maps an identity with its own rules. ok is false when it has
// no rule for the identity; an error refuses the identity.
type Stage interface {
	Name() string
	Map(id token.Identity) (res *Result, ok bool, err error)
}

// Backend is a Stage whose rules are loaded in the background (RAMIdentityMapping objects, the
// alibabacloud-auth ConfigMap, a watched file) and change while the server runs.
type Backend interface {
	Stage
	// Run loads and watches the rules until ctx ends.
	Run(ctx context.Context)
	// HasSynced reports whether the first load is done (until then Map refuses).
	HasSynced() bool
}

// Observer is told the rules a backend loaded or changed (the server logs what they grant and
// how the official add-on would read them).
type Observer func(backend string, rules []Rule)

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
