package emulator

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// VersionIMS is the API version of RAM's identity management actions (OIDC providers), served at
// the RAM endpoint next to the 2015-05-01 actions.
const VersionIMS = "2019-08-15"

// OIDCProvider is a RAM OIDC identity provider. Enabling RRSA on a cluster creates one named
// ack-rrsa-<clusterId>; AssumeRoleWithOIDC needs it to exist and checks tokens against it.
type OIDCProvider struct {
	// AccountID owns the provider.
	AccountID string `json:"accountId"`
	// Name is the provider name, ARN acs:ram::<account>:oidc-provider/<name>.
	Name string `json:"name"`
	// IssuerURL must equal the iss claim of the tokens.
	IssuerURL string `json:"issuerUrl"`
	// ClientIDs are the accepted aud claims.
	ClientIDs []string `json:"clientIds"`
	// Fingerprints are the SHA-1 fingerprints of the issuer's TLS certificate (not checked here).
	Fingerprints []string `json:"fingerprints,omitempty"`
	// Description is free text.
	Description string `json:"description,omitempty"`
	// CreateDate and UpdateDate are set by the emulator.
	CreateDate, UpdateDate time.Time `json:"-"`
}

// ARN returns acs:ram::<account>:oidc-provider/<name>.
func (p *OIDCProvider) ARN() string {
	return "acs:ram::" + p.AccountID + ":oidc-provider/" + p.Name
}

func (s *Server) imsHandlers() map[string]func(*request) (any, *apiError) {
	return map[string]func(*request) (any, *apiError){
		"GetOIDCProvider": s.imsGetOIDCProvider,
	}
}

func oidcProviderNotFound(name string) *apiError {
	return newErr(404, "EntityNotExist.OIDCProvider", "The OIDC provider does not exist: %s.", name)
}

func (s *Server) imsGetOIDCProvider(req *request) (any, *apiError) {
	name, e := requireParam(req, "OIDCProviderName")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.callerAccount(req).oidcProviders[strings.ToLower(name)]
	if !ok {
		return nil, oidcProviderNotFound(name)
	}
	return map[string]any{"OIDCProvider": map[string]any{
		"OIDCProviderName":  p.Name,
		"Arn":               p.ARN(),
		"IssuerUrl":         p.IssuerURL,
		"ClientIds":         strings.Join(p.ClientIDs, ","),
		"Fingerprints":      strings.Join(p.Fingerprints, ","),
		"Description":       p.Description,
		"IssuanceLimitTime": 12,
		"CreateDate":        fmtDate(p.CreateDate),
		"UpdateDate":        fmtDate(p.UpdateDate),
	}}, nil
}

// registerRRSAProvider creates the OIDC provider of a cluster whose RRSA was just enabled, as ACK
// does, unless one of that name exists. Caller holds s.mu.
func (s *Server) registerRRSAProvider(c *Cluster) {
	acct, name, ok := parseOIDCProviderARN(c.RRSA.OIDCArn)
	if !ok {
		return
	}
	a := s.account(acct)
	if _, exists := a.oidcProviders[strings.ToLower(name)]; exists {
		return
	}
	now := s.now()
	a.oidcProviders[strings.ToLower(name)] = &OIDCProvider{
		AccountID: acct, Name: name, IssuerURL: strings.Split(c.RRSA.Issuer, ",")[0],
		ClientIDs: []string{c.RRSA.Audience}, Description: "RRSA OIDC provider of cluster " + c.ID,
		CreateDate: now, UpdateDate: now,
	}
}

// parseOIDCProviderARN splits acs:ram::<account>:oidc-provider/<name>.
func parseOIDCProviderARN(arn string) (acct, name string, ok bool) {
	rest, found := strings.CutPrefix(arn, "acs:ram::")
	if !found {
		return "", "", false
	}
	acct, name, found = strings.Cut(rest, ":oidc-provider/")
	return acct, name, found && acct != "" && name != ""
}

// oidcProviderByARN returns the provider an ARN names. Caller holds s.mu.
func (s *Server) oidcProviderByARN(arn string) (*OIDCProvider, bool) {
	acct, name, ok := parseOIDCProviderARN(arn)
	if !ok {
		return nil, false
	}
	a, ok := s.accounts[acct]
	if !ok {
		return nil, false
	}
	p, ok := a.oidcProviders[strings.ToLower(name)]
	return p, ok
}

// acceptsAudience reports whether any aud claim is one of the provider's client IDs.
func (p *OIDCProvider) acceptsAudience(aud []string) bool {
	for _, a := range aud {
		if slices.Contains(p.ClientIDs, a) {
			return true
		}
	}
	return false
}

// OIDCProvider returns a copy of an OIDC provider.
func (s *Server) OIDCProvider(accountID, name string) (OIDCProvider, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return OIDCProvider{}, false
	}
	p, ok := a.oidcProviders[strings.ToLower(name)]
	if !ok {
		return OIDCProvider{}, false
	}
	cp := *p
	cp.ClientIDs = slices.Clone(p.ClientIDs)
	cp.Fingerprints = slices.Clone(p.Fingerprints)
	return cp, true
}

// SetOIDCProvider creates or replaces an OIDC provider directly, bypassing the API (tests change
// or restore one this way).
func (s *Server) SetOIDCProvider(p OIDCProvider) error {
	if p.AccountID == "" || p.Name == "" || p.IssuerURL == "" {
		return fmt.Errorf("set OIDC provider: account, name and issuer URL are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if p.CreateDate.IsZero() {
		p.CreateDate = now
	}
	p.UpdateDate = now
	p.ClientIDs = slices.Clone(p.ClientIDs)
	p.Fingerprints = slices.Clone(p.Fingerprints)
	s.account(p.AccountID).oidcProviders[strings.ToLower(p.Name)] = &p
	return nil
}

// DeleteOIDCProvider removes an OIDC provider directly, as someone deleting it in the RAM
// console would: the cluster still reports its ARN, and AssumeRoleWithOIDC fails.
func (s *Server) DeleteOIDCProvider(accountID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return fmt.Errorf("account %s not found", accountID)
	}
	if _, ok := a.oidcProviders[strings.ToLower(name)]; !ok {
		return fmt.Errorf("OIDC provider %s not found in account %s", name, accountID)
	}
	delete(a.oidcProviders, strings.ToLower(name))
	return nil
}
