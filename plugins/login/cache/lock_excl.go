//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// staleLock is how old a lock file may get before it is considered left
// behind by a crashed process; a refresh takes far less.
const staleLock = 2 * time.Minute

// lock creates the key's lock file exclusively (O_EXCL), the portable
// fallback where flock(2) is unavailable. A lock file older than staleLock
// is removed and retried.
func (s Store) lock(ctx context.Context, key string) (func(), error) {
	if err := s.ensureDir(); err != nil {
		return nil, err
	}
	path := s.path(key, lockSuffix)
	err := pollLock(ctx, s.lockTimeout(), func() (bool, error) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			_, _ = f.WriteString(strconv.Itoa(os.Getpid()))
			return true, f.Close()
		}
		if !errors.Is(err, os.ErrExist) {
			return false, err
		}
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > staleLock {
			_ = os.Remove(path)
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock credential cache %s: %w", path, err)
	}
	return func() { _ = os.Remove(path) }, nil
}
