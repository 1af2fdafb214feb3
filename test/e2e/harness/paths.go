// Package harness starts the whole kubectl-ack chain on loopback for end-to-end tests and the
// demo: the ack-emulator (STS, RAM, CS), etcd, kube-apiserver with its token webhook pointing at
// ack-ram-authenticator, and the authenticator itself, all as real processes built from this
// repository. It depends on the standard library only: the binaries are driven the way a user
// or a cluster drives them.
package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Environment variables that override where the binaries are.
const (
	// EnvRepoRoot is the kubectl-ack checkout (default: found from the working directory).
	EnvRepoRoot = "E2E_REPO_ROOT"
	// EnvBinDir holds kubectl-ack_login, kubectl-ack_rrsa, kubectl-ack_map,
	// ack-ram-authenticator and ack-emulator (default <repo>/bin, filled by `make build`).
	EnvBinDir = "E2E_BIN_DIR"
	// EnvKubeBinDir holds etcd, kube-apiserver and kubectl (default KUBEBUILDER_ASSETS, else
	// <repo>/.cache/kube/bin, filled by `make kube-bins`).
	EnvKubeBinDir = "E2E_KUBE_BIN_DIR"
)

const mainModule = "module github.com/kubectl-ack/kubectl-ack\n"

// Paths says where the repository and the binaries under test are.
type Paths struct {
	// Repo is the root of the kubectl-ack checkout.
	Repo string
	// Bin holds the project's binaries.
	Bin string
	// KubeBin holds etcd, kube-apiserver and kubectl.
	KubeBin string
}

// KubeBinaries are the Kubernetes binaries the chain runs.
var KubeBinaries = []string{"etcd", "kube-apiserver", "kubectl"}

// FindPaths locates the repository and the binaries and checks that every named binary is there.
// A missing binary is an error naming the make target that builds it.
func FindPaths(project, kube []string) (Paths, error) {
	repo, err := repoRoot()
	if err != nil {
		return Paths{}, err
	}
	p := Paths{Repo: repo, Bin: os.Getenv(EnvBinDir), KubeBin: os.Getenv(EnvKubeBinDir)}
	if p.Bin == "" {
		p.Bin = filepath.Join(repo, "bin")
	}
	if p.KubeBin == "" {
		p.KubeBin = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if p.KubeBin == "" {
		p.KubeBin = filepath.Join(repo, ".cache", "kube", "bin")
	}
	for _, d := range []*string{&p.Bin, &p.KubeBin} {
		if *d, err = filepath.Abs(*d); err != nil {
			return Paths{}, err
		}
	}
	var missing []string
	for _, b := range project {
		if !isExecutable(filepath.Join(p.Bin, b)) {
			missing = append(missing, fmt.Sprintf("%s not found in %s (%s): run `make build` in %s", b, p.Bin, EnvBinDir, repo))
		}
	}
	for _, b := range kube {
		if !isExecutable(filepath.Join(p.KubeBin, b)) {
			missing = append(missing, fmt.Sprintf("%s not found in %s (%s): run `make kube-bins` in %s", b, p.KubeBin, EnvKubeBinDir, repo))
		}
	}
	if len(missing) > 0 {
		return Paths{}, errors.New(strings.Join(missing, "\n"))
	}
	return p, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// repoRoot finds the checkout: EnvRepoRoot, else the nearest parent of the working directory
// (tests run in test/e2e) whose go.mod is the main module's, else relative to this source file.
func repoRoot() (string, error) {
	if r := os.Getenv(EnvRepoRoot); r != "" {
		if !isRepo(r) {
			return "", fmt.Errorf("%s=%s is not a kubectl-ack checkout (no go.mod with %q)", EnvRepoRoot, r, strings.TrimSpace(mainModule))
		}
		return filepath.Abs(r)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if isRepo(d) {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		if d := filepath.Join(filepath.Dir(file), "..", "..", ".."); isRepo(d) {
			return filepath.Abs(d)
		}
	}
	return "", fmt.Errorf("cannot find the kubectl-ack checkout from the working directory: run from inside it or set %s", EnvRepoRoot)
}

func isRepo(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && bytes.HasPrefix(b, []byte(mainModule))
}
