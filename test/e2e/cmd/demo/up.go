package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// Files of a `make demo-up` stack in its working directory.
const (
	pidFileName = "demo.pid" // the process to signal to stop it (make demo-down)
	envFileName = "env.sh"   // the export lines, for `source`
)

// stayUp starts the stack, prints how to use it by hand and waits until ctx ends (Ctrl-C, or
// SIGTERM from make demo-down), then stops everything and removes the working directory.
func stayUp(ctx context.Context, out io.Writer, dir string, clock *timer) error {
	if dir != "" {
		if err := claimDir(dir); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "Starting ack-emulator (STS, RAM, CS), etcd, kube-apiserver and ack-ram-authenticator on 127.0.0.1 ...")
	s, err := harness.Start(ctx, harness.Options{
		Dir:   dir,
		Roles: []string{"dev"},
		Logf:  func(format string, args ...any) { fmt.Fprintf(out, "  %s\n", fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return err
	}
	defer func() {
		s.Close()
		_ = os.RemoveAll(s.Dir)
	}()
	if err := grantRAMAdmin(ctx, s); err != nil {
		return err
	}
	envFile := filepath.Join(s.Dir, envFileName)
	if err := s.WriteEnvFile(envFile); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.Dir, pidFileName), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return err
	}
	printUsage(out, s, envFile, clock)
	<-ctx.Done()
	return nil
}

// claimDir makes dir ready for a new stack: it refuses while another demo-up stack lives there
// and clears what a stopped one left behind, but never a directory that is not a demo stack's.
func claimDir(dir string) error {
	if b, err := os.ReadFile(filepath.Join(dir, pidFileName)); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 && syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("a demo stack is already up in %s (process %d): use it, or stop it with make demo-down", dir, pid)
		}
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o700)
	case err != nil:
		return err
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, envFileName)); err != nil {
		return fmt.Errorf("%s is not empty and is not a demo stack's directory: choose another -dir", dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o700)
}

// grantRAMAdmin lets the emulated account's admin RAM user administer the cluster both ways it
// can log in: with a client certificate (certificate mode, CN = the user id) and with a token
// (token mode, through a RAMIdentityMapping to the same user name).
func grantRAMAdmin(ctx context.Context, s *harness.Stack) error {
	admin := s.Admin()
	for _, args := range [][]string{
		{"create", "clusterrolebinding", "demo-ram-admin", "--clusterrole=cluster-admin", "--user=" + s.Emulator.UserID},
		{"ack-map", "add", "--arn", "acs:ram::" + s.AccountID + ":user/" + s.Emulator.UserName, "--username", s.Emulator.UserID},
	} {
		if err := admin.Kubectl(ctx, args...).Err(); err != nil {
			return err
		}
	}
	return nil
}

func printUsage(out io.Writer, s *harness.Stack, envFile string, clock *timer) {
	fmt.Fprintf(out, "\n%s. Account %s, ACK cluster %s, API server %s.\n", clock.upLine(), s.AccountID, s.ClusterID, s.APIServerURL)
	fmt.Fprintf(out, "\nTo use it, run these lines in your shell (or: source %s):\n\n%s", envFile, s.ExportLines())
	fmt.Fprintf(out, `
Then, for example:
  kubectl get namespaces                                   # as the cluster admin (client certificate)
  kubectl ack-login whoami                                 # the RAM admin, from the access key above
  kubectl ack-rrsa status -c %[1]s
  kubectl ack-rrsa enable -c %[1]s -y
  kubectl ack-login kubeconfig --cluster-id %[1]s --mode token   # log in as the RAM admin (token mode)

The stack stays up until Ctrl-C here or make demo-down. Logs: %[2]s
`, s.ClusterID, filepath.Join(s.Dir, "logs"))
}
