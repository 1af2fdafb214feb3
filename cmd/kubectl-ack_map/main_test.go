package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
)

// binDir holds the binary built by TestMain; env is the control plane it talks to.
var (
	binDir string
	env    *kubetest.Env
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kubectl-ack_map-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "the go command is needed to build the binary under test:", err)
		return 1
	}
	bin := filepath.Join(dir, "kubectl-ack_map")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build kubectl-ack_map: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	if env, err = kubetest.StartEnv(kubetest.WithCRD()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop kube-apiserver:", err)
		return 1
	}
	return code
}

type proc struct {
	code           int
	stdout, stderr string
}

// run runs name (found on a PATH of the test binary, the kube binaries and the krew completion
// scripts) with KUBECONFIG pointing at the control plane and stdin from /dev/null.
func run(t *testing.T, name string, args ...string) proc {
	t.Helper()
	assets, err := kubetest.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	completionDir, err := filepath.Abs(filepath.Join("..", "..", "krew", "completion"))
	if err != nil {
		t.Fatal(err)
	}
	path := strings.Join([]string{binDir, assets, completionDir, os.Getenv("PATH")}, string(os.PathListSeparator))
	// exec.Command resolves name with this process's PATH.
	t.Setenv("PATH", path)
	cmd := exec.Command(name, args...)
	cmd.Env = []string{
		"PATH=" + path,
		"HOME=" + t.TempDir(),
		"KUBECONFIG=" + env.Kubeconfig,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	p := proc{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errorsAs(err, &ee):
		p.code = ee.ExitCode()
	default:
		t.Fatalf("run %s %v: %v", name, args, err)
	}
	return p
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// TestBinary drives the real binary, directly and as a kubectl plugin, through the life of a
// mapping, checking exit codes.
func TestBinary(t *testing.T) {
	const role = "acs:ram::1234567890:role/dev"
	steps := []struct {
		name     string
		cmd      string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{name: "version", cmd: "kubectl-ack_map", args: []string{"version"}, wantOut: []string{"kubectl ack-map v"}},
		{name: "add", cmd: "kubectl-ack_map", args: []string{"add", "--arn", role, "--username", "dev:{{SessionName}}", "-g", "devs", "--name", "dev"},
			wantOut: []string{"ramidentitymapping.ramauthenticator.k8s.alibabacloud/dev created"}},
		{name: "duplicate", cmd: "kubectl-ack_map", args: []string{"add", "--arn", "acs:ram::1234567890:ROLE/Dev", "--username", "x"},
			wantCode: 1, wantErr: []string{"Error:", "already maps"}},
		{name: "as a kubectl plugin", cmd: "kubectl", args: []string{"ack-map", "list"}, wantOut: []string{"NAME", "dev", role, "devs"}},
		{name: "kubectl sees the object", cmd: "kubectl", args: []string{"get", "ramidentitymappings", "-o", "name"},
			wantOut: []string{"ramidentitymapping.ramauthenticator.k8s.alibabacloud/dev"}},
		{name: "explain mapped", cmd: "kubectl-ack_map", args: []string{"explain", "--arn", "acs:ram::1234567890:assumed-role/dev/a@b"},
			wantOut: []string{"Username:       dev:a-b"}},
		{name: "explain not mapped exits 3", cmd: "kubectl-ack_map", args: []string{"explain", "--arn", "acs:ram::1234567890:user/nobody"},
			wantCode: 3, wantOut: []string{"not mapped:"}},
		{name: "krew completion script", cmd: "kubectl_complete-ack_map", args: []string{"get", "d"}, wantOut: []string{"dev\t" + role}},
		{name: "kubectl completes through the plugin", cmd: "kubectl", args: []string{"__complete", "ack-map", "delete", ""}, wantOut: []string{"dev"}},
		{name: "delete refuses without a terminal", cmd: "kubectl-ack_map", args: []string{"delete", "dev"},
			wantCode: 2, wantErr: []string{"stdin is not a terminal", "--yes"}},
		{name: "delete", cmd: "kubectl-ack_map", args: []string{"delete", "dev", "--yes"}, wantOut: []string{"dev deleted"}},
		{name: "list empty", cmd: "kubectl-ack_map", args: []string{"list"}, wantErr: []string{"No resources found"}},
		{name: "bad flag", cmd: "kubectl-ack_map", args: []string{"list", "--nope"}, wantCode: 2, wantErr: []string{"unknown flag: --nope"}},
		{name: "usage line names kubectl", cmd: "kubectl-ack_map", args: []string{"list", "--help"}, wantOut: []string{"kubectl ack-map list [--arn ARN]"}},
		{name: "did you mean", cmd: "kubectl-ack_map", args: []string{"lsit"}, wantCode: 2, wantErr: []string{`unknown command "lsit" for "kubectl ack-map"`, "Did you mean this?\n\tlist"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			p := run(t, s.cmd, s.args...)
			if p.code != s.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", p.code, s.wantCode, p.stdout, p.stderr)
			}
			for _, w := range s.wantOut {
				if !strings.Contains(p.stdout, w) {
					t.Errorf("stdout does not contain %q:\n%s\nstderr:\n%s", w, p.stdout, p.stderr)
				}
			}
			for _, w := range s.wantErr {
				if !strings.Contains(p.stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, p.stderr)
				}
			}
		})
	}
}
