//go:build unix

package main

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
)

// Ctrl-C while a command waits for the cloud ends it at once with exit code 130.
func TestInterruptExitsWith130(t *testing.T) {
	srv := emulatortest.Start(t)
	info := srv.Info()
	// An STS endpoint that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	p := start(t, env(t, info, t.TempDir(), "ALIBABA_CLOUD_STS_ENDPOINT="+ln.Addr().String()), "whoami")
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		t.Fatalf("whoami never reached STS; stderr %q", p.stderr.String())
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want code 130 (stderr %q)", err, p.stderr.String())
	}
	if !strings.HasPrefix(p.stderr.String(), "Interrupted") || p.stdout.Len() != 0 {
		t.Fatalf("stdout %q stderr %q, want only an Interrupted line", p.stdout.String(), p.stderr.String())
	}
}
