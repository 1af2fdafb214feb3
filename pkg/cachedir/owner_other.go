//go:build !unix

package cachedir

import (
	"io/fs"
	"os"
)

// NoFollow is 0: there is no O_NOFOLLOW here; Dir.OpenFile checks entries with Lstat before opening
// them and compares what it opened.
const NoFollow = 0

// checkOwner accepts everything: POSIX owners and modes do not exist here; the per-user profile
// directory's ACL protects the cache.
func checkOwner(fs.FileInfo) error { return nil }

// tighten does nothing: there are no POSIX modes to tighten.
func tighten(*os.Root, fs.FileInfo) error { return nil }
