package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrInvalidToken is matched (errors.Is) by every error that rejects a token locally, before any
// STS call; such errors are *ParseError.
var ErrInvalidToken = errors.New("invalid token")

// ParseError rejects a token. Reason is safe to show to users and to log: it never contains token
// text, signatures or security tokens.
type ParseError struct {
	Reason string
}

// Error implements error.
func (e *ParseError) Error() string { return "invalid token: " + e.Reason }

// Is makes errors.Is(err, ErrInvalidToken) true.
func (e *ParseError) Is(target error) bool { return target == ErrInvalidToken }

func reject(reason string) error { return &ParseError{Reason: reason} }

// Request is a token that passed every local check: the STS request it carries. Header keys are
// lower case.
type Request struct {
	// ClusterID is the signed ACKClusterId query value (equal to the server's cluster id).
	ClusterID string
	// Method and Path are always "POST" and "/".
	Method, Path string
	// Query holds exactly ACKClusterId.
	Query map[string]string
	// Headers holds the allowed headers, keys in lower case.
	Headers map[string]string
	// AccessKeyID is the Credential of the Authorization header.
	AccessKeyID string
	// Date is x-acs-date.
	Date time.Time
}

// Expiry is when the server stops accepting the token (Date + ServerValidity).
func (r *Request) Expiry() time.Time { return r.Date.Add(ServerValidity) }

// allowedHeaders are the header names a token may carry (lower case) and whether each is required.
var allowedHeaders = map[string]bool{
	HeaderAuthorization: true,
	HeaderAction:        true,
	HeaderVersion:       true,
	HeaderDate:          true,
	HeaderContentSHA256: true,
	HeaderUserAgent:     false,
	HeaderSecurityToken: false,
	HeaderNonce:         false,
}

// requiredSigned must appear in SignedHeaders.
var requiredSigned = []string{HeaderAction, HeaderContentSHA256, HeaderDate, HeaderVersion}

// Parse decodes token and applies every local check; clusterID is the server's cluster id and now
// the current time. Errors are *ParseError (errors.Is ErrInvalidToken).
//
// Checks: size ≤ MaxTokenBytes; exact Prefix; strict padded standard base64; valid UTF-8 JSON
// object with exactly the keys clusterId, method, path, query, headers, each once, string values
// and string maps only; method POST, path "/"; the query holds only ACKClusterId, equal to
// clusterID (the unsigned clusterId field must agree but is never trusted alone); only known
// header names, none repeated in any letter case, values free of control characters;
// x-acs-action GetCallerIdentity; x-acs-version 2015-04-01; x-acs-content-sha256 of the empty
// body; Authorization "ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=<64 hex>"
// whose SignedHeaders are sorted, lower case, present, and cover action, version, date,
// content-sha256 and every other x-acs-* header sent (so the security token is always signed);
// x-acs-date in [now-ServerValidity, now+MaxClockSkew].
func Parse(token string, clusterID string, now time.Time) (*Request, error) {
	if clusterID == "" {
		return nil, reject("server has no cluster id configured")
	}
	t, err := decodeToken(token)
	if err != nil {
		return nil, err
	}
	signedCluster, err := checkRequestLine(t, clusterID)
	if err != nil {
		return nil, err
	}
	h, err := checkHeaders(t.headers)
	if err != nil {
		return nil, err
	}
	akID, err := checkAuthorization(h)
	if err != nil {
		return nil, err
	}
	date, err := checkDate(h[HeaderDate], now)
	if err != nil {
		return nil, err
	}
	return &Request{
		ClusterID:   signedCluster,
		Method:      t.method,
		Path:        t.path,
		Query:       map[string]string{QueryClusterID: signedCluster},
		Headers:     h,
		AccessKeyID: akID,
		Date:        date,
	}, nil
}

// decodeToken checks the size, prefix and base64 of token and decodes its JSON.
func decodeToken(token string) (*decoded, error) {
	if len(token) > MaxTokenBytes {
		return nil, reject("token is larger than 4096 bytes")
	}
	if !strings.HasPrefix(token, Prefix) {
		return nil, reject("token does not start with " + Prefix)
	}
	enc := token[len(Prefix):]
	// StdEncoding ignores CR and LF even in strict mode; a token is one line, so refuse them.
	if strings.ContainsAny(enc, "\r\n") {
		return nil, reject("token payload is not valid base64")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, reject("token payload is not valid base64")
	}
	return decodeJSON(raw)
}

// checkRequestLine checks the method, the path and the query, which must hold exactly
// ACKClusterId, bound to this cluster; it returns the signed cluster id.
func checkRequestLine(t *decoded, clusterID string) (string, error) {
	if t.method != "POST" {
		return "", reject("method must be POST")
	}
	if t.path != "/" {
		return "", reject("path must be /")
	}
	signedCluster, ok := t.query[QueryClusterID]
	if len(t.query) != 1 || !ok {
		return "", reject("query must hold exactly " + QueryClusterID)
	}
	if signedCluster != clusterID {
		return "", reject("token was issued for a different cluster")
	}
	if t.clusterID != signedCluster {
		return "", reject("clusterId does not match the signed " + QueryClusterID)
	}
	return signedCluster, nil
}

// checkHeaders checks the header names (known only; repeats in any letter case were refused by
// decodeJSON), that the required ones are present, and the fixed values; it returns the headers
// with lower-case keys.
func checkHeaders(headers map[string]string) (map[string]string, error) {
	h := make(map[string]string, len(headers))
	for k, v := range headers {
		lk := strings.ToLower(k)
		if _, ok := allowedHeaders[lk]; !ok {
			return nil, reject("unknown header in token")
		}
		if !validHeaderValue(v) {
			// net/http refuses to send such a value, which would look like an STS outage.
			return nil, reject("header " + lk + " has a control character in its value")
		}
		h[lk] = v
	}
	for name, required := range allowedHeaders {
		if required {
			if _, ok := h[name]; !ok {
				return nil, reject("missing header " + name)
			}
		}
	}
	switch {
	case h[HeaderAction] != Action:
		return nil, reject("x-acs-action must be " + Action)
	case h[HeaderVersion] != APIVersion:
		return nil, reject("x-acs-version must be " + APIVersion)
	case h[HeaderContentSHA256] != emptySHA256:
		return nil, reject("x-acs-content-sha256 must be the hash of an empty body")
	}
	if v, ok := h[HeaderSecurityToken]; ok && v == "" {
		return nil, reject("x-acs-security-token is empty")
	}
	return h, nil
}

// checkDate parses x-acs-date and checks that the token is neither expired nor dated in the
// future (beyond MaxClockSkew).
func checkDate(v string, now time.Time) (time.Time, error) {
	date, err := time.Parse(DateFormat, v)
	if err != nil || date.Format(DateFormat) != v {
		return time.Time{}, reject("x-acs-date is not formatted as " + DateFormat)
	}
	if date.Before(now.Add(-ServerValidity)) {
		return time.Time{}, reject("token has expired (signed more than 15 minutes ago); get a new token")
	}
	if date.After(now.Add(MaxClockSkew)) {
		return time.Time{}, reject("token is dated in the future; check the client's clock")
	}
	return date, nil
}

// checkAuthorization validates the Authorization header against the other headers and returns
// the access key id.
func checkAuthorization(h map[string]string) (string, error) {
	authz := h[HeaderAuthorization]
	alg, rest, ok := strings.Cut(authz, " ")
	if !ok || alg != Algorithm {
		return "", reject("Authorization must use " + Algorithm)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return "", reject("Authorization is malformed")
		}
		switch k {
		case "Credential", "SignedHeaders", "Signature":
		default:
			return "", reject("Authorization has an unknown field")
		}
		if _, dup := fields[k]; dup {
			return "", reject("Authorization repeats a field")
		}
		fields[k] = v
	}
	cred, signedList, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if !validAccessKeyID(cred) {
		return "", reject("Authorization Credential is missing or malformed")
	}
	if !isLowerHex(sig, 64) {
		return "", reject("Authorization Signature is missing or malformed")
	}
	if signedList == "" {
		return "", reject("Authorization SignedHeaders is missing")
	}
	signed := strings.Split(signedList, ";")
	set := make(map[string]bool, len(signed))
	for i, name := range signed {
		if i > 0 && signed[i-1] >= name {
			return "", reject("SignedHeaders must be sorted and unique")
		}
		if _, ok := h[name]; !ok || name == HeaderAuthorization {
			// Also catches upper-case names: h has lower-case keys only.
			return "", reject("SignedHeaders names a header the token does not carry")
		}
		set[name] = true
	}
	for _, name := range requiredSigned {
		if !set[name] {
			return "", reject("SignedHeaders must include " + name)
		}
	}
	for name := range h {
		if strings.HasPrefix(name, "x-acs-") && !set[name] {
			if name == HeaderSecurityToken {
				return "", reject("SignedHeaders must include x-acs-security-token")
			}
			return "", reject("SignedHeaders must include every x-acs-* header")
		}
	}
	return cred, nil
}

// validAccessKeyID accepts the characters of Alibaba Cloud key ids ("LTAI...", "STS.xxx").
func validAccessKeyID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// decoded is the token JSON after structural validation.
type decoded struct {
	clusterID, method, path string
	query, headers          map[string]string
}

// decodeJSON walks the JSON with a token decoder so that duplicate keys (which encoding/json
// would silently resolve to the last one) and non-string values are refused.
func decodeJSON(raw []byte) (*decoded, error) {
	if !utf8.Valid(raw) {
		return nil, reject("token JSON is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	bad := reject("token JSON is malformed")
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, reject("token JSON is not an object")
	}
	var d decoded
	seen := map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		key, _ := kt.(string)
		if seen[key] {
			return nil, reject("token JSON repeats a key")
		}
		seen[key] = true
		switch key {
		case "clusterId", "method", "path":
			s, err := stringValue(dec)
			if err != nil {
				return nil, err
			}
			switch key {
			case "clusterId":
				d.clusterID = s
			case "method":
				d.method = s
			default:
				d.path = s
			}
		case "query", "headers":
			m, err := stringMap(dec, key)
			if err != nil {
				return nil, err
			}
			if key == "query" {
				d.query = m
			} else {
				d.headers = m
			}
		default:
			return nil, reject("token JSON has an unknown key")
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, reject("token JSON has trailing data")
	}
	for _, k := range []string{"clusterId", "method", "path", "query", "headers"} {
		if !seen[k] {
			return nil, reject("token JSON is missing " + k)
		}
	}
	return &d, nil
}

func stringValue(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", reject("token JSON is malformed")
	}
	s, ok := tok.(string)
	if !ok {
		return "", reject("token JSON values must be strings")
	}
	return s, nil
}

// stringMap reads an object of string values, refusing keys repeated in any letter case.
func stringMap(dec *json.Decoder, what string) (map[string]string, error) {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, reject("token " + what + " must be an object of strings")
	}
	m := map[string]string{}
	folded := map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, reject("token JSON is malformed")
		}
		k, _ := kt.(string)
		if !printableASCII(k) {
			// Non-ASCII names could fold onto allowed ones (U+212A KELVIN SIGN lower-cases to "k").
			return nil, reject("token " + what + " has a key that is not printable ASCII")
		}
		lk := strings.ToLower(k)
		if folded[lk] {
			return nil, reject("token " + what + " repeats a key")
		}
		folded[lk] = true
		v, err := stringValue(dec)
		if err != nil {
			return nil, reject("token " + what + " must be an object of strings")
		}
		m[k] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, reject("token JSON is malformed")
	}
	return m, nil
}

// validHeaderValue reports whether v can be sent as an HTTP header value: no control characters
// other than horizontal tab (RFC 9110 field-value, as net/http checks it).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}
