package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/kubectl-ack/kubectl-ack/pkg/atomicfile"
)

// ErrUntrusted is wrapped by the error of a cache directory that another user could write to:
// owned by someone else, or writable by group or others. Such a directory is never read or
// written; the credential is issued without the cache.
var ErrUntrusted = errors.New("untrusted cache directory")

// dir is an open cache directory whose owner and mode were checked. Entries and locks are opened
// relative to it (os.Root), so a directory swapped for another after the check is never used.
type dir struct {
	root *os.Root
	path string
}

// openDir opens and checks s.Dir, creating it (0700) first when create is set. A missing
// directory is an fs.ErrNotExist error; one that fails the checks wraps ErrUntrusted.
func (s Store) openDir(create bool) (*dir, error) {
	if create {
		if err := os.MkdirAll(s.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("create cache directory %s: %w", s.Dir, err)
		}
	}
	root, err := os.OpenRoot(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("open cache directory %s: %w", s.Dir, err)
	}
	d := &dir{root: root, path: s.Dir}
	fi, err := root.Stat(".")
	if err != nil {
		d.close()
		return nil, fmt.Errorf("check cache directory %s: %w", s.Dir, err)
	}
	if err := checkOwner(fi); err != nil {
		d.close()
		return nil, fmt.Errorf("%w %s is %v, so it is not used; remove it (it is recreated private to you) or set %s to a directory of your own",
			ErrUntrusted, s.Dir, err, EnvCacheDir)
	}
	// Entries hold credentials: a directory that is only readable by others is tightened.
	if err := tighten(root, fi); err != nil {
		d.close()
		return nil, fmt.Errorf("restrict cache directory %s: %w", s.Dir, err)
	}
	return d, nil
}

func (d *dir) close() { _ = d.root.Close() }

// open opens the directory entry name with flag, refusing symbolic links (they are never
// followed: links are checked before opening, and opening uses O_NOFOLLOW where the platform has
// it) and anything but a regular file owned by the user and not writable by others.
func (d *dir) open(name string, flag int, perm os.FileMode) (*os.File, fs.FileInfo, error) {
	before, err := d.root.Lstat(name)
	switch {
	case err == nil && before.Mode()&fs.ModeSymlink != 0:
		return nil, nil, fmt.Errorf("%s is a symbolic link: the credential cache never follows links; remove it", d.name(name))
	case err != nil && (flag&os.O_CREATE == 0 || !errors.Is(err, fs.ErrNotExist)):
		return nil, nil, err
	}
	f, err := d.root.OpenFile(name, flag|noFollow, perm)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && before == nil {
		// Created just now: check that the name still refers to what was opened.
		before, err = d.root.Lstat(name)
	}
	if err == nil {
		err = checkOpened(before, fi)
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("%s: %w", d.name(name), err)
	}
	return f, fi, nil
}

func checkOpened(before, opened fs.FileInfo) error {
	if !os.SameFile(before, opened) {
		return errors.New("changed while it was opened")
	}
	if !opened.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return checkOwner(opened)
}

func (d *dir) name(name string) string { return d.path + string(os.PathSeparator) + name }

// read returns the content of the entry file name.
func (d *dir) read(name string) ([]byte, error) {
	f, fi, err := d.open(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	return data, nil
}

// writeAtomic writes entry name through pkg/atomicfile relative to the checked directory, so a
// directory swapped after the check never receives a credential. The temporary file is created
// with O_EXCL, which never follows a link.
func (d *dir) writeAtomic(name string, data []byte) error {
	if err := atomicfile.WriteIn(d.root, name, data, 0o600); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	return nil
}
