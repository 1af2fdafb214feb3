package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/authenticator/cli"
	clikit "github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
	"github.com/kubectl-ack/kubectl-ack/pkg/prompt/prompttest"
)

// TestCommandLineConventions: the authenticator follows the plugins' conventions where they do
// not touch the official flags: usage lines, "did you mean", stray arguments refused, --version
// and version -o json, one "Error:" line, exit code 2 for command-line mistakes. The official
// global flags (-c, -i, -l, --feature-gates) and the component-base -v level keep their meaning.
func TestCommandLineConventions(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "usage line", args: []string{"verify", "--help"}, stdout: []string{"ack-ram-authenticator verify -t TOKEN|- -i CLUSTER_ID [-c FILE] [flags]", "Exit status: 0 when the token is accepted, 3 when it is denied"}},
		{name: "--version", args: []string{"--version"}, stdout: []string{"ack-ram-authenticator v"}},
		{name: "version -o yaml", args: []string{"version", "-o", "yaml"}, stdout: []string{"name: ack-ram-authenticator"}},
		{name: "mistyped command", args: []string{"verfiy"}, code: 2, stderr: []string{`unknown command "verfiy" for "ack-ram-authenticator"`, "Did you mean this?\n\tverify"}},
		{name: "mistyped add kind", args: []string{"add", "rol"}, code: 2, stderr: []string{`unknown command "rol" for "ack-ram-authenticator add"`, "role"}},
		{name: "stray argument", args: []string{"init", "c0123"}, code: 2, stderr: []string{`unexpected argument "c0123": "ack-ram-authenticator init" takes no arguments, only flags`}},
		{name: "mistyped flag", args: []string{"server", "--state-dri", "/x"}, code: 2, stderr: []string{"unknown flag: --state-dri", "Did you mean --state-dir?"}},
		{name: "-v takes a number", args: []string{"-v", "x", "version"}, code: 2, stderr: []string{`invalid argument "x" for "-v, --v" flag`}},
		{name: "official -i and -l", args: []string{"init", "-i", "c1", "-l", "text"}, stdout: []string{"wrote certificate"}},
		{name: "official --feature-gates", args: []string{"init", "-i", "c2", "--feature-gates=ConfiguredInitDirectories=false"}, stdout: []string{"kept existing certificate"}},
		{name: "add needs its flags", args: []string{"add", "role", "--username", "x", "--prompt=false"}, code: 2, stderr: []string{"--rolearn and --username are required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if tt.code != 0 && strings.Count(stderr, "Error: ") != 1 {
				t.Errorf("the error is not printed exactly once:\n%s", stderr)
			}
		})
	}
}

// TestVerbosityIsTheLogLevel: -v is component-base's log level (the official server has no -v),
// never --version. Logging is set up once per process, so the command runs in a child.
func TestVerbosityIsTheLogLevel(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CLI_TEST_ARGS="+strings.Join([]string{"-v", "4", "init", "-i", "c1", "--feature-gates=RAMIdentityMappingCRD=true"}, "\x1f"))
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || !strings.Contains(stdout.String(), "wrote certificate") {
		t.Fatalf("-v 4 init: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "RAMIdentityMappingCRD has no effect") {
		t.Errorf("no log lines at -v 4:\n%s", stderr.String())
	}
}

func TestVersionJSON(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "version", "-o", "json")
	var v clikit.VersionInfo
	if err := json.Unmarshal([]byte(stdout), &v); code != 0 || err != nil || v.Name != "ack-ram-authenticator" || v.Version == "" {
		t.Fatalf("version -o json: exit %d, %+v, %v\n%s%s", code, v, err, stdout, stderr)
	}
}

// TestAddInterrupted: Ctrl-C at add's question ends the command at once with exit code 130 and
// changes nothing.
func TestAddInterrupted(t *testing.T) {
	kube := kubetest.Start(t)
	_, tty := openPTY(t)
	errOut := prompttest.NewWriter()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"add", "role", "--rolearn", "acs:ram::123456789012:role/admin", "--username", "admin", "--kubeconfig", kube.Kubeconfig},
			tty, &syncBuffer{}, errOut)
	}()
	select {
	case <-errOut.Prompted():
	case <-time.After(30 * time.Second):
		t.Fatalf("no question:\n%s", errOut)
	}
	cancel(clikit.ErrInterrupted)
	select {
	case code := <-done:
		if code != clikit.ExitInterrupted || !strings.Contains(errOut.String(), "Interrupted") {
			t.Fatalf("exit %d, want 130:\n%s", code, errOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("add still waits for an answer after the interrupt")
	}
	_, err := kubernetes.NewForConfigOrDie(kube.Config).CoreV1().ConfigMaps(configmap.Namespace).Get(context.Background(), configmap.Name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("the ConfigMap exists after the interrupt: %v", err)
	}
}
