package token

import (
	"crypto/sha256"
	"slices"
	"strings"
)

// identityKeyFormat starts the hashed data so that a future change of what the key covers can
// never collide with today's keys.
const identityKeyFormat = "k8s-ack-v2 identity key v1"

// IdentityKey returns a SHA-256 over exactly the parts of the request that decide which identity
// STS reports, in a canonical order: the signed cluster id (ACKClusterId; method and path are
// fixed), the name and value of every header listed in SignedHeaders, and the Authorization
// header's fields (access key id, signed header list, signature) sorted by name.
//
// Everything else is left out because STS' answer cannot depend on it: the user-agent header when
// it is not signed, the letter case of header names and the JSON layout of the token (Parse
// normalises both), and the order of the Authorization fields. Two tokens with one IdentityKey
// carry the same signature by the same key over the same signed data, so a server may answer the
// second from the identity it verified for the first.
func (r *Request) IdentityKey() [sha256.Size]byte {
	authz := r.Headers[HeaderAuthorization]
	alg, rest, _ := strings.Cut(authz, " ")
	fields := strings.Split(rest, ",")
	slices.Sort(fields)
	var signed []string
	for _, f := range fields {
		if v, ok := strings.CutPrefix(f, "SignedHeaders="); ok {
			signed = strings.Split(v, ";")
		}
	}
	// Parts are NUL-terminated: Parse refuses control characters in header values, so no part can
	// contain NUL and the concatenation is unambiguous.
	var b strings.Builder
	b.Grow(len(authz) + 512)
	write := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
			b.WriteByte(0)
		}
	}
	write(identityKeyFormat, r.ClusterID, alg)
	write(fields...)
	b.WriteByte(0)
	for _, name := range signed {
		if name == HeaderAuthorization {
			continue
		}
		v, ok := r.Headers[name]
		if !ok {
			continue
		}
		write(name, v)
	}
	return sha256.Sum256([]byte(b.String()))
}
