//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cachedir"
)

// staleLock is how old a lock file may get before it is considered left
// behind by a crashed process; a refresh takes far less.
const staleLock = 2 * time.Minute

// lock creates the key's lock file exclusively (O_EXCL, which never follows
// a link), the portable fallback where flock(2) is unavailable. A lock file
// older than staleLock is removed and retried; a symbolic link is refused.
func (d *dir) lock(ctx context.Context, key string, timeout time.Duration) (func(), error) {
	name := key + lockSuffix
	err := pollLock(ctx, timeout, func() (bool, error) {
		f, err := d.Root().OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY|cachedir.NoFollow, 0o600)
		if err == nil {
			_, _ = f.WriteString(strconv.Itoa(os.Getpid()))
			return true, f.Close()
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, err
		}
		fi, serr := d.Root().Lstat(name)
		switch {
		case serr != nil:
		case fi.Mode()&fs.ModeSymlink != 0:
			return false, fmt.Errorf("%s is a symbolic link: the credential cache never follows links; remove it", d.Path(name))
		case time.Since(fi.ModTime()) > staleLock:
			_ = d.Root().Remove(name)
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock credential cache %s: %w", d.Path(name), err)
	}
	return func() { _ = d.Root().Remove(name) }, nil
}
