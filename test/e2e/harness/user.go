package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// User is a person at a terminal: their own HOME (kubeconfig, ack-login cache, Alibaba Cloud
// credentials file), the project binaries first on PATH so `kubectl ack-login` resolves as a
// kubectl plugin, the emulator's CA as SSL_CERT_FILE and the emulator as every cloud endpoint.
type User struct {
	stack *Stack
	// Name labels the user in logs.
	Name string
	// Home is the user's HOME.
	Home string
	// Echo, when set, receives every command ("$ kubectl ...") and its output, as a terminal
	// would show them.
	Echo io.Writer
	// Prompt precedes echoed commands (default "$").
	Prompt  string
	env     []string
	timeout time.Duration
}

// NewUser makes a user whose ~/.alibabacloud/credentials holds the access key (no key: no file).
func (s *Stack) NewUser(name, accessKeyID, accessKeySecret string) (*User, error) {
	s.mu.Lock()
	s.users++
	n := s.users
	s.mu.Unlock()
	home := filepath.Join(s.Dir, "users", fmt.Sprintf("%02d-%s", n, name))
	if err := os.MkdirAll(filepath.Join(home, ".alibabacloud"), 0o700); err != nil {
		return nil, err
	}
	if accessKeyID != "" {
		ini := fmt.Sprintf("[default]\ntype = access_key\naccess_key_id = %s\naccess_key_secret = %s\n", accessKeyID, accessKeySecret)
		if err := writeFile(filepath.Join(home, ".alibabacloud", "credentials"), []byte(ini), 0o600); err != nil {
			return nil, err
		}
	}
	u := &User{stack: s, Name: name, Home: home, timeout: 60 * time.Second}
	u.env = childEnv(s.pathEnv(), "HOME="+home,
		"SSL_CERT_FILE="+s.Emulator.CAFile,
		"ALIBABA_CLOUD_REGION_ID="+s.Emulator.RegionID,
		"ALIBABA_CLOUD_STS_ENDPOINT="+s.Emulator.Endpoint,
		"ALIBABA_CLOUD_RAM_ENDPOINT="+s.Emulator.Endpoint,
		"ALIBABA_CLOUD_CS_ENDPOINT="+s.Emulator.Endpoint)
	return u, nil
}

// WriteCredentials replaces ~/.alibabacloud/credentials (an INI file, 0600), e.g. with a
// ram_role_arn profile.
func (u *User) WriteCredentials(ini string) error {
	return writeFile(filepath.Join(u.Home, ".alibabacloud", "credentials"), []byte(ini), 0o600)
}

// Kubeconfig is the user's default kubeconfig (~/.kube/config).
func (u *User) Kubeconfig() string { return filepath.Join(u.Home, ".kube", "config") }

// SetTimeout bounds every later command of this user.
func (u *User) SetTimeout(d time.Duration) { u.timeout = d }

// Setenv adds or replaces an environment variable of the user's commands.
func (u *User) Setenv(key, value string) {
	out := u.env[:0:0]
	for _, kv := range u.env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	u.env = append(out, key+"="+value)
}

// Result is a finished command.
type Result struct {
	// Command is the command line as typed.
	Command  string
	Stdout   string
	Stderr   string
	ExitCode int
	Elapsed  time.Duration
	// TimedOut is set when the command was killed at the user's timeout.
	TimedOut bool
	// StartErr is set when the command could not be started.
	StartErr error
	combined string
}

// lockedBuffer is a bytes.Buffer written by the stdout and stderr copiers at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Err is nil for a command that exited 0, else an error carrying the command and its output.
func (r *Result) Err() error {
	switch {
	case r.StartErr != nil:
		return fmt.Errorf("$ %s: %w", r.Command, r.StartErr)
	case r.TimedOut:
		return fmt.Errorf("$ %s: %w after %s\nstdout:\n%s\nstderr:\n%s", r.Command, errTimeout, r.Elapsed.Round(time.Millisecond), r.Stdout, r.Stderr)
	case r.ExitCode != 0:
		return fmt.Errorf("$ %s: exit code %d\nstdout:\n%s\nstderr:\n%s", r.Command, r.ExitCode, r.Stdout, r.Stderr)
	}
	return nil
}

// String shows the command and its output.
func (r *Result) String() string {
	return fmt.Sprintf("$ %s (exit %d, %s)\nstdout:\n%s\nstderr:\n%s", r.Command, r.ExitCode, r.Elapsed.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// Run runs a binary from the project's bin/ or the Kubernetes bin directory (or a path) with the
// user's environment and stdin empty, killing its process group at the user's timeout.
func (u *User) Run(ctx context.Context, name string, args ...string) *Result {
	return u.RunInput(ctx, nil, name, args...)
}

// RunInput is Run with stdin.
func (u *User) RunInput(ctx context.Context, stdin []byte, name string, args ...string) *Result {
	r := &Result{Command: displayCommand(name, args)}
	bin, err := u.stack.resolve(name)
	if err == nil {
		err = u.stack.checkPlugin(name, args)
	}
	if err != nil {
		r.StartErr, r.ExitCode = err, -1
		u.echo(r)
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = u.env
	cmd.Dir = u.Home
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	// combined keeps the interleaving a terminal would show, for Echo.
	combined := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&stdout, combined), io.MultiWriter(&stderr, combined)
	// kubectl runs the plugins as children: kill the whole group on timeout so none lingers.
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	r.Elapsed = time.Since(start)
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	r.combined = combined.String()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.TimedOut, r.ExitCode = true, -1
	case errors.As(err, &exit):
		r.ExitCode = exit.ExitCode()
	case err != nil:
		r.StartErr, r.ExitCode = err, -1
	}
	u.echo(r)
	return r
}

// Kubectl runs kubectl with args.
func (u *User) Kubectl(ctx context.Context, args ...string) *Result {
	return u.Run(ctx, "kubectl", args...)
}

func (u *User) echo(r *Result) {
	if u.Echo == nil {
		return
	}
	prompt := u.Prompt
	if prompt == "" {
		prompt = "$"
	}
	fmt.Fprintf(u.Echo, "%s %s\n", prompt, r.Command)
	if r.StartErr != nil {
		fmt.Fprintln(u.Echo, r.StartErr)
	}
	if r.combined != "" {
		fmt.Fprint(u.Echo, ensureNewline(r.combined))
	}
	if r.ExitCode != 0 {
		fmt.Fprintf(u.Echo, "(exit code %d)\n", r.ExitCode)
	}
	fmt.Fprintln(u.Echo)
}

func ensureNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

// resolve finds a binary by name in bin/ then the Kubernetes bin directory; names with a slash
// are paths. The parent's PATH is never used, so no other kubectl can stand in.
func (s *Stack) resolve(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, d := range []string{s.Paths.Bin, s.Paths.KubeBin} {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s or %s: run `make build kube-bins`", name, s.Paths.Bin, s.Paths.KubeBin)
}

// checkPlugin turns kubectl's "unknown command" for a missing project plugin into the hint
// that builds it.
func (s *Stack) checkPlugin(name string, args []string) error {
	if filepath.Base(name) != "kubectl" || len(args) == 0 || !strings.HasPrefix(args[0], "ack-") {
		return nil
	}
	plugin := "kubectl-" + strings.ReplaceAll(args[0], "-", "_")
	if !isExecutable(filepath.Join(s.Paths.Bin, plugin)) {
		return fmt.Errorf("kubectl plugin %s not found in %s (%s): run `make build` in %s", plugin, s.Paths.Bin, EnvBinDir, s.Paths.Repo)
	}
	return nil
}

func displayCommand(name string, args []string) string {
	parts := []string{filepath.Base(name)}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"$`\\|&;<>(){}*?[]#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
