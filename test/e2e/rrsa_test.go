package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// TestRRSA drives `kubectl ack-rrsa` against the emulator's CS/RAM/STS and the real
// kube-apiserver: enable RRSA, associate a role with a service account (creating the role and
// annotating the service account), then assume the role with a token minted by the
// TokenRequest API and verified by the emulator's OIDC provider against the apiserver's
// service-account signing key and the role's trust policy. Another service account is refused.
func TestRRSA(t *testing.T) {
	ctx := context.Background()
	ru, u := newRAMUser(t, "rrsa-ops")
	// The operator works in certificate mode with cluster-admin rights, which RRSA setup needs
	// (create the service account, label the namespace, request tokens).
	must(t, u.Kubectl(ctx, "ack-login", "kubeconfig", "--cluster-id", stack.ClusterID, "--mode", "certificate"))
	must(t, stack.Admin().Kubectl(ctx, "create", "clusterrolebinding", "e2e-rrsa-ops", "--clusterrole=cluster-admin", "--user="+ru.UserID))

	const ns, sa, role = "e2e-rrsa", "app", "e2e-rrsa-role"
	waitCan(t, u, "create", "namespaces")
	must(t, u.Kubectl(ctx, "create", "namespace", ns))

	// The cluster id comes from the ack-login exec arguments of the current context.
	st := rrsaStatus(t, u)
	if st.Enabled {
		t.Fatalf("RRSA enabled before enable: %+v", st)
	}
	must(t, u.Kubectl(ctx, "ack-rrsa", "enable", "-y", "--poll-interval", "100ms"))
	st = rrsaStatus(t, u)
	wantArn := "acs:ram::" + stack.AccountID + ":oidc-provider/ack-rrsa-" + stack.ClusterID
	if !st.Enabled || st.Issuer != stack.ServiceAccountIssuer || st.OIDCProviderARN != wantArn {
		t.Fatalf("after enable: %+v, want enabled with issuer %s and provider %s", st, stack.ServiceAccountIssuer, wantArn)
	}

	must(t, u.Kubectl(ctx, "ack-rrsa", "associate-role", "-r", role, "-n", ns, "-s", sa,
		"--create-role-if-not-exist", "--annotate-service-account", "-y"))
	r := must(t, u.Kubectl(ctx, "get", "serviceaccount", sa, "-n", ns, "-o", "jsonpath={.metadata.annotations.pod-identity\\.alibabacloud\\.com/role-name}"))
	if r.Stdout != role {
		t.Fatalf("service account annotation = %q, want %q", r.Stdout, role)
	}
	r = must(t, u.Kubectl(ctx, "get", "namespace", ns, "-o", "jsonpath={.metadata.labels.pod-identity\\.alibabacloud\\.com/injection}"))
	if r.Stdout != "on" {
		t.Fatalf("namespace injection label = %q, want on", r.Stdout)
	}
	// Associating again changes nothing.
	r = must(t, u.Kubectl(ctx, "ack-rrsa", "associate-role", "-r", role, "-n", ns, "-s", sa, "-y"))
	if !strings.Contains(r.Stdout, "unchanged") {
		t.Errorf("second associate-role should be a no-op:\n%s", r)
	}
	// kubectl completes the plugin's flag values through the kubectl_complete-ack_rrsa helper
	// `make build` installs: -n from the cluster's namespaces, -s from the -n namespace's
	// service accounts.
	r = must(t, u.Kubectl(ctx, "__complete", "ack-rrsa", "associate-role", "-n", "e2e-rr"))
	if !strings.Contains(r.Stdout, ns+"\n") {
		t.Errorf("kubectl __complete ack-rrsa associate-role -n: %s", r)
	}
	r = must(t, u.Kubectl(ctx, "__complete", "ack-rrsa", "associate-role", "-n", ns, "-s", ""))
	if !strings.Contains(r.Stdout, sa+"\n") {
		t.Errorf("kubectl __complete ack-rrsa associate-role -s: %s", r)
	}

	r = must(t, u.Kubectl(ctx, "ack-rrsa", "assume-role", "--service-account", ns+"/"+sa, "-r", role, "-o", "json"))
	var creds struct {
		AccessKeyID    string `json:"accessKeyId"`
		SecurityToken  string `json:"securityToken"`
		AssumedRoleARN string `json:"assumedRoleArn"`
		OIDCSubject    string `json:"oidcSubject"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &creds); err != nil {
		t.Fatalf("assume-role -o json: %v\n%s", err, r)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "STS.") || creds.SecurityToken == "" ||
		!strings.Contains(creds.AssumedRoleARN, ":assumed-role/"+role+"/") ||
		creds.OIDCSubject != "system:serviceaccount:"+ns+":"+sa {
		t.Fatalf("assume-role credentials = %+v", creds)
	}

	// A service account the role does not trust gets a token from the apiserver, but STS refuses it.
	must(t, u.Kubectl(ctx, "create", "serviceaccount", "other", "-n", ns))
	mustFail(t, u.Kubectl(ctx, "ack-rrsa", "assume-role", "--service-account", ns+"/other", "-r", role), "NoPermission")

	// Undo. The role trusts only this service account: without --delete-role nothing changes and
	// the command says why; with it the role is deleted and the annotation removed.
	mustFail(t, u.Kubectl(ctx, "ack-rrsa", "disassociate-role", "-r", role, "-n", ns, "-s", sa, "--annotate-service-account", "-y"), "Nothing was changed")
	r = must(t, u.Kubectl(ctx, "ack-rrsa", "disassociate-role", "-r", role, "-n", ns, "-s", sa, "--annotate-service-account", "--delete-role", "-y"))
	if !strings.Contains(r.Stdout, `Deleted RAM role "`+role+`"`) || !strings.Contains(r.Stdout, "Removed annotation") {
		t.Errorf("disassociate --delete-role:\n%s", r)
	}
	r = must(t, u.Kubectl(ctx, "get", "serviceaccount", sa, "-n", ns, "-o", "jsonpath={.metadata.annotations}"))
	if strings.Contains(r.Stdout, "role-name") {
		t.Errorf("annotation left: %s", r.Stdout)
	}
	mustFail(t, u.Kubectl(ctx, "ack-rrsa", "list-associations", "-r", role), "EntityNotExist.Role")
}

// The export lines `make demo-up` prints drive the stack from a shell that has nothing else.
func TestShellEnvDrivesTheStack(t *testing.T) {
	env := filepath.Join(t.TempDir(), "env.sh")
	if err := stack.WriteEnvFile(env); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(env); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("env file: %v %v", fi, err)
	}
	cmd := exec.Command("/bin/bash", "-c", `set -e; source "$1"; kubectl get namespace default -o name; kubectl ack-rrsa status -c "$2" -o json; kubectl ack-login whoami`, "bash", env, stack.ClusterID)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	for _, want := range []string{"namespace/default", `"clusterId": "` + stack.ClusterID + `"`, "acs:ram::" + stack.AccountID + ":user/admin"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

type rrsaStatusJSON struct {
	Enabled         bool   `json:"enabled"`
	Issuer          string `json:"issuer"`
	OIDCProviderARN string `json:"oidcProviderArn"`
}

func rrsaStatus(t *testing.T, u *harness.User) rrsaStatusJSON {
	t.Helper()
	r := must(t, u.Kubectl(context.Background(), "ack-rrsa", "status", "-o", "json"))
	var st rrsaStatusJSON
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("ack-rrsa status -o json: %v\n%s", err, r)
	}
	return st
}
