// Command demo is `make demo`: it starts the emulator, etcd, kube-apiserver and
// ack-ram-authenticator on loopback (package harness) and walks through the main job of
// kubectl-ack, printing each command and its output as a terminal would, then tears everything
// down. It exits non-zero when any step does not behave as shown.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

func main() {
	keep := flag.Bool("keep", false, "keep the working directory (certificates, logs) after the demo")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "demo: FAILED: %v\n", err)
		stop()
		os.Exit(1)
	}
}

// demo holds what the steps share.
type demo struct {
	ctx   context.Context
	out   io.Writer
	stack *harness.Stack
	step  int
	bold  bool
}

func (d *demo) section(title string) {
	d.step++
	if d.bold {
		fmt.Fprintf(d.out, "\n\033[1m== %d. %s ==\033[0m\n\n", d.step, title)
		return
	}
	fmt.Fprintf(d.out, "\n== %d. %s ==\n\n", d.step, title)
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "# "+format+"\n", args...)
}

// ok runs a command that must succeed.
func (d *demo) ok(u *harness.User, name string, args ...string) (*harness.Result, error) {
	r := u.Run(d.ctx, name, args...)
	return r, r.Err()
}

// fails runs a command that must fail with want in its stderr.
func (d *demo) fails(u *harness.User, want string, name string, args ...string) error {
	r := u.Run(d.ctx, name, args...)
	if r.ExitCode == 0 || r.TimedOut || !strings.Contains(r.Stderr, want) {
		return fmt.Errorf("expected %q to fail with %q:\n%s", r.Command, want, r)
	}
	return nil
}

func run(ctx context.Context, out io.Writer, keep bool) (err error) {
	start := time.Now()
	fmt.Fprintln(out, "Starting ack-emulator (STS, RAM, CS), etcd, kube-apiserver and ack-ram-authenticator on 127.0.0.1 ...")
	s, err := harness.Start(ctx, harness.Options{
		KeepDir: keep,
		Roles:   []string{"dev"},
		Logf:    func(format string, args ...any) { fmt.Fprintf(out, "  %s\n", fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.KeepDir()
			fmt.Fprintf(os.Stderr, "\nprocess logs (kept in %s):\n%s", s.Dir, s.Logs(25))
		}
		s.Close()
		if err == nil {
			fmt.Fprintf(out, "\nEverything stopped and cleaned up. The demo took %s.\n", time.Since(start).Round(100*time.Millisecond))
		}
	}()
	d := &demo{ctx: ctx, out: out, stack: s, bold: isTerminal(out)}
	fmt.Fprintf(out, "Up in %s. Account %s, ACK cluster %s, API server %s.\n",
		time.Since(start).Round(100*time.Millisecond), s.AccountID, s.ClusterID, s.APIServerURL)
	return d.walk()
}

func (d *demo) walk() error {
	s := d.stack
	admin := s.Admin()
	admin.Echo, admin.Prompt = d.out, "admin$"
	alice, err := s.CreateRAMUser(d.ctx, "alice")
	if err != nil {
		return err
	}
	aliceTerm, err := s.NewUser("alice", alice.AccessKeyID, alice.AccessKeySecret)
	if err != nil {
		return err
	}
	aliceTerm.Echo, aliceTerm.Prompt = d.out, "alice$"
	userARN := "acs:ram::" + s.AccountID + ":user/alice"
	roleARN := "acs:ram::" + s.AccountID + ":role/dev"

	d.section("Alice's Alibaba Cloud identity (credentials in ~/.alibabacloud/credentials)")
	if _, err := d.ok(aliceTerm, "kubectl", "ack-login", "whoami"); err != nil {
		return err
	}

	d.section("The cluster admin maps RAM identities to Kubernetes users and groups")
	steps := [][]string{
		{"ack-map", "add", "--arn", userARN, "--username", "alice", "--group", "readers"},
		{"ack-map", "add", "--arn", roleARN, "--username", "dev:{{SessionName}}", "--group", "readers", "--group", "developers"},
		{"ack-map", "list"},
		{"create", "clusterrole", "namespace-reader", "--verb=get,list,watch", "--resource=namespaces"},
		{"create", "clusterrolebinding", "readers", "--clusterrole=namespace-reader", "--group=readers"},
	}
	for _, args := range steps {
		if _, err := d.ok(admin, "kubectl", args...); err != nil {
			return err
		}
	}

	d.section("Alice writes a token-mode kubeconfig and uses kubectl")
	if _, err := d.ok(aliceTerm, "kubectl", "ack-login", "kubeconfig", "--cluster-id", s.ClusterID, "--mode", "token"); err != nil {
		return err
	}
	d.say("kubectl runs kubectl-ack_login for a k8s-ack-v2 token; kube-apiserver asks ack-ram-authenticator, which verifies it with STS")
	// The authenticator learns mappings through an informer: the first call may race it.
	if err := d.retry(aliceTerm, "get", "ns"); err != nil {
		return err
	}
	if _, err := d.ok(aliceTerm, "kubectl", "auth", "whoami"); err != nil {
		return err
	}

	d.section("Alice assumes the RAM role dev: the mapping's {{SessionName}} template names her")
	if _, err := d.ok(aliceTerm, "kubectl", "ack-login", "kubeconfig", "--cluster-id", s.ClusterID, "--mode", "token",
		"--role-arn", roleARN, "--role-session-name", "alice@example.com", "--context-name", "dev"); err != nil {
		return err
	}
	if _, err := d.ok(aliceTerm, "kubectl", "auth", "whoami"); err != nil {
		return err
	}
	if _, err := d.ok(admin, "kubectl", "ack-map", "explain", "--arn", "acs:ram::"+s.AccountID+":assumed-role/dev/alice@example.com"); err != nil {
		return err
	}

	d.section("Bob has no mapping: the API server refuses him")
	bob, err := s.CreateRAMUser(d.ctx, "bob")
	if err != nil {
		return err
	}
	bobTerm, err := s.NewUser("bob", bob.AccessKeyID, bob.AccessKeySecret)
	if err != nil {
		return err
	}
	bobTerm.Echo, bobTerm.Prompt = d.out, "bob$"
	if _, err := d.ok(bobTerm, "kubectl", "ack-login", "kubeconfig", "--cluster-id", s.ClusterID); err != nil {
		return err
	}
	if err := d.fails(bobTerm, "You must be logged in to the server", "kubectl", "get", "ns"); err != nil {
		return err
	}

	d.section("RRSA: give the pods of a service account a RAM role")
	ops, err := s.NewUser("ops", s.Emulator.AccessKeyID, s.Emulator.AccessKeySecret)
	if err != nil {
		return err
	}
	ops.Echo, ops.Prompt = d.out, "ops$"
	d.say("the account admin uses a certificate-mode kubeconfig (client certificate from the CS API)")
	if _, err := d.ok(ops, "kubectl", "ack-login", "kubeconfig", "--cluster-id", s.ClusterID, "--mode", "certificate"); err != nil {
		return err
	}
	if _, err := d.ok(admin, "kubectl", "create", "clusterrolebinding", "ops-admin", "--clusterrole=cluster-admin", "--user="+s.Emulator.UserID); err != nil {
		return err
	}
	// RBAC learns the binding through a watch: wait until it is in force, silently.
	if err := d.quietly(ops, func(r *harness.Result) bool { return strings.TrimSpace(r.Stdout) == "yes" },
		"auth", "can-i", "create", "namespaces"); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"ack-rrsa", "status"},
		{"ack-rrsa", "enable", "-y", "--poll-interval", "200ms"},
		{"ack-rrsa", "status"},
		{"create", "namespace", "demo"},
		{"ack-rrsa", "associate-role", "-r", "demo-app", "-n", "demo", "-s", "app", "--create-role-if-not-exist", "--annotate-service-account", "-y"},
		{"ack-rrsa", "list-associations", "-r", "demo-app"},
		{"ack-rrsa", "assume-role", "--service-account", "demo/app", "-r", "demo-app"},
	} {
		if _, err := d.ok(ops, "kubectl", args...); err != nil {
			return err
		}
	}
	d.say("a service account the role does not trust is refused by STS")
	if _, err := d.ok(ops, "kubectl", "create", "serviceaccount", "other", "-n", "demo"); err != nil {
		return err
	}
	return d.fails(ops, "NoPermission", "kubectl", "ack-rrsa", "assume-role", "--service-account", "demo/other", "-r", "demo-app")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// retry runs kubectl args until it succeeds (a new mapping takes a moment to reach the
// authenticator's informer), showing only the successful run.
func (d *demo) retry(u *harness.User, args ...string) error {
	if err := d.quietly(u, func(r *harness.Result) bool { return r.Err() == nil }, args...); err != nil {
		return err
	}
	_, err := d.ok(u, "kubectl", args...)
	return err
}

// quietly polls kubectl args, unechoed, until done accepts the result or 30 s pass.
func (d *demo) quietly(u *harness.User, done func(*harness.Result) bool, args ...string) error {
	echo := u.Echo
	u.Echo = nil
	defer func() { u.Echo = echo }()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		r := u.Run(d.ctx, "kubectl", args...)
		if done(r) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still not as expected after 30s:\n%s", r)
		}
		select {
		case <-d.ctx.Done():
			return errors.Join(d.ctx.Err(), r.Err())
		case <-tick.C:
		}
	}
}
