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
	// Find the OIDC provider: the RRSA provider of a cluster.
	var cluster *Cluster
	s.mu.Lock()
	for _, id := range s.clusterOrder {
		c := s.clusters[id]
		if c.RRSA.Enabled && strings.EqualFold(c.RRSA.OIDCArn, p["OIDCProviderArn"]) {
			cp := copyCluster(c)
			cluster = &cp
			break
		}
	}
	s.mu.Unlock()
	if cluster == nil {
		return nil, newErr(404, "EntityNotExist.OIDCProvider", "The OIDC provider %s does not exist.", p["OIDCProviderArn"])
	}
	tok, err := jwt.ParseSigned(p["OIDCToken"], oidcAlgs)
	if err != nil {
		return nil, newErr(400, "InvalidParameter.OIDCToken", "The OIDCToken is not a well-formed signed JWT: %v", err)
	}
	keys, err := clusterKeys(cluster)
	if err != nil {
		return nil, newErr(500, "InternalError", "cannot load the OIDC provider keys: %v", err)
	}
	var claims jwt.Claims
	verified := false
	for _, k := range keys {
		if err := tok.Claims(k, &claims); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken signature does not verify with the keys of the OIDC provider.")
	}
	now := s.now()
	issuer := strings.Split(cluster.RRSA.Issuer, ",")[0]
	switch {
	case claims.Expiry == nil || now.After(claims.Expiry.Time().Add(oidcLeeway)):
		return nil, newErr(400, "AuthenticationFail.OIDCToken.Expired", "The OIDCToken is expired.")
	case claims.NotBefore != nil && now.Add(oidcLeeway).Before(claims.NotBefore.Time()):
		return nil, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken is not valid yet.")
	case claims.Issuer != issuer:
		return nil, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken issuer %q does not match the OIDC provider issuer.", claims.Issuer)
	case !claims.Audience.Contains(cluster.RRSA.Audience):
		return nil, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken audience does not contain %s.", cluster.RRSA.Audience)
	case claims.Subject == "":
		return nil, newErr(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken has no subject.")
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
