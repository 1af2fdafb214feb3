package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCertificateMode: `kubectl ack-login kubeconfig --mode certificate` writes a kubeconfig
// whose exec plugin fetches an emulator-issued client certificate (CS
// DescribeClusterUserKubeconfig), signed by the client CA kube-apiserver trusts; the user is the
// certificate's CN, the RAM user id, and RBAC bound to that name takes effect.
func TestCertificateMode(t *testing.T) {
	ctx := context.Background()
	ru, u := newRAMUser(t, "cert-user")
	must(t, u.Kubectl(ctx, "ack-login", "kubeconfig", "--cluster-id", stack.ClusterID, "--mode", "certificate"))

	kc, err := os.ReadFile(u.Kubeconfig())
	if err != nil {
		t.Fatalf("kubeconfig not written: %v", err)
	}
	for _, want := range []string{"server: " + stack.APIServerURL, "command: kubectl-ack_login", "- certificate", "current-context: " + stack.AccountID + "-" + stack.ClusterID} {
		if !strings.Contains(string(kc), want) {
			t.Errorf("kubeconfig lacks %q:\n%s", want, kc)
		}
	}

	w := authWhoami(t, u)
	if w.Status.UserInfo.Username != ru.UserID || !contains(w.Status.UserInfo.Groups, "system:authenticated") {
		t.Fatalf("certificate identity = %+v, want user %s (the RAM user id) in system:authenticated", w.Status.UserInfo, ru.UserID)
	}
	// Authenticated but not yet authorised.
	mustFail(t, u.Kubectl(ctx, "get", "ns"), "Forbidden", `User "`+ru.UserID+`"`)

	admin := stack.Admin()
	must(t, admin.Kubectl(ctx, "create", "clusterrolebinding", "e2e-cert-user", "--clusterrole="+nsReaderRole, "--user="+ru.UserID))
	eventually(t, "kubectl get ns with the certificate after the RBAC binding", 30*time.Second, func() (bool, string) {
		r := u.Kubectl(ctx, "get", "ns", "-o", "name")
		return r.Err() == nil && strings.Contains(r.Stdout, "namespace/kube-system"), r.String()
	})

	// The certificate came from the cache: a second plugin run makes no CS call.
	files, err := filepath.Glob(filepath.Join(u.Home, ".kube", "cache", "kubectl-ack", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ack-login cache entry under %s (%v)", filepath.Join(u.Home, ".kube", "cache", "kubectl-ack"), err)
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("cache file %s has mode %v, want no group/other access", f, fi.Mode().Perm())
		}
	}
}
