package login

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
)

const existingKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod.example.com:6443
    certificate-authority-data: ` + "dGVzdA==" + `
users:
- name: prod-admin
  user:
    token: keep-me
contexts:
- name: prod
  context: {cluster: prod, user: prod-admin, namespace: web}
current-context: prod
`

func loadKubeconfig(t *testing.T, path string) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("client-go cannot load %s: %v", path, err)
	}
	return cfg
}

func TestKubeconfigMergeIntoExistingFile(t *testing.T) {
	f := newFixture(t)
	// Give the cluster an API server CA so certificate-authority-data is set.
	if err := f.srv.UpdateCluster(f.info.ClusterID, func(c *emulator.Cluster) {
		c.APIServerCAFile = os.Getenv("SSL_CERT_FILE")
		c.IntranetAPIServerURL = "https://192.168.0.1:6443"
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(existingKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	wantContext := f.info.AccountID + "-" + f.info.ClusterID
	tests := []struct {
		name        string
		args        []string
		wantCurrent string
		wantArgs    []string
		wantContext string
	}{
		{name: "token mode sets context",
			args:        []string{"kubeconfig", "--kubeconfig", path, "--cluster-id", f.info.ClusterID},
			wantCurrent: wantContext, wantContext: wantContext,
			wantArgs: []string{"--cluster-id", f.info.ClusterID, "--mode", "token"}},
		{name: "certificate mode with pass-through flags, no-set-context, custom name",
			args: []string{"kubeconfig", "--kubeconfig", path, "--cluster-id", f.info.ClusterID, "--mode", "certificate",
				"--expiration", "2d", "--profile-name", "dev", "--role-session-name", "me", "--no-set-context", "--context-name", "ack-dev", "--private-address"},
			wantCurrent: "prod", wantContext: "ack-dev",
			wantArgs: []string{"--cluster-id", f.info.ClusterID, "--mode", "certificate", "--expiration", "48h0m0s",
				"--profile-name", "dev", "--role-session-name", "me",
				// The endpoints came from the environment in this test, not from flags.
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(existingKubeconfig), 0o600); err != nil {
				t.Fatal(err)
			}
			r := f.mustRun(t, tt.args...)
			if !strings.Contains(r.stdout, "Backed up "+path+".bak-") {
				t.Fatalf("no backup reported: %s", r.stdout)
			}
			cfg := loadKubeconfig(t, path)
			if cfg.CurrentContext != tt.wantCurrent {
				t.Fatalf("current-context %q, want %q", cfg.CurrentContext, tt.wantCurrent)
			}
			// Unrelated entries survive untouched.
			if cfg.AuthInfos["prod-admin"] == nil || cfg.AuthInfos["prod-admin"].Token != "keep-me" ||
				cfg.Clusters["prod"] == nil || cfg.Contexts["prod"].Namespace != "web" {
				t.Fatalf("existing entries changed: %+v", cfg)
			}
			kctx := cfg.Contexts[tt.wantContext]
			if kctx == nil {
				t.Fatalf("context %q missing; have %v", tt.wantContext, cfg.Contexts)
			}
			cl := cfg.Clusters[kctx.Cluster]
			wantServer := "https://127.0.0.1:6443"
			if slices.Contains(tt.args, "--private-address") {
				wantServer = "https://192.168.0.1:6443"
			}
			if cl == nil || cl.Server != wantServer || !strings.Contains(string(cl.CertificateAuthorityData), "BEGIN CERTIFICATE") {
				t.Fatalf("cluster %+v", cl)
			}
			user := cfg.AuthInfos[kctx.AuthInfo]
			if user == nil || user.Exec == nil {
				t.Fatalf("user %+v", user)
			}
			ex := user.Exec
			if ex.Command != "kubectl-ack_login" || ex.APIVersion != "client.authentication.k8s.io/v1" ||
				ex.InteractiveMode != clientcmdapi.NeverExecInteractiveMode || ex.ProvideClusterInfo ||
				!strings.Contains(ex.InstallHint, "kubectl krew install ack-login") {
				t.Fatalf("exec %+v", ex)
			}
			if !slices.Equal(ex.Args, tt.wantArgs) {
				t.Fatalf("exec args %q, want %q", ex.Args, tt.wantArgs)
			}
			// client-go accepts the result as a client configuration.
			cc := clientcmd.NewNonInteractiveClientConfig(*cfg, tt.wantContext, &clientcmd.ConfigOverrides{}, nil)
			if _, err := cc.ClientConfig(); err != nil {
				t.Fatalf("client-go rejects the context: %v", err)
			}
			bak, _ := filepath.Glob(path + ".bak-*")
			if len(bak) == 0 {
				t.Fatal("no backup file")
			}
			for _, b := range bak {
				fi, _ := os.Stat(b)
				if fi.Mode().Perm() != 0o600 {
					t.Fatalf("backup mode %v", fi.Mode().Perm())
				}
			}
			fi, _ := os.Stat(path)
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("kubeconfig mode %v", fi.Mode().Perm())
			}
		})
	}
}

func TestKubeconfigEndpointFlagsPassThrough(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "config")
	r := f.mustRun(t, "kubeconfig", "--kubeconfig", path, "--cluster-id", f.info.ClusterID,
		"--cs-endpoint", f.info.Endpoint, "--region-id", f.info.RegionID, "--ignore-aliyun-cli-credentials",
		"--private-address")
	cfg := loadKubeconfig(t, path)
	kctx := cfg.Contexts[cfg.CurrentContext]
	args := cfg.AuthInfos[kctx.AuthInfo].Exec.Args
	want := []string{"--cluster-id", f.info.ClusterID, "--mode", "token", "--ignore-aliyun-cli-credentials", "--region-id", f.info.RegionID, "--cs-endpoint", f.info.Endpoint}
	if !slices.Equal(args, want) {
		t.Fatalf("args %q, want %q", args, want)
	}
	if !strings.HasSuffix(kctx.Cluster, "-internal") {
		t.Fatalf("private address cluster name %q", kctx.Cluster)
	}
	// A relative --profile-file is made absolute for kubectl, which runs
	// the plugin from another directory.
	dir := t.TempDir()
	ini := "[default]\ntype = access_key\naccess_key_id = " + f.info.AccessKeyID + "\naccess_key_secret = " + f.info.AccessKeySecret + "\n"
	if err := os.WriteFile(filepath.Join(dir, "creds"), []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	r = f.mustRun(t, "kubeconfig", "--stdout", "--cluster-id", f.info.ClusterID, "--profile-file", "creds")
	printed := filepath.Join(dir, "printed")
	if err := os.WriteFile(printed, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = loadKubeconfig(t, printed)
	args = cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo].Exec.Args
	if i := slices.Index(args, "--profile-file"); i < 0 || args[i+1] != filepath.Join(dir, "creds") {
		t.Fatalf("args %q lack the absolute profile file", args)
	}
}

func TestKubeconfigStdoutAndKUBECONFIG(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	r := f.mustRun(t, "kubeconfig", "--stdout", "--cluster-id", f.info.ClusterID)
	p := filepath.Join(dir, "printed")
	if err := os.WriteFile(p, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := loadKubeconfig(t, p)
	if cfg.CurrentContext != f.info.AccountID+"-"+f.info.ClusterID {
		t.Fatalf("printed config current-context %q", cfg.CurrentContext)
	}
	if _, err := os.Stat(filepath.Join(f.home, ".kube", "config")); !os.IsNotExist(err) {
		t.Fatal("--stdout wrote ~/.kube/config")
	}
	// ack-ram-tool's get-kubeconfig prints too and defaults to certificate mode.
	r = f.mustRun(t, "credential-plugin", "get-kubeconfig", "--cluster-id", f.info.ClusterID)
	if !strings.Contains(r.stdout, "- certificate") {
		t.Fatalf("get-kubeconfig output:\n%s", r.stdout)
	}

	// KUBECONFIG: new entries go to the first existing file.
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(b, []byte(existingKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", a+string(os.PathListSeparator)+b)
	f.mustRun(t, "kubeconfig", "--cluster-id", f.info.ClusterID)
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Fatal("missing first KUBECONFIG file was created")
	}
	cfg = loadKubeconfig(t, b)
	if cfg.CurrentContext != f.info.AccountID+"-"+f.info.ClusterID || cfg.AuthInfos["prod-admin"] == nil {
		t.Fatalf("merged %+v", cfg)
	}

	// Default: ~/.kube/config.
	t.Setenv("KUBECONFIG", "")
	f.mustRun(t, "kubeconfig", "--cluster-id", f.info.ClusterID, "--mode", "certificate")
	cfg = loadKubeconfig(t, filepath.Join(f.home, ".kube", "config"))
	if len(cfg.Contexts) != 1 {
		t.Fatalf("contexts %v", cfg.Contexts)
	}
}

func TestKubeconfigErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"kubeconfig"}, "name the cluster: --cluster NAME", 2},
		{[]string{"kubeconfig", "--cluster-id", "c1", "--mode", "x"}, "invalid --mode", 2},
		{[]string{"kubeconfig", "--cluster-id", "c1", "--expiration", "1h"}, "--mode certificate only", 2},
		{[]string{"kubeconfig", "--cluster-id", "c1", "--mode", "certificate", "--expiration", "5m"}, "between 15m and 72h", 2},
		{[]string{"kubeconfig", "--cluster-id", "c1", "--api-version", "v9"}, "unsupported", 2},
		{[]string{"kubeconfig", "--cluster-id", "c1", "--dry-run=server"}, "no server-side dry run", 2},
		{[]string{"kubeconfig", "--cluster-id", "c00000000000000000000000000000000", "--stdout"}, "get the kubeconfig of cluster", 1},
	}
	for _, tt := range tests {
		r := f.run(t, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: code %d stderr %q, want %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
	// A corrupt kubeconfig is reported, not overwritten.
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte("clusters: {bad: map}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.run(t, "kubeconfig", "--kubeconfig", path, "--cluster-id", f.info.ClusterID)
	if r.code != 1 || !strings.Contains(r.stderr, path) {
		t.Fatalf("%+v", r)
	}
	if b, _ := os.ReadFile(path); string(b) != "clusters: {bad: map}\n" {
		t.Fatal("corrupt kubeconfig changed")
	}
}
