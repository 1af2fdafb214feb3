package emulator

import (
	"strconv"
	"strings"
	"time"
)

func (s *Server) ramHandlers() map[string]func(*request) (any, *apiError) {
	return map[string]func(*request) (any, *apiError){
		"GetRole":              s.ramGetRole,
		"CreateRole":           s.ramCreateRole,
		"UpdateRole":           s.ramUpdateRole,
		"DeleteRole":           s.ramDeleteRole,
		"GetPolicy":            s.ramGetPolicy,
		"CreatePolicy":         s.ramCreatePolicy,
		"CreatePolicyVersion":  s.ramCreatePolicyVersion,
		"ListPoliciesForRole":  s.ramListPoliciesForRole,
		"AttachPolicyToRole":   s.ramAttachPolicyToRole,
		"DetachPolicyFromRole": s.ramDetachPolicyFromRole,
	}
}

func fmtDate(t time.Time) string { return t.UTC().Format(rpcTimeFormat) }

func roleJSON(r *Role) map[string]any {
	return map[string]any{
		"RoleId":                   r.RoleID,
		"RoleName":                 r.Name,
		"Arn":                      r.ARN,
		"Description":              r.Description,
		"AssumeRolePolicyDocument": r.AssumeRolePolicyDocument,
		"MaxSessionDuration":       r.MaxSessionDuration,
		"CreateDate":               fmtDate(r.CreateDate),
		"UpdateDate":               fmtDate(r.UpdateDate),
	}
}

func requireParam(req *request, name string) (string, *apiError) {
	v := req.params[name]
	if v == "" {
		return "", newErr(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
	}
	return v, nil
}

func roleNotFound(name string) *apiError {
	return newErr(404, "EntityNotExist.Role", "The role not exists: %s.", name)
}

// callerAccount returns the state of the caller's account; RAM APIs act on it.
func (s *Server) callerAccount(req *request) *account {
	return s.account(req.caller.AccountID)
}

// role returns the role named name (any case) or RAM's EntityNotExist.Role. Caller holds s.mu.
func (a *account) role(name string) (*roleRec, *apiError) {
	r, ok := a.roles[strings.ToLower(name)]
	if !ok {
		return nil, roleNotFound(name)
	}
	return r, nil
}

func (s *Server) ramGetRole(req *request) (any, *apiError) {
	name, e := requireParam(req, "RoleName")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.callerAccount(req).role(name)
	if e != nil {
		return nil, e
	}
	return map[string]any{"Role": roleJSON(&r.Role)}, nil
}

func parseMaxSession(v string) (int64, *apiError) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 3600 || n > 43200 {
		return 0, newErr(400, "InvalidParameter.MaxSessionDuration", "The MaxSessionDuration must be between 3600 and 43200.")
	}
	return n, nil
}

func (s *Server) ramCreateRole(req *request) (any, *apiError) {
	name, e := requireParam(req, "RoleName")
	if e != nil {
		return nil, e
	}
	doc, e := requireParam(req, "AssumeRolePolicyDocument")
	if e != nil {
		return nil, e
	}
	maxSession, e := parseMaxSession(req.params["MaxSessionDuration"])
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.createRole(s.callerAccount(req), name, "", doc, req.params["Description"], maxSession)
	if e != nil {
		return nil, e
	}
	out := roleJSON(r)
	delete(out, "UpdateDate")
	return map[string]any{"Role": out}, nil
}

// createRole validates and stores a role. Caller holds s.mu (or is New).
func (s *Server) createRole(a *account, name, id, doc, description string, maxSession int64) (*Role, *apiError) {
	if len(name) > 64 || !validRoleName(name) {
		return nil, newErr(400, "InvalidParameter.RoleName.InvalidChars", "The role name %q must be 1-64 characters of letters, digits, '.' and '-'.", name)
	}
	if e := validateTrustPolicy(doc); e != nil {
		return nil, e
	}
	if _, dup := a.roles[strings.ToLower(name)]; dup {
		return nil, newErr(409, "EntityAlreadyExists.Role", "The role already exists: %s.", name)
	}
	if maxSession == 0 {
		maxSession = 3600
	}
	if id == "" {
		var err error
		if id, err = randomDigits(19, "3"); err != nil {
			return nil, newErr(500, "InternalError", "%v", err)
		}
	}
	now := s.now()
	r := &roleRec{Role: Role{
		AccountID: a.id, Name: name, ARN: roleARN(a.id, name), RoleID: id, Description: description,
		AssumeRolePolicyDocument: doc, MaxSessionDuration: maxSession, CreateDate: now, UpdateDate: now,
	}, attachDates: map[string]time.Time{}}
	a.roles[strings.ToLower(name)] = r
	return &r.Role, nil
}

func validRoleName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func (s *Server) ramUpdateRole(req *request) (any, *apiError) {
	name, e := requireParam(req, "RoleName")
	if e != nil {
		return nil, e
	}
	doc := req.params["NewAssumeRolePolicyDocument"]
	if doc != "" {
		if e := validateTrustPolicy(doc); e != nil {
			return nil, e
		}
	}
	maxSession, e := parseMaxSession(req.params["NewMaxSessionDuration"])
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.callerAccount(req).role(name)
	if e != nil {
		return nil, e
	}
	if doc != "" {
		r.AssumeRolePolicyDocument = doc
	}
	if d, ok := req.params["NewDescription"]; ok {
		r.Description = d
	}
	if maxSession != 0 {
		r.MaxSessionDuration = maxSession
	}
	r.UpdateDate = s.now()
	return map[string]any{"Role": roleJSON(&r.Role)}, nil
}

func (s *Server) ramDeleteRole(req *request) (any, *apiError) {
	name, e := requireParam(req, "RoleName")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.callerAccount(req)
	r, e := a.role(name)
	if e != nil {
		return nil, e
	}
	if len(r.AttachedPolicies) > 0 {
		return nil, newErr(409, "DeleteConflict.Role.Policy", "The role %s has attached policies; detach them first.", name)
	}
	delete(a.roles, strings.ToLower(name))
	return map[string]any{}, nil
}

// findPolicy looks up a System or Custom policy. Caller holds s.mu.
func (s *Server) findPolicy(a *account, typ, name string) (*policyRec, *apiError) {
	var p *policyRec
	switch typ {
	case "System":
		p = s.systemPolicies[strings.ToLower(name)]
	case "Custom":
		p = a.policies[strings.ToLower(name)]
	default:
		return nil, newErr(400, "InvalidParameter.PolicyType", "The PolicyType must be System or Custom.")
	}
	if p == nil {
		return nil, newErr(404, "EntityNotExist.Policy", "The policy not exists: %s (%s).", name, typ)
	}
	return p, nil
}

func policyJSON(p *policyRec) map[string]any {
	return map[string]any{
		"PolicyName":      p.name,
		"PolicyType":      p.typ,
		"Description":     p.description,
		"DefaultVersion":  p.defaultVersion,
		"PolicyDocument":  p.defaultDoc().document,
		"AttachmentCount": p.attachments,
		"CreateDate":      fmtDate(p.created),
		"UpdateDate":      fmtDate(p.updated),
	}
}

func versionJSON(p *policyRec, v policyVersion) map[string]any {
	return map[string]any{
		"VersionId":        v.id,
		"PolicyDocument":   v.document,
		"IsDefaultVersion": v.id == p.defaultVersion,
		"CreateDate":       fmtDate(v.created),
	}
}

func (s *Server) ramGetPolicy(req *request) (any, *apiError) {
	name, e := requireParam(req, "PolicyName")
	if e != nil {
		return nil, e
	}
	typ, e := requireParam(req, "PolicyType")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.findPolicy(s.callerAccount(req), typ, name)
	if e != nil {
		return nil, e
	}
	return map[string]any{"Policy": policyJSON(p), "DefaultPolicyVersion": versionJSON(p, p.defaultDoc())}, nil
}

func (s *Server) ramCreatePolicy(req *request) (any, *apiError) {
	name, e := requireParam(req, "PolicyName")
	if e != nil {
		return nil, e
	}
	doc, e := requireParam(req, "PolicyDocument")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.createPolicy(s.callerAccount(req), name, doc, req.params["Description"])
	if e != nil {
		return nil, e
	}
	out := policyJSON(p)
	delete(out, "PolicyDocument")
	delete(out, "AttachmentCount")
	delete(out, "UpdateDate")
	return map[string]any{"Policy": out}, nil
}

// createPolicy stores a custom policy. Caller holds s.mu (or is New).
func (s *Server) createPolicy(a *account, name, doc, description string) (*policyRec, *apiError) {
	if len(name) > 128 || !validRoleName(name) {
		return nil, newErr(400, "InvalidParameter.PolicyName.InvalidChars", "The policy name %q must be 1-128 characters of letters, digits and '-'.", name)
	}
	if _, e := parsePolicy(doc); e != nil {
		return nil, e
	}
	if _, dup := a.policies[strings.ToLower(name)]; dup || s.systemPolicies[strings.ToLower(name)] != nil {
		return nil, newErr(409, "EntityAlreadyExists.Policy", "The policy already exists: %s.", name)
	}
	now := s.now()
	p := &policyRec{name: name, typ: "Custom", description: description,
		versions:       []policyVersion{{id: "v1", document: doc, created: now}},
		defaultVersion: "v1", nextVersion: 2, created: now, updated: now}
	a.policies[strings.ToLower(name)] = p
	return p, nil
}

// maxPolicyVersions is RAM's limit on versions per custom policy.
const maxPolicyVersions = 5

func (s *Server) ramCreatePolicyVersion(req *request) (any, *apiError) {
	name, e := requireParam(req, "PolicyName")
	if e != nil {
		return nil, e
	}
	doc, e := requireParam(req, "PolicyDocument")
	if e != nil {
		return nil, e
	}
	if _, e := parsePolicy(doc); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.findPolicy(s.callerAccount(req), "Custom", name)
	if e != nil {
		return nil, e
	}
	if len(p.versions) >= maxPolicyVersions {
		if req.params["RotateStrategy"] != "DeleteOldestNonDefaultVersionWhenLimitExceeded" {
			return nil, newErr(409, "LimitExceeded.Policy.Version", "The count of versions of policy %s exceeds the limit of %d.", name, maxPolicyVersions)
		}
		for i, v := range p.versions {
			if v.id != p.defaultVersion {
				p.versions = append(p.versions[:i], p.versions[i+1:]...)
				break
			}
		}
	}
	now := s.now()
	v := policyVersion{id: "v" + strconv.Itoa(p.nextVersion), document: doc, created: now}
	p.nextVersion++
	p.versions = append(p.versions, v)
	if strings.EqualFold(req.params["SetAsDefault"], "true") {
		p.defaultVersion = v.id
	}
	p.updated = now
	return map[string]any{"PolicyVersion": versionJSON(p, v)}, nil
}

func (s *Server) ramListPoliciesForRole(req *request) (any, *apiError) {
	name, e := requireParam(req, "RoleName")
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.callerAccount(req)
	r, e := a.role(name)
	if e != nil {
		return nil, e
	}
	list := []any{}
	for _, ref := range r.AttachedPolicies {
		p, e := s.findPolicy(a, ref.Type, ref.Name)
		if e != nil {
			continue
		}
		list = append(list, map[string]any{
			"PolicyName":     p.name,
			"PolicyType":     p.typ,
			"Description":    p.description,
			"DefaultVersion": p.defaultVersion,
			"AttachDate":     fmtDate(r.attachDates[ref.Type+"/"+strings.ToLower(ref.Name)]),
		})
	}
	return map[string]any{"Policies": map[string]any{"Policy": list}}, nil
}

func (s *Server) policyRoleParams(req *request) (typ, pname, rname string, e *apiError) {
	if typ, e = requireParam(req, "PolicyType"); e != nil {
		return
	}
	if pname, e = requireParam(req, "PolicyName"); e != nil {
		return
	}
	rname, e = requireParam(req, "RoleName")
	return
}

func (s *Server) ramAttachPolicyToRole(req *request) (any, *apiError) {
	typ, pname, rname, e := s.policyRoleParams(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.attachPolicy(s.callerAccount(req), typ, pname, rname); e != nil {
		return nil, e
	}
	return map[string]any{}, nil
}

// attachPolicy attaches a policy to a role. Caller holds s.mu (or is New).
func (s *Server) attachPolicy(a *account, typ, pname, rname string) *apiError {
	p, e := s.findPolicy(a, typ, pname)
	if e != nil {
		return e
	}
	r, e := a.role(rname)
	if e != nil {
		return e
	}
	key := p.typ + "/" + strings.ToLower(p.name)
	if _, dup := r.attachDates[key]; dup {
		return newErr(409, "EntityAlreadyExists.Role.Policy", "The policy %s is already attached to role %s.", pname, rname)
	}
	r.attachDates[key] = s.now()
	r.AttachedPolicies = append(r.AttachedPolicies, PolicyRef{Name: p.name, Type: p.typ})
	p.attachments++
	return nil
}

func (s *Server) ramDetachPolicyFromRole(req *request) (any, *apiError) {
	typ, pname, rname, e := s.policyRoleParams(req)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.callerAccount(req)
	p, e := s.findPolicy(a, typ, pname)
	if e != nil {
		return nil, e
	}
	r, e := a.role(rname)
	if e != nil {
		return nil, e
	}
	key := p.typ + "/" + strings.ToLower(p.name)
	if _, ok := r.attachDates[key]; !ok {
		return nil, newErr(404, "EntityNotExist.Role.Policy", "The policy %s is not attached to role %s.", pname, rname)
	}
	delete(r.attachDates, key)
	for i, ref := range r.AttachedPolicies {
		if ref.Type == p.typ && strings.EqualFold(ref.Name, p.name) {
			r.AttachedPolicies = append(r.AttachedPolicies[:i], r.AttachedPolicies[i+1:]...)
			break
		}
	}
	p.attachments--
	return map[string]any{}, nil
}
