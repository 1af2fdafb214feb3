// Package cachedir is kubectl-ack's private cache directory ($KUBECACHEDIR/kubectl-ack, else
// ~/.kube/cache/kubectl-ack) and its trust rules, shared by everything that caches there: the
// login plugin's credentials (plugins/login/cache) and the short-lived data behind shell
// completion (Data, used by pkg/clusters for ack-login and ack-rrsa).
//
// The directory is trusted only when the user owns it and neither group nor others can write to
// it, checked before anything in it is read; a directory that others can read is made private
// (0700). Files are opened relative to the checked directory (os.Root), must be regular files of
// the user, are never reached through symbolic links (checked before opening, and O_NOFOLLOW
// where the platform has it), and are written atomically with mode 0600 (pkg/atomicfile). An
// untrusted directory is not used at all.
package cachedir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/atomicfile"
)

// EnvCacheDir is kubectl's variable for its cache directory; kubectl-ack keeps its files in the
// kubectl-ack subdirectory.
const EnvCacheDir = "KUBECACHEDIR"

// ErrUntrusted is wrapped by the error of a cache directory that another user could write to:
// owned by someone else, or writable by group or others. Such a directory is never read or
// written.
var ErrUntrusted = errors.New("untrusted cache directory")

// DefaultDir returns $KUBECACHEDIR/kubectl-ack, else ~/.kube/cache/kubectl-ack. lookup reads the
// environment (os.LookupEnv when nil); home is the home directory ("" for the user's).
func DefaultDir(lookup func(string) (string, bool), home string) (string, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if v, ok := lookup(EnvCacheDir); ok && strings.TrimSpace(v) != "" {
		return filepath.Join(strings.TrimSpace(v), "kubectl-ack"), nil
	}
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find home directory for the credential cache (set %s): %w", EnvCacheDir, err)
		}
		home = h
	}
	return filepath.Join(home, ".kube", "cache", "kubectl-ack"), nil
}

// Dir is an open cache directory whose owner and mode were checked. Files are opened relative
// to it (os.Root), so a directory swapped for another after the check is never used.
type Dir struct {
	root *os.Root
	path string
}

// Open opens and checks the directory path, creating it (0700) first when create is set. A
// missing directory is an fs.ErrNotExist error; one that fails the checks wraps ErrUntrusted.
func Open(path string, create bool) (*Dir, error) {
	if create {
		if err := os.MkdirAll(path, 0o700); err != nil {
			return nil, fmt.Errorf("create cache directory %s: %w", path, err)
		}
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("open cache directory %s: %w", path, err)
	}
	d := &Dir{root: root, path: path}
	fi, err := root.Stat(".")
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("check cache directory %s: %w", path, err)
	}
	if err := checkOwner(fi); err != nil {
		d.Close()
		return nil, fmt.Errorf("%w %s is %v, so it is not used; remove it (it is recreated private to you) or set %s to a directory of your own",
			ErrUntrusted, path, err, EnvCacheDir)
	}
	// Files hold credentials: a directory that is only readable by others is tightened.
	if err := tighten(root, fi); err != nil {
		d.Close()
		return nil, fmt.Errorf("restrict cache directory %s: %w", path, err)
	}
	return d, nil
}

// Close closes the directory.
func (d *Dir) Close() { _ = d.root.Close() }

// Root is the open directory, for operations this package does not wrap (listing, removing).
func (d *Dir) Root() *os.Root { return d.root }

// Path names the file name in the directory, for messages.
func (d *Dir) Path(name string) string { return d.path + string(os.PathSeparator) + name }

// OpenFile opens the file name with flag, refusing symbolic links (they are never followed:
// links are checked before opening, and opening uses O_NOFOLLOW where the platform has it) and
// anything but a regular file owned by the user and not writable by others.
func (d *Dir) OpenFile(name string, flag int, perm os.FileMode) (*os.File, fs.FileInfo, error) {
	before, err := d.root.Lstat(name)
	switch {
	case err == nil && before.Mode()&fs.ModeSymlink != 0:
		return nil, nil, fmt.Errorf("%s is a symbolic link: the credential cache never follows links; remove it", d.Path(name))
	case err != nil && (flag&os.O_CREATE == 0 || !errors.Is(err, fs.ErrNotExist)):
		return nil, nil, err
	}
	f, err := d.root.OpenFile(name, flag|NoFollow, perm)
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
		return nil, nil, fmt.Errorf("%s: %w", d.Path(name), err)
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

// ReadFile returns the content of the file name, opened as OpenFile opens it.
func (d *Dir) ReadFile(name string) ([]byte, error) {
	f, fi, err := d.OpenFile(name, os.O_RDONLY, 0)
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

// WriteFile writes the file name with mode 0600 through pkg/atomicfile, relative to the checked
// directory, so a directory swapped after the check never receives a credential. The temporary
// file is created with O_EXCL, which never follows a link.
func (d *Dir) WriteFile(name string, data []byte) error {
	if err := atomicfile.WriteIn(d.root, name, data, 0o600); err != nil {
		return fmt.Errorf("write cache entry: %w", err)
	}
	return nil
}
