package credentials

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/ini.v1"
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
	path, explicit := r.expand(explicitPath), explicitPath != ""
	if !explicit {
		if v, _ := getenv(r.lookup, EnvAlibabaCloudCredentialFile); v != "" {
			path, explicit = r.expand(v), true
		} else {
			h, err := r.homeDir()
			if err != nil {
				return nil, &SourceError{Source: "credentials file", Err: err}
			}
			path = filepath.Join(h, ".alibabacloud", "credentials")
		}
	}
	shown := r.display(path)
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			r.tried = append(r.tried, fmt.Sprintf("credentials file %s: file does not exist", shown))
			return nil, nil
		}
		return nil, &SourceError{Source: "credentials file", Location: shown, Err: fmt.Errorf("cannot read file: %w", unwrapPathErr(err))}
	}
	f, err := ini.LoadSources(ini.LoadOptions{SkipUnrecognizableLines: false}, raw)
	if err != nil {
		return nil, &SourceError{Source: "credentials file", Location: shown, Err: fmt.Errorf("invalid INI: %w", err)}
	}

	name, from := r.o.ProfileName, "--profile-name"
	if name == "" {
		if v, _ := getenv(r.lookup, EnvAlibabaCloudProfile); v != "" {
			name, from = v, EnvAlibabaCloudProfile
		}
	}
	if name == "" {
		name, from = "default", "default"
	}
	sec, err := f.GetSection(name)
	if err != nil {
		var names []string
		for _, s := range f.SectionStrings() {
			if s != ini.DefaultSection {
				names = append(names, s)
			}
		}
		list := strings.Join(names, ", ")
		if list == "" {
			list = "none"
		}
		if !explicit && from == "default" {
			r.tried = append(r.tried, fmt.Sprintf("credentials file %s: no [%s] section (sections: %s)", shown, name, list))
			return nil, nil
		}
		return nil, &SourceError{Source: fmt.Sprintf("credentials file section [%s]", name), Location: shown,
			Err: fmt.Errorf("no such section (named by %s); sections in the file: %s", from, list)}
	}
	return r.iniSection(sec, name, shown, path)
}

func (r *resolver) iniSection(sec *ini.Section, name, shown, path string) (*Resolved, error) {
	src := fmt.Sprintf("credentials file section [%s]", name)
	get := func(keys ...string) string {
		for _, k := range keys {
			if sec.HasKey(k) {
				if v := strings.TrimSpace(sec.Key(k).String()); v != "" {
					return v
				}
			}
		}
		return ""
	}
	typ := get("type")
	fail := func(format string, args ...any) error {
		return &SourceError{Source: src, Location: shown, Err: fmt.Errorf("type %s: "+format, append([]any{typ}, args...)...)}
	}
	require := func(keys ...string) error {
		var m []string
		for _, k := range keys {
			if get(k) == "" {
				m = append(m, k)
			}
		}
		if len(m) > 0 {
			return fail("missing %s", strings.Join(m, " and "))
		}
		return nil
	}
	if v := get("enable"); v != "" {
		if b, err := strconv.ParseBool(v); err == nil && !b {
			return nil, &SourceError{Source: src, Location: shown, Err: errors.New("section is disabled (enable = false)")}
		}
	}
	source := fmt.Sprintf("%s (%s, type %s)", src, shown, typ)
	key := func(parts ...string) string {
		return identityKey(append([]string{"ini", path, name, typ}, parts...)...)
	}
	var duration time.Duration
	if v := get("role_session_expiration"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fail("role_session_expiration %q is not a positive number of seconds", v)
		}
		duration = time.Duration(n) * time.Second
	}
	session := get("role_session_name")
	if session == "" {
		session = r.o.sessionName()
	}
	ep := r.o.endpoints()
	if v := get("sts_endpoint"); v != "" && ep.STS == "" {
		ep.STS = v
	}

	switch typ {
	case "access_key":
		if err := require("access_key_id", "access_key_secret"); err != nil {
			return nil, err
		}
		return newStatic(Credentials{AccessKeyID: get("access_key_id"), AccessKeySecret: get("access_key_secret")}, source, key(get("access_key_id")))
	case "sts":
		if err := require("access_key_id", "access_key_secret", "security_token"); err != nil {
			return nil, err
		}
		c := Credentials{AccessKeyID: get("access_key_id"), AccessKeySecret: get("access_key_secret"), SecurityToken: get("security_token")}
		return newStatic(c, source, key(c.AccessKeyID))
	case "ram_role_arn":
		if err := require("access_key_id", "access_key_secret", "role_arn"); err != nil {
			return nil, err
		}
		base, err := newStatic(Credentials{AccessKeyID: get("access_key_id"), AccessKeySecret: get("access_key_secret")}, source, "")
		if err != nil {
			return nil, fail("%v", err)
		}
		spec := roleSpec{arn: get("role_arn"), session: session, policy: get("policy"), externalID: get("external_id"), duration: duration}
		res, err := r.assumeRole(base, spec, ep)
		if err != nil {
			return nil, fail("%v", err)
		}
		res.Source, res.IdentityKey = source, key(get("access_key_id"), spec.arn, session)
		return res, nil
	case "ecs_ram_role":
		res, err := r.ecs(get("role_name"), source)
		if err != nil {
			return nil, err
		}
		res.IdentityKey = key(get("role_name"))
		return res, nil
	case "oidc_role_arn":
		if get("oidc_token_file_path", "oidc_token_file") == "" {
			if err := require("role_arn", "oidc_provider_arn", "oidc_token_file_path"); err != nil {
				return nil, err
			}
		}
		if err := require("role_arn", "oidc_provider_arn"); err != nil {
			return nil, err
		}
		tokenFile := get("oidc_token_file_path", "oidc_token_file")
		res, err := r.oidc(oidcSpec{roleARN: get("role_arn"), providerARN: get("oidc_provider_arn"), tokenFile: r.expand(tokenFile), session: session, duration: duration}, ep)
		if err != nil {
			return nil, fail("%v", err)
		}
		res.Source, res.IdentityKey = source, key(get("role_arn"), get("oidc_provider_arn"), tokenFile)
		return res, nil
	case "credentials_uri":
		u := get("credentials_uri", "url")
		if u == "" {
			return nil, fail("missing credentials_uri")
		}
		res, err := r.uri(u)
		if err != nil {
			return nil, fail("%v", err)
		}
		res.Source, res.IdentityKey = source, key(u)
		return res, nil
	case "":
		return nil, &SourceError{Source: src, Location: shown, Err: fmt.Errorf("missing type (supported: %s)", iniTypes)}
	default:
		return nil, &SourceError{Source: src, Location: shown, Err: fmt.Errorf("unknown type %q (supported: %s)", typ, iniTypes)}
	}
}
