//go:build unix

package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDataRoundTripAndClear: PutData stores a 0600 file that GetData reads back for its key
// only; Matching counts and Clear removes credentials, and clearing everything drops the data
// files too without counting them.
func TestDataRoundTripAndClear(t *testing.T) {
	_, dir := newCacheDir(t)
	s := Store{Dir: dir}
	if err := s.PutData("clusters-ab12", []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if b, ok := s.GetData("clusters-ab12"); !ok || string(b) != `{"x":1}` {
		t.Fatalf("GetData = %q %v", b, ok)
	}
	fi, err := os.Stat(filepath.Join(dir, "clusters-ab12.data"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("data file: %v %v, want mode 0600", fi, err)
	}
	// A file copied under another key is not served for it.
	b, _ := os.ReadFile(filepath.Join(dir, "clusters-ab12.data"))
	if err := os.WriteFile(filepath.Join(dir, "clusters-cd34.data"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.GetData("clusters-cd34"); ok {
		t.Error("GetData served a file written for another key")
	}
	for _, bad := range []string{"", "../x", "a/b", "UPPER", string(make([]byte, 65))} {
		if err := s.PutData(bad, nil); err == nil {
			t.Errorf("PutData(%q) accepted an unsafe key", bad)
		}
		if _, ok := s.GetData(bad); ok {
			t.Errorf("GetData(%q) = ok", bad)
		}
	}
	if err := s.Put("k", testEntry("c1", t0, time.Hour, "{}")); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Matching(""); err != nil || n != 1 {
		t.Fatalf("Matching = %d %v, want 1 credential", n, err)
	}
	if s.Get("k") == nil {
		t.Fatal("Matching removed an entry")
	}
	if n, err := s.Clear(""); err != nil || n != 1 {
		t.Fatalf("Clear = %d %v, want 1 credential", n, err)
	}
	if _, ok := s.GetData("clusters-ab12"); ok {
		t.Error("Clear(\"\") left the data file")
	}
}

// TestDataInUntrustedDirectory: data is neither read from nor written to a directory another
// user could write to, nor read through a symbolic link.
func TestDataInUntrustedDirectory(t *testing.T) {
	base, dir := newCacheDir(t)
	s := Store{Dir: dir}
	if err := s.PutData("k", []byte("trusted")); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(base, "outside")
	if err := os.WriteFile(outside, []byte("kubectl-ack.data-cache/v1 l\nplanted"), 0o600); err != nil {
		t.Fatal(err)
	}
	symlink(t, outside, filepath.Join(dir, "l.data"))
	if b, ok := s.GetData("l"); ok {
		t.Errorf("GetData followed a symbolic link: %q", b)
	}
	if err := os.Chmod(dir, 0o770); err != nil {
		t.Fatal(err)
	}
	if b, ok := s.GetData("k"); ok {
		t.Errorf("GetData read %q from a group-writable directory", b)
	}
	if err := s.PutData("k2", []byte("x")); err == nil {
		t.Error("PutData wrote into a group-writable directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "k2.data")); !os.IsNotExist(err) {
		t.Errorf("k2.data exists: %v", err)
	}
}
