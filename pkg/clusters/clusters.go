// Package clusters lists the ACK clusters an identity can see and finds one by the name people
// know it by. It holds the use cases behind `kubectl ack-login clusters`, `kubeconfig --cluster
// NAME` and `kubeconfig --all`, and is meant to serve shell completion of cluster names and ids
// too: callers pass any Lister (a *cloud.CS, or a cache in front of one).
package clusters

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/kubeconfig/kubefile"
	"github.com/kubectl-ack/kubectl-ack/pkg/suggest"
)

// Lister pages through CS DescribeClustersV1; *cloud.CS implements it.
type Lister interface {
	DescribeClustersPages(ctx context.Context, q cloud.ClusterQuery, fn func(cloud.ClusterPage) error) error
}

// Scope says where to look for clusters.
type Scope struct {
	// RegionID limits the search to one region; "" searches every region.
	RegionID string
}

// String describes the scope for messages: "region cn-hangzhou" or "any region".
func (s Scope) String() string {
	if s.RegionID == "" {
		return "any region"
	}
	return "region " + s.RegionID
}

// StateRunning is the state of a cluster that serves its API.
const StateRunning = "running"

// List calls fn with each page of the clusters in scope as it arrives.
func List(ctx context.Context, l Lister, scope Scope, fn func(cloud.ClusterPage) error) error {
	if err := l.DescribeClustersPages(ctx, cloud.ClusterQuery{RegionID: scope.RegionID}, fn); err != nil {
		return fmt.Errorf("list clusters in %s: %w", scope, err)
	}
	return nil
}

// All returns every cluster in scope.
func All(ctx context.Context, l Lister, scope Scope) ([]cloud.Cluster, error) {
	var out []cloud.Cluster
	err := List(ctx, l, scope, func(p cloud.ClusterPage) error {
		out = append(out, p.Clusters...)
		return nil
	})
	return out, err
}

// MatchName reports whether a cluster name matches a glob: "*" is any run of characters, "?"
// one character, anchored at both ends and case-insensitive ("prod-*" matches "prod-web").
func MatchName(glob, name string) bool { return arn.Match(glob, name) }

// AmbiguousError is returned by Resolve when a name belongs to more than one cluster.
type AmbiguousError struct {
	Name  string
	Scope Scope
	// Candidates are the clusters with that name.
	Candidates []cloud.Cluster
}

func (e *AmbiguousError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cluster name %q matches %d clusters in %s:", e.Name, len(e.Candidates), e.Scope)
	for _, c := range e.Candidates {
		fmt.Fprintf(&b, "\n  %s  %s  %s", c.ClusterID, c.RegionID, c.State)
	}
	return b.String()
}

// NotFoundError is returned by Resolve when no cluster has the name or id.
type NotFoundError struct {
	Name  string
	Scope Scope
	// Suggestions are the names closest to Name, nearest first.
	Suggestions []string
	// Seen is how many clusters the identity can see in scope.
	Seen int
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no cluster named %q in %s", e.Name, e.Scope)
	if kubefile.IsClusterID(e.Name) {
		msg = fmt.Sprintf("no cluster with id %s in %s", e.Name, e.Scope)
	}
	switch {
	case len(e.Suggestions) > 0:
		msg += "; did you mean " + quoteList(e.Suggestions) + "?"
	case e.Seen == 0:
		msg += "; these credentials see no clusters there"
	default:
		msg += fmt.Sprintf(" (%d clusters there)", e.Seen)
	}
	return msg
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// Resolve returns the cluster whose id or name is ref. A name is matched exactly first (the
// service's own name filter narrows the listing), then case-insensitively. More than one
// cluster with the name is an *AmbiguousError listing them; none is a *NotFoundError with the
// nearest names.
func Resolve(ctx context.Context, l Lister, scope Scope, ref string) (*cloud.Cluster, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, fmt.Errorf("empty cluster name")
	}
	q := cloud.ClusterQuery{RegionID: scope.RegionID, Name: ref}
	if kubefile.IsClusterID(ref) {
		q = cloud.ClusterQuery{RegionID: scope.RegionID, ClusterID: ref}
	}
	var hits []cloud.Cluster
	err := l.DescribeClustersPages(ctx, q, func(p cloud.ClusterPage) error {
		for _, c := range p.Clusters {
			if c.ClusterID == ref || c.Name == ref {
				hits = append(hits, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find cluster %q in %s: %w", ref, scope, err)
	}
	if len(hits) == 0 {
		all, err := All(ctx, l, scope)
		if err != nil {
			return nil, err
		}
		for _, c := range all {
			if strings.EqualFold(c.Name, ref) {
				hits = append(hits, c)
			}
		}
		if len(hits) == 0 {
			return nil, &NotFoundError{Name: ref, Scope: scope, Suggestions: Suggest(ref, all, 3), Seen: len(all)}
		}
	}
	if len(hits) > 1 {
		sort.SliceStable(hits, func(i, j int) bool { return hits[i].RegionID < hits[j].RegionID })
		return nil, &AmbiguousError{Name: ref, Scope: scope, Candidates: hits}
	}
	return &hits[0], nil
}

// Suggest returns up to n distinct cluster names close to name, nearest first: names within
// an edit distance of a third of the name's length (at least 2), and names that contain it or
// that it contains.
func Suggest(name string, clusters []cloud.Cluster, n int) []string {
	type cand struct {
		name string
		dist int
	}
	lower := strings.ToLower(name)
	limit := max(2, len([]rune(name))/3)
	seen := map[string]bool{}
	var cands []cand
	for _, c := range clusters {
		if seen[c.Name] || c.Name == "" {
			continue
		}
		seen[c.Name] = true
		other := strings.ToLower(c.Name)
		d := suggest.Distance(lower, other)
		if d <= limit || strings.Contains(other, lower) || strings.Contains(lower, other) {
			cands = append(cands, cand{c.Name, d})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].name < cands[j].name
	})
	cands = cands[:min(n, len(cands))]
	out := make([]string, 0, len(cands))
	for _, c := range cands {
		out = append(out, c.name)
	}
	return out
}
