// Package atomicfile writes files so that readers see either the old or the new content, never
// a partial one: a temporary file in the same directory, its mode set before any byte is
// written, fsync, rename over the target, then fsync of the directory. Every file the project
// writes (credential cache entries, kubeconfigs, serving keys, the emulator's state) goes
// through it.
package atomicfile

import (
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
func WriteWith(path string, data []byte, o Options) (err error) {
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
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if err := f.Chmod(o.Perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir persists the rename; not every platform can sync a directory, and the write has
// succeeded either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
