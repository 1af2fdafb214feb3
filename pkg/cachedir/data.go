package cachedir

import (
	"bytes"
	"fmt"
)

// Besides credentials the directory keeps small, short-lived data that is not secret but is
// still read by this user's commands only: the cluster list behind shell completion. Such files
// are written and read with the same checks as credentials (a trusted directory, os.Root, no
// links, 0600, atomic replacement) and carry a header naming their key.
const (
	dataFormat = "kubectl-ack.data-cache/v1"
	// DataSuffix ends the names of Data's files.
	DataSuffix = ".data"
)

// Data stores small data by key in the cache directory Dir (pkg/clusters.CompletionCache).
type Data struct {
	// Dir is the cache directory; it is created 0700 on first write.
	Dir string
}

// validDataKey accepts keys that are safe as file names: 1 to 64 lowercase letters, digits
// and dashes (callers pass hashes).
func validDataKey(key string) bool {
	if key == "" || len(key) > 64 {
		return false
	}
	for _, r := range key {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// GetData returns what PutData stored under key, or ok=false: missing, unreadable, written for
// another key, or in a directory that fails the checks of ErrUntrusted.
func (s Data) GetData(key string) (data []byte, ok bool) {
	if !validDataKey(key) {
		return nil, false
	}
	d, err := Open(s.Dir, false)
	if err != nil {
		return nil, false
	}
	defer d.Close()
	b, err := d.ReadFile(key + DataSuffix)
	if err != nil {
		return nil, false
	}
	header, body, found := bytes.Cut(b, []byte{'\n'})
	if !found || string(header) != dataFormat+" "+key {
		return nil, false
	}
	return body, true
}

// PutData stores data under key atomically with mode 0600, creating the directory (0700).
func (s Data) PutData(key string, data []byte) error {
	if !validDataKey(key) {
		return fmt.Errorf("cache data key %q: use lowercase letters, digits and dashes", key)
	}
	d, err := Open(s.Dir, true)
	if err != nil {
		return err
	}
	defer d.Close()
	b := make([]byte, 0, len(dataFormat)+len(key)+2+len(data))
	b = append(append(append(append(b, dataFormat...), ' '), key...), '\n')
	return d.WriteFile(key+DataSuffix, append(b, data...))
}
