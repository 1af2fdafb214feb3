//go:build unix

package rrsa

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCompleteClusterID drives `__complete ... -c` through the root command against the CS
// emulator: cluster ids complete with their name, the list is kept in the kubectl-ack cache
// directory (0600) so the next TAB does not call CS again, and a cache directory that others
// could write to is not used (CS is asked every time).
func TestCompleteClusterID(t *testing.T) {
	f := newFixture(t, nil)
	cacheDir := t.TempDir()
	t.Setenv("KUBECACHEDIR", cacheDir)
	ep := f.endpointArgs()
	ep = ep[:len(ep)-2] // without "-c ID": that is the word being completed
	complete := func(prefix string) []string {
		t.Helper()
		r := f.runArgs(t, "", append(append([]string{"__complete"}, ep...), "status", "-c", prefix)...)
		if r.err != nil {
			t.Fatalf("__complete: %v\n%s", r.err, r.stderr)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				got = append(got, l)
			}
		}
		return got
	}
	lists := func() int { return f.srv.Calls("cs", "DescribeClustersV1") }

	got := complete("")
	if !slices.ContainsFunc(got, func(c string) bool { return strings.HasPrefix(c, f.clusterID+"\t") && strings.Contains(c, "running") }) {
		t.Fatalf("completions %q lack %s with its description", got, f.clusterID)
	}
	if lists() != 1 {
		t.Fatalf("%d listings, want 1", lists())
	}
	if got := complete(f.clusterID[:4]); len(got) != 1 || !strings.HasPrefix(got[0], f.clusterID) {
		t.Errorf("prefix %q completes to %q", f.clusterID[:4], got)
	}
	if got := complete("zzz"); len(got) != 0 {
		t.Errorf("prefix zzz completes to %q", got)
	}
	if lists() != 1 {
		t.Errorf("%d listings after three completions, want 1 (cached)", lists())
	}
	files, _ := filepath.Glob(filepath.Join(cacheDir, "kubectl-ack", "clusters-*.data"))
	if len(files) != 1 {
		t.Fatalf("cache files %q, want one", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file %v %v, want mode 0600", fi, err)
	}

	// A directory others can write to is never read or written: CS is asked each time.
	if err := os.Chmod(filepath.Join(cacheDir, "kubectl-ack"), 0o777); err != nil {
		t.Fatal(err)
	}
	before := lists()
	complete("")
	complete("")
	if lists() != before+2 {
		t.Errorf("%d listings with an untrusted cache directory, want %d", lists(), before+2)
	}
}
