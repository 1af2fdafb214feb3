package e2e

import (
	"context"
	"strings"
	"testing"
)

// TestClustersByNameAndAll: a user lists clusters, writes a context per running cluster with
// `kubeconfig --all`, uses one with the real kubectl, edits and renames another with `kubectl
// config` (which rewrites the file with client-go), and after that cluster is deleted `--prune`
// still recognises the renamed context as its own and removes it alone.
func TestClustersByNameAndAll(t *testing.T) {
	ctx := context.Background()
	_, u := newRAMUser(t, "fleet-user")
	const oldID, newID = "c0e2e0000000000000000000000000001", "c0e2e0000000000000000000000000002"
	for _, c := range []map[string]any{
		{"id": oldID, "name": "e2e-old", "regionId": "cn-beijing"},
		{"id": newID, "name": "e2e-new", "regionId": "cn-shanghai", "state": "initial"},
	} {
		if err := stack.EmulatorAdmin(ctx, "POST", "/_emulator/clusters", c, nil); err != nil {
			t.Fatalf("add cluster: %v", err)
		}
	}
	t.Cleanup(func() { _ = stack.EmulatorAdmin(ctx, "DELETE", "/_emulator/clusters/"+newID, nil, nil) })

	r := must(t, u.Kubectl(ctx, "ack-login", "clusters", "-o", "name"))
	for _, name := range []string{"e2e\n", "e2e-old\n", "e2e-new\n"} {
		if !strings.Contains(r.Stdout, name) {
			t.Fatalf("clusters -o name lacks %q:\n%s", name, r.Stdout)
		}
	}

	// <TAB> through kubectl (its plugin completion runs kubectl_complete-ack_login from bin/):
	// cluster names and ids come from CS.
	r = must(t, u.Kubectl(ctx, "__complete", "ack-login", "kubeconfig", "--cluster", "e2e-"))
	if !strings.Contains(r.Stdout, "e2e-old\t"+oldID+" (cn-beijing)\n") || !strings.Contains(r.Stdout, "e2e-new\t") ||
		strings.Contains(r.Stdout, "e2e\t") || !strings.HasSuffix(r.Stdout, ":4\n") {
		t.Fatalf("kubectl __complete ack-login kubeconfig --cluster e2e-:\n%s", r.Stdout)
	}
	r = must(t, u.Kubectl(ctx, "__complete", "ack-login", "--cluster-id", "c0e2e"))
	if !strings.Contains(r.Stdout, oldID+"\te2e-old (cn-beijing, running)\n") || !strings.Contains(r.Stdout, newID+"\t") {
		t.Fatalf("kubectl __complete ack-login --cluster-id c0e2e:\n%s", r.Stdout)
	}

	all := []string{"ack-login", "kubeconfig", "--all", "--mode", "certificate"}
	r = must(t, u.Kubectl(ctx, all...))
	st := statuses(r.Stdout)
	if st["e2e.cn-hangzhou"] != "added" || st["e2e-old.cn-beijing"] != "added" || st["e2e-new.cn-shanghai"] != "skipped" ||
		!strings.Contains(r.Stdout, `cluster is "initial", not running`) {
		t.Fatalf("--all report:\n%s", r.Stdout)
	}
	r = must(t, u.Kubectl(ctx, "--context", "e2e.cn-hangzhou", "get", "--raw", "/version"))
	if !strings.Contains(r.Stdout, `"gitVersion"`) {
		t.Fatalf("kubectl through the --all context: %s", r)
	}

	must(t, u.Kubectl(ctx, "config", "set-context", "e2e-old.cn-beijing", "--namespace", "web"))
	must(t, u.Kubectl(ctx, "config", "rename-context", "e2e-old.cn-beijing", "old-renamed"))
	if err := stack.EmulatorAdmin(ctx, "DELETE", "/_emulator/clusters/"+oldID, nil, nil); err != nil {
		t.Fatal(err)
	}
	r = must(t, u.Kubectl(ctx, append(all, "--prune")...))
	if statuses(r.Stdout)["old-renamed"] != "removed" || !strings.Contains(r.Stdout, "cluster "+oldID+" (cn-beijing) no longer exists") {
		t.Fatalf("--prune report:\n%s", r.Stdout)
	}
	r = must(t, u.Kubectl(ctx, "config", "get-contexts", "-o", "name"))
	if strings.Contains(r.Stdout, "old-renamed") || !strings.Contains(r.Stdout, "e2e.cn-hangzhou") {
		t.Fatalf("contexts after --prune:\n%s", r.Stdout)
	}

	r = must(t, u.Kubectl(ctx, append(all, "--prune")...))
	if statuses(r.Stdout)["e2e.cn-hangzhou"] != "unchanged" || !strings.Contains(r.Stdout, "kubeconfig unchanged.") {
		t.Fatalf("a second run changed something:\n%s", r.Stdout)
	}

	// A name resolves to the id written into the exec args.
	must(t, u.Kubectl(ctx, "ack-login", "kubeconfig", "--cluster", "e2e", "--context-name", "by-name"))
	r = must(t, u.Kubectl(ctx, "config", "view", "-o", "jsonpath={.users[?(@.name==\"by-name\")].user.exec.args}"))
	if !strings.Contains(r.Stdout, stack.ClusterID) {
		t.Fatalf("exec args of the context by name: %s", r.Stdout)
	}
}

// statuses maps each context of a `kubeconfig --all` report to its status word.
func statuses(report string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(report, "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			m[f[1]] = f[0]
		}
	}
	return m
}
