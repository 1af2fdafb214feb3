package emulator

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

var sessionNameRe = regexp.MustCompile(`^[\w.@=,-]{2,64}$`)

func (s *Server) stsHandlers() map[string]func(*request) (any, *apiError) {
	return map[string]func(*request) (any, *apiError){
		"GetCallerIdentity":  s.stsGetCallerIdentity,
		"AssumeRole":         s.stsAssumeRole,
		"AssumeRoleWithOIDC": s.stsAssumeRoleWithOIDC,
	}
}

func (s *Server) stsGetCallerIdentity(req *request) (any, *apiError) {
	p := req.caller
	out := map[string]any{
		"AccountId":   p.AccountID,
		"Arn":         p.ARN(),
		"PrincipalId": p.PrincipalID(),
	}
	switch p.Kind {
	case "user":
		out["IdentityType"] = "RAMUser"
		out["UserId"] = p.UserID
	case "assumed-role":
		out["IdentityType"] = "AssumedRoleUser"
		out["RoleId"] = p.RoleID
	default:
		out["IdentityType"] = "Account"
		out["UserId"] = p.AccountID
	}
	return out, nil
}

// parseRoleARN splits acs:ram::<account>:role/<name>.
func parseRoleARN(arn string) (acct, name string, ok bool) {
	rest, found := strings.CutPrefix(arn, "acs:ram::")
	if !found {
		return "", "", false
	}
	acct, res, found := strings.Cut(rest, ":")
	if !found || acct == "" {
		return "", "", false
	}
	name, found = strings.CutPrefix(res, "role/")
	if !found || name == "" {
		return "", "", false
	}
	// Roles may have a path (role/path/name); the name is the last element.
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return acct, name, true
}

func (s *Server) lookupRoleByARN(arn string) (Role, *apiError) {
	acct, name, ok := parseRoleARN(arn)
	if !ok {
		return Role{}, newErr(400, "InvalidParameter.RoleArn", "The parameter RoleArn is invalid.")
	}
	r, found := s.Role(acct, name)
	if !found {
		return Role{}, newErr(404, "EntityNotExist.Role", "The role %s does not exist.", arn)
	}
	return r, nil
}

func durationParam(req *request, maxSession int64) (time.Duration, *apiError) {
	v := req.params["DurationSeconds"]
	if v == "" {
		return time.Hour, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 900 || n > maxSession {
		return 0, newErr(400, "InvalidParameter.DurationSeconds", "The DurationSeconds must be between 900 and the role's MaxSessionDuration %d.", maxSession)
	}
	return time.Duration(n) * time.Second, nil
}

func (s *Server) stsAssumeRole(req *request) (any, *apiError) {
	arn, session := req.params["RoleArn"], req.params["RoleSessionName"]
	if arn == "" {
		return nil, newErr(400, "MissingRoleArn", "RoleArn is mandatory for this action.")
	}
	if session == "" {
		return nil, newErr(400, "MissingRoleSessionName", "RoleSessionName is mandatory for this action.")
	}
	if !sessionNameRe.MatchString(session) {
		return nil, newErr(400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed.")
	}
	role, e := s.lookupRoleByARN(arn)
	if e != nil {
		return nil, e
	}
	maxSession := role.MaxSessionDuration
	if req.caller.Kind == "assumed-role" {
		// Role chaining is limited to one hour.
		maxSession = 3600
	}
	d, e := durationParam(req, maxSession)
	if e != nil {
		return nil, e
	}
	if pol := req.params["Policy"]; pol != "" {
		if _, e := parsePolicy(pol); e != nil {
			return nil, newErr(400, "InvalidParameter.PolicyGrammar", "The parameter Policy has not passed grammar check: %s", e.Message)
		}
	}
	if !evaluateTrust(role.AssumeRolePolicyDocument, trustRequest{caller: req.caller}) {
		return nil, newErr(403, "NoPermission", "You are not authorized to do this action. You should be authorized by RAM.")
	}
	cred, e := s.issueSTS(role, session, d)
	if e != nil {
		return nil, e
	}
	return map[string]any{
		"Credentials": cred,
		"AssumedRoleUser": map[string]any{
			"Arn":           "acs:ram::" + role.AccountID + ":assumed-role/" + role.Name + "/" + session,
			"AssumedRoleId": role.RoleID + ":" + session,
		},
	}, nil
}

// issueSTS creates an STS key for a role session and returns the Credentials object of the answer.
func (s *Server) issueSTS(role Role, session string, d time.Duration) (map[string]any, *apiError) {
	ak, err := newAccessKey("STS.")
	if err != nil {
		return nil, newErr(500, "InternalError", "%v", err)
	}
	tok, err := randomString(300, alnum)
	if err != nil {
		return nil, newErr(500, "InternalError", "%v", err)
	}
	tok = "CAIS" + tok
	exp := s.now().Add(d).UTC().Truncate(time.Second)
	s.mu.Lock()
	s.keys[ak.ID] = &keyRec{id: ak.ID, secret: ak.Secret, accountID: role.AccountID, sts: &stsSession{
		token: tok, expiration: exp, roleName: role.Name, roleID: role.RoleID, roleARN: role.ARN, session: session,
	}}
	s.tokens[tok] = ak.ID
	s.mu.Unlock()
	return map[string]any{
		"AccessKeyId":     ak.ID,
		"AccessKeySecret": ak.Secret,
		"SecurityToken":   tok,
		"Expiration":      exp.Format(rpcTimeFormat),
	}, nil
}
