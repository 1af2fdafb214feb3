// Command demo is `make demo` and `make demo-up`. `make demo` starts the emulator, etcd,
// kube-apiserver and ack-ram-authenticator on loopback (package harness) and walks through the
// main job of kubectl-ack, printing each command and its output as a terminal would, then tears
// everything down; it exits non-zero when any step does not behave as shown. With -up
// (`make demo-up`) it starts the same stack, prints the shell lines to use it by hand, and stays
// up until interrupted (Ctrl-C or `make demo-down`). Either way Ctrl-C reports "interrupted" and
// exits 130.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// EnvStarted is set by hack/demo.sh to the time (Unix nanoseconds) it started, before any build,
// so the demo's timing lines include the build.
const EnvStarted = "DEMO_STARTED_NS"

func main() {
	keep := flag.Bool("keep", false, "keep the working directory (certificates, logs) after the demo")
	up := flag.Bool("up", false, "start the stack, print the shell lines to use it and stay up until interrupted (make demo-up)")
	dir := flag.String("dir", "", "with -up: the working directory, holding env.sh and demo.pid (default: a temporary one)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	clock := newTimer(os.Getenv(EnvStarted))
	var err error
	if *up {
		err = stayUp(ctx, os.Stdout, *dir, clock)
	} else {
		err = run(ctx, os.Stdout, *keep, clock)
	}
	switch {
	case *up && err == nil:
		fmt.Fprintln(os.Stderr, "\ndemo-up: stopped; everything was stopped and cleaned up")
	case ctx.Err() != nil:
		// A signal is the user's choice, not a failure.
		fmt.Fprintf(os.Stderr, "\ndemo: interrupted after %s; everything was stopped\n", clock.total())
		os.Exit(130)
	case err != nil:
		fmt.Fprintf(os.Stderr, "demo: FAILED: %v\n", err)
		os.Exit(1)
	}
}

// timer tells how long the demo took, from hack/demo.sh's start when it is known (so the build
// counts) and from the program's start otherwise.
type timer struct {
	start    time.Time // hack/demo.sh's start, or the program's
	program  time.Time // the program's start: what came before was building
	stackUp  time.Time
	withMake bool
}

func newTimer(startedNS string) *timer {
	now := time.Now()
	t := &timer{start: now, program: now}
	if ns, err := strconv.ParseInt(startedNS, 10, 64); err == nil && ns > 0 && ns <= now.UnixNano() {
		t.start, t.withMake = time.Unix(0, ns), true
	}
	return t
}

func round(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }

func (t *timer) total() time.Duration { return round(time.Since(t.start)) }

// upLine says how long starting took, and the build before it when known.
func (t *timer) upLine() string {
	t.stackUp = time.Now()
	line := fmt.Sprintf("Up in %s", round(t.stackUp.Sub(t.program)))
	if t.withMake {
		line += fmt.Sprintf(" (after %s of building)", round(t.program.Sub(t.start)))
	}
	return line
}

// doneLine splits the whole run into building, starting and the walk-through.
func (t *timer) doneLine() string {
	walk := round(time.Since(t.stackUp))
	if !t.withMake {
		return fmt.Sprintf("The demo took %s: %s starting the stack, %s walking through (build time not included: run it with make demo).",
			t.total(), round(t.stackUp.Sub(t.program)), walk)
	}
	return fmt.Sprintf("The demo took %s in all: %s building, %s starting the stack, %s walking through.",
		t.total(), round(t.program.Sub(t.start)), round(t.stackUp.Sub(t.program)), walk)
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

func run(ctx context.Context, out io.Writer, keep bool, clock *timer) (err error) {
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
		if err != nil && ctx.Err() == nil {
			s.KeepDir()
			fmt.Fprintf(os.Stderr, "\nprocess logs (kept in %s):\n%s", s.Dir, s.Logs(25))
		}
		s.Close()
		if err == nil {
			fmt.Fprintf(out, "\nEverything stopped and cleaned up. %s\n", clock.doneLine())
		}
	}()
	d := &demo{ctx: ctx, out: out, stack: s, bold: isTerminal(out)}
	fmt.Fprintf(out, "%s. Account %s, ACK cluster %s, API server %s.\n",
		clock.upLine(), s.AccountID, s.ClusterID, s.APIServerURL)
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
	if err := d.fails(ops, "NoPermission", "kubectl", "ack-rrsa", "assume-role", "--service-account", "demo/other", "-r", "demo-app"); err != nil {
		return err
	}
	if err := d.doctor(ops); err != nil {
		return err
	}
	d.say("undo: demo/app was the only service account the role trusted, so the role goes, and so does the annotation")
	_, err = d.ok(ops, "kubectl", "ack-rrsa", "disassociate-role", "-r", "demo-app", "-n", "demo", "-s", "app",
		"--annotate-service-account", "--delete-role", "-y")
	return err
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
