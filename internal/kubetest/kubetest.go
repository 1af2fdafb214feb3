// Package kubetest starts a real etcd and kube-apiserver for tests of the main module, through
// controller-runtime's envtest, from the binaries `make kube-bins` builds from Go modules.
//
// The binaries are found in KUBEBUILDER_ASSETS, else in <repo>/.cache/kube/bin. A test that
// needs them and cannot find them fails with the command that builds them: it never skips, so a
// missing binary can never pass as green.
package kubetest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/deploy"
)

// Env is a running control plane.
type Env struct {
	// Config is an admin (system:masters) REST config.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig file for the same user, for commands that
	// take --kubeconfig.
	Kubeconfig string

	env *envtest.Environment
}

type options struct {
	crds  bool
	flags map[string][]string
}

// Option configures Start.
type Option func(*options)

// WithCRD installs the RAMIdentityMapping CRD (from deploy/, the same bytes the binaries embed)
// and waits until it is served.
func WithCRD() Option { return func(o *options) { o.crds = true } }

// WithAPIServerFlag sets a kube-apiserver flag (repeat the option to give a flag several values).
func WithAPIServerFlag(name, value string) Option {
	return func(o *options) { o.flags[name] = append(o.flags[name], value) }
}

// AssetsDir returns where the kube-apiserver, etcd and kubectl binaries are, or an error saying
// how to build them.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(repoRoot(), ".cache", "kube", "bin")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("%s not found in %s (KUBEBUILDER_ASSETS): run 'make kube-bins' first: %w", b, dir, err)
		}
	}
	return dir, nil
}

// repoRoot is the module root, found from this file's location so tests work from any package.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Start starts etcd and kube-apiserver on loopback and stops them when the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	e, err := StartEnv(opts...)
	if err != nil {
		t.Fatalf("start kube-apiserver: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("stop kube-apiserver: %v", err)
		}
	})
	return e
}

// StartEnv is Start for TestMain, where there is no testing.TB: the caller must call Stop.
func StartEnv(opts ...Option) (*Env, error) {
	o := options{flags: map[string][]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	dir, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	te := &envtest.Environment{BinaryAssetsDirectory: dir, ErrorIfCRDPathMissing: true}
	if o.crds {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(deploy.RAMIdentityMappingCRD, &crd); err != nil {
			return nil, fmt.Errorf("parse embedded CRD: %w", err)
		}
		te.CRDs = []*apiextensionsv1.CustomResourceDefinition{&crd}
	}
	args := te.ControlPlane.GetAPIServer().Configure()
	for name, values := range o.flags {
		args.Set(name, values...)
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("envtest: %w", err)
	}
	e := &Env{Config: cfg, env: te}
	user, err := te.AddUser(envtest.User{Name: "kubetest-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("add admin user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("admin kubeconfig: %w", err)
	}
	f, err := os.CreateTemp("", "kubetest-kubeconfig-*")
	if err != nil {
		_ = te.Stop()
		return nil, err
	}
	if _, err := f.Write(kc); err != nil {
		_ = f.Close()
		_ = te.Stop()
		return nil, err
	}
	if err := f.Close(); err != nil {
		_ = te.Stop()
		return nil, err
	}
	e.Kubeconfig = f.Name()
	return e, nil
}

// Stop stops the control plane and removes the kubeconfig file.
func (e *Env) Stop() error {
	if e.Kubeconfig != "" {
		_ = os.Remove(e.Kubeconfig)
	}
	return e.env.Stop()
}

// AddUser returns a REST config authenticated (by client certificate) as name in groups, for
// tests that need a user other than the admin (RBAC checks).
func (e *Env) AddUser(name string, groups ...string) (*rest.Config, error) {
	u, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, err
	}
	return u.Config(), nil
}

// AddUserKubeconfig writes a kubeconfig file (in dir) authenticated as name in groups, for tests
// that run commands as a user other than the admin.
func (e *Env) AddUserKubeconfig(dir, name string, groups ...string) (string, error) {
	u, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return "", err
	}
	b, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+".kubeconfig")
	return path, os.WriteFile(path, b, 0o600)
}
