// Package token signs, parses and verifies "k8s-ack-v2." tokens: the bearer tokens kubectl sends
// to clusters that use ack-ram-authenticator.
//
// A token is "k8s-ack-v2." followed by the standard, padded base64 encoding of a JSON object
// describing a pre-signed STS GetCallerIdentity request:
//
//	{"clusterId":C,"method":"POST","path":"/","query":{"ACKClusterId":C},"headers":{...}}
//
// The request is signed with ACS3-HMAC-SHA256 over the x-acs-* headers and the ACKClusterId query
// parameter, so a token is bound to one cluster. The host is not signed: the server sends the
// request to its own configured STS endpoint and learns who signed it from the answer. The format
// is the one produced by ack-ram-tool's "credential-plugin get-token", so tokens from either tool
// verify with either server.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/version"
)

const (
	// Prefix starts every token.
	Prefix = "k8s-ack-v2."
	// MaxTokenBytes is the largest token Parse accepts; real tokens are about 1–2 KiB.
	MaxTokenBytes = 4096

	// Algorithm is the only signature algorithm accepted.
	Algorithm = "ACS3-HMAC-SHA256"
	// Action and APIVersion are the STS call a token carries.
	Action     = "GetCallerIdentity"
	APIVersion = "2015-04-01"
	// DateFormat is the layout of the x-acs-date header (UTC).
	DateFormat = "2006-01-02T15:04:05Z"

	// QueryClusterID is the signed query parameter binding a token to a cluster.
	QueryClusterID = "ACKClusterId"

	// ClientValidity is how long after x-acs-date clients consider a token usable (the expiry
	// reported to client-go, as ack-ram-tool does); it leaves a margin below ServerValidity.
	ClientValidity = 10 * time.Minute
	// ServerValidity is how long after x-acs-date STS (and Parse) accept a token.
	ServerValidity = 15 * time.Minute
	// MaxClockSkew is how far in the future x-acs-date may be.
	MaxClockSkew = 5 * time.Minute
)

// Header names used in tokens (lower case; Parse matches them case-insensitively).
const (
	HeaderAuthorization = "authorization"
	HeaderUserAgent     = "user-agent"
	HeaderAction        = "x-acs-action"
	HeaderVersion       = "x-acs-version"
	HeaderDate          = "x-acs-date"
	HeaderContentSHA256 = "x-acs-content-sha256"
	HeaderSecurityToken = "x-acs-security-token"
	HeaderNonce         = "x-acs-signature-nonce"
)

// emptySHA256 is the hex SHA-256 of the empty request body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// SignInput is what Sign needs.
type SignInput struct {
	// ClusterID is the ACK cluster the token is for (required).
	ClusterID string
	// AccessKeyID and AccessKeySecret are the signing key (required).
	AccessKeyID     string
	AccessKeySecret string
	// SecurityToken is set when the key is a temporary STS key.
	SecurityToken string
	// UserAgent defaults to "kubectl-ack/<version>".
	UserAgent string
	// Now is the signing time; zero means time.Now().
	Now time.Time
}

// tokenJSON is the wire form. Field order matches ack-ram-tool's output.
type tokenJSON struct {
	ClusterID string            `json:"clusterId"`
	Method    string            `json:"method"`
	Path      string            `json:"path"`
	Query     map[string]string `json:"query"`
	Headers   map[string]string `json:"headers"`
}

// Sign builds a token for in.ClusterID signed with the given key. expiration is x-acs-date +
// ClientValidity: the time after which clients should sign a new token.
func Sign(in SignInput) (token string, expiration time.Time, err error) {
	switch {
	case in.ClusterID == "":
		return "", time.Time{}, errors.New("sign token: cluster id is empty")
	case in.AccessKeyID == "" || in.AccessKeySecret == "":
		return "", time.Time{}, errors.New("sign token: access key id and secret are required")
	}
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	date := now.UTC().Truncate(time.Second)
	ua := in.UserAgent
	if ua == "" {
		ua = "kubectl-ack/" + version.Version
	}
	headers := map[string]string{
		HeaderAction:        Action,
		HeaderVersion:       APIVersion,
		HeaderDate:          date.Format(DateFormat),
		HeaderContentSHA256: emptySHA256,
		HeaderUserAgent:     ua,
	}
	if in.SecurityToken != "" {
		headers[HeaderSecurityToken] = in.SecurityToken
	}
	query := map[string]string{QueryClusterID: in.ClusterID}
	signed := signedHeaderNames(headers)
	sig := signature(in.AccessKeySecret, query, headers, signed)
	// ack-ram-tool writes the header as "Authorization"; keep that spelling for byte compatibility.
	headers["Authorization"] = Algorithm + " Credential=" + in.AccessKeyID +
		",SignedHeaders=" + strings.Join(signed, ";") + ",Signature=" + sig
	raw, err := json.Marshal(tokenJSON{
		ClusterID: in.ClusterID,
		Method:    "POST",
		Path:      "/",
		Query:     query,
		Headers:   headers,
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return Prefix + base64.StdEncoding.EncodeToString(raw), date.Add(ClientValidity), nil
}

// signedHeaderNames returns the sorted x-acs-* header names: the ones ACS3 signers sign.
func signedHeaderNames(headers map[string]string) []string {
	var names []string
	for k := range headers {
		if strings.HasPrefix(k, "x-acs-") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// signature computes the ACS3-HMAC-SHA256 signature of POST / with an empty body. headers must
// have lower-case keys.
func signature(secret string, query, headers map[string]string, signed []string) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("POST\n/\n")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(query[k]))
	}
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(headers[h]))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(emptySHA256)
	crHash := sha256.Sum256([]byte(b.String()))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(Algorithm + "\n" + hex.EncodeToString(crHash[:])))
	return hex.EncodeToString(mac.Sum(nil))
}

// percentEncode is RFC 3986 encoding as Alibaba Cloud signers apply it (space → %20, "*" → %2A,
// "~" kept).
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}
