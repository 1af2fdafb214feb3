package credentials

import (
	"errors"
	"fmt"
	"strings"
)

// Environment variable names read by the environment source. credentials-go
// reads only the ALIBABA_CLOUD_* spellings; the ALICLOUD_* (Terraform) and
// ALIBABACLOUD_* (aliyun CLI, sso-cli) aliases are what people actually have
// exported, hence this package reads the variables itself.
var (
	envAccessKeyID     = []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABACLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY"}
	envAccessKeySecret = []string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABACLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECRET_KEY"}
	envSecurityToken   = []string{"ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABACLOUD_SECURITY_TOKEN", "ALICLOUD_SECURITY_TOKEN"}
)

const (
	envRoleARN         = "ALIBABA_CLOUD_ROLE_ARN"
	envOIDCProviderARN = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN"
	envOIDCTokenFile   = "ALIBABA_CLOUD_OIDC_TOKEN_FILE"
	envCredentialsURI  = "ALIBABA_CLOUD_CREDENTIALS_URI"
	envECSMetadata     = "ALIBABA_CLOUD_ECS_METADATA"
)

// envVars are the credential variables of the environment; the *Name fields say which
// spelling was set.
type envVars struct {
	akID, akName, secret, secretName, token, tokenName string
	roleARN, providerARN, tokenFile, uri, ecsRole      string
}

func (r *resolver) readEnv() envVars {
	lk := r.lookup
	var v envVars
	v.akID, v.akName = getenv(lk, envAccessKeyID...)
	v.secret, v.secretName = getenv(lk, envAccessKeySecret...)
	v.token, v.tokenName = getenv(lk, envSecurityToken...)
	v.roleARN, _ = getenv(lk, envRoleARN)
	v.providerARN, _ = getenv(lk, envOIDCProviderARN)
	v.tokenFile, _ = getenv(lk, envOIDCTokenFile)
	v.uri, _ = getenv(lk, envCredentialsURI)
	v.ecsRole, _ = getenv(lk, envECSMetadata)
	return v
}

// fromEnv resolves environment credentials; (nil, nil) when none are set.
func (r *resolver) fromEnv() (*Resolved, error) {
	v := r.readEnv()
	switch {
	case v.akID != "" || v.secret != "":
		// 1. access key, optionally used to assume ALIBABA_CLOUD_ROLE_ARN.
		return r.envAccessKey(v)
	case v.providerARN != "" || v.tokenFile != "":
		// 2. RRSA inside a pod: role + OIDC provider + token file.
		return r.envOIDC(v)
	case v.uri != "":
		// 3. credentials URI.
		res, err := r.uri(v.uri)
		if err != nil {
			return nil, &SourceError{Source: "environment", Location: envCredentialsURI, Err: err}
		}
		res.Source = "environment " + envCredentialsURI
		res.IdentityKey = identityKey("env-uri", v.uri)
		return res, nil
	case v.roleARN != "":
		return nil, &SourceError{Source: "environment", Location: envRoleARN,
			Err: errors.New("ALIBABA_CLOUD_ROLE_ARN is set but there is nothing to assume it with: set an access key (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET) or ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE, or pass --ignore-env-credentials")}
	case v.ecsRole != "":
		// 4. ECS RAM role named explicitly through the environment.
		return r.ecs(v.ecsRole, "environment "+envECSMetadata)
	}
	r.tried = append(r.tried, fmt.Sprintf("environment: none of %s, %s, %s, %s is set",
		strings.Join(envAccessKeyID, "/"), envOIDCTokenFile, envCredentialsURI, envECSMetadata))
	return nil, nil
}

// envAccessKey uses the access key (and security token) of the environment, to assume
// ALIBABA_CLOUD_ROLE_ARN when that is set without the RRSA variables.
func (r *resolver) envAccessKey(v envVars) (*Resolved, error) {
	switch {
	case v.akID == "":
		return nil, &SourceError{Source: "environment", Location: v.secretName,
			Err: fmt.Errorf("%s is set but no access key id is (set one of %s)", v.secretName, strings.Join(envAccessKeyID, ", "))}
	case v.secret == "":
		return nil, &SourceError{Source: "environment", Location: v.akName,
			Err: fmt.Errorf("%s is set but no access key secret is (set one of %s)", v.akName, strings.Join(envAccessKeySecret, ", "))}
	}
	c := Credentials{AccessKeyID: v.akID, AccessKeySecret: v.secret, SecurityToken: v.token}
	kind, source := "access key", "environment "+v.akName
	if v.token != "" {
		kind, source = "STS token", source+" + "+v.tokenName
	}
	base, err := newStatic(c, source, identityKey("env", v.akID))
	if err != nil {
		return nil, &SourceError{Source: "environment", Location: v.akName, Err: err}
	}
	// With the RRSA trio also present the role belongs to OIDC; the
	// access key wins, as in credentials-go's default chain.
	if v.roleARN == "" || v.providerARN != "" {
		return base, nil
	}
	session := r.o.sessionName()
	res, err := r.assumeRole(base, roleSpec{arn: v.roleARN, session: session}, r.o.endpoints())
	if err != nil {
		return nil, &SourceError{Source: "environment", Location: envRoleARN, Err: err}
	}
	res.Source = fmt.Sprintf("environment %s (AssumeRole with the %s from %s)", envRoleARN, kind, v.akName)
	res.IdentityKey = identityKey("env-assume-role", v.akID, v.roleARN, session)
	return res, nil
}

// envOIDC exchanges the OIDC token file of the environment (RRSA in a pod) for the role.
func (r *resolver) envOIDC(v envVars) (*Resolved, error) {
	missing := emptyNames([2]string{envRoleARN, v.roleARN}, [2]string{envOIDCProviderARN, v.providerARN}, [2]string{envOIDCTokenFile, v.tokenFile})
	if len(missing) > 0 {
		return nil, &SourceError{Source: "environment (RRSA/OIDC)", Location: strings.Join(missing, ", "),
			Err: fmt.Errorf("%s must also be set to use OIDC (RRSA) credentials", strings.Join(missing, " and "))}
	}
	session := r.o.sessionName()
	res, err := r.oidc(oidcSpec{roleARN: v.roleARN, providerARN: v.providerARN, tokenFile: r.expand(v.tokenFile), session: session}, r.o.endpoints())
	if err != nil {
		return nil, &SourceError{Source: "environment (RRSA/OIDC)", Location: envOIDCTokenFile, Err: err}
	}
	res.Source = fmt.Sprintf("environment %s (AssumeRoleWithOIDC, token file %s)", envRoleARN, v.tokenFile)
	res.IdentityKey = identityKey("env-oidc", v.roleARN, v.providerARN, v.tokenFile)
	return res, nil
}
