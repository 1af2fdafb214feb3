package emulator

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// timestampWindow is how far a request time may be from the server clock, in both directions.
const timestampWindow = 15 * time.Minute

const (
	rpcTimeFormat = "2006-01-02T15:04:05Z"
)

func parseQuery(s string) (url.Values, error) { return url.ParseQuery(s) }

// authenticate verifies the request signature. The order of checks is: well-formedness, access key,
// signature, security token, timestamp window, nonce; so a correctly signed request with an expired
// STS token reports InvalidSecurityToken.Expired even when its timestamp is also out of the window,
// and a nonce is only consumed by a request that passed every other check.
//
// authenticate verifies the request signature (whichever of the three schemes it uses) and returns
// the caller. Anonymous requests are only accepted for STS AssumeRoleWithOIDC (caller nil).
func (s *Server) authenticate(req *request) (*principal, *apiError) {
	authz := req.r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(authz, "ACS3-"):
		return s.authACS3(req, authz)
	case strings.HasPrefix(authz, "acs "):
		return s.authROA(req, authz)
	case req.style == stylePOP && (req.params["Signature"] != "" || req.params["AccessKeyId"] != ""):
		return s.authRPC(req)
	}
	if req.service == ServiceSTS && req.action == "AssumeRoleWithOIDC" {
		return nil, nil
	}
	if req.style == styleCS {
		return nil, newErr(400, "MissingAuthorization", "The Authorization header is required.")
	}
	return nil, newErr(400, "MissingParameter", "The input parameter \"AccessKeyId\" or \"Signature\" that is mandatory for processing this request is not supplied.")
}

func (s *Server) checkTime(t time.Time) *apiError {
	now := s.now()
	if t.Before(now.Add(-timestampWindow)) || t.After(now.Add(timestampWindow)) {
		return newErr(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired (server time %s).", now.UTC().Format(rpcTimeFormat))
	}
	return nil
}

// lookupKey finds an access key; the caller checks the signature next.
func (s *Server) lookupKey(id string) (keyRec, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok || id == "" {
		return keyRec{}, newErr(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	out := *k
	if k.sts != nil {
		st := *k.sts
		out.sts = &st
	}
	return out, nil
}

// checkToken enforces the STS security token rules: STS keys need their own token and expire with it.
func (s *Server) checkToken(k keyRec, token string) *apiError {
	if k.sts == nil {
		if token != "" {
			return newErr(400, "InvalidSecurityToken.MismatchWithAccessKey", "The security token does not match the access key.")
		}
		return nil
	}
	if token == "" {
		return newErr(400, "InvalidSecurityToken.MismatchWithAccessKey", "An STS access key needs its security token.")
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(k.sts.token)) != 1 {
		if !strings.HasPrefix(token, "CAIS") {
			return newErr(400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
		}
		return newErr(400, "InvalidSecurityToken.MismatchWithAccessKey", "The security token does not match the access key.")
	}
	if !s.now().Before(k.sts.expiration) {
		return newErr(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
	}
	return nil
}

// useNonce records a nonce per access key; a second use inside the timestamp window is a replay.
func (s *Server) useNonce(akID, nonce string) *apiError {
	if nonce == "" {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.noncePrune) > time.Minute {
		for n, exp := range s.nonces {
			if now.After(exp) {
				delete(s.nonces, n)
			}
		}
		s.noncePrune = now
	}
	key := akID + "\x00" + nonce
	if exp, ok := s.nonces[key]; ok && now.Before(exp) {
		return newErr(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	s.nonces[key] = now.Add(2 * timestampWindow)
	return nil
}

func (s *Server) principalFor(k keyRec) (*principal, *apiError) {
	p := &principal{AccountID: k.accountID, AccessKeyID: k.id}
	switch {
	case k.sts != nil:
		p.Kind, p.RoleName, p.RoleID, p.Session = "assumed-role", k.sts.roleName, k.sts.roleID, k.sts.session
	case k.userName != "":
		s.mu.Lock()
		u, ok := s.accounts[k.accountID].users[strings.ToLower(k.userName)]
		s.mu.Unlock()
		if !ok {
			return nil, newErr(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		}
		p.Kind, p.UserName, p.UserID = "user", u.Name, u.UserID
	default:
		p.Kind = "root"
	}
	return p, nil
}

func signatureMismatch(stringToSign string) *apiError {
	return newErr(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation. server string to sign is:%s", stringToSign)
}

// ---- RPC (HMAC-SHA1, Signature parameter) ----

func (s *Server) authRPC(req *request) (*principal, *apiError) {
	p := req.params
	for _, name := range []string{"AccessKeyId", "Signature", "Timestamp", "SignatureMethod", "SignatureVersion"} {
		if p[name] == "" {
			return nil, newErr(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
		}
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return nil, newErr(400, "InvalidSignatureMethod", "Specified signature method is not supported.")
	}
	if p["SignatureVersion"] != "1.0" {
		return nil, newErr(400, "InvalidSignatureVersion", "Specified signature version is not supported.")
	}
	ts, err := time.Parse(rpcTimeFormat, p["Timestamp"])
	if err != nil {
		return nil, newErr(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
	}
	k, e := s.lookupKey(p["AccessKeyId"])
	if e != nil {
		return nil, e
	}
	sts := rpcStringToSign(req.r.Method, p)
	mac := hmac.New(sha1.New, []byte(k.secret+"&"))
	mac.Write([]byte(sts))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(p["Signature"])) {
		return nil, signatureMismatch(sts)
	}
	if e := s.checkToken(k, p["SecurityToken"]); e != nil {
		return nil, e
	}
	if e := s.checkTime(ts); e != nil {
		return nil, e
	}
	if e := s.useNonce(k.id, p["SignatureNonce"]); e != nil {
		return nil, e
	}
	return s.principalFor(k)
}

// rpcStringToSign is METHOD&%2F&pct(sorted k=v pairs), every parameter except Signature.
func rpcStringToSign(method string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, popEscape(k)+"="+popEscape(params[k]))
	}
	return method + "&%2F&" + popEscape(strings.Join(parts, "&"))
}

// popEscape is RFC 3986 percent-encoding as the POP signers do it (space %20, * %2A, ~ kept).
func popEscape(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// ---- ROA (HMAC-SHA1, Authorization: acs AK:signature) ----

func (s *Server) authROA(req *request, authz string) (*principal, *apiError) {
	r := req.r
	cred := strings.TrimPrefix(authz, "acs ")
	i := strings.LastIndex(cred, ":")
	if i <= 0 {
		return nil, newErr(400, "InvalidAuthorization", "The Authorization header is malformed.")
	}
	akID, sig := cred[:i], cred[i+1:]
	if m := r.Header.Get("x-acs-signature-method"); m != "" && m != "HMAC-SHA1" {
		return nil, newErr(400, "InvalidSignatureMethod", "Specified signature method is not supported.")
	}
	date := r.Header.Get("Date")
	if date == "" {
		return nil, newErr(400, "MissingDate", "The Date header is required.")
	}
	ts, err := http.ParseTime(date)
	if err != nil {
		return nil, newErr(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
	}
	if md5h := r.Header.Get("Content-MD5"); md5h != "" {
		sum := md5.Sum(req.body)
		if md5h != base64.StdEncoding.EncodeToString(sum[:]) {
			return nil, newErr(400, "InvalidContentMD5", "The Content-MD5 you specified does not match the request body.")
		}
	}
	k, e := s.lookupKey(akID)
	if e != nil {
		return nil, e
	}
	sts := roaStringToSign(r)
	mac := hmac.New(sha1.New, []byte(k.secret))
	mac.Write([]byte(sts))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return nil, signatureMismatch(sts)
	}
	if e := s.checkToken(k, r.Header.Get("x-acs-security-token")); e != nil {
		return nil, e
	}
	if e := s.checkTime(ts); e != nil {
		return nil, e
	}
	if e := s.useNonce(k.id, r.Header.Get("x-acs-signature-nonce")); e != nil {
		return nil, e
	}
	return s.principalFor(k)
}

// roaStringToSign: METHOD\nAccept\nContent-MD5\nContent-Type\nDate\n<x-acs-* headers>resource, with
// the resource the path plus the sorted raw query.
func roaStringToSign(r *http.Request) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Accept") + "\n" + r.Header.Get("Content-MD5") + "\n" +
		r.Header.Get("Content-Type") + "\n" + r.Header.Get("Date") + "\n")
	acs := map[string]string{}
	for name, vs := range r.Header {
		l := strings.ToLower(name)
		if strings.HasPrefix(l, "x-acs-") && len(vs) > 0 {
			acs[l] = vs[0]
		}
	}
	for _, k := range sortedKeys(acs) {
		b.WriteString(k + ":" + acs[k] + "\n")
	}
	b.WriteString(r.URL.EscapedPath())
	q := r.URL.Query()
	if len(q) > 0 {
		parts := make([]string, 0, len(q))
		for _, k := range sortedKeys(q) {
			v := q.Get(k)
			if v != "" {
				parts = append(parts, k+"="+v)
			} else {
				parts = append(parts, k)
			}
		}
		b.WriteString("?" + strings.Join(parts, "&"))
	}
	return b.String()
}

// ---- ACS3-HMAC-SHA256 ----

func (s *Server) authACS3(req *request, authz string) (*principal, *apiError) {
	r := req.r
	alg, rest, _ := strings.Cut(authz, " ")
	if alg != "ACS3-HMAC-SHA256" {
		return nil, newErr(400, "InvalidSignatureMethod", "Specified signature algorithm %s is not supported.", alg)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, newErr(400, "InvalidAuthorization", "The Authorization header is malformed.")
		}
		fields[k] = v
	}
	akID, signedList, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if akID == "" || signedList == "" || sig == "" {
		return nil, newErr(400, "InvalidAuthorization", "The Authorization header needs Credential, SignedHeaders and Signature.")
	}
	signed := strings.Split(signedList, ";")
	signedSet := map[string]bool{}
	for _, h := range signed {
		if h != strings.ToLower(h) || h == "" {
			return nil, newErr(400, "InvalidAuthorization", "SignedHeaders must be lower-case header names.")
		}
		signedSet[h] = true
	}
	if !sort.StringsAreSorted(signed) {
		return nil, newErr(400, "InvalidAuthorization", "SignedHeaders must be sorted.")
	}
	for _, h := range []string{"x-acs-date", "x-acs-content-sha256", "x-acs-action", "x-acs-version"} {
		if !signedSet[h] {
			return nil, newErr(400, "InvalidAuthorization", "SignedHeaders must include %s.", h)
		}
	}
	token := r.Header.Get("x-acs-security-token")
	if token != "" && !signedSet["x-acs-security-token"] {
		return nil, newErr(400, "InvalidAuthorization", "SignedHeaders must include x-acs-security-token.")
	}
	ts, err := time.Parse(rpcTimeFormat, r.Header.Get("x-acs-date"))
	if err != nil {
		return nil, newErr(400, "InvalidTimeStamp.Format", "Specified x-acs-date is not well formatted.")
	}
	sum := sha256.Sum256(req.body)
	payloadHash := r.Header.Get("x-acs-content-sha256")
	if payloadHash != hex.EncodeToString(sum[:]) {
		return nil, newErr(400, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the SHA-256 of the request body.")
	}
	k, e := s.lookupKey(akID)
	if e != nil {
		return nil, e
	}
	canonical, ok := acs3CanonicalRequest(r, signed, payloadHash)
	if !ok {
		return nil, newErr(400, "InvalidParameter", "A query parameter is repeated.")
	}
	crHash := sha256.Sum256([]byte(canonical))
	stringToSign := "ACS3-HMAC-SHA256\n" + hex.EncodeToString(crHash[:])
	mac := hmac.New(sha256.New, []byte(k.secret))
	mac.Write([]byte(stringToSign))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return nil, signatureMismatch(stringToSign)
	}
	if e := s.checkToken(k, token); e != nil {
		return nil, e
	}
	if e := s.checkTime(ts); e != nil {
		return nil, e
	}
	if e := s.useNonce(k.id, r.Header.Get("x-acs-signature-nonce")); e != nil {
		return nil, e
	}
	return s.principalFor(k)
}

func acs3CanonicalRequest(r *http.Request, signed []string, payloadHash string) (string, bool) {
	uri := r.URL.EscapedPath()
	if uri == "" {
		uri = "/"
	}
	q := r.URL.Query()
	qparts := make([]string, 0, len(q))
	for _, k := range sortedKeys(q) {
		if len(q[k]) != 1 {
			return "", false
		}
		qparts = append(qparts, popEscape(k)+"="+popEscape(q[k][0]))
	}
	var hb strings.Builder
	for _, h := range signed {
		var vals []string
		if h == "host" {
			vals = []string{r.Host}
		} else {
			for _, v := range r.Header.Values(h) {
				vals = append(vals, strings.TrimSpace(v))
			}
		}
		sort.Strings(vals)
		hb.WriteString(h + ":" + strings.Join(vals, ",") + "\n")
	}
	return r.Method + "\n" + uri + "\n" + strings.Join(qparts, "&") + "\n" + hb.String() + "\n" +
		strings.Join(signed, ";") + "\n" + payloadHash, true
}
