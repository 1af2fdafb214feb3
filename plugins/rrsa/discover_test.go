package rrsa

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func kubeconfigWith(contextName string, exec *clientcmdapi.ExecConfig) clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["k"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Exec: exec}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: "k", AuthInfo: "u"}
	cfg.CurrentContext = contextName
	return *cfg
}

// Without -c the cluster comes from the kube context, and -v says so.
func TestClusterFromKubeContext(t *testing.T) {
	f := newFixture(t, nil)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(kubeconfigWith(f.accountID+"-"+f.clusterID, nil), path); err != nil {
		t.Fatal(err)
	}
	r := f.runArgs(t, "", append([]string{"status", "-v", "--kubeconfig", path}, f.endpointArgs()[:8]...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, f.clusterID) || !strings.Contains(r.stderr, "from the kube context name") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	// ack-ram-tool's --log-level debug is -v.
	r = f.runArgs(t, "", append([]string{"status", "--log-level", "debug", "--kubeconfig", path}, f.endpointArgs()[:8]...)...)
	if r.err != nil || !strings.Contains(r.stderr, "from the kube context name") {
		t.Errorf("--log-level debug: err %v\nstderr:\n%s", r.err, r.stderr)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestHelpHasExamples(t *testing.T) {
	f := &fixture{}
	for _, sub := range []string{"status", "enable", "disable", "associate-role", "disassociate-role", "list-associations", "assume-role", "setup-addon", "install-helper-addon", "list-addons", "version"} {
		r := f.runArgs(t, "", sub, "--help")
		if r.err != nil || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "kubectl ack-rrsa "+sub) {
			t.Errorf("%s --help: err=%v\n%s", sub, r.err, r.stdout)
		}
	}
}

func TestVersionAndCompletion(t *testing.T) {
	f := &fixture{}
	r := f.runArgs(t, "", "version")
	if r.err != nil || !strings.HasPrefix(r.stdout, "kubectl ack-rrsa v") {
		t.Errorf("version: err=%v stdout=%q", r.err, r.stdout)
	}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		r := f.runArgs(t, "", "completion", sh)
		if r.err != nil || !strings.Contains(r.stdout, "kubectl-ack_rrsa") {
			t.Errorf("completion %s: err=%v, %d bytes", sh, r.err, len(r.stdout))
		}
	}
}

// A kubeconfig without a current context gets a message saying so, not `kube context ""`.
func TestNoCurrentContextMessage(t *testing.T) {
	f := newFixture(t, nil)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := kubeconfigWith("dev", nil)
	cfg.CurrentContext = ""
	if err := clientcmd.WriteToFile(cfg, path); err != nil {
		t.Fatal(err)
	}
	r := f.runArgs(t, "", append([]string{"status", "--kubeconfig", path}, f.endpointArgs()[:8]...)...)
	want := "no --cluster-id given and none could be discovered from the kubeconfig: the kubeconfig has no current context: pass --context NAME"
	if r.err == nil || !strings.Contains(r.err.Error(), want) || strings.Contains(r.err.Error(), `""`) {
		t.Fatalf("err = %v, want %q", r.err, want)
	}
}
