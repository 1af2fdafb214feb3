package mapping

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
)

// Results of an upsert, printed after the object reference as kubectl does.
const (
	resultCreated    = "created"
	resultConfigured = "configured"
	resultUnchanged  = "unchanged"
)

// dryRunOpts is the DryRun field of write options.
func dryRunOpts(mode cli.DryRun) []string {
	if mode == cli.DryRunServer {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// dryRunSuffix is appended to result lines.
func dryRunSuffix(mode cli.DryRun) string {
	switch mode {
	case cli.DryRunClient:
		return " (dry run)"
	case cli.DryRunServer:
		return " (server dry run)"
	}
	return ""
}

// listAll lists every mapping in the cluster.
func (a *api) listAll(ctx context.Context) ([]v1alpha1.RAMIdentityMapping, error) {
	l, err := a.mappings().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, a.wrap(err, "list RAMIdentityMappings")
	}
	return l.Items, nil
}

// byKey returns the mappings whose ARN has canonical key key.
func byKey(all []v1alpha1.RAMIdentityMapping, key string) []v1alpha1.RAMIdentityMapping {
	var out []v1alpha1.RAMIdentityMapping
	for _, m := range all {
		if arn.CanonicalKey(m.Spec.ARN) == key {
			out = append(out, m)
		}
	}
	return out
}

func names(ms []v1alpha1.RAMIdentityMapping) string {
	n := make([]string, len(ms))
	for i, m := range ms {
		n[i] = m.Name
	}
	return strings.Join(n, ", ")
}

func specEqual(a, b v1alpha1.RAMIdentityMappingSpec) bool {
	return a.ARN == b.ARN && a.Username == b.Username && slices.Equal(a.Groups, b.Groups) && a.AllowAnyAccount == b.AllowAnyAccount
}

func describeSpec(s v1alpha1.RAMIdentityMappingSpec) string {
	return fmt.Sprintf("arn %s, username %q, groups [%s]", s.ARN, s.Username, strings.Join(s.Groups, ","))
}

// upsertRequest is one mapping to create or replace.
type upsertRequest struct {
	name         string // object name (derived when the user gave none)
	explicitName bool
	spec         v1alpha1.RAMIdentityMappingSpec
	overwrite    bool
	dryRun       cli.DryRun
}

// upsert creates the mapping, or replaces the one that already maps the same canonical ARN
// (case-insensitively, assumed-role = role) when overwrite is set. An identical existing mapping
// is "unchanged" without --overwrite, so re-runs are idempotent. all is the current list (it is
// not re-read, so import checks a batch against one snapshot); written objects are returned.
func (a *api) upsert(ctx context.Context, all []v1alpha1.RAMIdentityMapping, req upsertRequest) (string, *v1alpha1.RAMIdentityMapping, error) {
	key := arn.CanonicalKey(req.spec.ARN)
	same := byKey(all, key)
	var target *v1alpha1.RAMIdentityMapping
	switch {
	case len(same) > 1:
		return "", nil, fmt.Errorf("%d mappings already map %s (%s): delete all but one with 'kubectl ack-map delete NAME' first", len(same), req.spec.ARN, names(same))
	case len(same) == 1:
		s := same[0]
		if specEqual(s.Spec, req.spec) && (!req.explicitName || s.Name == req.name) {
			return resultUnchanged, forPrint(&s), nil
		}
		if !req.overwrite {
			return "", nil, fmt.Errorf("mapping %q already maps %s (%s): refusing a second mapping for the same identity; pass --overwrite to replace it, or use 'kubectl ack-map update %s'", s.Name, req.spec.ARN, describeSpec(s.Spec), s.Name)
		}
		if req.explicitName && s.Name != req.name {
			return "", nil, fmt.Errorf("--name %q: mapping %q already maps %s; --overwrite replaces that mapping in place, so omit --name or delete %q first", req.name, s.Name, req.spec.ARN, s.Name)
		}
		target = &s
	default:
		for i := range all {
			if all[i].Name != req.name {
				continue
			}
			if !req.overwrite {
				return "", nil, fmt.Errorf("mapping %q already exists for a different identity (%s): choose another --name, or pass --overwrite to replace it", req.name, describeSpec(all[i].Spec))
			}
			target = &all[i]
		}
	}

	if target == nil {
		obj := &v1alpha1.RAMIdentityMapping{TypeMeta: mappingTypeMeta, Spec: req.spec}
		obj.Name = req.name
		if req.dryRun == cli.DryRunClient {
			return resultCreated, obj, nil
		}
		got, err := a.mappings().Create(ctx, obj, metav1.CreateOptions{DryRun: dryRunOpts(req.dryRun)})
		if err != nil {
			if apierrors.IsAlreadyExists(err) {
				return "", nil, fmt.Errorf("create mapping %q: it was created concurrently; run the command again: %w", req.name, err)
			}
			return "", nil, a.wrap(err, fmt.Sprintf("create mapping %q", req.name))
		}
		return resultCreated, forPrint(got), nil
	}
	obj := target.DeepCopy()
	obj.Spec = req.spec
	if req.dryRun == cli.DryRunClient {
		return resultConfigured, forPrint(obj), nil
	}
	got, err := a.mappings().Update(ctx, obj, metav1.UpdateOptions{DryRun: dryRunOpts(req.dryRun)})
	if err != nil {
		if apierrors.IsConflict(err) {
			return "", nil, fmt.Errorf("update mapping %q: it changed while this command ran; run the command again: %w", obj.Name, err)
		}
		return "", nil, a.wrap(err, fmt.Sprintf("update mapping %q", obj.Name))
	}
	return resultConfigured, forPrint(got), nil
}

// get reads one mapping, telling a missing object from a missing CRD.
func (a *api) get(ctx context.Context, name string) (*v1alpha1.RAMIdentityMapping, error) {
	m, err := a.mappings().Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		return m, nil
	}
	if apierrors.IsNotFound(err) && a.served() {
		return nil, fmt.Errorf("mapping %q not found (see 'kubectl ack-map list'): %w", name, err)
	}
	return nil, a.wrap(err, fmt.Sprintf("get mapping %q", name))
}
