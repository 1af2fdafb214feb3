package credentials

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
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
	path, explicit := r.expand(explicitPath), explicitPath != ""
	if !explicit {
		if v, _ := getenv(r.lookup, EnvAlibabaCloudConfigFile); v != "" {
			path, explicit = r.expand(v), true
		} else {
			h, err := r.homeDir()
			if err != nil {
				return nil, &SourceError{Source: "aliyun CLI config", Err: err}
			}
			path = filepath.Join(h, ".aliyun", "config.json")
		}
	}
	shown := r.display(path)
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			r.tried = append(r.tried, fmt.Sprintf("aliyun CLI config %s: file does not exist", shown))
			return nil, nil
		}
		return nil, &SourceError{Source: "aliyun CLI config", Location: shown, Err: fmt.Errorf("cannot read file: %w", unwrapPathErr(err))}
	}
	var cfg cliConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		// Only the decoder's message: it names offsets and types, never the
		// file contents.
		return nil, &SourceError{Source: "aliyun CLI config", Location: shown, Err: fmt.Errorf("invalid JSON: %w", err)}
	}

	name, from := r.o.ProfileName, "--profile-name"
	if name == "" {
		if v, _ := getenv(r.lookup, EnvAlibabaCloudProfile); v != "" {
			name, from = v, EnvAlibabaCloudProfile
		}
	}
	if name == "" && cfg.Current != "" {
		name, from = cfg.Current, `"current" in the file`
	}
	if name == "" {
		name, from = "default", "default"
	}
	p := cfg.profile(name)
	if p == nil {
		// A profile named by ALIBABA_CLOUD_PROFILE or "default" may live in the
		// INI file instead; anything named explicitly must exist here.
		if !explicit && (from == EnvAlibabaCloudProfile || from == "default") {
			r.tried = append(r.tried, fmt.Sprintf("aliyun CLI config %s: no profile %q (from %s; profiles: %s)", shown, name, from, cfg.names()))
			return nil, nil
		}
		hint := ""
		if !explicit && from != `"current" in the file` {
			hint = "; to use a section of the credentials INI file instead, add --ignore-aliyun-cli-credentials"
		}
		return nil, &SourceError{Source: fmt.Sprintf("aliyun CLI profile %q", name), Location: shown,
			Err: fmt.Errorf("no such profile (named by %s); profiles in the file: %s%s", from, cfg.names(), hint)}
	}
	return r.cliProfileResolved(&cfg, p, shown, path, nil)
}

func (r *resolver) cliProfileResolved(cfg *cliConfig, p *cliProfile, shown, path string, seen []string) (*Resolved, error) {
	src := fmt.Sprintf("aliyun CLI profile %q", p.Name)
	fail := func(format string, args ...any) error {
		return &SourceError{Source: src, Location: shown, Err: fmt.Errorf("mode %s: "+format, append([]any{p.Mode}, args...)...)}
	}
	missing := func(fields ...string) error {
		return fail("missing %s; fix it with `aliyun configure --profile %s --mode %s`", strings.Join(fields, " and "), p.Name, p.Mode)
	}
	source := fmt.Sprintf("%s (%s, mode %s)", src, shown, p.Mode)
	key := func(parts ...string) string {
		return identityKey(append([]string{"aliyun-cli", path, p.Name, p.Mode}, parts...)...)
	}
	ep := stsEndpointFor(r.o.endpoints(), p.StsRegion, p.EnableVPC)
	role := roleSpec{
		arn: p.RAMRoleARN, session: p.RAMSessionName, policy: p.Policy, externalID: p.ExternalID,
		duration: time.Duration(p.ExpiredSeconds) * time.Second,
	}
	if role.session == "" {
		role.session = r.o.sessionName()
	}

	switch p.Mode {
	case "AK":
		var m []string
		if p.AccessKeyID == "" {
			m = append(m, "access_key_id")
		}
		if p.AccessKeySecret == "" {
			m = append(m, "access_key_secret")
		}
		if len(m) > 0 {
			return nil, missing(m...)
		}
		return newStatic(Credentials{AccessKeyID: p.AccessKeyID, AccessKeySecret: p.AccessKeySecret}, source, key(p.AccessKeyID))

	case "StsToken":
		var m []string
		for _, f := range [][2]string{{"access_key_id", p.AccessKeyID}, {"access_key_secret", p.AccessKeySecret}, {"sts_token", p.StsToken}} {
			if f[1] == "" {
				m = append(m, f[0])
			}
		}
		if len(m) > 0 {
			return nil, missing(m...)
		}
		c := Credentials{AccessKeyID: p.AccessKeyID, AccessKeySecret: p.AccessKeySecret, SecurityToken: p.StsToken}
		if p.StsExpiration > 0 {
			c.Expiration = time.Unix(p.StsExpiration, 0)
			if !r.now().Before(c.Expiration) {
				return nil, fail("the stored STS token expired at %s; store a new one with `aliyun configure --profile %s --mode StsToken`", c.Expiration.UTC().Format(time.RFC3339), p.Name)
			}
		}
		return newStatic(c, source, key(p.AccessKeyID))

	case "RamRoleArn":
		var m []string
		for _, f := range [][2]string{{"access_key_id", p.AccessKeyID}, {"access_key_secret", p.AccessKeySecret}, {"ram_role_arn", p.RAMRoleARN}} {
			if f[1] == "" {
				m = append(m, f[0])
			}
		}
		if len(m) > 0 {
			return nil, missing(m...)
		}
		base, err := newStatic(Credentials{AccessKeyID: p.AccessKeyID, AccessKeySecret: p.AccessKeySecret, SecurityToken: p.StsToken}, source, "")
		if err != nil {
			return nil, fail("%v", err)
		}
		res, err := r.assumeRole(base, role, ep)
		if err != nil {
			return nil, fail("%v", err)
		}
		res.Source, res.IdentityKey = source, key(p.AccessKeyID, p.RAMRoleARN, role.session)
		return res, nil

	case "ChainableRamRoleArn":
		if p.SourceProfile == "" || p.RAMRoleARN == "" {
			var m []string
			if p.SourceProfile == "" {
				m = append(m, "source_profile")
			}
			if p.RAMRoleARN == "" {
				m = append(m, "ram_role_arn")
			}
			return nil, missing(m...)
		}
		seen = append(seen, p.Name)
		for _, s := range seen {
			if s == p.SourceProfile {
				return nil, fail("source_profile chain loops: %s -> %s", strings.Join(seen, " -> "), p.SourceProfile)
			}
		}
		sp := cfg.profile(p.SourceProfile)
		if sp == nil {
			return nil, fail("source_profile %q does not exist; profiles in the file: %s", p.SourceProfile, cfg.names())
		}
		base, err := r.cliProfileResolved(cfg, sp, shown, path, seen)
		if err != nil {
			return nil, err
		}
		res, err := r.assumeRole(base, role, ep)
		if err != nil {
			return nil, fail("%v", err)
		}
		res.Source = fmt.Sprintf("%s (%s, mode %s via source profile %q)", src, shown, p.Mode, sp.Name)
		res.IdentityKey = key(base.IdentityKey, p.RAMRoleARN, role.session)
		return res, nil

	case "EcsRamRole":
		res, err := r.ecs(p.RAMRoleName, source)
		if err != nil {
			return nil, err
		}
		res.IdentityKey = key(p.RAMRoleName)
		return res, nil

	case "OIDC":
		var m []string
		for _, f := range [][2]string{{"ram_role_arn", p.RAMRoleARN}, {"oidc_provider_arn", p.OIDCProviderARN}, {"oidc_token_file", p.OIDCTokenFile}} {
			if f[1] == "" {
				m = append(m, f[0])
			}
		}
		if len(m) > 0 {
			return nil, missing(m...)
		}
		res, err := r.oidc(oidcSpec{roleARN: p.RAMRoleARN, providerARN: p.OIDCProviderARN, tokenFile: r.expand(p.OIDCTokenFile),
			session: role.session, duration: role.duration}, ep)
		if err != nil {
			return nil, fail("%v", err)
		}
		res.Source, res.IdentityKey = source, key(p.RAMRoleARN, p.OIDCProviderARN, p.OIDCTokenFile)
		return res, nil

	case "External":
		if p.ProcessCommand == "" {
			return nil, missing("process_command")
		}
		res, err := r.external(p.ProcessCommand)
		if err != nil {
			return nil, fail("%v", err)
		}
		res.Source, res.IdentityKey = source, key(p.ProcessCommand)
		return res, nil

	case "CredentialsURI":
		if p.CredentialsURI == "" {
			return nil, missing("credentials_uri")
		}
		res, err := r.uri(p.CredentialsURI)
		if err != nil {
			return nil, fail("%v", err)
		}
		res.Source, res.IdentityKey = source, key(p.CredentialsURI)
		return res, nil

	case "CloudSSO", "OAuth":
		// Logging in is interactive (browser); kubectl runs us
		// non-interactively, so only the STS token the CLI stored after its
		// last login can be used.
		login := fmt.Sprintf("`aliyun configure --profile %s --mode %s`", p.Name, p.Mode)
		if p.AccessKeyID == "" || p.AccessKeySecret == "" || p.StsToken == "" {
			return nil, fail("no stored STS token (the profile has not been logged in); log in with %s, then retry", login)
		}
		c := Credentials{AccessKeyID: p.AccessKeyID, AccessKeySecret: p.AccessKeySecret, SecurityToken: p.StsToken}
		if p.StsExpiration > 0 {
			c.Expiration = time.Unix(p.StsExpiration, 0)
		}
		if c.Expiration.IsZero() || !r.now().Add(time.Minute).Before(c.Expiration) {
			when := "has no expiration recorded"
			if !c.Expiration.IsZero() {
				when = "expired at " + c.Expiration.UTC().Format(time.RFC3339)
			}
			return nil, fail("the stored STS token %s and kubectl-ack cannot refresh it non-interactively; log in again with %s (or run any `aliyun` command with --profile %s to refresh it)", when, login, p.Name)
		}
		return newStatic(c, source, key(p.CloudSSOSignInURL, p.CloudSSOAccountID, p.CloudSSOAccess, p.OAuthSiteType))

	case "":
		return nil, &SourceError{Source: src, Location: shown, Err: fmt.Errorf("mode is empty; set it with `aliyun configure --profile %s --mode <mode>` (supported: %s)", p.Name, cliModes)}
	default:
		return nil, &SourceError{Source: src, Location: shown, Err: fmt.Errorf("unknown mode %q (supported: %s)", p.Mode, cliModes)}
	}
}

// unwrapPathErr drops the path from *fs.PathError, which the caller already
// reports in a shortened form.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
