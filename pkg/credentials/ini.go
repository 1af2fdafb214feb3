package credentials

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/ini.v1"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// The INI file is parsed here rather than through credentials-go's profile
// provider because that provider supports only access_key, ecs_ram_role and
// ram_role_arn (no sts, oidc_role_arn or credentials_uri), reads the path and
// section from the process environment, and builds providers that cannot
// be pointed at a configurable STS endpoint with a context.

// iniTypes lists the supported INI "type" values for error messages.
const iniTypes = "access_key, sts, ram_role_arn, ecs_ram_role, oidc_role_arn, credentials_uri"

// fromINI resolves a section of the credentials INI file. explicitPath is the
// --profile-file value. It returns (nil, nil) when the default file is absent
// or lacks the implicitly chosen section.
func (r *resolver) fromINI(explicitPath string) (*Resolved, error) {
	f, err := r.readConfigFile("credentials file", explicitPath, EnvAlibabaCloudCredentialFile, ".alibabacloud", "credentials")
	if f == nil || err != nil {
		return nil, err
	}
	file, err := ini.LoadSources(ini.LoadOptions{SkipUnrecognizableLines: false}, f.raw)
	if err != nil {
		return nil, &SourceError{Source: "credentials file", Location: f.shown, Err: fmt.Errorf("invalid INI: %w", err)}
	}
	name, from := r.profileName("")
	sec, err := file.GetSection(name)
	if err != nil {
		var names []string
		for _, s := range file.SectionStrings() {
			if s != ini.DefaultSection {
				names = append(names, s)
			}
		}
		list := strings.Join(names, ", ")
		if list == "" {
			list = "none"
		}
		if !f.explicit && from == "default" {
			r.tried = append(r.tried, fmt.Sprintf("credentials file %s: no [%s] section (sections: %s)", f.shown, name, list))
			return nil, nil
		}
		return nil, &SourceError{Source: fmt.Sprintf("credentials file section [%s]", name), Location: f.shown,
			Err: fmt.Errorf("no such section (named by %s); sections in the file: %s", from, list)}
	}
	return r.iniSection(sec, name, f)
}

// iniSectionResolver resolves one section of the credentials INI file: one method per type.
type iniSectionResolver struct {
	profileSource
	r   *resolver
	sec *ini.Section
	// duration, session and ep are the section's role_session_expiration, role_session_name
	// and sts_endpoint, with defaults.
	duration time.Duration
	session  string
	ep       cloud.Endpoints
}

func (r *resolver) iniSection(sec *ini.Section, name string, f *configFile) (*Resolved, error) {
	c := &iniSectionResolver{r: r, sec: sec}
	typ := c.get("type")
	c.profileSource = newProfileSource("ini", fmt.Sprintf("credentials file section [%s]", name), name, f, "type", typ)
	if err := c.settings(); err != nil {
		return nil, err
	}
	switch typ {
	case "access_key":
		return c.static(false)
	case "sts":
		return c.static(true)
	case "ram_role_arn":
		return c.ramRoleARN()
	case "ecs_ram_role":
		res, err := r.ecs(c.get("role_name"), c.source)
		if err != nil {
			return nil, err
		}
		res.IdentityKey = c.key(c.get("role_name"))
		return res, nil
	case "oidc_role_arn":
		return c.oidcRoleARN()
	case "credentials_uri":
		u := c.get("credentials_uri", "url")
		var invalid error
		if u == "" {
			invalid = c.fail("missing credentials_uri")
		}
		return c.fetched(invalid, r.uri, u)
	case "":
		return nil, &SourceError{Source: c.src, Location: c.shown, Err: fmt.Errorf("missing type (supported: %s)", iniTypes)}
	default:
		return nil, &SourceError{Source: c.src, Location: c.shown, Err: fmt.Errorf("unknown type %q (supported: %s)", typ, iniTypes)}
	}
}

// get returns the first of keys that has a non-empty value in the section, or "".
func (c *iniSectionResolver) get(keys ...string) string {
	for _, k := range keys {
		if c.sec.HasKey(k) {
			if v := strings.TrimSpace(c.sec.Key(k).String()); v != "" {
				return v
			}
		}
	}
	return ""
}

// require fails naming every key that has no value.
func (c *iniSectionResolver) require(keys ...string) error {
	var m []string
	for _, k := range keys {
		if c.get(k) == "" {
			m = append(m, k)
		}
	}
	if len(m) > 0 {
		return c.fail("missing %s", strings.Join(m, " and "))
	}
	return nil
}

// settings checks enable and reads the settings every type shares.
func (c *iniSectionResolver) settings() error {
	if v := c.get("enable"); v != "" {
		if b, err := strconv.ParseBool(v); err == nil && !b {
			return &SourceError{Source: c.src, Location: c.shown, Err: errors.New("section is disabled (enable = false)")}
		}
	}
	if v := c.get("role_session_expiration"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c.fail("role_session_expiration %q is not a positive number of seconds", v)
		}
		c.duration = time.Duration(n) * time.Second
	}
	c.session = c.get("role_session_name")
	if c.session == "" {
		c.session = c.r.o.sessionName()
	}
	c.ep = c.r.o.endpoints()
	if v := c.get("sts_endpoint"); v != "" && c.ep.STS == "" {
		c.ep.STS = v
	}
	return nil
}

// static returns the access key, and with withToken the security token, stored in the section.
func (c *iniSectionResolver) static(withToken bool) (*Resolved, error) {
	keys := []string{"access_key_id", "access_key_secret"}
	cred := Credentials{AccessKeyID: c.get("access_key_id"), AccessKeySecret: c.get("access_key_secret")}
	if withToken {
		keys = append(keys, "security_token")
		cred.SecurityToken = c.get("security_token")
	}
	if err := c.require(keys...); err != nil {
		return nil, err
	}
	return newStatic(cred, c.source, c.key(cred.AccessKeyID))
}

func (c *iniSectionResolver) ramRoleARN() (*Resolved, error) {
	if err := c.require("access_key_id", "access_key_secret", "role_arn"); err != nil {
		return nil, err
	}
	base, err := newStatic(Credentials{AccessKeyID: c.get("access_key_id"), AccessKeySecret: c.get("access_key_secret")}, c.source, "")
	if err != nil {
		return nil, c.fail("%v", err)
	}
	spec := roleSpec{arn: c.get("role_arn"), session: c.session, policy: c.get("policy"), externalID: c.get("external_id"), duration: c.duration}
	res, err := c.r.assumeRole(base, spec, c.ep)
	return c.labelled(res, err, c.get("access_key_id"), spec.arn, c.session)
}

func (c *iniSectionResolver) oidcRoleARN() (*Resolved, error) {
	tokenFile := c.get("oidc_token_file_path", "oidc_token_file")
	if tokenFile == "" {
		if err := c.require("role_arn", "oidc_provider_arn", "oidc_token_file_path"); err != nil {
			return nil, err
		}
	}
	if err := c.require("role_arn", "oidc_provider_arn"); err != nil {
		return nil, err
	}
	res, err := c.r.oidc(oidcSpec{roleARN: c.get("role_arn"), providerARN: c.get("oidc_provider_arn"), tokenFile: c.r.expand(tokenFile),
		session: c.session, duration: c.duration}, c.ep)
	return c.labelled(res, err, c.get("role_arn"), c.get("oidc_provider_arn"), tokenFile)
}
