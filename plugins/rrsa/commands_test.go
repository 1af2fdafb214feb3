package rrsa

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

const foreignStatement = `{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}`

var foreignPolicy = `{"Version":"1","Statement":[` + foreignStatement + `]}`

func TestStatus(t *testing.T) {
	tests := []struct {
		name    string
		enabled bool
		args    []string
		check   func(t *testing.T, f *fixture, out string)
	}{
		{name: "enabled json", enabled: true, args: []string{"status", "-o", "json"}, check: func(t *testing.T, f *fixture, out string) {
			var st statusOutput
			if err := json.Unmarshal([]byte(out), &st); err != nil {
				t.Fatal(err)
			}
			want := statusOutput{ClusterID: f.clusterID, ClusterState: "running", Enabled: true, OIDCProviderName: "ack-rrsa-" + f.clusterID,
				OIDCProviderARN: f.oidcArn, Issuer: testIssuer, Issuers: []string{testIssuer}, Audience: "sts.aliyuncs.com"}
			if !reflect.DeepEqual(st, want) {
				t.Errorf("got %+v\nwant %+v", st, want)
			}
		}},
		{name: "disabled text", enabled: false, args: []string{"status"}, check: func(t *testing.T, f *fixture, out string) {
			if !strings.Contains(out, "RRSA feature:") || !strings.Contains(out, "disabled") || strings.Contains(out, "OIDC Provider ARN") {
				t.Errorf("unexpected output:\n%s", out)
			}
		}},
		{name: "enabled yaml", enabled: true, args: []string{"status", "-o", "yaml"}, check: func(t *testing.T, f *fixture, out string) {
			if !strings.Contains(out, "oidcProviderArn: "+f.oidcArn) || !strings.Contains(out, "enabled: true") {
				t.Errorf("unexpected output:\n%s", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(s *emulator.Seed) { s.Clusters[0].RRSA.Enabled = tt.enabled })
			r := f.mustRun(t, tt.args...)
			tt.check(t, f, r.stdout)
		})
	}
}

func TestEnableDisable(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		stdin       string
		seed        func(*emulator.Seed)
		wantErr     string
		wantOut     string
		wantEnabled bool
		wantModify  bool
		timeout     string
		// terminal says stdin is a terminal (stdin is what the user types).
		terminal bool
		code     int
	}{
		{name: "times out", args: []string{"enable", "-y"}, timeout: "200ms",
			seed: func(s *emulator.Seed) {
				s.Clusters[0].RRSA.Enabled = false
				s.Clusters[0].TaskDuration = emulator.Duration(time.Hour)
			},
			wantErr: "timed out after 200ms", wantEnabled: false, wantModify: true},
		{name: "enable waits through several polls", args: []string{"enable", "-y"},
			seed: func(s *emulator.Seed) {
				s.Clusters[0].RRSA.Enabled = false
				s.Clusters[0].TaskDuration = emulator.Duration(200 * time.Millisecond)
			},
			wantOut: "RRSA enabled for cluster", wantEnabled: true, wantModify: true},
		{name: "disable after confirmation", args: []string{"disable"}, stdin: "yes\n", terminal: true,
			wantOut: "RRSA disabled for cluster", wantEnabled: false, wantModify: true},
		{name: "already enabled", args: []string{"enable"}, terminal: true,
			wantOut: "already enabled", wantEnabled: true},
		{name: "already disabled", args: []string{"disable", "-y"},
			seed:    func(s *emulator.Seed) { s.Clusters[0].RRSA.Enabled = false },
			wantOut: "already disabled", wantEnabled: false},
		{name: "declined", args: []string{"disable"}, stdin: "n\n", terminal: true,
			wantErr: "aborted", wantEnabled: true, code: 1},
		// Without a terminal and without -y the command refuses before it reads or changes
		// anything, and says to pass -y (issue 18).
		{name: "no terminal, no -y", args: []string{"disable"}, stdin: "yes\n",
			wantErr: "stdin is not a terminal: pass -y/--yes", wantEnabled: true, code: 2},
		{name: "--dry-run=client", args: []string{"disable", "--dry-run=client"},
			wantEnabled: true},
		{name: "bare --dry-run", args: []string{"disable", "--dry-run"},
			wantEnabled: true},
		{name: "--dry-run=server", args: []string{"disable", "--dry-run=server"},
			wantErr: "no server-side dry run", wantEnabled: true, code: 2},
		// ack-ram-tool's global --assume-yes and --log-level keep its command lines working.
		{name: "ack-ram-tool --assume-yes", args: []string{"disable", "--assume-yes", "--log-level", "info"},
			wantOut: "RRSA disabled for cluster", wantEnabled: false, wantModify: true},
		{name: "bad --log-level", args: []string{"disable", "-y", "--log-level", "loud"},
			wantErr: `invalid --log-level "loud": use error, warn, info or debug`, wantEnabled: true, code: 2},
		{name: "not running", args: []string{"disable", "-y"},
			seed:    func(s *emulator.Seed) { s.Clusters[0].State = "updating" },
			wantErr: `is "updating"`, wantEnabled: true},
		{name: "task fails", args: []string{"enable", "-y"},
			seed: func(s *emulator.Seed) {
				s.Clusters[0].RRSA.Enabled = false
				s.Clusters[0].FailNextTask = true
			},
			wantErr: "ended in state \"fail\"", wantEnabled: false, wantModify: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.seed)
			timeout := tt.timeout
			if timeout == "" {
				timeout = "1m"
			}
			args := append(tt.args, "--poll-interval", "10ms", "--timeout", timeout)
			run := f.run
			if tt.terminal {
				run = f.runTerminal
			}
			r := run(t, tt.stdin, args...)
			if tt.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", r.err, tt.wantErr)
				}
				if tt.code != 0 && r.code != tt.code {
					t.Errorf("exit code %d, want %d", r.code, tt.code)
				}
				// A usage error is found before any cloud call.
				if calls := f.srv.AllCalls(); tt.code == cli.ExitUsage && len(calls["cs"])+len(calls["ram"])+len(calls["sts"]) > 0 {
					t.Errorf("cloud calls before a usage error: %v", calls)
				}
			} else if r.err != nil {
				t.Fatalf("err = %v\n%s", r.err, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.wantOut) {
				t.Errorf("stdout %q lacks %q", r.stdout, tt.wantOut)
			}
			c, _ := f.srv.Cluster(f.clusterID)
			if c.RRSA.Enabled != tt.wantEnabled {
				t.Errorf("RRSA enabled = %v, want %v", c.RRSA.Enabled, tt.wantEnabled)
			}
			if got := f.srv.Calls("cs", "ModifyCluster") > 0; got != tt.wantModify {
				t.Errorf("ModifyCluster called = %v, want %v (calls %v)", got, tt.wantModify, f.srv.AllCalls()["cs"])
			}
			if tt.wantModify && tt.wantErr == "" {
				// Not a terminal: progress comes as plain lines, one per state.
				if !strings.Contains(r.stderr, "is running") || strings.Contains(r.stderr, "\r") {
					t.Errorf("progress lines missing or not plain:\n%q", r.stderr)
				}
				if n := f.srv.Calls("cs", "DescribeTaskInfo"); n < 2 {
					t.Errorf("DescribeTaskInfo polled %d times", n)
				}
			}
		})
	}
}

func TestEnableFailureShowsTaskErrorAndLogs(t *testing.T) {
	f := newFixture(t, func(s *emulator.Seed) {
		s.Clusters[0].RRSA.Enabled = false
		s.Clusters[0].FailNextTask = true
	})
	r := f.run(t, "", "enable", "-y", "--poll-interval", "10ms")
	var fe *taskFailedError
	if !errors.As(r.err, &fe) {
		t.Fatalf("err = %v, want a task failure", r.err)
	}
	if fe.message == "" || len(fe.logs) == 0 {
		t.Errorf("task failure lacks the task error or the cluster log: %+v", fe)
	}
	if !strings.Contains(r.err.Error(), "cluster log:") {
		t.Errorf("error text lacks log lines: %v", r.err)
	}
}

// Ctrl-C (a cancelled context) during the wait says the cloud task keeps running.
func TestEnableInterruptedWhileWaiting(t *testing.T) {
	f := newFixture(t, func(s *emulator.Seed) {
		s.Clusters[0].RRSA.Enabled = false
		s.Clusters[0].TaskDuration = emulator.Duration(time.Hour)
	})
	var out, errOut bytes.Buffer
	cmd := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append([]string{"enable", "-y", "--poll-interval", "10ms"}, f.endpointArgs()...))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for f.srv.Calls("cs", "DescribeTaskInfo") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the task was never polled")
		}
		select {
		case err := <-done:
			t.Fatalf("enable ended before the interrupt: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("enable did not stop after the interrupt")
	}
	if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "keeps running in the cloud") {
		t.Fatalf("err = %v, want an interruption that says the task keeps running", err)
	}
}

// terminalBuffer is a writer that says it is a terminal, as a wrapped pseudo-terminal would.
type terminalBuffer struct{ bytes.Buffer }

func (*terminalBuffer) IsTerminal() bool { return true }

func TestProgressSpinnerOnTerminal(t *testing.T) {
	f := newFixture(t, func(s *emulator.Seed) {
		s.Clusters[0].RRSA.Enabled = false
		s.Clusters[0].TaskDuration = emulator.Duration(400 * time.Millisecond)
	})
	term := &terminalBuffer{}
	r := f.runWith(t, streamsFor("", term), append([]string{"enable", "-y", "--poll-interval", "10ms"}, f.endpointArgs()...)...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.Contains(term.String(), "\r") {
		t.Errorf("no spinner redraws on a terminal: %q", term.String())
	}
}

func TestAssociateRole(t *testing.T) {
	tests := []struct {
		name       string
		seed       func(*emulator.Seed)
		args       []string
		stdin      string
		terminal   bool
		wantErr    string
		wantOut    string
		wantStderr string
		checkTrust func(t *testing.T, f *fixture, doc string)
	}{
		{name: "merge keeps foreign statement", seed: seedRole("app-role", foreignPolicy),
			args: []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "app", "-y"}, wantOut: "Associated RAM role",
			checkTrust: func(t *testing.T, f *fixture, doc string) {
				p := parse(t, doc)
				if len(p.Statement) != 2 || !rrsa.Equal(`{"Statement":[`+string(p.Statement[0])+`]}`, foreignPolicy) {
					t.Errorf("foreign statement not kept first: %s", doc)
				}
				if !rrsa.Contains(p, rrsa.Statement{OIDCProviderARN: f.oidcArn, Issuer: testIssuer, Namespace: "default", ServiceAccount: "app"}) {
					t.Errorf("statement missing: %s", doc)
				}
			}},
		{name: "wildcard uses StringLike", seed: seedRole("app-role", foreignPolicy),
			args: []string{"associate-role", "-r", "app-role", "-n", "team", "-s", "*", "-y"}, wantOut: "Associated",
			checkTrust: func(t *testing.T, f *fixture, doc string) {
				if !strings.Contains(doc, `"StringLike":{"oidc:sub":"system:serviceaccount:team:*"}`) {
					t.Errorf("no StringLike sub: %s", doc)
				}
			}},
		{name: "missing role without create", args: []string{"associate-role", "-r", "nope", "-n", "default", "-s", "app", "-y"},
			wantErr: "--create-role-if-not-exist"},
		{name: "create role", args: []string{"associate-role", "-r", "new-role", "-n", "default", "-s", "app", "-y", "--create-role-if-not-exist"},
			wantOut: "Associated",
			checkTrust: func(t *testing.T, f *fixture, doc string) {
				refs := rrsa.ListAssociations(parse(t, doc), f.oidcArn, testIssuer)
				if len(refs) != 1 || refs[0].String() != "default/app" {
					t.Errorf("refs = %v", refs)
				}
			}},
		{name: "dry run changes nothing", seed: seedRole("app-role", foreignPolicy),
			args:    []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "app", "--dry-run"},
			wantOut: `"oidc:sub": "system:serviceaccount:default:app"`,
			checkTrust: func(t *testing.T, f *fixture, doc string) {
				if !rrsa.Equal(doc, foreignPolicy) {
					t.Errorf("dry run changed the policy: %s", doc)
				}
			}},
		{name: "declined changes nothing", seed: seedRole("app-role", foreignPolicy),
			args: []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "app"}, stdin: "no\n", terminal: true, wantErr: "aborted",
			checkTrust: func(t *testing.T, f *fixture, doc string) {
				if !rrsa.Equal(doc, foreignPolicy) {
					t.Errorf("declined change was written: %s", doc)
				}
			}},
		{name: "--dry-run=client", seed: seedRole("app-role", foreignPolicy),
			args:    []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "app", "--dry-run=client", "--attach-system-policy", "AliyunOSSReadOnlyAccess"},
			wantOut: `"oidc:sub": "system:serviceaccount:default:app"`, wantStderr: `Dry run: system policy "AliyunOSSReadOnlyAccess" would be attached to RAM role "app-role"`,
			checkTrust: func(t *testing.T, f *fixture, doc string) {
				if !rrsa.Equal(doc, foreignPolicy) || f.srv.Calls("ram", "AttachPolicyToRole") != 0 {
					t.Errorf("dry run changed the role: %s", doc)
				}
			}},
		// RAM cannot validate a change without writing it.
		{name: "--dry-run=server refused", seed: seedRole("app-role", foreignPolicy),
			args: []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "app", "--dry-run=server"}, wantErr: "no server-side dry run",
			checkTrust: func(t *testing.T, f *fixture, doc string) {
				if !rrsa.Equal(doc, foreignPolicy) {
					t.Errorf("changed the policy: %s", doc)
				}
			}},
		// No terminal and no -y: refused before anything is read, nothing is asked.
		{name: "no terminal refuses up front", seed: seedRole("app-role", foreignPolicy),
			args: []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "app"}, stdin: "yes\n", wantErr: "pass -y/--yes",
			checkTrust: func(t *testing.T, f *fixture, doc string) {
				if !rrsa.Equal(doc, foreignPolicy) || f.srv.Calls("ram", "GetRole") != 0 {
					t.Errorf("read or changed the role: %s", doc)
				}
			}},
		{name: "rrsa disabled", seed: chain(seedRole("app-role", foreignPolicy), func(s *emulator.Seed) { s.Clusters[0].RRSA.Enabled = false }),
			args: []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "app", "-y"}, wantErr: "RRSA is not enabled"},
		{name: "attach policies", seed: seedRole("app-role", foreignPolicy),
			args: []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "app", "-y",
				"--attach-system-policy", "AliyunOSSReadOnlyAccess", "--attach-system-policy", "AdministratorAccess"},
			wantOut: `Attached system policy "AliyunOSSReadOnlyAccess"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.seed)
			run := f.run
			if tt.terminal {
				run = f.runTerminal
			}
			r := run(t, tt.stdin, tt.args...)
			if tt.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", r.err, tt.wantErr)
				}
			} else if r.err != nil {
				t.Fatalf("err = %v\nstderr:\n%s", r.err, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantOut, r.stdout)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, r.stderr)
			}
			if tt.checkTrust != nil {
				role := tt.args[2]
				tt.checkTrust(t, f, f.trustPolicy(t, role))
			}
		})
	}
}

// A role ARN or an empty -r, and subjects no pod can have, are refused up front with the fix,
// and nothing is created.
func TestRoleNameChecks(t *testing.T) {
	f := newFixture(t, nil)
	roleARN := "acs:ram::" + f.accountID + ":role/app-role"
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"associate with ARN", []string{"associate-role", "-r", roleARN, "-n", "default", "-s", "app", "-y", "--create-role-if-not-exist"},
			"-r/--role-name takes a RAM role name, not an ARN (\"" + roleARN + "\"): use -r app-role"},
		{"disassociate with ARN", []string{"disassociate-role", "-r", roleARN, "-n", "default", "-s", "app", "-y"}, "use -r app-role"},
		{"list with ARN", []string{"list-associations", "-r", roleARN}, "use -r app-role"},
		{"user ARN", []string{"list-associations", "-r", "acs:ram::1:user/bob"}, "not an ARN (\"acs:ram::1:user/bob\"): give the role name"},
		{"empty", []string{"associate-role", "-r", "", "-n", "default", "-s", "app", "-y", "--create-role-if-not-exist"}, "-r/--role-name is empty"},
		// Kubernetes never issues a token for these subjects, so the association could never be used.
		{"capitalised namespace", []string{"associate-role", "-r", "app-role", "-n", "Default", "-s", "app", "-y", "--create-role-if-not-exist"},
			`-n/--namespace "Default" is not a valid namespace name`},
		{"namespace with space", []string{"associate-role", "-r", "app-role", "-n", "my ns", "-s", "app", "-y", "--create-role-if-not-exist"}, "or * for any"},
		{"service account with space", []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "my app", "-y", "--create-role-if-not-exist"},
			`-s/--service-account "my app" is not a valid service account name`},
		{"bad wildcard namespace", []string{"associate-role", "-r", "app-role", "-n", "Team-*", "-s", "*", "-y", "--create-role-if-not-exist"}, `"Team-*" is not a valid namespace name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, "", tt.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", r.err, tt.wantErr)
			}
			if _, ok := f.srv.Role(f.accountID, "app-role"); ok {
				t.Fatal("a role was created")
			}
		})
	}
}

func parse(t *testing.T, doc string) *rrsa.Policy {
	t.Helper()
	p, err := rrsa.ParsePolicy(doc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAssociateTwiceIsNoOp(t *testing.T) {
	f := newFixture(t, seedRole("app-role", foreignPolicy))
	args := []string{"associate-role", "-r", "app-role", "-n", "default", "-s", "app", "-y"}
	f.mustRun(t, args...)
	first := f.trustPolicy(t, "app-role")
	updates := f.srv.Calls("ram", "UpdateRole")
	r := f.mustRun(t, args...)
	if !strings.Contains(r.stdout, "already trusts") {
		t.Errorf("second run output: %s", r.stdout)
	}
	if got := f.srv.Calls("ram", "UpdateRole"); got != updates {
		t.Errorf("UpdateRole calls went from %d to %d", updates, got)
	}
	if f.trustPolicy(t, "app-role") != first {
		t.Error("policy changed on second run")
	}
	// Another service account of the same cluster gets a statement of its own, as ack-ram-tool
	// writes it (it recognises nothing else).
	f.mustRun(t, "associate-role", "-r", "app-role", "-n", "default", "-s", "worker", "-y")
	p := parse(t, f.trustPolicy(t, "app-role"))
	if len(p.Statement) != 3 {
		t.Errorf("want foreign + one statement per service account, got %d", len(p.Statement))
	}
}

func TestDisassociateRole(t *testing.T) {
	f := newFixture(t, seedRole("app-role", foreignPolicy))
	for _, sa := range []string{"app", "worker"} {
		f.mustRun(t, "associate-role", "-r", "app-role", "-n", "default", "-s", sa, "-y")
	}
	r := f.mustRun(t, "disassociate-role", "-r", "app-role", "-n", "default", "-s", "app", "-y")
	if !strings.Contains(r.stdout, "Disassociated") {
		t.Errorf("output: %s", r.stdout)
	}
	p := parse(t, f.trustPolicy(t, "app-role"))
	refs := rrsa.ListAssociations(p, f.oidcArn, testIssuer)
	if len(refs) != 1 || refs[0].String() != "default/worker" {
		t.Errorf("refs after disassociate = %v", refs)
	}
	if !rrsa.Equal(`{"Statement":[`+string(p.Statement[0])+`]}`, foreignPolicy) {
		t.Errorf("foreign statement changed: %s", p.Statement[0])
	}
	r = f.mustRun(t, "disassociate-role", "-r", "app-role", "-n", "default", "-s", "app", "-y")
	if !strings.Contains(r.stdout, "nothing to do") {
		t.Errorf("second disassociate output: %s", r.stdout)
	}
	f.mustRun(t, "disassociate-role", "-r", "app-role", "-n", "default", "-s", "worker", "-y")
	if doc := f.trustPolicy(t, "app-role"); !rrsa.Equal(doc, foreignPolicy) {
		t.Errorf("after removing all: %s", doc)
	}
	// A missing role is an error whose hint fits this command (it has no --create-role-if-not-exist).
	r = f.run(t, "", "disassociate-role", "-r", "no-such-role", "-n", "default", "-s", "app", "-y")
	if r.err == nil || !strings.Contains(r.err.Error(), `RAM role "no-such-role" does not exist: check -r/--role-name`) ||
		strings.Contains(r.err.Error(), "--create-role-if-not-exist") {
		t.Errorf("missing role: err = %v", r.err)
	}
}

func TestListAssociations(t *testing.T) {
	f := newFixture(t, seedRole("app-role", foreignPolicy))
	f.mustRun(t, "associate-role", "-r", "app-role", "-n", "default", "-s", "app", "-y")
	f.mustRun(t, "associate-role", "-r", "app-role", "-n", "team", "-s", "*", "-y")
	r := f.mustRun(t, "list-associations", "-r", "app-role", "-o", "json")
	var out associationsOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	want := []rrsa.ServiceAccountRef{{Namespace: "default", Name: "app"}, {Namespace: "team", Name: "*", Wildcard: true}}
	if !reflect.DeepEqual(out.ServiceAccounts, want) || out.OIDCProviderARN != f.oidcArn {
		t.Errorf("got %+v", out)
	}
	r = f.mustRun(t, "list-associations", "-r", "app-role")
	if !strings.Contains(r.stdout, "NAMESPACE") || !strings.Contains(r.stdout, "pattern") {
		t.Errorf("table:\n%s", r.stdout)
	}
	if r := f.run(t, "", "list-associations", "-r", "app-role", "-o", "xml"); r.err == nil {
		t.Error("want error for -o xml")
	}
}

func TestAssumeRoleWithTokenFile(t *testing.T) {
	f := newFixture(t, seedRole("app-role", foreignPolicy))
	f.mustRun(t, "associate-role", "-r", "app-role", "-n", "default", "-s", "app", "-y")
	roleARN := "acs:ram::" + f.accountID + ":role/app-role"
	dir := t.TempDir()
	write := func(name, tok string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", f.saToken(t, "default", "app"))
	bad := write("bad", f.saToken(t, "default", "other"))

	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantErr bool
		check   func(t *testing.T, out string)
	}{
		{name: "text masked", args: []string{"-t", good}, check: func(t *testing.T, out string) {
			if !strings.Contains(out, "AccessKeyId:") || !strings.Contains(out, "********") || !strings.Contains(out, "Expiration:") {
				t.Errorf("output:\n%s", out)
			}
		}},
		{name: "json show secret", args: []string{"-t", good, "-o", "json", "--show-secret"}, check: func(t *testing.T, out string) {
			var c credentialsOutput
			if err := json.Unmarshal([]byte(out), &c); err != nil {
				t.Fatal(err)
			}
			if c.AccessKeyID == "" || strings.Contains(c.AccessKeySecret, "*") || c.SecurityToken == "" || c.Expiration.IsZero() {
				t.Errorf("credentials: %+v", c)
			}
		}},
		// Scripts read -o json: it carries the secret and token in full without --show-secret.
		{name: "json in full", args: []string{"-t", good, "-o", "json"}, check: func(t *testing.T, out string) {
			var c credentialsOutput
			if err := json.Unmarshal([]byte(out), &c); err != nil {
				t.Fatal(err)
			}
			if len(c.AccessKeySecret) < 20 || strings.Contains(c.AccessKeySecret+c.SecurityToken, "*") || !strings.HasPrefix(c.SecurityToken, "CAIS") {
				t.Errorf("credentials masked in -o json: %+v", c)
			}
		}},
		{name: "text show secret", args: []string{"-t", good, "--show-secret"}, check: func(t *testing.T, out string) {
			if strings.Contains(out, "****") || !strings.Contains(out, "SecurityToken:    CAIS") {
				t.Errorf("output:\n%s", out)
			}
		}},
		{name: "env from stdin", args: []string{"-t", "-", "-o", "env"}, stdin: f.saToken(t, "default", "app"), check: func(t *testing.T, out string) {
			for _, k := range []string{"export ALIBABA_CLOUD_ACCESS_KEY_ID='", "export ALIBABA_CLOUD_ACCESS_KEY_SECRET='", "export ALIBABA_CLOUD_SECURITY_TOKEN='"} {
				if !strings.Contains(out, k) {
					t.Errorf("missing %s in:\n%s", k, out)
				}
			}
		}},
		{name: "not associated", args: []string{"-t", bad}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"assume-role", "-r", roleARN, "-p", f.oidcArn}, tt.args...)
			r := f.run(t, tt.stdin, args...)
			if tt.wantErr {
				if !errors.Is(r.err, cloud.ErrAuth) || !strings.Contains(r.err.Error(), "list-associations") {
					t.Fatalf("err = %v, want an STS authorization failure with a hint", r.err)
				}
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			tt.check(t, r.stdout)
		})
	}
}

func TestSetupAddon(t *testing.T) {
	f := newFixture(t, nil)
	r := f.mustRun(t, "setup-addon", "--addon-name", "kritis-validation-hook", "-y")
	role := "kritis-validation-hook-" + f.clusterID
	if !strings.Contains(r.stdout, `Created RAM policy "ack-addon-policy-kritis-validation-hook"`) {
		t.Errorf("output:\n%s", r.stdout)
	}
	refs := rrsa.ListAssociations(parse(t, f.trustPolicy(t, role)), f.oidcArn, testIssuer)
	if len(refs) != 1 || refs[0].String() != "kube-system/kritis" {
		t.Errorf("refs = %v", refs)
	}
	if !strings.Contains(r.stdout, `Attached custom policy "ack-addon-policy-kritis-validation-hook"`) {
		t.Errorf("policy not attached:\n%s", r.stdout)
	}
	r = f.mustRun(t, "setup-addon", "--addon-name", "kritis-validation-hook", "-y")
	if !strings.Contains(r.stdout, "is up to date") || !strings.Contains(r.stdout, "already trusts") || !strings.Contains(r.stdout, "already attached") {
		t.Errorf("second run:\n%s", r.stdout)
	}
	if n := f.srv.Calls("ram", "CreatePolicyVersion"); n != 0 {
		t.Errorf("CreatePolicyVersion called %d times for an unchanged document", n)
	}

	r = f.run(t, "", "setup-addon", "--addon-name", "nope")
	if r.err == nil || !strings.Contains(r.err.Error(), "ack-erdma-controller, kritis-validation-hook") {
		t.Errorf("unknown add-on err = %v", r.err)
	}
	r = f.mustRun(t, "setup-addon", "--list")
	if !strings.Contains(r.stdout, "kube-system/kritis") {
		t.Errorf("--list:\n%s", r.stdout)
	}
	r = f.mustRun(t, "list-addons", "-o", "json")
	var list []knownAddon
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 {
		t.Errorf("list-addons json: %v %s", err, r.stdout)
	}
}

func TestSetupAddonUpdatesChangedPolicy(t *testing.T) {
	f := newFixture(t, func(s *emulator.Seed) {
		s.Accounts[0].Policies = append(s.Accounts[0].Policies, emulator.PolicySeed{
			Name: "ack-addon-policy-ack-erdma-controller", Type: "Custom",
			Document: `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ecs:DescribeInstances"],"Resource":"*"}]}`,
		})
	})
	r := f.mustRun(t, "setup-addon", "--addon-name", "ack-erdma-controller", "-y")
	if !strings.Contains(r.stdout, "new default version") {
		t.Errorf("output:\n%s", r.stdout)
	}
	if n := f.srv.Calls("ram", "CreatePolicyVersion"); n != 1 {
		t.Errorf("CreatePolicyVersion calls = %d", n)
	}
}

func TestInstallHelperAddon(t *testing.T) {
	tests := []struct {
		name    string
		seed    func(*emulator.Seed)
		wantOut string
		wantErr string
	}{
		{name: "installs and waits", wantOut: "Installed add-on ack-pod-identity-webhook"},
		{name: "already installed", seed: func(s *emulator.Seed) {
			s.Clusters[0].Addons = append(s.Clusters[0].Addons, emulator.AddonInstance{Name: helperAddonName})
		}, wantOut: "already installed"},
		{name: "task fails", seed: func(s *emulator.Seed) { s.Clusters[0].FailNextTask = true }, wantErr: "ended in state \"fail\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.seed)
			r := f.run(t, "", "install-helper-addon", "-y", "--poll-interval", "10ms")
			if tt.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) {
					t.Fatalf("err = %v", r.err)
				}
				return
			}
			if r.err != nil || !strings.Contains(r.stdout, tt.wantOut) {
				t.Fatalf("err = %v, stdout:\n%s", r.err, r.stdout)
			}
		})
	}
}
