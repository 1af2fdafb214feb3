package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// envRunMain makes the test binary run main() instead of the tests, so the tests can run the
// plugin as a process (signals, exit codes) without building it separately.
const envRunMain = "KUBECTL_ACK_RRSA_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		return
	}
	emulatortest.Main(m)
}

// start runs the plugin with args as a process whose credentials and endpoints are the
// emulator's.
func start(t *testing.T, info emulator.Info, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append(args, "--region-id", info.RegionID,
		"--cs-endpoint", info.Endpoint, "--ram-endpoint", info.Endpoint, "--sts-endpoint", info.Endpoint)...)
	cmd.Env = []string{
		envRunMain + "=1",
		"HOME=" + t.TempDir(),
		"SSL_CERT_FILE=" + os.Getenv("SSL_CERT_FILE"),
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + info.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + info.AccessKeySecret,
		"KUBECONFIG=" + t.TempDir() + "/none",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// The process exits 0 on success, 1 on an error, 2 on a command-line mistake, and prints the
// error once.
func TestExitCodes(t *testing.T) {
	srv := emulatortest.Start(t)
	info := srv.Info()
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "ok", args: []string{"version", "-o", "json"}, stdout: `"name": "kubectl ack-rrsa"`},
		{name: "usage", args: []string{"status", "extra"}, code: 2, stderr: `Error: unexpected argument "extra"`},
		{name: "usage: no terminal and no -y", args: []string{"disable", "-c", "c0"}, code: 2, stderr: "pass -y/--yes"},
		{name: "error", args: []string{"status", "-c", "cnosuchcluster"}, code: 1, stderr: "Error: cluster cnosuchcluster not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, stdout, stderr := start(t, info, tt.args...)
			code := exitCode(t, cmd.Wait())
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if tt.code != 0 && strings.Count(stderr.String(), "Error:") != 1 {
				t.Errorf("error not printed exactly once:\n%s", stderr)
			}
		})
	}
}

// Ctrl-C (SIGINT) while `enable` waits for its cluster task exits 130 and says that the task
// keeps running in the cloud.
func TestInterruptExits130(t *testing.T) {
	seed, err := emulator.DefaultSeed()
	if err != nil {
		t.Fatal(err)
	}
	seed.Clusters[0].RRSA.Enabled = false
	seed.Clusters[0].TaskDuration = emulator.Duration(time.Hour)
	srv := emulatortest.Start(t, emulatortest.WithSeed(seed))
	id := seed.Clusters[0].ID
	cmd, _, stderr := start(t, srv.Info(), "enable", "-y", "--poll-interval", "10ms", "-c", id)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for srv.Calls("cs", "DescribeTaskInfo") < 2 {
		select {
		case err := <-done:
			t.Fatalf("enable ended before the interrupt: %v\n%s", err, stderr)
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatal("the task was never polled")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("enable did not stop after SIGINT")
	}
	if code := exitCode(t, err); code != 130 || !strings.Contains(stderr.String(), "Interrupted: ") ||
		!strings.Contains(stderr.String(), "keeps running in the cloud") {
		t.Fatalf("exit %d, stderr:\n%s\nwant 130 and a note that the task keeps running", code, stderr)
	}
}
