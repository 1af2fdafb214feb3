//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lock takes an exclusive flock(2) on the key's lock file. The kernel drops
// the lock when the process dies, so a crashed refresh never blocks others.
// The lock is polled (non-blocking flock) so that ctx and timeout can end
// the wait. A lock file that is a symbolic link or not the user's is
// refused.
func (d *dir) lock(ctx context.Context, key string, timeout time.Duration) (func(), error) {
	f, _, err := d.OpenFile(key+lockSuffix, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open cache lock: %w", err)
	}
	fd := int(f.Fd())
	err = pollLock(ctx, timeout, func() (bool, error) {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock credential cache %s: %w", d.Path(key+lockSuffix), err)
	}
	return func() {
		_ = syscall.Flock(fd, syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
