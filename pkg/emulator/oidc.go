package emulator

import (
	"crypto"
	"fmt"
	"os"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kubectl-ack/kubectl-ack/pkg/pki"
)

// oidcLeeway tolerates small clock differences on exp/nbf/iat, like the real service.
const oidcLeeway = time.Minute

var oidcAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512}

// clusterKeys reads the service-account verification keys of a cluster (its JWKS).
func clusterKeys(c *Cluster) ([]crypto.PublicKey, error) {
	var out []crypto.PublicKey
	for _, f := range c.ServiceAccountKeyFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", c.ID, err)
		}
		keys, err := pki.ParsePublicKeysPEM(b)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %s: %w", c.ID, f, err)
		}
		out = append(out, keys...)
	}
	return out, nil
}

// JWKS returns the JSON Web Key Set of a cluster's service-account keys, as the RRSA OIDC discovery
// endpoint would publish it.
func (s *Server) JWKS(clusterID string) (jose.JSONWebKeySet, error) {
	c, ok := s.Cluster(clusterID)
	if !ok {
		return jose.JSONWebKeySet{}, fmt.Errorf("cluster %s not found", clusterID)
	}
	keys, err := clusterKeys(&c)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		jwk := jose.JSONWebKey{Key: k, Use: "sig"}
		tp, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			return jose.JSONWebKeySet{}, fmt.Errorf("jwk thumbprint: %w", err)
		}
		jwk.KeyID = fmt.Sprintf("%x", tp)
		set.Keys = append(set.Keys, jwk)
	}
	return set, nil
}

// rrsaProvider returns copies of the RAM OIDC provider an ARN names and of the RRSA cluster it
// serves; either is nil when missing.
func (s *Server) rrsaProvider(arn string) (*Cluster, *OIDCProvider) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cluster *Cluster
	for _, id := range s.clusterOrder {
		c := s.clusters[id]
		if c.RRSA.Enabled && strings.EqualFold(c.RRSA.OIDCArn, arn) {
			cp := copyCluster(c)
			cluster = &cp
			break
		}
	}
	p, ok := s.oidcProviderByARN(arn)
	if !ok {
		return cluster, nil
	}
	cp := *p
	return cluster, &cp
}

func (s *Server) stsAssumeRoleWithOIDC(req *request) (any, *apiError) {
	p := req.params
	for _, name := range []string{"RoleArn", "OIDCProviderArn", "OIDCToken", "RoleSessionName"} {
		if p[name] == "" {
			return nil, newErr(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
		}
	}
	if !sessionNameRe.MatchString(p["RoleSessionName"]) {
		return nil, newErr(400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed.")
	}
	// Find the OIDC provider in RAM, and the cluster whose RRSA it serves (its keys sign the tokens).
	cluster, provider := s.rrsaProvider(p["OIDCProviderArn"])
	if cluster == nil || provider == nil {
		return nil, newErr(404, "EntityNotExist.OIDCProvider", "The OIDC provider %s does not exist.", p["OIDCProviderArn"])
	}
	claims, e := s.verifyOIDCToken(p["OIDCToken"], cluster, provider)
	if e != nil {
		return nil, e
	}
	role, e := s.lookupRoleByARN(p["RoleArn"])
	if e != nil {
		return nil, e
	}
	d, e := durationParam(req, role.MaxSessionDuration)
	if e != nil {
		return nil, e
	}
	tr := trustRequest{
		federated: cluster.RRSA.OIDCArn,
		context: map[string][]string{
			"oidc:iss": {claims.Issuer},
			"oidc:aud": claims.Audience,
			"oidc:sub": {claims.Subject},
		},
	}
	if !evaluateTrust(role.AssumeRolePolicyDocument, tr) {
		return nil, newErr(403, "AuthenticationFail.NoPermission", "The trust policy of role %s does not allow this OIDC token (sub %s) to assume it.", role.Name, claims.Subject)
	}
	cred, e := s.issueSTS(role, p["RoleSessionName"], d)
	if e != nil {
		return nil, e
	}
	info := map[string]any{
		"Subject":          claims.Subject,
		"Issuer":           claims.Issuer,
		"ClientIds":        strings.Join(claims.Audience, ","),
		"ExpirationTime":   claims.Expiry.Time().UTC().Format(rpcTimeFormat),
		"VerificationInfo": "Success",
	}
	if claims.IssuedAt != nil {
		info["IssuanceTime"] = claims.IssuedAt.Time().UTC().Format(rpcTimeFormat)
	}
	return map[string]any{
		"Credentials": cred,
		"AssumedRoleUser": map[string]any{
			"Arn":           "acs:ram::" + role.AccountID + ":assumed-role/" + role.Name + "/" + p["RoleSessionName"],
			"AssumedRoleId": role.RoleID + ":" + p["RoleSessionName"],
		},
		"OIDCTokenInfo": info,
	}, nil
}

// verifyOIDCToken checks an OIDC token as STS does: signed by one of the cluster's keys, current,
// from the provider's issuer, for one of its client IDs, with a subject.
func (s *Server) verifyOIDCToken(token string, cluster *Cluster, provider *OIDCProvider) (jwt.Claims, *apiError) {
	var claims jwt.Claims
	tok, err := jwt.ParseSigned(token, oidcAlgs)
	if err != nil {
		return claims, newErr(400, "InvalidParameter.OIDCToken", "The OIDCToken is not a well-formed signed JWT: %v", err)
	}
	keys, err := clusterKeys(cluster)
	if err != nil {
		return claims, newErr(500, "InternalError", "cannot load the OIDC provider keys: %v", err)
	}
	verified := false
	for _, k := range keys {
		if err := tok.Claims(k, &claims); err == nil {
			verified = true
			break
		}
	}
	now := s.now()
	switch {
	case !verified:
		return claims, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken signature does not verify with the keys of the OIDC provider.")
	case claims.Expiry == nil || now.After(claims.Expiry.Time().Add(oidcLeeway)):
		return claims, newErr(400, "AuthenticationFail.OIDCToken.Expired", "The OIDCToken is expired.")
	case claims.NotBefore != nil && now.Add(oidcLeeway).Before(claims.NotBefore.Time()):
		return claims, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken is not valid yet.")
	case claims.Issuer != provider.IssuerURL:
		return claims, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken issuer %q does not match the OIDC provider issuer.", claims.Issuer)
	case !provider.acceptsAudience(claims.Audience):
		return claims, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken audience is not one of the OIDC provider's client IDs %s.", strings.Join(provider.ClientIDs, ","))
	case claims.Subject == "":
		return claims, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken has no subject.")
	}
	return claims, nil
}
