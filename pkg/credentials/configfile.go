package credentials

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// configFile is a credentials file (the aliyun CLI config or the INI file) that was found and
// read.
type configFile struct {
	// path is the file read; shown is path for messages (home directory as ~).
	path, shown string
	raw         []byte
	// explicit is set when a flag or the environment named the file: it must then exist and
	// hold the profile asked for, while the default file is optional.
	explicit bool
}

// readConfigFile reads the file of source ("aliyun CLI config", "credentials file"): flagPath
// (--profile-file), else the file envName names, else defaultPath under the home directory.
// It returns (nil, nil), noted in r.tried, when the default file does not exist.
func (r *resolver) readConfigFile(source, flagPath, envName string, defaultPath ...string) (*configFile, error) {
	f := &configFile{path: r.expand(flagPath), explicit: flagPath != ""}
	if !f.explicit {
		if v, _ := getenv(r.lookup, envName); v != "" {
			f.path, f.explicit = r.expand(v), true
		} else {
			h, err := r.homeDir()
			if err != nil {
				return nil, &SourceError{Source: source, Err: err}
			}
			f.path = filepath.Join(append([]string{h}, defaultPath...)...)
		}
	}
	f.shown = r.display(f.path)
	raw, err := os.ReadFile(f.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !f.explicit {
			r.tried = append(r.tried, fmt.Sprintf("%s %s: file does not exist", source, f.shown))
			return nil, nil
		}
		return nil, &SourceError{Source: source, Location: f.shown, Err: fmt.Errorf("cannot read file: %w", unwrapPathErr(err))}
	}
	f.raw = raw
	return f, nil
}

// fromCurrent says that the profile name came from the aliyun CLI config's "current".
const fromCurrent = `"current" in the file`

// profileName picks the profile to use: --profile-name, else ALIBABA_CLOUD_PROFILE, else
// current (the aliyun CLI config's "current"; "" for the INI file), else "default". from says
// which, for messages.
func (r *resolver) profileName(current string) (name, from string) {
	if r.o.ProfileName != "" {
		return r.o.ProfileName, "--profile-name"
	}
	if v, _ := getenv(r.lookup, EnvAlibabaCloudProfile); v != "" {
		return v, EnvAlibabaCloudProfile
	}
	if current != "" {
		return current, fromCurrent
	}
	return "default", "default"
}

// emptyNames returns, in order, the names of the {name, value} pairs whose value is empty: the
// settings a source is missing.
func emptyNames(pairs ...[2]string) []string {
	var out []string
	for _, kv := range pairs {
		if kv[1] == "" {
			out = append(out, kv[0])
		}
	}
	return out
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

// profileSource labels what one profile or section resolves to and the errors it reports.
type profileSource struct {
	// src names the profile or section; shown is its file, for messages.
	src, shown string
	// setting and value are the profile's kind ("mode AK", "type sts"), the prefix of its errors.
	setting, value string
	// source is Resolved.Source: src with the file and kind.
	source string
	// keyPrefix starts every identity key of the profile (file, name, kind).
	keyPrefix []string
}

// newProfileSource labels profile name of file f, called src in messages, whose kind is
// setting (mode, type) value; keyTag tells its identity keys from other sources'.
func newProfileSource(keyTag, src, name string, f *configFile, setting, value string) profileSource {
	return profileSource{src: src, shown: f.shown, setting: setting, value: value,
		source:    fmt.Sprintf("%s (%s, %s %s)", src, f.shown, setting, value),
		keyPrefix: []string{keyTag, f.path, name, value},
	}
}

// fail is an error of the profile, prefixed with its kind.
func (s profileSource) fail(format string, args ...any) error {
	return &SourceError{Source: s.src, Location: s.shown, Err: fmt.Errorf("%s %s: "+format, append([]any{s.setting, s.value}, args...)...)}
}

// key is an identity key of the profile, made of its prefix and parts.
func (s profileSource) key(parts ...string) string {
	return identityKey(append(slices.Clip(s.keyPrefix), parts...)...)
}

// labelled gives res, from a fetcher, the profile's source and an identity key of keyParts;
// a fetcher error becomes an error of the profile.
func (s profileSource) labelled(res *Resolved, err error, keyParts ...string) (*Resolved, error) {
	if err != nil {
		return nil, s.fail("%v", err)
	}
	res.Source, res.IdentityKey = s.source, s.key(keyParts...)
	return res, nil
}

// fetched runs fetch(arg) unless invalid (a check's error) and labels the result with an
// identity key of arg.
func (s profileSource) fetched(invalid error, fetch func(string) (*Resolved, error), arg string) (*Resolved, error) {
	if invalid != nil {
		return nil, invalid
	}
	res, err := fetch(arg)
	return s.labelled(res, err, arg)
}
