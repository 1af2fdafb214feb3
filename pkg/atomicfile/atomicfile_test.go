package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		setup    func(t *testing.T, dir string) string // returns the path to write
		check    func(t *testing.T, dir, path string)
		wantErr  string
		wantPerm os.FileMode
	}{
		{name: "new file is 0600 by default", wantPerm: 0o600,
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "f") }},
		{name: "perm", opts: Options{Perm: 0o644}, wantPerm: 0o644,
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "f") }},
		{name: "replaces content", wantPerm: 0o600,
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "f")
				if err := os.WriteFile(p, []byte("old old old"), 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			}},
		{name: "missing directory without MkdirAll", wantErr: "no such file",
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "a", "b", "f") }},
		{name: "MkdirAll", opts: Options{MkdirAll: true}, wantPerm: 0o600,
			setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "a", "b", "f") },
			check: func(t *testing.T, dir, _ string) {
				if fi, err := os.Stat(filepath.Join(dir, "a")); err != nil || fi.Mode().Perm() != 0o700 {
					t.Errorf("created directory: %v %v", fi, err)
				}
			}},
		{name: "FollowSymlink writes the target and keeps the link", opts: Options{FollowSymlink: true}, wantPerm: 0o600,
			setup: func(t *testing.T, dir string) string {
				target := filepath.Join(dir, "target")
				if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				link := filepath.Join(dir, "link")
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			check: func(t *testing.T, dir, path string) {
				if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Errorf("the link was replaced: %v %v", fi, err)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "target")); string(b) != "new" {
					t.Errorf("target holds %q", b)
				}
			}},
		{name: "without FollowSymlink the link is replaced", wantPerm: 0o600,
			setup: func(t *testing.T, dir string) string {
				link := filepath.Join(dir, "link")
				if err := os.Symlink(filepath.Join(dir, "elsewhere"), link); err != nil {
					t.Fatal(err)
				}
				return link
			},
			check: func(t *testing.T, dir, path string) {
				if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("want a regular file: %v %v", fi, err)
				}
			}},
		{name: "rename onto a directory fails and leaves no temp file", wantErr: "write",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "d")
				if err := os.MkdirAll(filepath.Join(p, "x"), 0o700); err != nil {
					t.Fatal(err)
				}
				return p
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			err := WriteWith(path, []byte("new"), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				fi, err := os.Stat(path)
				if err != nil || fi.Mode().Perm() != tt.wantPerm {
					t.Fatalf("stat: %v %v, want mode %v", fi, err, tt.wantPerm)
				}
				if b, _ := os.ReadFile(path); string(b) != "new" {
					t.Fatalf("content %q", b)
				}
			}
			if tt.check != nil {
				tt.check(t, dir, path)
			}
			leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp-*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

func TestWriteIn(t *testing.T) {
	tests := []struct {
		name     string
		perm     os.FileMode
		file     string
		setup    func(t *testing.T, dir string)
		wantErr  string
		wantPerm os.FileMode
	}{
		{name: "new file is 0600 by default", file: "entry", wantPerm: 0o600},
		{name: "perm", file: "entry", perm: 0o640, wantPerm: 0o640},
		{name: "replaces an existing file", file: "entry", wantPerm: 0o600,
			setup: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "entry"), []byte("old old old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "in a subdirectory", file: filepath.Join("sub", "entry"), wantPerm: 0o600,
			setup: func(t *testing.T, dir string) {
				if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "missing subdirectory", file: filepath.Join("sub", "entry"), wantErr: "write sub"},
		{name: "escaping the root", file: filepath.Join("..", "entry"), wantErr: "escapes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			root, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = root.Close() }()
			err = WriteIn(root, tt.file, []byte("new"), tt.perm)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, tt.file)
				fi, err := os.Stat(path)
				if err != nil || fi.Mode().Perm() != tt.wantPerm {
					t.Fatalf("stat: %v %v, want mode %v", fi, err, tt.wantPerm)
				}
				if b, _ := os.ReadFile(path); string(b) != "new" {
					t.Fatalf("content %q", b)
				}
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".*.tmp-*"))
			top, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
			if len(leftovers)+len(top) > 0 {
				t.Errorf("temporary files left: %v %v", leftovers, top)
			}
		})
	}
}

// A directory swapped for another after it was opened never receives the data: the write goes
// to the directory that was opened (and checked), wherever it now is.
func TestWriteInSwappedDirectory(t *testing.T) {
	base := t.TempDir()
	checked := filepath.Join(base, "cache")
	if err := os.Mkdir(checked, 0o700); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(checked)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = root.Close() }()
	moved := filepath.Join(base, "moved")
	if err := os.Rename(checked, moved); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(base, "planted")
	if err := os.Mkdir(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(planted, checked); err != nil {
		t.Fatal(err)
	}
	if err := WriteIn(root, "entry", []byte("secret"), 0); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(moved, "entry")); err != nil || string(b) != "secret" {
		t.Errorf("opened directory holds %q, %v", b, err)
	}
	if entries, _ := os.ReadDir(planted); len(entries) != 0 {
		t.Errorf("the planted directory received %v", entries)
	}
}
