package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// An entry file is one header line followed by the ExecCredential JSON:
//
//	kubectl-ack.credential-cache/v1 <key> <sha256 of body> <issued unix> <expiry unix> <cluster id> <mode>\n
//	{"kind":"ExecCredential",...}
//
// The header is parsed with strings and strconv rather than encoding/json:
// the hit path runs before every kubectl command and reflection-based
// decoding costs more than the rest of it. The body checksum turns any
// corruption into a miss.

func encodeEntry(key string, e *Entry) ([]byte, error) {
	for _, f := range []string{key, e.ClusterID, e.Mode} {
		if f == "" || strings.ContainsAny(f, " \t\r\n") {
			return nil, errors.New("encode cache entry: key, cluster id and mode must be non-empty words")
		}
	}
	if e.IssuedAt.IsZero() || e.Expiration.IsZero() || len(e.Credential) == 0 {
		return nil, errors.New("encode cache entry: issue time, expiration and credential are required")
	}
	sum := sha256.Sum256(e.Credential)
	var b bytes.Buffer
	b.Grow(len(e.Credential) + 256)
	b.WriteString(format)
	for _, f := range []string{key, hex.EncodeToString(sum[:]), strconv.FormatInt(e.IssuedAt.Unix(), 10),
		strconv.FormatInt(e.Expiration.Unix(), 10), e.ClusterID, e.Mode} {
		b.WriteByte(' ')
		b.WriteString(f)
	}
	b.WriteByte('\n')
	b.Write(e.Credential)
	return b.Bytes(), nil
}

func decodeEntry(data []byte) (e *Entry, key string, ok bool) {
	header, body, found := bytes.Cut(data, []byte{'\n'})
	if !found || len(body) == 0 {
		return nil, "", false
	}
	f := strings.Split(string(header), " ")
	if len(f) != 7 || f[0] != format {
		return nil, "", false
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != f[2] {
		return nil, "", false
	}
	issued, err1 := strconv.ParseInt(f[3], 10, 64)
	expiry, err2 := strconv.ParseInt(f[4], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, "", false
	}
	return &Entry{
		ClusterID:  f[5],
		Mode:       f[6],
		IssuedAt:   time.Unix(issued, 0),
		Expiration: time.Unix(expiry, 0),
		Credential: body,
	}, f[1], true
}
