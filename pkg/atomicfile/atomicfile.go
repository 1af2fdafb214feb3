// Package atomicfile writes files so that readers see either the old or the new content, never
// a partial one: a temporary file in the same directory, its mode set before any byte is
// written, fsync, rename over the target, then fsync of the directory. Every file the project
// writes (credential cache entries, kubeconfigs, serving keys, the emulator's state) goes
// through it: by path (Write, WriteWith) or relative to an open directory (WriteIn).
package atomicfile

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
)

// Options change how Write treats the target.
type Options struct {
	// Perm is the mode of the new file (0600 when zero): secrets are never readable by others,
	// not even for the moment before a chmod.
	Perm os.FileMode
	// FollowSymlink writes to the final target of a symbolic link at path, as kubectl does with
	// a kubeconfig, instead of replacing the link with a regular file.
	FollowSymlink bool
	// MkdirAll creates missing parent directories with mode 0700.
	MkdirAll bool
}

// Write writes data to path atomically with mode 0600.
func Write(path string, data []byte) error { return WriteWith(path, data, Options{}) }

// WriteWith writes data to path atomically with the given options. On any error the target is
// untouched and the temporary file is removed.
func WriteWith(path string, data []byte, o Options) error {
	if o.Perm == 0 {
		o.Perm = 0o600
	}
	if o.FollowSymlink {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
	}
	dir := filepath.Dir(path)
	if o.MkdirAll {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create directory for %s: %w", path, err)
		}
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	if err := fill(f, data, o.Perm); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(os.Open(dir))
	return nil
}

// WriteIn writes data to the file name inside root atomically with mode perm (0600 when
// zero), as WriteWith does, but relative to an open directory: a directory that is swapped
// for another, or for a link, after the caller opened and checked it never receives the data
// (the credential cache writes this way). The temporary file is created exclusively, so a
// planted file or link in its place is never written through.
func WriteIn(root *os.Root, name string, data []byte, perm os.FileMode) error {
	if perm == 0 {
		perm = 0o600
	}
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".tmp-"+rand.Text())
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := fill(f, data, perm); err != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := root.Rename(tmp, name); err != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	syncDir(root.Open(filepath.Dir(name)))
	return nil
}

// fill sets f's mode before any byte is written (a secret is never readable by others, not
// even for a moment), writes data, syncs and closes f. f is closed on every path.
func fill(f *os.File, data []byte, perm os.FileMode) error {
	err := f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir persists the rename in the directory d (as opened by os.Open or os.Root.Open); not
// every platform can sync a directory, and the write has succeeded either way.
func syncDir(d *os.File, err error) {
	if err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
