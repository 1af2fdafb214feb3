package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/pki"
)

// User is a RAM user.
type User struct {
	// AccountID owns the user.
	AccountID string `json:"accountId"`
	// Name is the user name.
	Name string `json:"name"`
	// UserID is the RAM user id (also the principal id).
	UserID string `json:"userId"`
	// ARN is acs:ram::<account>:user/<name>.
	ARN string `json:"arn"`
}

// Role is a RAM role.
type Role struct {
	// AccountID owns the role.
	AccountID string
	// Name is the role name.
	Name string
	// ARN is acs:ram::<account>:role/<name>.
	ARN string
	// RoleID is the role id.
	RoleID string
	// Description is free text.
	Description string
	// AssumeRolePolicyDocument is the trust policy JSON.
	AssumeRolePolicyDocument string
	// MaxSessionDuration is in seconds.
	MaxSessionDuration int64
	// CreateDate and UpdateDate are the times of creation and last update.
	CreateDate, UpdateDate time.Time
	// AttachedPolicies lists attached policies in attach order.
	AttachedPolicies []PolicyRef
}

type account struct {
	id       string
	users    map[string]*User // lower-case name
	roles    map[string]*roleRec
	policies map[string]*policyRec // custom policies, lower-case name
	// oidcProviders are the account's OIDC identity providers, lower-case name.
	oidcProviders map[string]*OIDCProvider
}

type roleRec struct {
	Role
	attachDates map[string]time.Time // "Type/lowername"
}

type policyRec struct {
	name, typ, description string
	versions               []policyVersion
	defaultVersion         string
	nextVersion            int
	created, updated       time.Time
	attachments            int
}

type policyVersion struct {
	id       string
	document string
	created  time.Time
}

func (p *policyRec) defaultDoc() policyVersion {
	for _, v := range p.versions {
		if v.id == p.defaultVersion {
			return v
		}
	}
	return policyVersion{}
}

// keyRec is an access key: long-lived for a user or root, or an STS temporary key.
type keyRec struct {
	id, secret string
	accountID  string
	userName   string // "" for root or STS keys
	sts        *stsSession
}

type stsSession struct {
	token      string
	expiration time.Time
	roleName   string
	roleID     string
	roleARN    string
	session    string
}

// principal is the authenticated caller of a request.
type principal struct {
	AccountID   string
	Kind        string // "root", "user", "assumed-role"
	UserName    string
	UserID      string
	RoleName    string
	RoleID      string
	Session     string
	AccessKeyID string
}

func (p *principal) ARN() string {
	switch p.Kind {
	case "user":
		return "acs:ram::" + p.AccountID + ":user/" + p.UserName
	case "assumed-role":
		return "acs:ram::" + p.AccountID + ":assumed-role/" + p.RoleName + "/" + p.Session
	default:
		return "acs:ram::" + p.AccountID + ":root"
	}
}

func (p *principal) PrincipalID() string {
	switch p.Kind {
	case "user":
		return p.UserID
	case "assumed-role":
		return p.RoleID + ":" + p.Session
	default:
		return p.AccountID
	}
}

var systemPolicies = []struct{ name, description, document string }{
	{"AdministratorAccess", "Provides full access to Alibaba Cloud services and resources.", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	{"AliyunOSSReadOnlyAccess", "Provides read-only access to Object Storage Service(OSS).", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*","oss:List*"],"Resource":"*"}]}`},
	{"AliyunOSSFullAccess", "Provides full access to Object Storage Service(OSS).", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}`},
	{"AliyunCSFullAccess", "Provides full access to Container Service(CS).", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"cs:*","Resource":"*"}]}`},
	{"AliyunCSReadOnlyAccess", "Provides read-only access to Container Service(CS).", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["cs:Get*","cs:Describe*","cs:List*"],"Resource":"*"}]}`},
	{"AliyunSTSAssumeRoleAccess", "Provides access to assume RAM roles through STS.", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`},
	{"AliyunRAMReadOnlyAccess", "Provides read-only access to RAM.", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:Get*","ram:List*"],"Resource":"*"}]}`},
	{"AliyunRAMFullAccess", "Provides full access to RAM.", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*","Resource":"*"}]}`},
	{"AliyunECSReadOnlyAccess", "Provides read-only access to ECS.", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ecs:Describe*","ecs:List*"],"Resource":"*"}]}`},
	{"AliyunLogFullAccess", "Provides full access to Log Service.", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"log:*","Resource":"*"}]}`},
}

func userARN(acct, name string) string { return "acs:ram::" + acct + ":user/" + name }
func roleARN(acct, name string) string { return "acs:ram::" + acct + ":role/" + name }

// loadSeed builds the in-memory state from a seed. Caller holds no lock (called from New).
func (s *Server) loadSeed(seed *Seed) error {
	now := s.now()
	for _, p := range systemPolicies {
		s.systemPolicies[strings.ToLower(p.name)] = &policyRec{
			name: p.name, typ: "System", description: p.description,
			versions:       []policyVersion{{id: "v1", document: p.document, created: now}},
			defaultVersion: "v1", nextVersion: 2, created: now, updated: now,
		}
	}
	for _, as := range seed.Accounts {
		if as.ID == "" {
			return errors.New("seed: account without id")
		}
		if _, dup := s.accounts[as.ID]; dup {
			return fmt.Errorf("seed: duplicate account %s", as.ID)
		}
		a := s.account(as.ID)
		for _, k := range as.AccessKeys {
			if err := s.addKey(&keyRec{id: k.ID, secret: k.Secret, accountID: as.ID}); err != nil {
				return err
			}
		}
		for _, us := range as.Users {
			u, err := s.addUser(a, us.Name, us.ID)
			if err != nil {
				return err
			}
			for _, k := range us.AccessKeys {
				if err := s.addKey(&keyRec{id: k.ID, secret: k.Secret, accountID: as.ID, userName: u.Name}); err != nil {
					return err
				}
			}
		}
		for _, ps := range as.Policies {
			if ps.Type != "" && ps.Type != "Custom" {
				return fmt.Errorf("seed: policy %s: only Custom policies can be seeded", ps.Name)
			}
			if _, apiErr := s.createPolicy(a, ps.Name, ps.Document, ps.Description); apiErr != nil {
				return fmt.Errorf("seed: policy %s: %s", ps.Name, apiErr.Message)
			}
		}
		for _, rs := range as.Roles {
			if _, apiErr := s.createRole(a, rs.Name, rs.ID, rs.TrustPolicy, rs.Description, rs.MaxSessionDuration); apiErr != nil {
				return fmt.Errorf("seed: role %s: %s", rs.Name, apiErr.Message)
			}
			for _, ref := range rs.AttachedPolicies {
				if apiErr := s.attachPolicy(a, ref.Type, ref.Name, rs.Name); apiErr != nil {
					return fmt.Errorf("seed: role %s: %s", rs.Name, apiErr.Message)
				}
			}
		}
	}
	for i := range seed.Clusters {
		c := seed.Clusters[i]
		if err := s.addCluster(&c); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) account(id string) *account {
	a, ok := s.accounts[id]
	if !ok {
		a = &account{id: id, users: map[string]*User{}, roles: map[string]*roleRec{}, policies: map[string]*policyRec{},
			oidcProviders: map[string]*OIDCProvider{}}
		s.accounts[id] = a
		s.accountOrder = append(s.accountOrder, id)
	}
	return a
}

func (s *Server) addKey(k *keyRec) error {
	if k.id == "" || k.secret == "" {
		return errors.New("seed: access key needs id and secret")
	}
	if _, dup := s.keys[k.id]; dup {
		return fmt.Errorf("duplicate access key id %s", k.id)
	}
	s.keys[k.id] = k
	return nil
}

func (s *Server) addUser(a *account, name, id string) (*User, error) {
	if !validName(name, 64) {
		return nil, fmt.Errorf("invalid user name %q", name)
	}
	if _, dup := a.users[strings.ToLower(name)]; dup {
		return nil, fmt.Errorf("user %s already exists in account %s", name, a.id)
	}
	if id == "" {
		var err error
		if id, err = randomDigits(17, "2"); err != nil {
			return nil, err
		}
	}
	u := &User{AccountID: a.id, Name: name, UserID: id, ARN: userARN(a.id, name)}
	a.users[strings.ToLower(name)] = u
	return u, nil
}

// addCluster validates a cluster, fills defaults and loads or generates its client CA.
func (s *Server) addCluster(c *Cluster) error {
	if !clusterIDRe.MatchString(c.ID) {
		return fmt.Errorf("seed: cluster id %q must be \"c\" followed by 32 hex digits", c.ID)
	}
	if _, dup := s.clusters[c.ID]; dup {
		return fmt.Errorf("seed: duplicate cluster %s", c.ID)
	}
	if c.AccountID == "" {
		return fmt.Errorf("seed: cluster %s has no accountId", c.ID)
	}
	s.account(c.AccountID)
	if c.Name == "" {
		c.Name = c.ID
	}
	if c.RegionID == "" {
		c.RegionID = "cn-hangzhou"
	}
	if c.State == "" {
		c.State = "running"
	}
	if c.ClusterType == "" {
		c.ClusterType = "ManagedKubernetes"
	}
	if c.Version == "" {
		c.Version = "1.36.3-aliyun.1"
	}
	if c.APIServerURL == "" {
		c.APIServerURL = "https://127.0.0.1:6443"
	}
	if c.ServiceAccountIssuer == "" {
		c.ServiceAccountIssuer = DefaultIssuer(c.ID)
	}
	if c.RRSA.Enabled {
		fillRRSA(c)
		s.registerRRSAProvider(c)
	}
	if err := s.fillClusterKeys(c); err != nil {
		return err
	}
	var ca *pki.CA
	switch {
	case c.ClientCACertFile != "" && c.ClientCAKeyFile != "":
		certPEM, err := os.ReadFile(c.ClientCACertFile)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", c.ID, err)
		}
		keyPEM, err := os.ReadFile(c.ClientCAKeyFile)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", c.ID, err)
		}
		if ca, err = pki.ParseCA(certPEM, keyPEM); err != nil {
			return fmt.Errorf("cluster %s: client CA: %w", c.ID, err)
		}
	case c.ClientCACertFile != "" || c.ClientCAKeyFile != "":
		return fmt.Errorf("cluster %s: clientCACertFile and clientCAKeyFile must be set together", c.ID)
	default:
		certFile := filepath.Join(s.workDir, "client-ca-"+c.ID+".pem")
		keyFile := filepath.Join(s.workDir, "client-ca-"+c.ID+".key")
		var err error
		if ca, err = pki.LoadOrCreateCA(certFile, keyFile, "ack-emulator client CA "+c.ID); err != nil {
			return fmt.Errorf("cluster %s: %w", c.ID, err)
		}
		c.ClientCACertFile, c.ClientCAKeyFile = certFile, keyFile
	}
	s.clientCAs[c.ID] = ca
	s.clusters[c.ID] = c
	s.clusterOrder = append(s.clusterOrder, c.ID)
	return nil
}

func fillRRSA(c *Cluster) {
	if c.RRSA.Issuer == "" {
		c.RRSA.Issuer = c.ServiceAccountIssuer
	}
	if c.RRSA.Audience == "" {
		c.RRSA.Audience = "sts.aliyuncs.com"
	}
	if c.RRSA.OIDCName == "" {
		c.RRSA.OIDCName = "ack-rrsa-" + c.ID
	}
	if c.RRSA.OIDCArn == "" {
		c.RRSA.OIDCArn = "acs:ram::" + c.AccountID + ":oidc-provider/" + c.RRSA.OIDCName
	}
}

// ---- public state helpers (tests) ----

// CreateUser adds a RAM user with one new access key to an account (created if missing).
func (s *Server) CreateUser(accountID, name string) (User, AccessKey, error) {
	ak, err := newAccessKey("LTAI")
	if err != nil {
		return User{}, AccessKey{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.addUser(s.account(accountID), name, "")
	if err != nil {
		return User{}, AccessKey{}, err
	}
	if err := s.addKey(&keyRec{id: ak.ID, secret: ak.Secret, accountID: accountID, userName: u.Name}); err != nil {
		return User{}, AccessKey{}, err
	}
	return *u, ak, nil
}

// CreateRootAccessKey adds a root (account) access key, whose caller identity type is "Account".
func (s *Server) CreateRootAccessKey(accountID string) (AccessKey, error) {
	ak, err := newAccessKey("LTAI")
	if err != nil {
		return AccessKey{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account(accountID)
	if err := s.addKey(&keyRec{id: ak.ID, secret: ak.Secret, accountID: accountID}); err != nil {
		return AccessKey{}, err
	}
	return ak, nil
}

// Role returns a copy of a role.
func (s *Server) Role(accountID, name string) (Role, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return Role{}, false
	}
	r, ok := a.roles[strings.ToLower(name)]
	if !ok {
		return Role{}, false
	}
	out := r.Role
	out.AttachedPolicies = append([]PolicyRef(nil), r.AttachedPolicies...)
	return out, true
}

// CreateRole adds a role with the given trust policy to an account (created if missing), as a
// seed role would be; the policy must be valid.
func (s *Server) CreateRole(accountID, name, trustPolicy string) (Role, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, apiErr := s.createRole(s.account(accountID), name, "", trustPolicy, "", 0)
	if apiErr != nil {
		return Role{}, fmt.Errorf("create role %s: %s", name, apiErr.Message)
	}
	return *r, nil
}

// SetRoleTrustPolicy replaces a role's trust policy directly, bypassing the API (to simulate a
// concurrent writer). The document must be valid.
func (s *Server) SetRoleTrustPolicy(accountID, name, doc string) error {
	if apiErr := validateTrustPolicy(doc); apiErr != nil {
		return fmt.Errorf("set trust policy of %s: %s", name, apiErr.Message)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return fmt.Errorf("account %s not found", accountID)
	}
	r, ok := a.roles[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("role %s not found in account %s", name, accountID)
	}
	r.AssumeRolePolicyDocument = doc
	r.UpdateDate = s.now()
	return nil
}

// Cluster returns a deep copy of a cluster.
func (s *Server) Cluster(id string) (Cluster, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleTasks()
	c, ok := s.clusters[id]
	if !ok {
		return Cluster{}, false
	}
	return copyCluster(c), true
}

// UpdateCluster changes a cluster under the state lock. fn must not change the id.
func (s *Server) UpdateCluster(id string, fn func(*Cluster)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleTasks()
	c, ok := s.clusters[id]
	if !ok {
		return fmt.Errorf("cluster %s not found", id)
	}
	cp := copyCluster(c)
	fn(&cp)
	if cp.ID != id {
		return fmt.Errorf("cluster %s: the id cannot change", id)
	}
	if cp.RRSA.Enabled {
		fillRRSA(&cp)
		if !c.RRSA.Enabled {
			s.registerRRSAProvider(&cp)
		}
	}
	*c = cp
	return nil
}

// Clusters returns the ids of all clusters in seed order.
func (s *Server) Clusters() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.clusterOrder...)
}

// ClientCA returns the CA that signs the client certificates of a cluster's user kubeconfigs.
func (s *Server) ClientCA(clusterID string) (*pki.CA, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ca, ok := s.clientCAs[clusterID]
	return ca, ok
}

// Calls returns how many authenticated calls of an action a service accepted.
func (s *Server) Calls(service, action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[service][action]
}

// AllCalls returns a copy of all call counts: service → action → count.
func (s *Server) AllCalls() map[string]map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]int{}
	for svc, m := range s.calls {
		out[svc] = map[string]int{}
		for a, n := range m {
			out[svc][a] = n
		}
	}
	return out
}

func copyCluster(c *Cluster) Cluster {
	b, _ := json.Marshal(c)
	var out Cluster
	_ = json.Unmarshal(b, &out)
	return out
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
