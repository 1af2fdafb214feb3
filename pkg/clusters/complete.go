package clusters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cachedir"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
)

// Defaults of Completer.
const (
	// DefaultCompletionTTL is how long a listed cluster list serves completions: long enough
	// for the TABs of one command line, short enough that a new cluster shows up soon.
	DefaultCompletionTTL = 60 * time.Second
	// DefaultCompletionTimeout bounds the listing behind one completion, so that a slow or
	// unreachable CS never hangs the shell.
	DefaultCompletionTimeout = 3 * time.Second
)

// CompletionCache keeps small data for a short time. pkg/cachedir.Data implements it in the
// kubectl-ack cache directory, with that directory's trust rules.
type CompletionCache interface {
	// GetData returns what PutData stored under key (lowercase hex), or ok=false.
	GetData(key string) (data []byte, ok bool)
	// PutData stores data under key.
	PutData(key string, data []byte) error
}

// Completer suggests cluster ids and names for shell completion, for one identity. It never
// fails loudly: credentials that do not resolve, a slow, failing or unreachable CS, or an
// unusable cache give fewer or no suggestions, within Timeout, and no error.
type Completer struct {
	// Lister returns what lists the clusters (typically a *cloud.CS with retries off). It is
	// called only when the cache holds no fresh list.
	Lister func(context.Context) (Lister, error)
	// Cache, when set, keeps the list for TTL under a key made of CacheKey and the scope.
	// CacheKey must tell identities and endpoints apart (e.g. an identity key and the CS
	// endpoint); it is hashed, never stored.
	Cache    CompletionCache
	CacheKey string
	// TTL defaults to DefaultCompletionTTL, Timeout to DefaultCompletionTimeout.
	TTL     time.Duration
	Timeout time.Duration
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// ForCredentials returns the Completer of the identity creds resolve to (resolved now: the cache
// key names the identity): clusters listed through CS at ep with one attempt and no retries
// (completion must answer quickly), and kept for TTL in the kubectl-ack cache directory
// (pkg/cachedir: a trusted directory only, no links, atomic 0600 files) under the identity and
// the CS endpoint. lookupEnv finds KUBECACHEDIR. Credentials that do not resolve, or a cache
// directory that cannot be found, give no suggestions or no cache, never an error.
func ForCredentials(ctx context.Context, creds credentials.Options, ep cloud.Endpoints, lookupEnv func(string) (string, bool)) Completer {
	var c Completer
	res, err := creds.Resolve(ctx)
	if err != nil {
		c.Lister = func(context.Context) (Lister, error) { return nil, err }
		return c
	}
	c.Lister = func(context.Context) (Lister, error) {
		cs, err := cloud.NewCS(res.Credential, ep)
		if err != nil {
			return nil, err
		}
		cs.Retry.MaxAttempts = 1
		return cs, nil
	}
	if dir, err := cachedir.DefaultDir(lookupEnv, ""); err == nil {
		c.Cache = cachedir.Data{Dir: dir}
		c.CacheKey = res.IdentityKey + "|" + ep.CSEndpoint()
	}
	return c
}

// Candidate is a cluster as completion shows it.
type Candidate struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	RegionID string `json:"regionId"`
	State    string `json:"state"`
}

// cachedList is what the cache holds for one identity and scope.
type cachedList struct {
	Listed   time.Time   `json:"listed"`
	Clusters []Candidate `json:"clusters"`
}

// IDs returns the ids of the clusters in scope that start with prefix, as completion
// candidates "ID\tNAME (REGION, STATE)", sorted by name.
func (c Completer) IDs(ctx context.Context, scope Scope, prefix string) []string {
	var out []string
	for _, cl := range c.Candidates(ctx, scope) {
		if strings.HasPrefix(cl.ID, prefix) {
			out = append(out, fmt.Sprintf("%s\t%s (%s, %s)", cl.ID, cl.Name, cl.RegionID, cl.State))
		}
	}
	return out
}

// Names returns the distinct names of the clusters in scope that start with prefix (in any
// letter case), as completion candidates "NAME\tID (REGION)"; a name that several clusters
// share shows its regions instead ("NAME\t2 clusters: cn-beijing, cn-hangzhou").
func (c Completer) Names(ctx context.Context, scope Scope, prefix string) []string {
	byName := map[string][]Candidate{}
	var names []string
	for _, cl := range c.Candidates(ctx, scope) {
		if cl.Name == "" || !strings.HasPrefix(strings.ToLower(cl.Name), strings.ToLower(prefix)) {
			continue
		}
		if byName[cl.Name] == nil {
			names = append(names, cl.Name)
		}
		byName[cl.Name] = append(byName[cl.Name], cl)
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		cls := byName[n]
		if len(cls) == 1 {
			out = append(out, fmt.Sprintf("%s\t%s (%s)", n, cls[0].ID, cls[0].RegionID))
			continue
		}
		regions := make([]string, 0, len(cls))
		for _, cl := range cls {
			regions = append(regions, cl.RegionID)
		}
		sort.Strings(regions)
		out = append(out, fmt.Sprintf("%s\t%d clusters: %s", n, len(cls), strings.Join(regions, ", ")))
	}
	return out
}

// Candidates returns the clusters in scope, sorted by name then region: from the cache when it
// holds a list younger than TTL, else listed (and cached). Any failure gives what is known:
// nothing.
func (c Completer) Candidates(ctx context.Context, scope Scope) []Candidate {
	now := c.now()
	key := c.cacheKey(scope)
	if list, ok := c.cached(key, now); ok {
		return list
	}
	list, ok := c.list(ctx, scope)
	if !ok {
		return nil
	}
	if c.Cache != nil {
		if b, err := json.Marshal(cachedList{Listed: now, Clusters: list}); err == nil {
			_ = c.Cache.PutData(key, b)
		}
	}
	return list
}

func (c Completer) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Completer) cacheKey(scope Scope) string {
	sum := sha256.Sum256([]byte("clusters/v1\x00" + c.CacheKey + "\x00" + scope.RegionID))
	return "clusters-" + hex.EncodeToString(sum[:16])
}

// cached returns the cached list when it is fresh: listed less than TTL ago, and not in the
// future (a clock set back would otherwise keep a list forever).
func (c Completer) cached(key string, now time.Time) ([]Candidate, bool) {
	if c.Cache == nil {
		return nil, false
	}
	b, ok := c.Cache.GetData(key)
	if !ok {
		return nil, false
	}
	var cl cachedList
	if json.Unmarshal(b, &cl) != nil || cl.Listed.After(now) {
		return nil, false
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultCompletionTTL
	}
	return cl.Clusters, now.Sub(cl.Listed) < ttl
}

// list asks CS within Timeout. The listing runs in its own goroutine so that even a Lister that
// ignores its context cannot hold the shell past the timeout.
func (c Completer) list(ctx context.Context, scope Scope) ([]Candidate, bool) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultCompletionTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		list []Candidate
		err  error
	}
	done := make(chan result, 1)
	go func() {
		l, err := c.Lister(ctx)
		if err != nil {
			done <- result{err: err}
			return
		}
		all, err := All(ctx, l, scope)
		done <- result{list: candidates(all), err: err}
	}()
	select {
	case r := <-done:
		return r.list, r.err == nil
	case <-ctx.Done():
		return nil, false
	}
}

func candidates(all []cloud.Cluster) []Candidate {
	out := make([]Candidate, 0, len(all))
	for _, cl := range all {
		out = append(out, Candidate{ID: cl.ClusterID, Name: cl.Name, RegionID: cl.RegionID, State: cl.State})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].RegionID < out[j].RegionID
	})
	return out
}
