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

// fromEnv resolves environment credentials; (nil, nil) when none are set.
func (r *resolver) fromEnv() (*Resolved, error) {
	lk := r.lookup
	akID, akName := getenv(lk, envAccessKeyID...)
	secret, secretName := getenv(lk, envAccessKeySecret...)
	token, tokenName := getenv(lk, envSecurityToken...)
	roleARN, _ := getenv(lk, envRoleARN)
	providerARN, _ := getenv(lk, envOIDCProviderARN)
	tokenFile, _ := getenv(lk, envOIDCTokenFile)
	uri, _ := getenv(lk, envCredentialsURI)
	ecsRole, _ := getenv(lk, envECSMetadata)

	// 1. access key, optionally used to assume ALIBABA_CLOUD_ROLE_ARN.
	if akID != "" || secret != "" {
		switch {
		case akID == "":
			return nil, &SourceError{Source: "environment", Location: secretName,
				Err: fmt.Errorf("%s is set but no access key id is (set one of %s)", secretName, strings.Join(envAccessKeyID, ", "))}
		case secret == "":
			return nil, &SourceError{Source: "environment", Location: akName,
				Err: fmt.Errorf("%s is set but no access key secret is (set one of %s)", akName, strings.Join(envAccessKeySecret, ", "))}
		}
		c := Credentials{AccessKeyID: akID, AccessKeySecret: secret, SecurityToken: token}
		kind := "access key"
		if token != "" {
			kind = "STS token"
		}
		source := "environment " + akName
		if token != "" {
			source += " + " + tokenName
		}
		base, err := newStatic(c, source, identityKey("env", akID))
		if err != nil {
			return nil, &SourceError{Source: "environment", Location: akName, Err: err}
		}
		// With the RRSA trio also present the role belongs to OIDC; the
		// access key wins, as in credentials-go's default chain.
		if roleARN == "" || providerARN != "" {
			return base, nil
		}
		session := r.o.sessionName()
		res, err := r.assumeRole(base, roleSpec{arn: roleARN, session: session}, r.o.endpoints())
		if err != nil {
			return nil, &SourceError{Source: "environment", Location: envRoleARN, Err: err}
		}
		res.Source = fmt.Sprintf("environment %s (AssumeRole with the %s from %s)", envRoleARN, kind, akName)
		res.IdentityKey = identityKey("env-assume-role", akID, roleARN, session)
		return res, nil
	}

	// 2. RRSA inside a pod: role + OIDC provider + token file.
	if providerARN != "" || tokenFile != "" {
		var missing []string
		for _, kv := range [][2]string{{envRoleARN, roleARN}, {envOIDCProviderARN, providerARN}, {envOIDCTokenFile, tokenFile}} {
			if kv[1] == "" {
				missing = append(missing, kv[0])
			}
		}
		if len(missing) > 0 {
			return nil, &SourceError{Source: "environment (RRSA/OIDC)", Location: strings.Join(missing, ", "),
				Err: fmt.Errorf("%s must also be set to use OIDC (RRSA) credentials", strings.Join(missing, " and "))}
		}
		session := r.o.sessionName()
		res, err := r.oidc(oidcSpec{roleARN: roleARN, providerARN: providerARN, tokenFile: r.expand(tokenFile), session: session}, r.o.endpoints())
		if err != nil {
			return nil, &SourceError{Source: "environment (RRSA/OIDC)", Location: envOIDCTokenFile, Err: err}
		}
		res.Source = fmt.Sprintf("environment %s (AssumeRoleWithOIDC, token file %s)", envRoleARN, tokenFile)
		res.IdentityKey = identityKey("env-oidc", roleARN, providerARN, tokenFile)
		return res, nil
	}

	// 3. credentials URI.
	if uri != "" {
		res, err := r.uri(uri)
		if err != nil {
			return nil, &SourceError{Source: "environment", Location: envCredentialsURI, Err: err}
		}
		res.Source = "environment " + envCredentialsURI
		res.IdentityKey = identityKey("env-uri", uri)
		return res, nil
	}

	if roleARN != "" {
		return nil, &SourceError{Source: "environment", Location: envRoleARN,
			Err: errors.New("ALIBABA_CLOUD_ROLE_ARN is set but there is nothing to assume it with: set an access key (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET) or ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE, or pass --ignore-env-credentials")}
	}

	// 4. ECS RAM role named explicitly through the environment.
	if ecsRole != "" {
		return r.ecs(ecsRole, "environment "+envECSMetadata)
	}

	r.tried = append(r.tried, fmt.Sprintf("environment: none of %s, %s, %s, %s is set",
		strings.Join(envAccessKeyID, "/"), envOIDCTokenFile, envCredentialsURI, envECSMetadata))
	return nil, nil
}
