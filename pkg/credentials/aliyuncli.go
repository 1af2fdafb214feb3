package credentials

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// The aliyun CLI config is parsed here rather than through credentials-go's
// CLIProfileCredentialsProvider because that provider lacks the
// CredentialsURI mode, refreshes CloudSSO/OAuth interactively against the
// network and writes the file back, prints command output on External parse
// errors, and echoes the whole file (secrets included) when it is not valid
// JSON.

// cliProfile is one profile of ~/.aliyun/config.json (field names as the
// aliyun CLI writes them).
type cliProfile struct {
	Name              string `json:"name"`
	Mode              string `json:"mode"`
	AccessKeyID       string `json:"access_key_id"`
	AccessKeySecret   string `json:"access_key_secret"`
	StsToken          string `json:"sts_token"`
	StsExpiration     int64  `json:"sts_expiration"`
	RAMRoleARN        string `json:"ram_role_arn"`
	RAMSessionName    string `json:"ram_session_name"`
	ExpiredSeconds    int    `json:"expired_seconds"`
	StsRegion         string `json:"sts_region"`
	EnableVPC         bool   `json:"enable_vpc"`
	SourceProfile     string `json:"source_profile"`
	RAMRoleName       string `json:"ram_role_name"`
	OIDCProviderARN   string `json:"oidc_provider_arn"`
	OIDCTokenFile     string `json:"oidc_token_file"`
	Policy            string `json:"policy"`
	ExternalID        string `json:"external_id"`
	ProcessCommand    string `json:"process_command"`
	CredentialsURI    string `json:"credentials_uri"`
	CloudSSOSignInURL string `json:"cloud_sso_sign_in_url"`
	CloudSSOAccountID string `json:"cloud_sso_account_id"`
	CloudSSOAccess    string `json:"cloud_sso_access_config"`
	OAuthSiteType     string `json:"oauth_site_type"`
}

type cliConfig struct {
	Current  string        `json:"current"`
	Profiles []*cliProfile `json:"profiles"`
}

func (c *cliConfig) profile(name string) *cliProfile {
	for _, p := range c.Profiles {
		if p != nil && p.Name == name {
			return p
		}
	}
	return nil
}

func (c *cliConfig) names() string {
	var n []string
	for _, p := range c.Profiles {
		if p != nil {
			n = append(n, p.Name)
		}
	}
	sort.Strings(n)
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}

// cliModes lists the supported aliyun CLI modes for error messages.
const cliModes = "AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, External, CredentialsURI, CloudSSO, OAuth"

// fromAliyunCLI resolves a profile of the aliyun CLI config. explicitPath is
// the --profile-file value ("" = ALIBABA_CLOUD_CONFIG_FILE or the default).
// It returns (nil, nil) when the default file is absent or has no matching
// profile for an implicit name, so the INI file can be tried next.
func (r *resolver) fromAliyunCLI(explicitPath string) (*Resolved, error) {
	f, err := r.readConfigFile("aliyun CLI config", explicitPath, EnvAlibabaCloudConfigFile, ".aliyun", "config.json")
	if f == nil || err != nil {
		return nil, err
	}
	var cfg cliConfig
	if err := json.Unmarshal(f.raw, &cfg); err != nil {
		// Only the decoder's message: it names offsets and types, never the
		// file contents.
		return nil, &SourceError{Source: "aliyun CLI config", Location: f.shown, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	name, from := r.profileName(cfg.Current)
	p := cfg.profile(name)
	if p == nil {
		// A profile named by ALIBABA_CLOUD_PROFILE or "default" may live in the
		// INI file instead; anything named explicitly must exist here.
		if !f.explicit && (from == EnvAlibabaCloudProfile || from == "default") {
			r.tried = append(r.tried, fmt.Sprintf("aliyun CLI config %s: no profile %q (from %s; profiles: %s)", f.shown, name, from, cfg.names()))
			return nil, nil
		}
		hint := ""
		if !f.explicit && from != fromCurrent {
			hint = "; to use a section of the credentials INI file instead, add --ignore-aliyun-cli-credentials"
		}
		return nil, &SourceError{Source: fmt.Sprintf("aliyun CLI profile %q", name), Location: f.shown,
			Err: fmt.Errorf("no such profile (named by %s); profiles in the file: %s%s", from, cfg.names(), hint)}
	}
	return r.cliProfileResolved(&cfg, p, f, nil)
}

// cliProfileResolver resolves one profile of an aliyun CLI config: one method per mode.
type cliProfileResolver struct {
	profileSource
	r   *resolver
	cfg *cliConfig
	p   *cliProfile
	f   *configFile
	// seen lists the profiles already on the source_profile chain, to refuse loops.
	seen []string
	ep   cloud.Endpoints
	role roleSpec
}

func (r *resolver) cliProfileResolved(cfg *cliConfig, p *cliProfile, f *configFile, seen []string) (*Resolved, error) {
	c := &cliProfileResolver{r: r, cfg: cfg, p: p, f: f, seen: seen,
		profileSource: newProfileSource("aliyun-cli", fmt.Sprintf("aliyun CLI profile %q", p.Name), p.Name, f, "mode", p.Mode),
		ep:            stsEndpointFor(r.o.endpoints(), p.StsRegion, p.EnableVPC),
		role: roleSpec{
			arn: p.RAMRoleARN, session: p.RAMSessionName, policy: p.Policy, externalID: p.ExternalID,
			duration: time.Duration(p.ExpiredSeconds) * time.Second,
		},
	}
	if c.role.session == "" {
		c.role.session = r.o.sessionName()
	}
	switch p.Mode {
	case "AK":
		return c.accessKey()
	case "StsToken":
		return c.stsToken()
	case "RamRoleArn":
		return c.ramRoleARN()
	case "ChainableRamRoleArn":
		return c.chainableRAMRoleARN()
	case "EcsRamRole":
		res, err := r.ecs(p.RAMRoleName, c.source)
		if err != nil {
			return nil, err
		}
		res.IdentityKey = c.key(p.RAMRoleName)
		return res, nil
	case "OIDC":
		return c.oidc()
	case "External":
		return c.fetched(c.require([2]string{"process_command", p.ProcessCommand}), r.external, p.ProcessCommand)
	case "CredentialsURI":
		return c.fetched(c.require([2]string{"credentials_uri", p.CredentialsURI}), r.uri, p.CredentialsURI)
	case "CloudSSO", "OAuth":
		return c.loginToken()
	case "":
		return nil, &SourceError{Source: c.src, Location: f.shown, Err: fmt.Errorf("mode is empty; set it with `aliyun configure --profile %s --mode <mode>` (supported: %s)", p.Name, cliModes)}
	default:
		return nil, &SourceError{Source: c.src, Location: f.shown, Err: fmt.Errorf("unknown mode %q (supported: %s)", p.Mode, cliModes)}
	}
}

// require fails naming every {field, value} pair whose value is empty, and how to fix it.
func (c *cliProfileResolver) require(fields ...[2]string) error {
	if m := emptyNames(fields...); len(m) > 0 {
		return c.fail("missing %s; fix it with `aliyun configure --profile %s --mode %s`", strings.Join(m, " and "), c.p.Name, c.p.Mode)
	}
	return nil
}

func (c *cliProfileResolver) accessKey() (*Resolved, error) {
	p := c.p
	if err := c.require([2]string{"access_key_id", p.AccessKeyID}, [2]string{"access_key_secret", p.AccessKeySecret}); err != nil {
		return nil, err
	}
	return newStatic(Credentials{AccessKeyID: p.AccessKeyID, AccessKeySecret: p.AccessKeySecret}, c.source, c.key(p.AccessKeyID))
}

func (c *cliProfileResolver) stsToken() (*Resolved, error) {
	p := c.p
	if err := c.require([2]string{"access_key_id", p.AccessKeyID}, [2]string{"access_key_secret", p.AccessKeySecret}, [2]string{"sts_token", p.StsToken}); err != nil {
		return nil, err
	}
	cred := Credentials{AccessKeyID: p.AccessKeyID, AccessKeySecret: p.AccessKeySecret, SecurityToken: p.StsToken}
	if p.StsExpiration > 0 {
		cred.Expiration = time.Unix(p.StsExpiration, 0)
		if !c.r.now().Before(cred.Expiration) {
			return nil, c.fail("the stored STS token expired at %s; store a new one with `aliyun configure --profile %s --mode StsToken`", cred.Expiration.UTC().Format(time.RFC3339), p.Name)
		}
	}
	return newStatic(cred, c.source, c.key(p.AccessKeyID))
}

func (c *cliProfileResolver) ramRoleARN() (*Resolved, error) {
	p := c.p
	if err := c.require([2]string{"access_key_id", p.AccessKeyID}, [2]string{"access_key_secret", p.AccessKeySecret}, [2]string{"ram_role_arn", p.RAMRoleARN}); err != nil {
		return nil, err
	}
	base, err := newStatic(Credentials{AccessKeyID: p.AccessKeyID, AccessKeySecret: p.AccessKeySecret, SecurityToken: p.StsToken}, c.source, "")
	if err != nil {
		return nil, c.fail("%v", err)
	}
	res, err := c.r.assumeRole(base, c.role, c.ep)
	return c.labelled(res, err, p.AccessKeyID, p.RAMRoleARN, c.role.session)
}

// chainableRAMRoleARN assumes the role with the credentials of source_profile, resolved first
// (itself possibly a chain).
func (c *cliProfileResolver) chainableRAMRoleARN() (*Resolved, error) {
	p := c.p
	if err := c.require([2]string{"source_profile", p.SourceProfile}, [2]string{"ram_role_arn", p.RAMRoleARN}); err != nil {
		return nil, err
	}
	seen := append(slices.Clip(c.seen), p.Name)
	if slices.Contains(seen, p.SourceProfile) {
		return nil, c.fail("source_profile chain loops: %s -> %s", strings.Join(seen, " -> "), p.SourceProfile)
	}
	sp := c.cfg.profile(p.SourceProfile)
	if sp == nil {
		return nil, c.fail("source_profile %q does not exist; profiles in the file: %s", p.SourceProfile, c.cfg.names())
	}
	base, err := c.r.cliProfileResolved(c.cfg, sp, c.f, seen)
	if err != nil {
		return nil, err
	}
	res, err := c.r.assumeRole(base, c.role, c.ep)
	if err != nil {
		return nil, c.fail("%v", err)
	}
	res.Source = fmt.Sprintf("%s (%s, mode %s via source profile %q)", c.src, c.f.shown, p.Mode, sp.Name)
	res.IdentityKey = c.key(base.IdentityKey, p.RAMRoleARN, c.role.session)
	return res, nil
}

func (c *cliProfileResolver) oidc() (*Resolved, error) {
	p := c.p
	if err := c.require([2]string{"ram_role_arn", p.RAMRoleARN}, [2]string{"oidc_provider_arn", p.OIDCProviderARN}, [2]string{"oidc_token_file", p.OIDCTokenFile}); err != nil {
		return nil, err
	}
	res, err := c.r.oidc(oidcSpec{roleARN: p.RAMRoleARN, providerARN: p.OIDCProviderARN, tokenFile: c.r.expand(p.OIDCTokenFile),
		session: c.role.session, duration: c.role.duration}, c.ep)
	return c.labelled(res, err, p.RAMRoleARN, p.OIDCProviderARN, p.OIDCTokenFile)
}

// loginToken uses the STS token that CloudSSO and OAuth profiles store after a login. Logging
// in is interactive (browser) and kubectl runs us non-interactively, so only a stored token
// that is still valid can be used.
func (c *cliProfileResolver) loginToken() (*Resolved, error) {
	p := c.p
	login := fmt.Sprintf("`aliyun configure --profile %s --mode %s`", p.Name, p.Mode)
	if p.AccessKeyID == "" || p.AccessKeySecret == "" || p.StsToken == "" {
		return nil, c.fail("no stored STS token (the profile has not been logged in); log in with %s, then retry", login)
	}
	cred := Credentials{AccessKeyID: p.AccessKeyID, AccessKeySecret: p.AccessKeySecret, SecurityToken: p.StsToken}
	if p.StsExpiration > 0 {
		cred.Expiration = time.Unix(p.StsExpiration, 0)
	}
	if cred.Expiration.IsZero() || !c.r.now().Add(time.Minute).Before(cred.Expiration) {
		when := "has no expiration recorded"
		if !cred.Expiration.IsZero() {
			when = "expired at " + cred.Expiration.UTC().Format(time.RFC3339)
		}
		return nil, c.fail("the stored STS token %s and kubectl-ack cannot refresh it non-interactively; log in again with %s (or run any `aliyun` command with --profile %s to refresh it)", when, login, p.Name)
	}
	return newStatic(cred, c.source, c.key(p.CloudSSOSignInURL, p.CloudSSOAccountID, p.CloudSSOAccess, p.OAuthSiteType))
}
