//go:build !unix

package cache

import (
	"io/fs"
	"os"
)

// noFollow is 0: there is no O_NOFOLLOW here; dir.open checks entries with Lstat before opening
// them and compares what it opened.
const noFollow = 0

// checkOwner accepts everything: POSIX owners and modes do not exist here; the per-user profile
// directory's ACL protects the cache.
func checkOwner(fs.FileInfo) error { return nil }

// tighten does nothing: there are no POSIX modes to tighten.
func tighten(*os.Root, fs.FileInfo) error { return nil }
