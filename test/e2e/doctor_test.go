package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// TestRRSADoctor runs `kubectl ack-rrsa doctor` as kubectl runs a plugin, the cluster id
// discovered from the ack-login context: a working association passes (exit 0, ending with the
// assumed role's ARN); pointed at a missing role it exits 1 naming the role and the fix.
func TestRRSADoctor(t *testing.T) {
	ctx := context.Background()
	ru, u := newRAMUser(t, "doctor-ops")
	must(t, u.Kubectl(ctx, "ack-login", "kubeconfig", "--cluster-id", stack.ClusterID, "--mode", "certificate"))
	must(t, stack.Admin().Kubectl(ctx, "create", "clusterrolebinding", "e2e-doctor-ops", "--clusterrole=cluster-admin", "--user="+ru.UserID))
	waitCan(t, u, "create", "namespaces")

	// Leave RRSA as the other tests expect to find it.
	if !rrsaStatus(t, u).Enabled {
		must(t, u.Kubectl(ctx, "ack-rrsa", "enable", "-y", "--poll-interval", "100ms"))
		t.Cleanup(func() { must(t, u.Kubectl(ctx, "ack-rrsa", "disable", "-y", "--poll-interval", "100ms")) })
	}
	const ns, sa, role = "e2e-doctor", "app", "e2e-doctor-role"
	must(t, u.Kubectl(ctx, "create", "namespace", ns))
	must(t, u.Kubectl(ctx, "ack-rrsa", "associate-role", "-r", role, "-n", ns, "-s", sa, "--create-role-if-not-exist", "--annotate-service-account", "-y"))
	t.Cleanup(func() {
		must(t, u.Kubectl(ctx, "ack-rrsa", "disassociate-role", "-r", role, "-n", ns, "-s", sa, "--delete-role", "-y"))
	})
	must(t, u.RunInput(ctx, []byte(harness.PodIdentityWebhookStandIn), "kubectl", "apply", "-f", "-"))
	t.Cleanup(func() {
		must(t, u.Kubectl(ctx, "delete", "mutatingwebhookconfiguration", "ack-pod-identity-webhook"))
		must(t, u.Kubectl(ctx, "-n", "kube-system", "delete", "deployment", "ack-pod-identity-webhook"))
	})
	must(t, u.Kubectl(ctx, harness.PodIdentityWebhookReady...))

	r := must(t, u.Kubectl(ctx, "ack-rrsa", "doctor", "-n", ns, "-s", sa))
	assumed := "acs:ram::" + stack.AccountID + ":assumed-role/" + role + "/kubectl-ack-doctor"
	if !strings.HasSuffix(strings.TrimSpace(r.Stdout), assumed) || strings.Contains(r.Stdout, "✘") {
		t.Fatalf("healthy doctor run:\n%s", r)
	}

	must(t, u.Kubectl(ctx, "-n", ns, "annotate", "serviceaccount", sa, "--overwrite", "pod-identity.alibabacloud.com/role-name=e2e-ghost"))
	r = u.Kubectl(ctx, "ack-rrsa", "doctor", "-n", ns, "-s", sa)
	if r.ExitCode != 1 || !strings.Contains(r.Stdout, "✘ RAM role: RAM role e2e-ghost does not exist") ||
		!strings.Contains(r.Stdout, "fix: kubectl ack-rrsa associate-role -r e2e-ghost -n "+ns+" -s "+sa+" --create-role-if-not-exist -c "+stack.ClusterID) {
		t.Fatalf("doctor on a missing role:\n%s", r)
	}
}
