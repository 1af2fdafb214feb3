// Package krewcheck validates krew plugin manifests and the release archives they point at.
//
// krew's own validator (and krew itself) cannot be installed on our CI machines, so this
// package re-implements the rules krew and the krew-index apply, from their documented
// behaviour: manifest shape, naming, semver, sha256 format and match, non-overlapping
// platform selectors, and archive contents (the binary and a LICENSE).
package krewcheck

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"sigs.k8s.io/yaml"
)

// Manifest is the subset of krew's v1alpha2 Plugin that the index checks.
type Manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string     `json:"version"`
		Homepage         string     `json:"homepage"`
		ShortDescription string     `json:"shortDescription"`
		Description      string     `json:"description"`
		Caveats          string     `json:"caveats"`
		Platforms        []Platform `json:"platforms"`
	} `json:"spec"`
}

// Platform is one os/arch entry of a manifest.
type Platform struct {
	URI    string `json:"uri"`
	Sha256 string `json:"sha256"`
	Bin    string `json:"bin"`
	Files  []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"files,omitempty"`
	Selector struct {
		MatchLabels      map[string]string `json:"matchLabels"`
		MatchExpressions []any             `json:"matchExpressions,omitempty"`
	} `json:"selector"`
}

const (
	apiVersion = "krew.googlecontainertools.github.com/v1alpha2"
	// MaxShortDescription is the krew-index limit on shortDescription length.
	MaxShortDescription = 50
)

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	semverRE = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	shaRE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Render fills a krew-release-bot style template ({{ .TagName }}, {{addURIAndSha URL TAG}})
// with archives found in archiveDir, so templates are checked against real artifacts.
func Render(tmpl []byte, tag, archiveDir string) ([]byte, error) {
	funcs := template.FuncMap{"trimPrefix": func(p, s string) string { return strings.TrimPrefix(s, p) }}
	funcs["addURIAndSha"] = func(rawURL, tag string) (string, error) {
		t, err := template.New("url").Funcs(funcs).Parse(rawURL)
		if err != nil {
			return "", fmt.Errorf("parse url template %q: %w", rawURL, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, map[string]string{"TagName": tag}); err != nil {
			return "", err
		}
		u := b.String()
		sum, err := fileSHA256(filepath.Join(archiveDir, path.Base(u)))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("uri: %s\n    sha256: %s", u, sum), nil
	}
	t, err := template.New("manifest").Funcs(funcs).Parse(string(tmpl))
	if err != nil {
		return nil, fmt.Errorf("parse manifest template: %w", err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, map[string]string{"TagName": tag}); err != nil {
		return nil, fmt.Errorf("render manifest template: %w", err)
	}
	return out.Bytes(), nil
}

// Validate checks a manifest named fileName (e.g. "ack-login.yaml"). When archiveDir is not
// empty, every platform's archive (by the URI's base name) must exist there, match its
// sha256 and contain the binary and a LICENSE file. All problems are returned, not just the first.
func Validate(data []byte, fileName, archiveDir string) []error {
	var m Manifest
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		return []error{fmt.Errorf("%s: not a valid manifest: %w", fileName, err)}
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(fileName+": "+format, a...)) }
	if m.APIVersion != apiVersion {
		bad("apiVersion is %q, want %q", m.APIVersion, apiVersion)
	}
	if m.Kind != "Plugin" {
		bad("kind is %q, want Plugin", m.Kind)
	}
	want := strings.TrimSuffix(filepath.Base(fileName), filepath.Ext(fileName))
	if m.Metadata.Name != want {
		bad("metadata.name %q does not match the file name %q", m.Metadata.Name, want)
	}
	if !nameRE.MatchString(m.Metadata.Name) || strings.HasPrefix(m.Metadata.Name, "kubectl-") {
		bad("metadata.name %q must be lowercase words joined by '-' without a kubectl- prefix", m.Metadata.Name)
	}
	if !semverRE.MatchString(m.Spec.Version) {
		bad("spec.version %q is not a v-prefixed semantic version", m.Spec.Version)
	}
	if sd := m.Spec.ShortDescription; sd == "" || len(sd) > MaxShortDescription {
		bad("spec.shortDescription must be 1..%d characters, got %d", MaxShortDescription, len(sd))
	}
	if strings.TrimSpace(m.Spec.Description) == "" {
		bad("spec.description is empty")
	}
	if len(m.Spec.Platforms) == 0 {
		bad("spec.platforms is empty")
	}
	for i, p := range m.Spec.Platforms {
		errs = append(errs, validatePlatform(fileName, i, p, archiveDir)...)
		for j := 0; j < i; j++ {
			if overlap(p, m.Spec.Platforms[j]) {
				bad("platforms[%d] and platforms[%d] select the same os/arch", j, i)
			}
		}
	}
	return errs
}

func validatePlatform(fileName string, i int, p Platform, archiveDir string) []error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: platforms[%d]: "+format, append([]any{fileName, i}, a...)...))
	}
	u, err := url.Parse(p.URI)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		bad("uri %q must be an absolute https URL", p.URI)
	}
	if !shaRE.MatchString(p.Sha256) {
		bad("sha256 %q must be 64 lowercase hex characters", p.Sha256)
	}
	if p.Bin == "" {
		bad("bin is empty")
	}
	osName := p.Selector.MatchLabels["os"]
	if osName == "" {
		bad("selector.matchLabels.os is required")
	}
	if len(p.Selector.MatchExpressions) > 0 {
		bad("selector.matchExpressions is not supported by this check; use matchLabels")
	}
	if osName == "windows" && !strings.HasSuffix(p.Bin, ".exe") {
		bad("bin %q on windows must end in .exe", p.Bin)
	}
	if archiveDir == "" || u == nil {
		return errs
	}
	archive := filepath.Join(archiveDir, path.Base(u.Path))
	sum, err := fileSHA256(archive)
	if err != nil {
		bad("%v", err)
		return errs
	}
	if sum != p.Sha256 {
		bad("sha256 %s does not match archive %s (%s)", p.Sha256, filepath.Base(archive), sum)
	}
	names, err := ArchiveFiles(archive)
	if err != nil {
		bad("%v", err)
		return errs
	}
	if !contains(names, p.Bin) {
		bad("archive %s does not contain bin %q", filepath.Base(archive), p.Bin)
	}
	if !contains(names, "LICENSE") {
		bad("archive %s does not contain a LICENSE file", filepath.Base(archive))
	}
	return errs
}

func contains(names []string, want string) bool {
	for _, n := range names {
		if path.Clean(n) == path.Clean(want) {
			return true
		}
	}
	return false
}

// overlap reports whether two platforms can match the same os/arch pair; a missing label
// matches everything, as in Kubernetes label selectors.
func overlap(a, b Platform) bool {
	for _, k := range []string{"os", "arch"} {
		va, vb := a.Selector.MatchLabels[k], b.Selector.MatchLabels[k]
		if va != "" && vb != "" && va != vb {
			return false
		}
	}
	return true
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ArchiveFiles lists the regular files in a .tar.gz or .zip archive.
func ArchiveFiles(name string) ([]string, error) {
	switch {
	case strings.HasSuffix(name, ".zip"):
		r, err := zip.OpenReader(name)
		if err != nil {
			return nil, fmt.Errorf("open zip %s: %w", name, err)
		}
		defer r.Close()
		var out []string
		for _, f := range r.File {
			if !f.FileInfo().IsDir() {
				out = append(out, f.Name)
			}
		}
		return out, nil
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("gunzip %s: %w", name, err)
		}
		tr := tar.NewReader(gz)
		var out []string
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("read tar %s: %w", name, err)
			}
			if h.Typeflag == tar.TypeReg {
				out = append(out, h.Name)
			}
		}
	default:
		return nil, fmt.Errorf("archive %s: unsupported format (want .tar.gz or .zip)", name)
	}
}
