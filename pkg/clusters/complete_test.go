package clusters_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/clusters"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

// memCache is an in-memory CompletionCache.
type memCache struct {
	mu   sync.Mutex
	data map[string][]byte
}

func (m *memCache) GetData(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.data[key]
	return b, ok
}

func (m *memCache) PutData(key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data == nil {
		m.data = map[string][]byte{}
	}
	m.data[key] = data
	return nil
}

func listerOf(l clusters.Lister) func(context.Context) (clusters.Lister, error) {
	return func(context.Context) (clusters.Lister, error) { return l, nil }
}

// values strips the descriptions of completion candidates.
func values(cands []string) []string {
	out := make([]string, 0, len(cands))
	for _, c := range cands {
		v, _, _ := strings.Cut(c, "\t")
		out = append(out, v)
	}
	return out
}

func TestCompleterIDsAndNames(t *testing.T) {
	srv, cs := fleet(t)
	ids := map[string]string{}
	for _, c := range emulator.FleetClusters(srv.Info().AccountID) {
		ids[c.RegionID+"/"+c.Name] = c.ID
	}
	c := clusters.Completer{Lister: listerOf(cs)}
	tests := []struct {
		name   string
		got    func() []string
		want   []string // candidates, with descriptions, that must be there
		values []string // all values, when set
	}{
		{name: "ids with name, region and state", got: func() []string { return c.IDs(ctxT(t), clusters.Scope{}, "") },
			want: []string{ids["cn-beijing/batch"] + "\tbatch (cn-beijing, updating)", ids["cn-hangzhou/prod-web"] + "\tprod-web (cn-hangzhou, running)"}},
		{name: "ids by prefix", got: func() []string { return c.IDs(ctxT(t), clusters.Scope{}, ids["cn-shanghai/staging"][:12]) },
			values: []string{ids["cn-shanghai/staging"]}},
		{name: "ids of a region", got: func() []string { return c.IDs(ctxT(t), clusters.Scope{RegionID: "cn-beijing"}, "") },
			values: []string{ids["cn-beijing/batch"], ids["cn-beijing/prod-web"]}},
		{name: "a shared name once, with its regions", got: func() []string { return c.Names(ctxT(t), clusters.Scope{}, "prod-") },
			want: []string{"prod-web\t2 clusters: cn-beijing, cn-hangzhou", "prod-api\t" + ids["cn-hangzhou/prod-api"] + " (cn-hangzhou)"}, values: []string{"prod-api", "prod-web"}},
		{name: "names in any letter case", got: func() []string { return c.Names(ctxT(t), clusters.Scope{}, "STAG") },
			values: []string{"staging"}},
		{name: "names of a region", got: func() []string { return c.Names(ctxT(t), clusters.Scope{RegionID: "cn-beijing"}, "") },
			values: []string{"batch", "prod-web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.got()
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("candidates %q lack %q", got, w)
				}
			}
			if tt.values != nil && !slices.Equal(values(got), tt.values) {
				t.Errorf("values %q, want %q", values(got), tt.values)
			}
		})
	}
}

func TestCompleterCachesBriefly(t *testing.T) {
	srv, cs := fleet(t)
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	cache := &memCache{}
	c := clusters.Completer{Lister: listerOf(cs), Cache: cache, CacheKey: "identity-a|cs", Now: func() time.Time { return now }}
	calls := func() int { return srv.Calls(emulator.ServiceCS, "DescribeClustersV1") }
	steps := []struct {
		name      string
		advance   time.Duration
		key       string
		region    string
		wantCalls int
	}{
		{name: "first completion lists", wantCalls: 1},
		{name: "a second TAB is served from the cache", advance: 30 * time.Second, wantCalls: 0},
		{name: "another region is another list", region: "cn-beijing", wantCalls: 1},
		{name: "another identity is another list", key: "identity-b|cs", wantCalls: 1},
		{name: "after the TTL it lists again", advance: 31 * time.Second, wantCalls: 1},
		{name: "a list from the future (clock set back) is not trusted", advance: -10 * time.Minute, wantCalls: 1},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		c.CacheKey = "identity-a|cs"
		if st.key != "" {
			c.CacheKey = st.key
		}
		before := calls()
		if got := c.IDs(ctxT(t), clusters.Scope{RegionID: st.region}, ""); len(got) == 0 {
			t.Fatalf("%s: no candidates", st.name)
		}
		if n := calls() - before; n != st.wantCalls {
			t.Errorf("%s: %d DescribeClustersV1 calls, want %d", st.name, n, st.wantCalls)
		}
	}
	for k := range cache.data {
		if strings.Contains(k, "identity") || strings.ContainsFunc(k, func(r rune) bool { return r != '-' && (r < '0' || r > '9') && (r < 'a' || r > 'z') }) {
			t.Errorf("cache key %q is not a hash of the identity", k)
		}
	}
}

// blockingLister ignores its context and never answers, like a CS behind a black hole with a
// client that has no deadline.
type blockingLister struct{ release chan struct{} }

func (b blockingLister) DescribeClustersPages(context.Context, cloud.ClusterQuery, func(cloud.ClusterPage) error) error {
	<-b.release
	return nil
}

func TestCompleterNeverHangsOrFails(t *testing.T) {
	srv, cs := fleet(t)
	cs.Retry.MaxAttempts = 1
	block := blockingLister{release: make(chan struct{})}
	defer close(block.release)
	tests := []struct {
		name  string
		c     clusters.Completer
		fault string
	}{
		{name: "a lister that ignores the deadline", c: clusters.Completer{Lister: listerOf(block), Timeout: 50 * time.Millisecond}},
		{name: "no credentials", c: clusters.Completer{Lister: func(context.Context) (clusters.Lister, error) { return nil, errors.New("no credentials") }}},
		{name: "CS fails", c: clusters.Completer{Lister: listerOf(cs)}, fault: emulator.Fault5xx},
		{name: "CS is slow", c: clusters.Completer{Lister: listerOf(cs), Timeout: 200 * time.Millisecond}, fault: emulator.FaultSlow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != "" {
				srv.SetFault(emulator.ServiceCS, emulator.Fault{Mode: tt.fault, Delay: 30 * time.Second})
				defer srv.SetFault(emulator.ServiceCS, emulator.Fault{})
			}
			cache := &memCache{}
			tt.c.Cache, tt.c.CacheKey = cache, "k"
			start := time.Now()
			if got := tt.c.IDs(ctxT(t), clusters.Scope{}, ""); got != nil {
				t.Errorf("candidates %q, want none", got)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v: completion must give up within its timeout", d)
			}
			if len(cache.data) != 0 {
				t.Error("a failed listing was cached")
			}
		})
	}
	// A corrupt cache entry is a miss, and the fresh list replaces it.
	cache := &memCache{}
	c := clusters.Completer{Lister: listerOf(cs), Cache: cache, CacheKey: "k"}
	c.IDs(ctxT(t), clusters.Scope{}, "")
	for k := range cache.data {
		cache.data[k] = []byte("{garbage")
	}
	if got := c.IDs(ctxT(t), clusters.Scope{}, ""); len(got) != 8 {
		t.Fatalf("after a corrupt cache entry: %d candidates, want 8", len(got))
	}
}
