//go:build unix

package cachedir_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/pkg/cachedir"
)

func TestDefaultDir(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{cachedir.EnvCacheDir: "/x/cache"}, "/x/cache/kubectl-ack"},
		{map[string]string{cachedir.EnvCacheDir: "  "}, "/home/u/.kube/cache/kubectl-ack"},
		{nil, "/home/u/.kube/cache/kubectl-ack"},
	}
	for _, tt := range tests {
		if got, err := cachedir.DefaultDir(env(tt.env), "/home/u"); err != nil || got != tt.want {
			t.Errorf("DefaultDir(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

// TestDataTrustRules: Data round-trips through a private directory it creates (0700, files
// 0600), and never reads from or writes to a directory another user could write to, nor reads
// through a symbolic link, nor serves a file written for another key.
func TestDataTrustRules(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "kubectl-ack")
	d := cachedir.Data{Dir: dir}
	if err := d.PutData("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if b, ok := d.GetData("k"); !ok || string(b) != "v" {
		t.Fatalf("GetData = %q %v", b, ok)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "k.data"): 0o600} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %o", name, fi, err, want)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "k.data"))
	if err := os.WriteFile(filepath.Join(dir, "other.data"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.GetData("other"); ok {
		t.Error("served a file written for another key")
	}
	outside := filepath.Join(base, "outside")
	if err := os.WriteFile(outside, []byte("kubectl-ack.data-cache/v1 l\nplanted"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "l.data")); err != nil {
		t.Fatal(err)
	}
	if b, ok := d.GetData("l"); ok {
		t.Errorf("followed a symbolic link: %q", b)
	}
	if err := d.PutData("../x", nil); err == nil {
		t.Error("accepted an unsafe key")
	}
	if err := os.Chmod(dir, 0o770); err != nil {
		t.Fatal(err)
	}
	if b, ok := d.GetData("k"); ok {
		t.Errorf("read %q from a group-writable directory", b)
	}
	if err := d.PutData("k2", []byte("x")); !errors.Is(err, cachedir.ErrUntrusted) {
		t.Errorf("PutData into a group-writable directory = %v, want ErrUntrusted", err)
	}
}

// TestOpenTightensReadableDirectory: a directory that others can read but not write is made
// private before anything is read from it.
func TestOpenTightensReadableDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := cachedir.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode after Open: %v %v, want 0700", fi, err)
	}
}
