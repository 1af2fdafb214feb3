package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"golang.org/x/sync/errgroup"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/clusters"
	"github.com/kubectl-ack/kubectl-ack/pkg/credentials"
	"github.com/kubectl-ack/kubectl-ack/pkg/kubeconfig/kubefile"
)

// defaultContextTemplate names the contexts of `kubeconfig --all`: a name may be used in
// several regions, so the region is part of it.
const defaultContextTemplate = "{{.Name}}.{{.RegionID}}"

// markerName is the context extension that marks the contexts `kubeconfig --all` wrote.
// kubectl keeps unknown extensions when it rewrites a kubeconfig, so the mark survives
// `kubectl config set-context`, `rename-context` and the like.
const markerName = "kubectl-ack"

// markerWriter is the marker's writtenBy: --prune removes only contexts with this value.
const markerWriter = "kubectl ack-login kubeconfig --all"

// fetchConcurrency bounds the DescribeClusterUserKubeconfig calls in flight.
const fetchConcurrency = 4

// contextNameData are the fields of --context-template.
type contextNameData struct {
	Name, ClusterID, RegionID, AccountID, ClusterType string
}

// contextTemplate is a parsed --context-template: literal text and {{.Field}} placeholders.
// It is the placeholder subset of Go templates, on purpose: executing a text/template makes
// the linker keep every exported method of the binary, which costs this plugin megabytes and
// start-up time on every kubectl command.
type contextTemplate struct {
	parts  []string // literal text and field names, alternating: even = literal, odd = field
	fields map[string]func(contextNameData) string
}

func parseContextTemplate(s string) (*contextTemplate, error) {
	t := &contextTemplate{fields: map[string]func(contextNameData) string{
		"Name":        func(d contextNameData) string { return d.Name },
		"ClusterID":   func(d contextNameData) string { return d.ClusterID },
		"RegionID":    func(d contextNameData) string { return d.RegionID },
		"AccountID":   func(d contextNameData) string { return d.AccountID },
		"ClusterType": func(d contextNameData) string { return d.ClusterType },
	}}
	rest := s
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			t.parts = append(t.parts, rest)
			break
		}
		end := strings.Index(rest[open:], "}}")
		if end < 0 {
			return nil, fmt.Errorf("invalid --context-template %q: unclosed {{", s)
		}
		field, ok := strings.CutPrefix(strings.TrimSpace(rest[open+2:open+end]), ".")
		if _, known := t.fields[field]; !ok || !known {
			return nil, fmt.Errorf("invalid --context-template %q: %q is not a field; use {{.Name}}, {{.ClusterID}}, {{.RegionID}}, {{.AccountID}} or {{.ClusterType}}",
				s, rest[open:open+end+2])
		}
		t.parts = append(t.parts, rest[:open], field)
		rest = rest[open+end+2:]
	}
	return t, nil
}

// canonical is the template with its placeholders written alike ("{{ .Name }}" = "{{.Name}}"),
// to tell whether two runs used the same template.
func (t *contextTemplate) canonical() string {
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
		} else {
			b.WriteString("{{." + p + "}}")
		}
	}
	return b.String()
}

// render returns the context name for a cluster.
func (t *contextTemplate) render(d contextNameData) (string, error) {
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
		} else {
			b.WriteString(t.fields[p](d))
		}
	}
	name := b.String()
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, "\n\r\t") {
		return "", fmt.Errorf("gives the context name %q for cluster %s", name, d.ClusterID)
	}
	return name, nil
}

// marker is the value of the markerName extension.
type marker struct {
	WrittenBy   string `json:"writtenBy"`
	AccountID   string `json:"accountId"`
	ClusterID   string `json:"clusterId"`
	ClusterName string `json:"clusterName"`
	RegionID    string `json:"regionId"`
	Template    string `json:"contextTemplate"`
}

func markerOf(ci kubefile.ContextInfo) (marker, bool) {
	m, ok := ci.Extensions[markerName].(map[string]any)
	if !ok {
		return marker{}, false
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	mk := marker{WrittenBy: str("writtenBy"), AccountID: str("accountId"), ClusterID: str("clusterId"),
		ClusterName: str("clusterName"), RegionID: str("regionId"), Template: str("contextTemplate")}
	return mk, mk.WrittenBy == markerWriter
}

// planned is what --all does with one cluster.
type planned struct {
	cluster cloud.Cluster
	context string
	skip    string // why the cluster gets no context
	entries kubefile.Entries
	err     error
}

// allRun is one `kubeconfig --all`.
type allRun struct {
	ko      *kubeconfigOptions
	cs      *cloud.CS
	account string
	scope   clusters.Scope
	list    []cloud.Cluster
	plan    []*planned
	remove  map[string]string // context → why
}

func (ko *kubeconfigOptions) runAll(ctx context.Context) error {
	r, err := ko.newAllRun(ctx)
	if err != nil {
		return err
	}
	if err := r.makePlan(); err != nil {
		return err
	}
	var existing []kubefile.ContextInfo
	if !ko.stdout {
		// A dry run reads the file too: it reports what a write would add, update and remove.
		if existing, err = kubefile.Contexts(ko.paths()); err != nil {
			return err
		}
		if err := r.checkConflicts(existing); err != nil {
			return err
		}
	}
	if err := r.fetch(ctx); err != nil {
		return err
	}
	r.planRemovals(existing)
	switch {
	case ko.stdout:
		return r.print(func(string) string { return statusPrinted }, "")
	case ko.dryRun == cli.DryRunClient:
		return r.print(r.dryRunStatus(existing), "; dry run, nothing was written")
	}
	return r.write()
}

// newAllRun finds the account and lists the clusters in scope.
func (ko *kubeconfigOptions) newAllRun(ctx context.Context) (*allRun, error) {
	res, cs, err := ko.root.csClient(ctx)
	if err != nil {
		return nil, err
	}
	ci, err := credentials.Whoami(ctx, res, ko.root.endpoints)
	if err != nil {
		return nil, err
	}
	r := &allRun{ko: ko, cs: cs, account: ci.AccountID, scope: clusters.Scope{RegionID: ko.region}, remove: map[string]string{}}
	if err := r.listClusters(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (ko *kubeconfigOptions) paths() kubefile.PathOptions {
	return kubefile.PathOptions{ExplicitPath: ko.kubeconfig, Env: ko.root.lookupEnv}
}

func (r *allRun) listClusters(ctx context.Context) error {
	prog := r.ko.root.newProgress()
	defer prog.Done()
	return clusters.List(ctx, r.cs, r.scope, func(p cloud.ClusterPage) error {
		r.list = append(r.list, p.Clusters...)
		prog.Printf("listing clusters in %s: %d of %d", r.scope, p.Seen, max(p.TotalCount, p.Seen))
		return nil
	})
}

// makePlan selects the clusters, names their contexts and rejects names used twice.
func (r *allRun) makePlan() error {
	byName := map[string][]string{}
	for _, c := range r.list {
		if r.ko.nameGlob != "" && !clusters.MatchName(r.ko.nameGlob, c.Name) {
			continue
		}
		p := &planned{cluster: c}
		name, err := r.ko.tmpl.render(contextNameData{Name: c.Name, ClusterID: c.ClusterID,
			RegionID: c.RegionID, AccountID: r.account, ClusterType: c.ClusterType})
		if err != nil {
			return fmt.Errorf("--context-template %q %w", r.ko.contextTmpl, err)
		}
		p.context = name
		if c.State != clusters.StateRunning {
			p.skip = fmt.Sprintf("cluster is %q, not running", c.State)
		} else {
			byName[name] = append(byName[name], c.ClusterID+" ("+c.RegionID+")")
		}
		r.plan = append(r.plan, p)
	}
	var dup []string
	for name, ids := range byName {
		if len(ids) > 1 {
			dup = append(dup, fmt.Sprintf("%q: %s", name, strings.Join(ids, ", ")))
		}
	}
	if len(dup) > 0 {
		sort.Strings(dup)
		return fmt.Errorf("--context-template %q gives several clusters the same context name:\n  %s\nadd {{.ClusterID}} or {{.RegionID}} to the template",
			r.ko.contextTmpl, strings.Join(dup, "\n  "))
	}
	sort.SliceStable(r.plan, func(i, j int) bool { return r.plan[i].context < r.plan[j].context })
	return nil
}

// checkConflicts refuses to overwrite contexts that --all did not write.
func (r *allRun) checkConflicts(existing []kubefile.ContextInfo) error {
	ours := map[string]bool{}
	for _, ci := range existing {
		_, mine := markerOf(ci)
		ours[ci.Name] = mine
	}
	var foreign []string
	for _, p := range r.plan {
		if mine, exists := ours[p.context]; p.skip == "" && exists && !mine {
			foreign = append(foreign, p.context)
		}
	}
	if len(foreign) > 0 {
		return fmt.Errorf("these contexts exist and were not written by `kubeconfig --all`, so they are left alone: %s\n"+
			"delete them (kubectl config delete-context NAME) or choose other names with --context-template", strings.Join(foreign, ", "))
	}
	return nil
}

// fetch gets the server and CA of every running planned cluster, a few at a time.
func (r *allRun) fetch(ctx context.Context) error {
	prog := r.ko.root.newProgress()
	defer prog.Done()
	var todo []*planned
	for _, p := range r.plan {
		if p.skip == "" {
			todo = append(todo, p)
		}
	}
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for _, p := range todo {
		g.Go(func() error {
			server, ca, _, err := r.ko.endpoint(gctx, r.cs, p.cluster.ClusterID)
			mu.Lock()
			defer mu.Unlock()
			done++
			prog.Printf("fetching API server addresses: %d of %d", done, len(todo))
			if err != nil {
				p.err = err
				return nil
			}
			p.entries = r.ko.execEntries(p.cluster.ClusterID, p.context, server, ca)
			p.entries.Context.Extensions = []kubefile.NamedExtension{{Name: markerName, Extension: marker{
				WrittenBy: markerWriter, AccountID: r.account, ClusterID: p.cluster.ClusterID,
				ClusterName: p.cluster.Name, RegionID: p.cluster.RegionID, Template: r.ko.tmpl.canonical(),
			}}}
			return nil
		})
	}
	_ = g.Wait()
	return ctx.Err()
}

// planRemovals picks the marked contexts to remove: with --prune those of this account and
// scope whose cluster no longer exists, and always those this template wrote for a cluster
// that now gets another name (a renamed cluster).
func (r *allRun) planRemovals(existing []kubefile.ContextInfo) {
	exists := map[string]bool{}
	for _, c := range r.list {
		exists[c.ClusterID] = true
	}
	written := map[string]string{} // cluster id → context written now
	names := map[string]bool{}     // contexts written now
	for _, p := range r.plan {
		if p.skip == "" && p.err == nil {
			written[p.cluster.ClusterID] = p.context
			names[p.context] = true
		}
	}
	for _, ci := range existing {
		m, mine := markerOf(ci)
		if !mine || names[ci.Name] || m.AccountID != r.account || (r.scope.RegionID != "" && m.RegionID != r.scope.RegionID) {
			continue
		}
		switch now, ok := written[m.ClusterID]; {
		case r.ko.prune && !exists[m.ClusterID]:
			r.remove[ci.Name] = fmt.Sprintf("cluster %s (%s) no longer exists", m.ClusterID, m.RegionID)
		case ok && now != ci.Name && m.Template == r.ko.tmpl.canonical():
			r.remove[ci.Name] = fmt.Sprintf("replaced by %q (cluster renamed)", now)
		}
	}
}

func (r *allRun) entries() []kubefile.Entries {
	var out []kubefile.Entries
	for _, p := range r.plan {
		if p.skip == "" && p.err == nil {
			out = append(out, p.entries)
		}
	}
	return out
}

func (r *allRun) failures() error {
	var errs []error
	for _, p := range r.plan {
		if p.err != nil {
			errs = append(errs, p.err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d of the clusters got no context: %w", len(errs), errors.Join(errs...))
}

// Report statuses besides kubefile's.
const (
	statusPrinted     = "printed"
	statusSkipped     = "skipped"
	statusFailed      = "failed"
	statusWouldAdd    = "would add"
	statusWouldUpdate = "would update"
	statusWouldRemove = "would remove"
)

// dryRunStatus says what a write would do with each context.
func (r *allRun) dryRunStatus(existing []kubefile.ContextInfo) func(string) string {
	exists := map[string]bool{}
	for _, ci := range existing {
		exists[ci.Name] = true
	}
	return func(name string) string {
		switch {
		case r.remove[name] != "":
			return statusWouldRemove
		case exists[name]:
			return statusWouldUpdate
		}
		return statusWouldAdd
	}
}

// print writes a standalone kubeconfig to stdout and the report, with status for each context,
// to stderr.
func (r *allRun) print(status func(string) string, tail string) error {
	out := r.ko.root.streams
	if es := r.entries(); len(es) > 0 {
		b, err := kubefile.RenderAll(es, "")
		if err != nil {
			return err
		}
		if _, err := out.Out.Write(b); err != nil {
			return err
		}
	}
	counts := r.report(out.ErrOut, status)
	r.summary(out.ErrOut, counts, tail)
	return r.failures()
}

// write applies the plan in one kubeconfig update and reports it.
func (r *allRun) write() error {
	ch := kubefile.Change{Set: r.entries()}
	for name := range r.remove {
		ch.Remove = append(ch.Remove, name)
	}
	sort.Strings(ch.Remove)
	res, err := kubefile.Update(r.ko.paths(), ch, r.ko.root.now())
	if err != nil {
		return err
	}
	w := r.ko.root.streams.Out
	counts := r.report(w, func(name string) string { return res.Contexts[name] })
	tail := "; kubeconfig unchanged"
	if len(res.Files) > 0 {
		for _, b := range res.Backups {
			fmt.Fprintf(w, "Backed up %s\n", b)
		}
		tail = "; written to " + strings.Join(res.Files, ", ")
	}
	r.summary(w, counts, tail)
	return r.failures()
}

// report prints one line per cluster and per context removed (status "" for one that was not),
// and returns how many lines had each status.
func (r *allRun) report(w io.Writer, status func(name string) string) map[string]int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	counts := map[string]int{}
	line := func(status, context, detail string) {
		counts[status]++
		fmt.Fprintf(tw, "%s\t%s\t%s\n", status, context, detail)
	}
	for _, p := range r.plan {
		switch {
		case p.skip != "":
			line(statusSkipped, p.context, p.skip)
		case p.err != nil:
			line(statusFailed, p.context, p.err.Error())
		default:
			line(status(p.context), p.context, p.cluster.ClusterID+" ("+p.cluster.RegionID+")")
		}
	}
	removed := make([]string, 0, len(r.remove))
	for name := range r.remove {
		removed = append(removed, name)
	}
	sort.Strings(removed)
	for _, name := range removed {
		if st := status(name); st == kubefile.StatusRemoved || st == statusWouldRemove {
			line(st, name, r.remove[name])
		}
	}
	_ = tw.Flush()
	return counts
}

// summary prints the closing line: the counts, then tail (where it was written).
func (r *allRun) summary(w io.Writer, counts map[string]int, tail string) {
	var parts []string
	for _, s := range []string{kubefile.StatusAdded, kubefile.StatusUpdated, kubefile.StatusUnchanged, statusPrinted,
		statusWouldAdd, statusWouldUpdate, kubefile.StatusRemoved, statusWouldRemove, statusSkipped, statusFailed} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no cluster matched"}
	}
	fmt.Fprintf(w, "%d clusters in %s: %s%s.\n", len(r.list), r.scope, strings.Join(parts, ", "), tail)
}
