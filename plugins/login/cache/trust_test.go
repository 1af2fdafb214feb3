//go:build unix

package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// otherUID is the owner of "foreign" files: tests run as root can give files away with os.Chown.
const otherUID = 4242

// refresh runs GetOrRefresh for key "k" at t0 with a 0 margin, issuing {"issued":true}, and
// returns the entry and every warning.
func refresh(t *testing.T, s Store) (*Entry, bool, []error) {
	t.Helper()
	var warnings []error
	e, refreshed, err := s.GetOrRefresh(context.Background(), "k", func() time.Time { return t0 },
		func(*Entry) time.Duration { return 0 },
		func(context.Context) (*Entry, error) { return testEntry("c1", t0, time.Hour, `{"issued":true}`), nil },
		func(err error) { warnings = append(warnings, err) })
	if err != nil {
		t.Fatalf("GetOrRefresh: %v", err)
	}
	if e == nil || string(e.Credential) != `{"issued":true}` || !refreshed {
		t.Fatalf("got %+v refreshed=%v, want the issued credential", e, refreshed)
	}
	return e, refreshed, warnings
}

// plant writes a fresh, well-formed entry for "k" as someone else could: the plugin must never
// serve it from an untrusted directory.
func plant(t *testing.T, path string) []byte {
	t.Helper()
	data, err := encodeEntry("k", testEntry("c1", t0, time.Hour, `{"planted":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestUntrustedDirectoryIsNotUsed: a cache directory owned by another user, or writable by
// group or others, is checked before any entry is read and then not used: one warning, the
// credential is still issued, the planted entry is never served, and nothing is written there.
func TestUntrustedDirectoryIsNotUsed(t *testing.T) {
	tests := []struct {
		name     string
		mode     os.FileMode
		owner    bool // give the directory to otherUID
		wantWarn string
	}{
		{name: "foreign-owned directory", mode: 0o700, owner: true, wantWarn: "owned by uid 4242"},
		{name: "foreign-owned read-only directory", mode: 0o755, owner: true, wantWarn: "owned by uid 4242"},
		{name: "group-writable directory", mode: 0o770, wantWarn: "writable by group or others (mode 0770)"},
		{name: "other-writable directory", mode: 0o703, wantWarn: "writable by group or others (mode 0703)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, dir := newCacheDir(t)
			planted := plant(t, filepath.Join(dir, "k.json"))
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			if tc.owner {
				giveAway(t, dir)
			}
			s := Store{Dir: dir}
			if e := s.Get("k"); e != nil {
				t.Fatalf("Get served %q from an untrusted directory", e.Credential)
			}
			_, _, warnings := refresh(t, s)
			if len(warnings) != 1 || !errors.Is(warnings[0], ErrUntrusted) || !strings.Contains(warnings[0].Error(), tc.wantWarn) ||
				!strings.Contains(warnings[0].Error(), EnvCacheDir) {
				t.Fatalf("warnings = %v, want one ErrUntrusted saying %q and how to fix it", warnings, tc.wantWarn)
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != 1 || ents[0].Name() != "k.json" {
				t.Errorf("directory holds %v, want only the planted k.json (no lock, no entry written)", ents)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "k.json")); string(got) != string(planted) {
				t.Error("the planted entry was changed")
			}
			if fi, _ := os.Stat(dir); fi.Mode().Perm() != tc.mode {
				t.Errorf("directory mode changed to %v", fi.Mode().Perm())
			}
			if _, err := s.Clear(""); !errors.Is(err, ErrUntrusted) {
				t.Errorf("Clear = %v, want ErrUntrusted", err)
			}
			if err := s.Put("k", testEntry("c1", t0, time.Hour, "{}")); !errors.Is(err, ErrUntrusted) {
				t.Errorf("Put = %v, want ErrUntrusted", err)
			}
		})
	}
}

// TestUntrustedEntriesAreMisses: inside a trusted directory, an entry that is a symbolic link,
// belongs to another user or is writable by others is never read, and a refresh replaces it with
// a regular file without touching what a link pointed to.
func TestUntrustedEntriesAreMisses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, outside string) (watched string)
	}{
		{name: "symlinked entry inside the directory", setup: func(t *testing.T, dir, _ string) string {
			target := filepath.Join(dir, "target")
			plant(t, target)
			symlink(t, "target", filepath.Join(dir, "k.json"))
			return target
		}},
		{name: "symlinked entry outside the directory", setup: func(t *testing.T, dir, outside string) string {
			plant(t, outside)
			symlink(t, outside, filepath.Join(dir, "k.json"))
			return outside
		}},
		{name: "entry of another user", setup: func(t *testing.T, dir, _ string) string {
			p := filepath.Join(dir, "k.json")
			plant(t, p)
			giveAway(t, p)
			return ""
		}},
		{name: "group-writable entry", setup: func(t *testing.T, dir, _ string) string {
			p := filepath.Join(dir, "k.json")
			plant(t, p)
			if err := os.Chmod(p, 0o620); err != nil {
				t.Fatal(err)
			}
			return ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, dir := newCacheDir(t)
			watched := tc.setup(t, dir, filepath.Join(base, "outside"))
			var before []byte
			if watched != "" {
				before, _ = os.ReadFile(watched)
			}
			s := Store{Dir: dir}
			if e := s.Get("k"); e != nil {
				t.Fatalf("Get served %q", e.Credential)
			}
			if _, _, warnings := refresh(t, s); len(warnings) != 0 {
				t.Errorf("warnings = %v, want none (a bad entry is a miss)", warnings)
			}
			fi, err := os.Lstat(filepath.Join(dir, "k.json"))
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("k.json after refresh: %v %v, want a regular file", fi, err)
			}
			if e := s.Get("k"); e == nil || string(e.Credential) != `{"issued":true}` {
				t.Errorf("after refresh Get = %+v, want the issued credential", e)
			}
			if watched != "" {
				if after, _ := os.ReadFile(watched); string(after) != string(before) {
					t.Errorf("%s, the link's target, was changed", watched)
				}
			}
		})
	}
}

// TestSymlinkedLockIsRefused: a lock file that is a symbolic link is neither followed nor
// created through: one warning, the credential is still issued and stored.
func TestSymlinkedLockIsRefused(t *testing.T) {
	tests := []struct {
		name   string
		target func(dir, outside string) string
	}{
		{name: "dangling link inside the directory", target: func(dir, _ string) string { return filepath.Join(dir, "created-through-link") }},
		{name: "link to a file outside", target: func(_, outside string) string { return outside }},
		{name: "dangling link outside", target: func(_, outside string) string { return outside + ".new" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, dir := newCacheDir(t)
			outside := filepath.Join(base, "outside")
			if err := os.WriteFile(outside, []byte("precious"), 0o600); err != nil {
				t.Fatal(err)
			}
			target := tc.target(dir, outside)
			symlink(t, target, filepath.Join(dir, "k.lock"))
			_, _, warnings := refresh(t, Store{Dir: dir})
			if len(warnings) != 1 || !strings.Contains(warnings[0].Error(), "symbolic link") {
				t.Fatalf("warnings = %v, want one about the symbolic link", warnings)
			}
			if target != outside {
				if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s was created through the link (err %v)", target, err)
				}
			}
			if b, _ := os.ReadFile(outside); string(b) != "precious" {
				t.Errorf("outside file changed to %q", b)
			}
			if e := (Store{Dir: dir}).Get("k"); e == nil {
				t.Error("the issued credential was not stored")
			}
		})
	}
}

// newCacheDir returns a temporary directory and a private cache directory in it.
func newCacheDir(t *testing.T) (base, dir string) {
	t.Helper()
	base = t.TempDir()
	dir = filepath.Join(base, "kubectl-ack")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return base, dir
}

// giveAway makes otherUID the owner of path, which needs root (as in CI and the sandbox).
func giveAway(t *testing.T, path string) {
	t.Helper()
	if err := os.Chown(path, otherUID, otherUID); err != nil {
		t.Fatalf("simulate a file of another user: %v (os.Chown needs root: run this test as root)", err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
