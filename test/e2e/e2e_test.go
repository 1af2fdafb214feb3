// Package e2e drives the real binaries end to end: kubectl → kubectl ack-login → kube-apiserver
// → ack-ram-authenticator → ack-emulator STS, plus certificate mode and RRSA through the real
// TokenRequest API. One chain (see package harness) is shared by every test of the package.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// stack is the chain every test uses; TestMain owns it.
var stack *harness.Stack

// Names seeded into the chain.
const (
	devRole      = "e2e-dev"     // RAM role any user of the account may assume
	readersGroup = "e2e-readers" // bound to nsReaderRole
	nsReaderRole = "e2e-namespace-reader"
	// RAM users mapped in the authenticator's config file, each to "static:<name>" in readersGroup.
	staticUser       = "e2e-static"
	otherClusterUser = "e2e-other-cluster"
	faultUser        = "e2e-fault"
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	// The test process itself never talks to a real cloud or through a proxy.
	os.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"} {
		os.Unsetenv(v)
	}
	ctx := context.Background()
	start := time.Now()
	account := harness.RandomAccountID()
	s, err := harness.Start(ctx, harness.Options{
		AccountID: account,
		Roles:     []string{devRole},
		// A static mapping (the MountedFile mapper) next to the RAMIdentityMapping objects.
		MapUsers: staticMappings(account, staticUser, otherClusterUser, faultUser),
		Logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "e2e: %s: %s\n", time.Since(start).Round(time.Millisecond), fmt.Sprintf(format, args...))
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: FAIL: start the chain: %v\n", err)
		return 1
	}
	stack = s
	defer s.Close()
	if err := setupRBAC(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: FAIL: %v\n%s", err, s.Logs(40))
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: chain up in %s\n", time.Since(start).Round(time.Millisecond))
	code := m.Run()
	if code != 0 {
		s.KeepDir()
		fmt.Fprintf(os.Stderr, "e2e: failed; process logs (kept in %s):\n%s", s.Dir, s.Logs(40))
	}
	return code
}

func staticMappings(account string, users ...string) []harness.StaticMapping {
	var out []harness.StaticMapping
	for _, u := range users {
		out = append(out, harness.StaticMapping{ARN: "acs:ram::" + account + ":user/" + u, Username: "static:" + u, Groups: []string{readersGroup}})
	}
	return out
}

// setupRBAC creates the namespace-reader ClusterRole and binds it to readersGroup.
func setupRBAC(ctx context.Context) error {
	admin := stack.Admin()
	for _, args := range [][]string{
		{"create", "clusterrole", nsReaderRole, "--verb=get,list,watch", "--resource=namespaces"},
		{"create", "clusterrolebinding", readersGroup, "--clusterrole=" + nsReaderRole, "--group=" + readersGroup},
	} {
		if err := admin.Kubectl(ctx, args...).Err(); err != nil {
			return fmt.Errorf("RBAC setup: %w", err)
		}
	}
	// The RBAC authorizer learns bindings through a watch: wait until this one is in force.
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		r := admin.Kubectl(ctx, "auth", "can-i", "list", "namespaces", "--as=e2e-probe", "--as-group="+readersGroup)
		if strings.TrimSpace(r.Stdout) == "yes" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("RBAC binding for %s not in force after 30s: %s", readersGroup, r)
		}
		<-tick.C
	}
}

// waitCan polls `kubectl auth can-i` as u until RBAC lets it do verb on resource.
func waitCan(t *testing.T, u *harness.User, verb, resource string) {
	t.Helper()
	eventually(t, "RBAC allows "+verb+" "+resource, 30*time.Second, func() (bool, string) {
		r := u.Kubectl(context.Background(), "auth", "can-i", verb, resource)
		return strings.TrimSpace(r.Stdout) == "yes", r.String()
	})
}

// newRAMUser creates a RAM user in the emulator and a person at a terminal holding its key.
func newRAMUser(t *testing.T, name string) (harness.RAMUser, *harness.User) {
	t.Helper()
	ctx := context.Background()
	ru, err := stack.CreateRAMUser(ctx, name)
	if err != nil {
		t.Fatalf("create RAM user %s: %v", name, err)
	}
	u, err := stack.NewUser(name, ru.AccessKeyID, ru.AccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		u.Echo = testWriter{t}
	}
	return ru, u
}

// testWriter shows a user's commands in the test log (-v).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// must fails the test when the command did not exit 0.
func must(t *testing.T, r *harness.Result) *harness.Result {
	t.Helper()
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return r
}

// unauthorized is how kubectl reports a 401 from kube-apiserver.
const unauthorized = "You must be logged in to the server"

// mustFail fails the test unless the command exited non-zero (not killed at the timeout) with
// every want string in its stderr.
func mustFail(t *testing.T, r *harness.Result, want ...string) {
	t.Helper()
	if r.ExitCode == 0 || r.TimedOut || r.StartErr != nil {
		t.Fatalf("want a clean failure mentioning %q, got:\n%s", want, r)
	}
	for _, w := range want {
		if !strings.Contains(r.Stderr, w) {
			t.Fatalf("stderr does not mention %q:\n%s", w, r)
		}
	}
}

// eventually polls cond until it holds or the deadline passes; cond says why it does not hold.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %s", what, timeout, why)
		}
		<-tick.C
	}
}

// whoami is the part of `kubectl auth whoami -o json` (a SelfSubjectReview) the tests check.
type whoami struct {
	Status struct {
		UserInfo struct {
			Username string              `json:"username"`
			UID      string              `json:"uid"`
			Groups   []string            `json:"groups"`
			Extra    map[string][]string `json:"extra"`
		} `json:"userInfo"`
	} `json:"status"`
}

func authWhoami(t *testing.T, u *harness.User) whoami {
	t.Helper()
	r := must(t, u.Kubectl(context.Background(), "auth", "whoami", "-o", "json"))
	var w whoami
	if err := json.Unmarshal([]byte(r.Stdout), &w); err != nil {
		t.Fatalf("kubectl auth whoami -o json: %v\n%s", err, r)
	}
	return w
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// userARN and roleARN build ARNs in the cluster's account.
func userARN(name string) string { return "acs:ram::" + stack.AccountID + ":user/" + name }
func roleARN(name string) string { return "acs:ram::" + stack.AccountID + ":role/" + name }
