package kubefile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// entriesFor is testEntries for another cluster, context and marker.
func entriesFor(id, ctx string, marker map[string]any) Entries {
	e := testEntries(false)
	e.ClusterName, e.UserName, e.ContextName = id, ctx, ctx
	e.Exec.Args = []string{"--cluster-id", id}
	e.Context = Context{Cluster: id, User: ctx}
	if marker != nil {
		e.Context.Extensions = []NamedExtension{{Name: "kubectl-ack", Extension: marker}}
	}
	return e
}

func TestUpdateManyEntriesOneBackupAndStatuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(otherConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := PathOptions{ExplicitPath: path}
	a := entriesFor("c00000000000000000000000000000001", "a", map[string]any{"clusterId": "1"})
	b := entriesFor("c00000000000000000000000000000002", "b", nil)
	res, err := Update(opts, Change{Set: []Entries{a, b}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Backups) != 1 || len(res.Files) != 1 || res.Contexts["a"] != StatusAdded || res.Contexts["b"] != StatusAdded {
		t.Fatalf("first update: %+v", res)
	}
	m := readDoc(t, path)
	if got := names(m, SectionContexts); !slices.Equal(got, []string{"other-ctx", "a", "b"}) || m["current-context"] != "other-ctx" {
		t.Fatalf("contexts %v, current %v", got, m["current-context"])
	}

	// The same change again writes nothing and backs nothing up.
	res, err = Update(opts, Change{Set: []Entries{a, b}}, testNow)
	if err != nil || len(res.Files) != 0 || len(res.Backups) != 0 || res.Contexts["a"] != StatusUnchanged || res.Contexts["b"] != StatusUnchanged {
		t.Fatalf("second update: %+v, %v", res, err)
	}

	// A new server is an update; removing an unknown context is no change.
	b.Cluster.Server = "https://10.0.0.2:6443"
	res, err = Update(opts, Change{Set: []Entries{a, b}, Remove: []string{"nope"}}, testNow)
	if err != nil || res.Contexts["a"] != StatusUnchanged || res.Contexts["b"] != StatusUpdated || res.Contexts["nope"] != "" || len(res.Backups) != 1 {
		t.Fatalf("third update: %+v, %v", res, err)
	}
	if mode(t, path) != 0o600 {
		t.Fatalf("mode %v", mode(t, path))
	}
}

func TestUpdateRemoveKeepsSharedEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	opts := PathOptions{ExplicitPath: path}
	a := entriesFor("c00000000000000000000000000000001", "a", nil)
	b := entriesFor("c00000000000000000000000000000002", "b", nil)
	// c shares a's cluster entry.
	c := entriesFor("c00000000000000000000000000000001", "c", nil)
	b.SetCurrentContext = true
	if _, err := Update(opts, Change{Set: []Entries{a, b, c}}, testNow); err != nil {
		t.Fatal(err)
	}
	res, err := Update(opts, Change{Remove: []string{"a", "b"}}, testNow)
	if err != nil || res.Contexts["a"] != StatusRemoved || res.Contexts["b"] != StatusRemoved {
		t.Fatalf("remove: %+v, %v", res, err)
	}
	m := readDoc(t, path)
	if got := names(m, SectionContexts); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("contexts %v", got)
	}
	if got := names(m, SectionUsers); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("users %v: the users of removed contexts must go", got)
	}
	if got := names(m, SectionClusters); !slices.Equal(got, []string{"c00000000000000000000000000000001"}) {
		t.Fatalf("clusters %v: the cluster c still uses must stay, b's must go", got)
	}
	if _, ok := m["current-context"]; ok {
		t.Fatalf("current-context %v names a removed context", m["current-context"])
	}
}

// TestContextExtensionSurvivesClientGoRewrite checks the marker the way kubectl treats it:
// `kubectl config set-context` loads the file with client-go, changes it and writes it back.
func TestContextExtensionSurvivesClientGoRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(otherConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := PathOptions{ExplicitPath: path}
	marker := map[string]any{"clusterId": "c00000000000000000000000000000001", "regionId": "cn-hangzhou"}
	a := entriesFor("c00000000000000000000000000000001", "a", marker)
	if _, err := Update(opts, Change{Set: []Entries{a}}, testNow); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts["a"].Namespace = "web"
	cfg.Contexts["renamed"] = cfg.Contexts["a"]
	delete(cfg.Contexts, "a")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	ctxs, err := Contexts(opts)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ctxs, func(c ContextInfo) bool { return c.Name == "renamed" })
	if i < 0 {
		t.Fatalf("contexts %+v", ctxs)
	}
	got, _ := ctxs[i].Extensions["kubectl-ack"].(map[string]any)
	if got["clusterId"] != marker["clusterId"] || got["regionId"] != "cn-hangzhou" || ctxs[i].User != "a" {
		t.Fatalf("marker after a client-go rewrite: %+v", ctxs[i])
	}

	// Setting the marker again keeps a foreign extension on the same context.
	cfg, _ = clientcmd.LoadFromFile(path)
	cfg.Contexts["renamed"].Extensions["other-tool"] = cfg.Contexts["renamed"].Extensions["kubectl-ack"]
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	a.ContextName = "renamed"
	if _, err := Update(opts, Change{Set: []Entries{a}}, testNow); err != nil {
		t.Fatal(err)
	}
	ctxs, _ = Contexts(opts)
	i = slices.IndexFunc(ctxs, func(c ContextInfo) bool { return c.Name == "renamed" })
	if _, ok := ctxs[i].Extensions["other-tool"]; !ok || ctxs[i].Extensions["kubectl-ack"] == nil {
		t.Fatalf("extensions after re-marking: %+v", ctxs[i].Extensions)
	}
}

func TestRenderAll(t *testing.T) {
	a := entriesFor("c00000000000000000000000000000001", "a", nil)
	b := entriesFor("c00000000000000000000000000000002", "b", nil)
	out, err := RenderAll([]Entries{a, b}, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "printed")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil || len(cfg.Contexts) != 2 || cfg.CurrentContext != "" {
		t.Fatalf("rendered: %+v, %v", cfg, err)
	}
	if _, err := RenderAll(nil, ""); err == nil {
		t.Fatal("RenderAll(nil) succeeded")
	}
}
