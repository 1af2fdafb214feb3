package rrsa

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/emulator"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// The reproduction: associate with a new role, then undo it. Removing the only statement
// never reaches RAM as an empty policy (MalformedPolicyDocument) and never widens the policy; the
// command explains the choice, and --delete-role deletes the role after detaching its policies.
func TestUndoLastAssociation(t *testing.T) {
	f := newFixture(t, nil)
	f.mustRun(t, "associate-role", "-r", "my-role", "-n", "app", "-s", "my-sa", "--create-role-if-not-exist",
		"--attach-system-policy", "AliyunOSSReadOnlyAccess", "-y")
	before := f.trustPolicy(t, "my-role")

	r := f.run(t, "", "disassociate-role", "-r", "my-role", "-n", "app", "-s", "my-sa", "-y")
	if r.err == nil || strings.Contains(r.err.Error(), "MalformedPolicyDocument") ||
		!strings.Contains(r.err.Error(), "Nothing was changed") || !strings.Contains(r.err.Error(), "--delete-role") ||
		!strings.Contains(r.err.Error(), `system policy "AliyunOSSReadOnlyAccess"`) {
		t.Fatalf("err = %v, want an explanation offering --delete-role", r.err)
	}
	if f.srv.Calls("ram", "UpdateRole") != 0 || f.trustPolicy(t, "my-role") != before {
		t.Fatal("the trust policy was written")
	}

	r = f.mustRun(t, "disassociate-role", "-r", "my-role", "-n", "app", "-s", "my-sa", "--delete-role", "--dry-run")
	if !strings.Contains(r.stderr, "Dry run: RAM role \"my-role\" would be left without any trust statement, so it will be deleted") {
		t.Errorf("dry run:\n%s", r.stderr)
	}
	if _, ok := f.srv.Role(f.accountID, "my-role"); !ok {
		t.Fatal("dry run deleted the role")
	}

	r = f.runTerminal(t, "no\n", "disassociate-role", "-r", "my-role", "-n", "app", "-s", "my-sa", "--delete-role")
	if r.err == nil || !strings.Contains(r.err.Error(), "aborted") {
		t.Fatalf("declined: %v", r.err)
	}
	r = f.mustRun(t, "disassociate-role", "-r", "my-role", "-n", "app", "-s", "my-sa", "--delete-role", "-y")
	if !strings.Contains(r.stdout, `Deleted RAM role "my-role": service account app/my-sa was the last service account it trusted (detached system policy "AliyunOSSReadOnlyAccess")`) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if _, ok := f.srv.Role(f.accountID, "my-role"); ok {
		t.Error("the role still exists")
	}
}

// officialStatement is the statement ack-ram-tool writes for one association (its JSON form
// after a map round trip: keys sorted, Action a string, one federated principal in a list).
func officialStatement(f *fixture, ns, sa string) string {
	eq := map[string]string{"oidc:aud": "sts.aliyuncs.com", "oidc:iss": f.issuer}
	cond := map[string]any{"StringEquals": eq}
	if ns == "*" || sa == "*" {
		cond["StringLike"] = map[string]string{"oidc:sub": "system:serviceaccount:" + ns + ":" + sa}
	} else {
		eq["oidc:sub"] = "system:serviceaccount:" + ns + ":" + sa
	}
	b, _ := json.Marshal(map[string]any{"Action": "sts:AssumeRole", "Condition": cond, "Effect": "Allow",
		"Principal": map[string]any{"Federated": []string{f.oidcArn}}})
	return string(b)
}

// officialFinds reports whether ack-ram-tool would find the association in doc: a statement that
// encodes to the same JSON as the one it writes.
func officialFinds(t *testing.T, f *fixture, doc, ns, sa string) bool {
	t.Helper()
	var m struct{ Statement []any }
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Statement {
		if b, _ := json.Marshal(s); string(b) == officialStatement(f, ns, sa) {
			return true
		}
	}
	return false
}

// Both tools on one role, against the emulator: what we write the official tool finds (so it adds
// no duplicate), what it wrote we find (so we add none), and undo removes exactly one subject.
func TestInteropWithOfficialToolOnEmulator(t *testing.T) {
	subjects := [][2]string{{"*", "my-sa"}, {"default", "app"}}
	t.Run("ours then official", func(t *testing.T) {
		f := newFixture(t, seedRole("r", foreignPolicy))
		for _, s := range subjects {
			f.mustRun(t, "associate-role", "-r", "r", "-n", s[0], "-s", s[1], "-y")
		}
		doc := f.trustPolicy(t, "r")
		for _, s := range subjects {
			if !officialFinds(t, f, doc, s[0], s[1]) {
				t.Errorf("ack-ram-tool would not find %v and would append a duplicate:\n%s", s, doc)
			}
		}
	})
	t.Run("official then ours", func(t *testing.T) {
		f := newFixture(t, nil)
		doc := `{"Statement":[` + foreignStatement + "," + officialStatement(f, "*", "my-sa") + "," + officialStatement(f, "default", "app") + `],"Version":"1"}`
		if _, err := f.srv.CreateRole(f.accountID, "r", doc); err != nil {
			t.Fatal(err)
		}
		for _, s := range subjects {
			r := f.mustRun(t, "associate-role", "-r", "r", "-n", s[0], "-s", s[1], "-y")
			if !strings.Contains(r.stdout, "already trusts") {
				t.Errorf("%v not recognised:\n%s", s, r.stdout)
			}
		}
		if n := f.srv.Calls("ram", "UpdateRole"); n != 0 {
			t.Errorf("UpdateRole called %d times", n)
		}
		r := f.mustRun(t, "list-associations", "-r", "r", "-o", "json")
		var out associationsOutput
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.ServiceAccounts) != 2 {
			t.Fatalf("list-associations: %v\n%s", err, r.stdout)
		}
		f.mustRun(t, "disassociate-role", "-r", "r", "-n", "*", "-s", "my-sa", "-y")
		left := f.trustPolicy(t, "r")
		p := parse(t, left)
		if len(p.Statement) != 2 || officialFinds(t, f, left, "*", "my-sa") || !officialFinds(t, f, left, "default", "app") {
			t.Errorf("after removing */my-sa:\n%s", left)
		}
	})
}

// A policy our earlier versions wrote (subjects folded into one statement) reads as all of its
// subjects; disassociating one keeps the others.
func TestFoldedPolicyFromEarlierVersions(t *testing.T) {
	f := newFixture(t, func(s *emulator.Seed) {
		arn := "acs:ram::" + s.Accounts[0].ID + ":oidc-provider/ack-rrsa-" + s.Clusters[0].ID
		folded := `{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":["` + arn + `"]},"Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com","oidc:iss":"` + testIssuer + `","oidc:sub":["system:serviceaccount:a:one","system:serviceaccount:a:two"]}}}`
		seedRole("r", `{"Version":"1","Statement":[`+folded+`]}`)(s)
	})
	r := f.mustRun(t, "associate-role", "-r", "r", "-n", "a", "-s", "two", "-y")
	if !strings.Contains(r.stdout, "already trusts") {
		t.Errorf("folded subject not recognised:\n%s", r.stdout)
	}
	f.mustRun(t, "disassociate-role", "-r", "r", "-n", "a", "-s", "one", "-y")
	refs := rrsa.ListAssociations(parse(t, f.trustPolicy(t, "r")), f.oidcArn, testIssuer)
	if len(refs) != 1 || refs[0].String() != "a/two" || !officialFinds(t, f, f.trustPolicy(t, "r"), "a", "two") {
		t.Errorf("after removing a/one: %v\n%s", refs, f.trustPolicy(t, "r"))
	}
}

func TestSetupAddonShortFlag(t *testing.T) {
	f := newFixture(t, nil)
	r := f.mustRun(t, "setup-addon", "-a", "ack-erdma-controller", "-y")
	if !strings.Contains(r.stdout, `Associated RAM role "ack-erdma-controller-`+f.clusterID+`"`) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if r := f.run(t, "", "setup-addon", "-y"); r.err == nil || !strings.Contains(r.err.Error(), "-a/--addon-name is required") {
		t.Errorf("missing -a: %v", r.err)
	}
}

// A connection failure while waiting for the enable task is retried with backoff instead of
// ending the command: the task goes on in the cloud regardless.
func TestEnableWaitRetriesTransientErrors(t *testing.T) {
	f := newFixture(t, func(s *emulator.Seed) {
		s.Clusters[0].RRSA.Enabled = false
		s.Clusters[0].TaskDuration = emulator.Duration(1500 * time.Millisecond)
	})
	done := make(chan result, 1)
	go func() { done <- f.run(t, "", "enable", "-y", "--poll-interval", "10ms") }()
	// Once the task is being polled, the CS endpoint drops the next connections: more than the
	// client's own retries of one call.
	deadline := time.Now().Add(30 * time.Second)
	for f.srv.Calls("cs", "DescribeTaskInfo") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the task was never polled")
		}
		select {
		case r := <-done:
			t.Fatalf("enable ended before the fault: %+v", r)
		case <-time.After(5 * time.Millisecond):
		}
	}
	f.srv.SetFault(emulator.ServiceCS, emulator.Fault{Mode: emulator.FaultDown, Count: 6})
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("enable did not finish")
	}
	if r.err != nil {
		t.Fatalf("enable failed on a transient error: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stderr, "retrying in") || !strings.Contains(r.stdout, "RRSA enabled for cluster") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

// status shows the cluster's state and a task still running.
func TestStatusShowsRunningTask(t *testing.T) {
	f := newFixture(t, func(s *emulator.Seed) {
		s.Clusters[0].RRSA.Enabled = false
		s.Clusters[0].TaskDuration = emulator.Duration(time.Hour)
	})
	r := f.run(t, "", "enable", "-y", "--poll-interval", "10ms", "--timeout", "100ms")
	if r.err == nil || !strings.Contains(r.err.Error(), "keeps running in the cloud") || !strings.Contains(r.err.Error(), "ack-rrsa status -c "+f.clusterID) {
		t.Fatalf("err = %v", r.err)
	}
	r = f.mustRun(t, "status")
	if text := strings.Join(strings.Fields(r.stdout), " "); !strings.Contains(text, "Cluster state: updating") ||
		!strings.Contains(text, "Running task: T-") || !strings.Contains(text, "(cluster_update, running since ") {
		t.Errorf("status:\n%s", r.stdout)
	}
	r = f.mustRun(t, "status", "-o", "json")
	var st statusOutput
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.ClusterState != "updating" || len(st.RunningTasks) != 1 || st.RunningTasks[0].Type != "cluster_update" {
		t.Errorf("status -o json: %v\n%s", err, r.stdout)
	}
}
