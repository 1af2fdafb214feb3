// Package cache stores issued ExecCredentials on disk for kubectl-ack_login.
//
// kubectl starts the credential plugin for every new process, so the hit
// path is a single small file read. Entries live in one 0700 directory, one
// 0600 file per key, written atomically (temporary file in the same
// directory, fsync, rename). A per-key lock file serialises
// check-refresh-write so that concurrent kubectl processes make one refresh
// and the others read its result. Anything unreadable, corrupt, foreign or
// for another key is treated as a miss and replaced, never as an error.
//
// The directory is trusted only when the user owns it and neither group nor
// others can write to it, checked before any entry is read; entries and
// locks must be regular files of the user and are never reached through
// symbolic links. An untrusted directory is not used at all.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cachedir"
)

// EnvCacheDir is kubectl's variable for its cache directory; the plugin keeps its entries in the
// kubectl-ack subdirectory (pkg/cachedir).
const EnvCacheDir = cachedir.EnvCacheDir

// format identifies entry files written by this package.
const format = "kubectl-ack.credential-cache/v1"

const (
	entrySuffix = ".json"
	lockSuffix  = ".lock"
)

// DefaultDir returns $KUBECACHEDIR/kubectl-ack, else ~/.kube/cache/kubectl-ack
// (pkg/cachedir.DefaultDir).
func DefaultDir(lookup func(string) (string, bool), home string) (string, error) {
	return cachedir.DefaultDir(lookup, home)
}

// KeyInput identifies what a cached credential was issued for. Two inputs
// that differ in any field never share an entry, so switching profile,
// account, role or mode never serves another identity's credential.
type KeyInput struct {
	ClusterID   string
	Mode        string
	APIVersion  string
	IdentityKey string
	// Extra distinguishes variants that change the credential, e.g. the
	// endpoint it was obtained from.
	Extra string
}

// Key hashes the input into a file-name-safe key.
func (k KeyInput) Key() string {
	h := sha256.New()
	for _, p := range []string{format, k.ClusterID, k.Mode, k.APIVersion, k.IdentityKey, k.Extra} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// Entry is one cached credential.
type Entry struct {
	ClusterID string
	Mode      string
	// IssuedAt and Expiration bound the credential's lifetime.
	IssuedAt   time.Time
	Expiration time.Time
	// Credential is the ExecCredential JSON printed to kubectl, verbatim.
	Credential []byte
}

// Fresh reports whether the entry can still be served at now: more than
// margin of its lifetime remains.
func (e *Entry) Fresh(now time.Time, margin time.Duration) bool {
	return e != nil && !e.Expiration.IsZero() && now.Add(margin).Before(e.Expiration)
}

// Margin is the refresh margin: the larger of 20% of the lifetime and floor.
func Margin(issuedAt, expiration time.Time, floor time.Duration) time.Duration {
	return max(expiration.Sub(issuedAt)/5, floor)
}

// Store is a cache directory.
type Store struct {
	// Dir holds the entries; it is created 0700 on first write.
	Dir string
	// LockTimeout bounds the wait for another process's refresh (default 60s).
	LockTimeout time.Duration
}

// Get returns the entry stored for key, or nil for a miss. Corrupt,
// foreign, linked and mismatching files are misses, and so is every entry of
// a directory that fails the checks of ErrUntrusted.
func (s Store) Get(key string) *Entry {
	d, err := s.openDir(false)
	if err != nil {
		return nil
	}
	defer d.Close()
	return d.get(key)
}

func (d *dir) get(key string) *Entry {
	data, err := d.ReadFile(key + entrySuffix)
	if err != nil {
		return nil
	}
	e, fileKey, ok := decodeEntry(data)
	if !ok || fileKey != key {
		return nil
	}
	return e
}

// Put stores e under key atomically with mode 0600.
func (s Store) Put(key string, e *Entry) error {
	d, err := s.openDir(true)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.put(key, e)
}

func (d *dir) put(key string, e *Entry) error {
	data, err := encodeEntry(key, e)
	if err != nil {
		return err
	}
	return d.WriteFile(key+entrySuffix, data)
}

// Delete removes the entry for key; a missing entry or directory is not an
// error.
func (s Store) Delete(key string) error {
	d, err := s.openDir(false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Root().Remove(key + entrySuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove cache entry: %w", err)
	}
	return nil
}

// Clear removes entries whose cluster id equals
// clusterID, or every entry when clusterID is empty. Files that are not
// valid entries are removed only when clearing everything, and so are the
// files of PutData (not counted). It returns the number of entries removed.
// A directory that fails the checks of ErrUntrusted is an error: nothing in
// it is touched.
func (s Store) Clear(clusterID string) (int, error) {
	return s.clear(clusterID, true)
}

// Matching returns how many entries Clear(clusterID) would remove, removing nothing.
func (s Store) Matching(clusterID string) (int, error) {
	return s.clear(clusterID, false)
}

func (s Store) clear(clusterID string, remove bool) (int, error) {
	d, err := s.openDir(false)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := fs.ReadDir(d.Root().FS(), ".")
	if err != nil {
		return 0, fmt.Errorf("read cache directory %s: %w", s.Dir, err)
	}
	n := 0
	var errs []error
	for _, de := range names {
		name := de.Name()
		if de.IsDir() || !d.matches(name, clusterID) {
			continue
		}
		// Lock files stay: removing one another process holds would let a
		// third process lock a new inode and refresh concurrently.
		if remove {
			if err := d.Root().Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
		}
		if strings.HasSuffix(name, entrySuffix) {
			n++
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("clear credential cache: %w", errors.Join(errs...))
	}
	return n, nil
}

// matches reports whether Clear(clusterID) removes the file name.
func (d *dir) matches(name, clusterID string) bool {
	if clusterID == "" {
		return strings.HasSuffix(name, entrySuffix) || strings.HasSuffix(name, cachedir.DataSuffix)
	}
	key, ok := strings.CutSuffix(name, entrySuffix)
	if !ok {
		return false
	}
	e := d.get(key)
	return e != nil && e.ClusterID == clusterID
}

// GetOrRefresh returns a fresh entry for key, calling issue at most once
// while holding the key's lock when the stored entry is missing or within
// its refresh margin. margin computes the margin of an entry. Concurrent
// callers (in any process) wait for the lock and then reuse the entry the
// first one stored. refreshed reports whether issue ran. A failure to lock
// or to store the cache is not fatal: the credential is still returned and
// the problem reported through warn. A directory that fails the checks of
// ErrUntrusted is checked before anything in it is read and then not used
// at all: one warning, and the credential is issued.
func (s Store) GetOrRefresh(ctx context.Context, key string, now func() time.Time, margin func(*Entry) time.Duration,
	issue func(context.Context) (*Entry, error), warn func(error)) (e *Entry, refreshed bool, err error) {
	fresh := func(e *Entry) bool { return e != nil && e.Fresh(now(), margin(e)) }
	d, derr := s.openDir(false)
	if errors.Is(derr, fs.ErrNotExist) {
		d, derr = s.openDir(true)
	}
	if derr != nil {
		warn(derr)
		return issueOnly(ctx, issue)
	}
	defer d.Close()
	if e := d.get(key); fresh(e) {
		return e, false, nil
	}
	unlock, lerr := d.lock(ctx, key, s.lockTimeout())
	if lerr != nil {
		if ctx.Err() != nil {
			return nil, false, lerr
		}
		warn(lerr)
	} else {
		defer unlock()
		// Another process may have refreshed while we waited.
		if e := d.get(key); fresh(e) {
			return e, false, nil
		}
	}
	e, err = issue(ctx)
	if err != nil {
		return nil, false, err
	}
	if perr := d.put(key, e); perr != nil {
		warn(perr)
	}
	return e, true, nil
}

func issueOnly(ctx context.Context, issue func(context.Context) (*Entry, error)) (*Entry, bool, error) {
	e, err := issue(ctx)
	if err != nil {
		return nil, false, err
	}
	return e, true, nil
}
