package harness

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// AuthenticatorRunner runs ack-ram-authenticator around kube-apiserver's start: kube-apiserver
// needs the webhook kubeconfig when it starts, and the authenticator's CRD backend needs
// kube-apiserver.
type AuthenticatorRunner interface {
	// BeforeAPIServer returns the webhook kubeconfig kube-apiserver starts with.
	BeforeAPIServer(ctx context.Context, s *Stack) (webhookKubeconfig string, err error)
	// AfterAPIServer runs once kube-apiserver serves and the CRD is installed, and returns when
	// the authenticator is ready.
	AfterAPIServer(ctx context.Context, s *Stack) error
}

// InitThenServe is the default: `init -c FILE` writes the certificate and the webhook
// kubeconfig, then `server -c FILE` starts once kube-apiserver runs.
type InitThenServe struct{}

// BeforeAPIServer implements AuthenticatorRunner.
func (InitThenServe) BeforeAPIServer(ctx context.Context, s *Stack) (string, error) {
	return s.initAuthenticator(ctx)
}

// AfterAPIServer implements AuthenticatorRunner.
func (InitThenServe) AfterAPIServer(ctx context.Context, s *Stack) error {
	return s.startAuthenticator(ctx)
}

// SelfInit starts `server -c FILE` first, on an empty state directory, without init: the
// server writes its certificate and the webhook kubeconfig itself, and kube-apiserver starts
// with that kubeconfig.
type SelfInit struct {
	p *process
}

// BeforeAPIServer implements AuthenticatorRunner.
func (r *SelfInit) BeforeAPIServer(ctx context.Context, s *Stack) (string, error) {
	kubeconfig, err := s.writeAuthenticatorConfig()
	if err != nil {
		return "", err
	}
	if r.p, err = s.launchAuthenticator(); err != nil {
		return "", err
	}
	err = poll(ctx, "the webhook kubeconfig written by ack-ram-authenticator server", 30*time.Second, r.p, func(context.Context) (bool, error) {
		_, err := os.Stat(kubeconfig)
		return err == nil, err
	})
	return kubeconfig, err
}

// AfterAPIServer implements AuthenticatorRunner.
func (r *SelfInit) AfterAPIServer(ctx context.Context, s *Stack) error {
	return s.waitAuthenticator(ctx, r.p, filepath.Join(s.Dir, "authenticator", "state", "cert.pem"))
}

func (o Options) authenticator() AuthenticatorRunner {
	switch {
	case o.NoAuthenticator:
		return nil
	case o.Authenticator != nil:
		return o.Authenticator
	}
	return InitThenServe{}
}

// Process is a child started with StartProcess; the stack stops it on Close.
type Process struct{ p *process }

// StartProcess starts a long-running child (stdout and stderr in LogFile(name)) that the stack
// stops on Close, with the stack's child environment plus env.
func (s *Stack) StartProcess(name string, env []string, bin string, args ...string) (*Process, error) {
	p, err := startProcess(name, filepath.Join(s.Dir, "logs"), childEnv(append([]string{s.pathEnv()}, env...)...), nil, bin, args...)
	if err != nil {
		return nil, err
	}
	s.add(p)
	return &Process{p: p}, nil
}

// WaitAuthenticator waits until AuthenticatorURL/readyz answers 200 over TLS trusting certFile,
// failing early (with the log tail) when p exits.
func (s *Stack) WaitAuthenticator(ctx context.Context, p *Process, certFile string) error {
	if p == nil {
		return errors.New("no process")
	}
	return s.waitAuthenticator(ctx, p.p, certFile)
}

// WaitFile waits until path exists, failing early when p exits.
func (s *Stack) WaitFile(ctx context.Context, p *Process, path string, timeout time.Duration) error {
	return poll(ctx, "file "+path, timeout, p.p, func(context.Context) (bool, error) {
		_, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("%s does not exist yet", path)
		}
		return err == nil, err
	})
}

// Wait waits until the process exits and returns how (nil for exit status 0), with the tail of
// its log on failure.
func (p *Process) Wait(ctx context.Context, timeout time.Duration) error {
	select {
	case <-p.p.done:
	case <-time.After(timeout):
		return fmt.Errorf("%s still runs after %s; log %s:\n%s", p.p.name, timeout, p.p.logFile, p.p.tail(30))
	case <-ctx.Done():
		return ctx.Err()
	}
	if p.p.waitErr != nil {
		return fmt.Errorf("%s: %w; log %s:\n%s", p.p.name, p.p.waitErr, p.p.logFile, p.p.tail(30))
	}
	return nil
}
