package kubefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvKubeconfig is the variable that lists kubeconfig files, like kubectl.
const EnvKubeconfig = "KUBECONFIG"

// PathOptions chooses the kubeconfig files the way kubectl does.
type PathOptions struct {
	// ExplicitPath is the --kubeconfig flag; when set it is the only file.
	ExplicitPath string
	// Env looks up environment variables; nil means os.LookupEnv.
	Env func(string) (string, bool)
	// HomeDir replaces the user's home directory when non-empty.
	HomeDir string
}

// IsExplicit reports whether a single file was named with --kubeconfig.
func (o PathOptions) IsExplicit() bool { return o.ExplicitPath != "" }

// EnvFiles returns the non-empty entries of KUBECONFIG, deduplicated in
// order, as client-go does.
func (o PathOptions) EnvFiles() []string {
	lookup := o.Env
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, _ := lookup(EnvKubeconfig)
	var out []string
	seen := map[string]bool{}
	for _, p := range filepath.SplitList(v) {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// GlobalFile returns ~/.kube/config.
func (o PathOptions) GlobalFile() (string, error) {
	home := o.HomeDir
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find home directory for ~/.kube/config: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".kube", "config"), nil
}

// Precedence returns the files read, highest priority first.
func (o PathOptions) Precedence() ([]string, error) {
	if o.IsExplicit() {
		return []string{o.ExplicitPath}, nil
	}
	if env := o.EnvFiles(); len(env) > 0 {
		return env, nil
	}
	g, err := o.GlobalFile()
	if err != nil {
		return nil, err
	}
	return []string{g}, nil
}

// DefaultFile returns the file that receives new entries: the explicit
// file; else the only KUBECONFIG entry, the first one that exists, or the
// last one when none exists; else ~/.kube/config.
func (o PathOptions) DefaultFile() (string, error) {
	if o.IsExplicit() {
		return o.ExplicitPath, nil
	}
	if env := o.EnvFiles(); len(env) > 0 {
		if len(env) == 1 {
			return env[0], nil
		}
		for _, f := range env {
			if _, err := os.Stat(f); err == nil {
				return f, nil
			} else if !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("check kubeconfig %s: %w", f, err)
			}
		}
		return env[len(env)-1], nil
	}
	return o.GlobalFile()
}
