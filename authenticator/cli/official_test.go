package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-ack/kubectl-ack/authenticator/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
	"github.com/kubectl-ack/kubectl-ack/pkg/prompt/prompttest"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// waitFor polls cond until it returns "" or 30 s pass.
func waitFor(t *testing.T, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		<-tick.C
	}
}

// review posts a TokenReview through the webhook kubeconfig, as kube-apiserver does, and returns
// the username ("" when denied) and the error message.
func review(t *testing.T, webhookKC, tok string) (string, string) {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", webhookKC)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": map[string]string{"token": tok}})
	resp, err := hc.Post(rc.Host, "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	var rv struct {
		Status struct {
			User  struct{ Username string } `json:"user"`
			Error string                    `json:"error"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rv); err != nil {
		t.Fatal(err)
	}
	return rv.Status.User.Username, rv.Status.Error
}

// TestServerSelfInitOfficialFlags starts "server" on an empty state directory with the official
// flags (-i, --state-dir, --generate-kubeconfig, --backend-mode, -b, --feature-gates) and a
// file that names neither the cluster nor STS (the endpoint comes from the environment). The
// server writes its certificate and the webhook kubeconfig as init would, then serves through
// it; "add user" edits the alibabacloud-auth ConfigMap and the ACKConfigMap backend applies
// it without a restart.
func TestServerSelfInitOfficialFlags(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	t.Setenv("ALIBABA_CLOUD_STS_ENDPOINT", info.Endpoint)
	kube := kubetest.Start(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	body := fmt.Sprintf("server:\n  mapUsers:\n  - userARN: acs:ram::%s:user/%s\n    username: admin\n", info.AccountID, info.UserName)
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	state, webhookKC := filepath.Join(dir, "state"), filepath.Join(dir, "out", "kubeconfig.yaml")
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- cli.Main(ctx, []string{"server", "--config=" + cfgPath, "-i", info.ClusterID, "--state-dir=" + state,
			"--generate-kubeconfig=" + webhookKC, "--backend-mode=MountedFile,ConfigMap", "-b", "127.0.0.1", "--port", strconv.Itoa(port),
			"--feature-gates=ConfiguredInitDirectories=true,RAMIdentityMappingCRD=true", "--kubeconfig", kube.Kubeconfig}, strings.NewReader(""), &syncBuffer{}, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("server exit code %d: %s", code, stderr.String())
		}
	})
	tok, _, err := token.Sign(token.SignInput{ClusterID: info.ClusterID, AccessKeyID: info.AccessKeyID, AccessKeySecret: info.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "server self-initialised and serves the file mapping", func() string {
		if _, err := os.Stat(webhookKC); err != nil {
			return err.Error() + " " + stderr.String()
		}
		if u, msg := review(t, webhookKC, tok); u != "admin" {
			return "user " + u + ": " + msg
		}
		return ""
	})
	for _, f := range []string{"cert.pem", "key.pem"} {
		if _, err := os.Stat(filepath.Join(state, f)); err != nil {
			t.Errorf("state directory: %v", err)
		}
	}

	bob, bobKey, err := srv.CreateUser(info.AccountID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	bobTok, _, err := token.Sign(token.SignInput{ClusterID: info.ClusterID, AccessKeyID: bobKey.ID, AccessKeySecret: bobKey.Secret})
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := review(t, webhookKC, bobTok); u != "" {
		t.Fatalf("bob is mapped before any ConfigMap entry: %s", u)
	}
	code, out, errOut := runCLI(t, "", "add", "user", "--userarn", bob.ARN, "--username", "bob", "--groups", "devs,viewers", "--prompt=false", "--kubeconfig", kube.Kubeconfig)
	if code != 0 || !strings.Contains(out, "created configmap:") || !strings.Contains(out, "userarn: "+bob.ARN) {
		t.Fatalf("add user: %d\n%s\n%s", code, out, errOut)
	}
	waitFor(t, "the ConfigMap entry applies without a restart", func() string {
		if u, msg := review(t, webhookKC, bobTok); u != "bob" {
			return "user " + u + ": " + msg
		}
		return ""
	})
	code, _, errOut = runCLI(t, "", "add", "user", "--userarn", strings.ToUpper(bob.ARN[:8])+bob.ARN[8:], "--username", "bob2", "--prompt=false", "--kubeconfig", kube.Kubeconfig)
	if code != 1 || !strings.Contains(errOut, "cannot add duplicate user ARN") {
		t.Fatalf("duplicate add: %d %s", code, errOut)
	}
}

// openPTY returns a pseudo-terminal pair, so the confirmation is asked on a real terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return m, s
}

// TestAddConfirmation: add asks on a terminal and writes only after "y"; a "n" changes nothing;
// without a terminal it refuses before reading the cluster.
func TestAddConfirmation(t *testing.T) {
	kube := kubetest.Start(t)
	roleARN := "acs:ram::123456789012:role/KubernetesAdmin"
	args := []string{"add", "role", "--rolearn", roleARN, "--username", "kubernetes-admin", "--groups", "system:masters", "--kubeconfig", kube.Kubeconfig}
	if code, _, errOut := runCLI(t, "y\n", args...); code != 2 || !strings.Contains(errOut, "pass --prompt=false") {
		t.Fatalf("without a terminal: %d %s", code, errOut)
	}
	cms := kubernetes.NewForConfigOrDie(kube.Config).CoreV1().ConfigMaps(configmap.Namespace)
	for _, answer := range []string{"n", "y"} {
		master, tty := openPTY(t)
		errOut := prompttest.NewWriter()
		var out syncBuffer
		done := make(chan int, 1)
		go func() { done <- cli.Main(context.Background(), args, tty, &out, errOut) }()
		<-errOut.Prompted()
		if _, err := master.WriteString(answer + "\n"); err != nil {
			t.Fatal(err)
		}
		code := <-done
		_, err := cms.Get(context.Background(), configmap.Name, metav1.GetOptions{})
		switch answer {
		case "n":
			if code != 1 || !strings.Contains(errOut.String(), "cancelled: nothing was changed") || err == nil {
				t.Fatalf("answer n: exit %d, ConfigMap err %v\n%s", code, err, errOut)
			}
		case "y":
			if code != 0 || err != nil || !strings.Contains(errOut.String(), "Add rolearn "+roleARN) {
				t.Fatalf("answer y: exit %d, ConfigMap err %v\n%s", code, err, errOut)
			}
		}
	}
}

// TestInitOfficialLayout: without a file, init writes into the current directory as the
// official add-on does (its example init container moves the files); with a file, into the
// configured directories; the ConfiguredInitDirectories gate decides explicitly.
func TestInitOfficialLayout(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	code, out, errOut := runCLI(t, "", "init", "--cluster-id=c0123")
	if code != 0 || !strings.Contains(out, "copy ") {
		t.Fatalf("init in cwd: %d %s %s", code, out, errOut)
	}
	for _, f := range []string{"cert.pem", "key.pem", "ack-ram-authenticator.kubeconfig"} {
		if _, err := os.Stat(filepath.Join(cwd, f)); err != nil {
			t.Errorf("init --cluster-id: %v", err)
		}
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf("clusterID: c1\nserver:\n  stateDir: %s\n  generateKubeconfig: %s\n", filepath.Join(dir, "state"), filepath.Join(dir, "kc.yaml"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cwd2 := t.TempDir()
	t.Chdir(cwd2)
	if code, _, errOut := runCLI(t, "", "init", "-c", cfgPath, "--feature-gates=ConfiguredInitDirectories=false"); code != 0 {
		t.Fatalf("init with the gate off: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(cwd2, "ack-ram-authenticator.kubeconfig")); err != nil {
		t.Errorf("ConfiguredInitDirectories=false: %v", err)
	}
	if code, _, errOut := runCLI(t, "", "init", "-c", cfgPath, "--feature-gates=ConfiguredInitDirectories=true"); code != 0 {
		t.Fatalf("init with the gate on: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "kc.yaml")); err != nil {
		t.Errorf("ConfiguredInitDirectories=true: %v", err)
	}
}

// TestLogFormat runs the command in a child process (the logging setup is per process):
// -l json writes JSON log lines, an unknown -l value warns and falls back to text.
func TestLogFormat(t *testing.T) {
	srv := emulatortest.Start(t)
	info := srv.Info()
	tok, _, err := token.Sign(token.SignInput{ClusterID: info.ClusterID, AccessKeyID: info.AccessKeyID, AccessKeySecret: info.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ format, want string }{{"json", `"msg":"configured"`}, {"yaml", `Warning: unknown log format "yaml"`}} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CLI_TEST_ARGS="+strings.Join([]string{"verify", "-l", tc.format, "-t", tok, "-i", info.ClusterID, "--sts-endpoint", info.Endpoint}, "\x1f"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("-l %s: %v\n%s", tc.format, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("-l %s: stderr lacks %q:\n%s", tc.format, tc.want, stderr.String())
		}
	}
}

// TestInitOfficialFlags: the official init's --hostname (a name or an IP) and --address
// (0.0.0.0 allowed) are accepted and name the certificate.
func TestInitOfficialFlags(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := runCLI(t, "", "init", "-i", "c1", "--hostname=10.0.0.7", "--hostname=authn.local", "--address=0.0.0.0")
	if code != 0 || !strings.Contains(out, "IP 127.0.0.1,10.0.0.7") || !strings.Contains(out, "DNS localhost,authn.local") {
		t.Fatalf("init: %d\n%s\n%s", code, out, errOut)
	}
}
