package cache

import "github.com/kubectl-ack/kubectl-ack/pkg/cachedir"

// ErrUntrusted is wrapped by the error of a cache directory that another user could write to
// (pkg/cachedir): such a directory is never read or written; the credential is issued without
// the cache.
var ErrUntrusted = cachedir.ErrUntrusted

// dir is an open cache directory whose owner and mode were checked (pkg/cachedir.Dir): entries
// and locks are opened relative to it, never through links.
type dir struct{ *cachedir.Dir }

// openDir opens and checks s.Dir, creating it (0700) first when create is set. A missing
// directory is an fs.ErrNotExist error; one that fails the checks wraps ErrUntrusted.
func (s Store) openDir(create bool) (*dir, error) {
	d, err := cachedir.Open(s.Dir, create)
	if err != nil {
		return nil, err
	}
	return &dir{d}, nil
}
