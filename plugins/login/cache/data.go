package cache

import "github.com/kubectl-ack/kubectl-ack/pkg/cachedir"

// GetData returns what PutData stored under key (pkg/cachedir.Data in the same directory, with
// the same trust rules), or ok=false.
func (s Store) GetData(key string) (data []byte, ok bool) {
	return cachedir.Data{Dir: s.Dir}.GetData(key)
}

// PutData stores data under key atomically with mode 0600 (pkg/cachedir.Data).
func (s Store) PutData(key string, data []byte) error {
	return cachedir.Data{Dir: s.Dir}.PutData(key, data)
}
