package krewcheck

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeArchive creates a tar.gz with the given file names and returns its sha256.
func writeArchive(t *testing.T, dir, name string, files ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, fn := range files {
		if err := tw.WriteHeader(&tar.Header{Name: fn, Mode: 0o755, Size: 2, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte("hi")); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() error }{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

const good = `apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: ack-login
spec:
  version: v1.2.3
  homepage: https://example.com
  shortDescription: Log in to ACK clusters
  description: long text
  platforms:
  - selector:
      matchLabels: {os: linux, arch: amd64}
    uri: https://example.com/d/x_linux_amd64.tar.gz
    sha256: SHA
    bin: kubectl-ack_login
`

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	sum := writeArchive(t, dir, "x_linux_amd64.tar.gz", "kubectl-ack_login", "LICENSE")
	writeArchive(t, dir, "nolicense_linux_amd64.tar.gz", "kubectl-ack_login")
	base := strings.ReplaceAll(good, "SHA", sum)
	tests := []struct {
		name, file, manifest, wantErr string
	}{
		{"valid", "ack-login.yaml", base, ""},
		{"wrong kind", "ack-login.yaml", strings.Replace(base, "kind: Plugin", "kind: Plug", 1), "kind"},
		{"wrong apiVersion", "ack-login.yaml", strings.Replace(base, "v1alpha2", "v1alpha1", 1), "apiVersion"},
		{"name mismatch", "ack-map.yaml", base, "does not match the file name"},
		{"no v prefix", "ack-login.yaml", strings.Replace(base, "v1.2.3", "1.2.3", 1), "semantic version"},
		{"not semver", "ack-login.yaml", strings.Replace(base, "v1.2.3", "v1.2", 1), "semantic version"},
		{"uppercase sha", "ack-login.yaml", strings.Replace(base, sum, strings.ToUpper(sum), 1), "lowercase hex"},
		{"sha mismatch", "ack-login.yaml", strings.Replace(base, sum, strings.Repeat("0", 64), 1), "does not match archive"},
		{"bin missing from archive", "ack-login.yaml", strings.Replace(base, "bin: kubectl-ack_login", "bin: other", 1), "does not contain bin"},
		{"no license", "ack-login.yaml", strings.Replace(strings.Replace(base, "x_linux", "nolicense_linux", 1), sum, writeArchive(t, dir, "nolicense_linux_amd64.tar.gz", "kubectl-ack_login"), 1), "LICENSE"},
		{"long short description", "ack-login.yaml", strings.Replace(base, "Log in to ACK clusters", strings.Repeat("x", 51), 1), "shortDescription"},
		{"http uri", "ack-login.yaml", strings.Replace(base, "https://example.com/d", "http://example.com/d", 1), "https"},
		{"unknown field", "ack-login.yaml", strings.Replace(base, "  homepage:", "  homepag:", 1), "not a valid manifest"},
		{"overlapping selectors", "ack-login.yaml", base + `  - selector:
      matchLabels: {os: linux}
    uri: https://example.com/d/x_linux_amd64.tar.gz
    sha256: ` + sum + `
    bin: kubectl-ack_login
`, "select the same os/arch"},
		{"windows without exe", "ack-login.yaml", strings.Replace(base, "os: linux", "os: windows", 1), ".exe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := Validate([]byte(tc.manifest), tc.file, dir)
			if tc.wantErr == "" {
				if len(errs) != 0 {
					t.Fatalf("want valid, got %v", errs)
				}
				return
			}
			for _, e := range errs {
				if strings.Contains(e.Error(), tc.wantErr) {
					return
				}
			}
			t.Fatalf("want an error containing %q, got %v", tc.wantErr, errs)
		})
	}
}

func TestRenderTemplate(t *testing.T) {
	dir := t.TempDir()
	sum := writeArchive(t, dir, "kubectl-ack_login_1.2.3_linux_amd64.tar.gz", "kubectl-ack_login", "LICENSE")
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "krew", "ack-login.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Keep only the first platform of the real template so one archive suffices.
	s := string(tmpl)
	cut := strings.Index(s, "  - selector:")
	second := strings.Index(s[cut+1:], "  - selector:")
	s = s[:cut+1+second]
	out, err := Render([]byte(s), "v1.2.3", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "sha256: "+sum) || !strings.Contains(string(out), "/v1.2.3/kubectl-ack_login_1.2.3_linux_amd64.tar.gz") {
		t.Fatalf("rendered manifest lacks uri/sha:\n%s", out)
	}
	if errs := Validate(out, "ack-login.yaml", dir); len(errs) != 0 {
		t.Fatalf("rendered template invalid: %v", errs)
	}
}
