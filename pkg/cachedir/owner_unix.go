//go:build unix

package cachedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// NoFollow makes opening a symbolic link fail (a flag of os.OpenFile).
const NoFollow = syscall.O_NOFOLLOW

// checkOwner refuses a file or directory that another user could have written: owned by someone
// other than the effective user, or with group or other write permission.
func checkOwner(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("of unknown ownership")
	}
	if uid := os.Geteuid(); int64(st.Uid) != int64(uid) {
		return fmt.Errorf("owned by uid %d, not by you (uid %d)", st.Uid, uid)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("writable by group or others (mode %04o)", perm)
	}
	return nil
}

// tighten makes a directory that others can read or enter private (0700).
func tighten(root *os.Root, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return root.Chmod(".", 0o700)
}
