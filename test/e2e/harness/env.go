package harness

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ShellEnv is what a person's shell needs to use the stack by hand, as `make demo-up` prints it:
// the project's binaries and kubectl first on PATH, the admin kubeconfig (system:masters), the
// emulator as every Alibaba Cloud endpoint and its CA as SSL_CERT_FILE, and the access key of
// the emulated account's admin RAM user. Keys are sorted.
func (s *Stack) ShellEnv() [][2]string {
	env := map[string]string{
		"PATH":                                s.Paths.Bin + string(os.PathListSeparator) + s.Paths.KubeBin + string(os.PathListSeparator) + "$PATH",
		"KUBECONFIG":                          s.AdminKubeconfig,
		"SSL_CERT_FILE":                       s.Emulator.CAFile,
		"ALIBABA_CLOUD_REGION_ID":             s.Emulator.RegionID,
		"ALIBABA_CLOUD_STS_ENDPOINT":          s.Emulator.Endpoint,
		"ALIBABA_CLOUD_RAM_ENDPOINT":          s.Emulator.Endpoint,
		"ALIBABA_CLOUD_CS_ENDPOINT":           s.Emulator.Endpoint,
		"ALIBABA_CLOUD_ACCESS_KEY_ID":         s.Emulator.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET":     s.Emulator.AccessKeySecret,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, [2]string{k, env[k]})
	}
	return out
}

// ExportLines renders ShellEnv as POSIX shell export lines ($PATH is left for the shell to expand).
func (s *Stack) ExportLines() string {
	var b strings.Builder
	for _, kv := range s.ShellEnv() {
		v := shellQuote(kv[1])
		if kv[0] == "PATH" {
			v = `"` + strings.ReplaceAll(kv[1], `"`, `\"`) + `"`
		}
		b.WriteString("export " + kv[0] + "=" + v + "\n")
	}
	return b.String()
}

// WriteEnvFile writes ExportLines to path (0600: it holds an access key secret).
func (s *Stack) WriteEnvFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFile(path, []byte(s.ExportLines()), 0o600)
}
