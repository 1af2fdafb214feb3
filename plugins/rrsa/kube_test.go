package rrsa

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// realKube starts a real kube-apiserver that signs service-account tokens with the fixture's key
// and issuer, which the emulator's cluster trusts for AssumeRoleWithOIDC, so TokenRequest and the
// OIDC verification are both the real thing.
func realKube(t *testing.T, f *fixture) (*kubetest.Env, kubernetes.Interface) {
	t.Helper()
	env := kubetest.Start(t,
		kubetest.WithAPIServerFlag("service-account-issuer", f.issuer),
		kubetest.WithAPIServerFlag("service-account-signing-key-file", f.keyFile),
		kubetest.WithAPIServerFlag("service-account-key-file", f.pubFile),
	)
	kc, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return env, kc
}

func TestAnnotateAndAssumeServiceAccount(t *testing.T) {
	f := newFixture(t, seedRole("app-role", foreignPolicy))
	env, kc := realKube(t, f)
	ctx := context.Background()
	for _, obj := range []struct{ ns, sa string }{{"demo", ""}, {"demo", "other"}} {
		if obj.sa == "" {
			if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: obj.ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := kc.CoreV1().ServiceAccounts(obj.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: obj.sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kube := []string{"--kubeconfig", env.Kubeconfig}

	r := f.run(t, "", append([]string{"associate-role", "-r", "app-role", "-n", "demo", "-s", "app", "-y", "--annotate-service-account"}, kube...)...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	sa, err := kc.CoreV1().ServiceAccounts("demo").Get(ctx, "app", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("service account not created: %v", err)
	}
	if sa.Annotations[rrsa.RoleNameAnnotation] != "app-role" {
		t.Errorf("annotations = %v", sa.Annotations)
	}
	gotNS, err := kc.CoreV1().Namespaces().Get(ctx, "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if gotNS.Labels[rrsa.InjectionLabel] != "on" {
		t.Errorf("namespace labels = %v", gotNS.Labels)
	}

	// Re-running is idempotent on the Kubernetes side too: the annotation is kept, nothing fails.
	r = f.run(t, "", append([]string{"associate-role", "-r", "app-role", "-n", "demo", "-s", "app", "-y", "--annotate-service-account"}, kube...)...)
	if r.err != nil {
		t.Fatalf("second associate-role: %v\n%s", r.err, r.stderr)
	}

	tests := []struct {
		name, sa, role string
		wantErr        string
	}{
		{name: "associated, role by name", sa: "demo/app", role: "app-role"},
		{name: "associated, role by ARN", sa: "demo/app", role: "acs:ram::" + f.accountID + ":role/app-role"},
		{name: "not associated", sa: "demo/other", role: "app-role", wantErr: "(code AuthenticationFail"},
		{name: "missing service account", sa: "demo/ghost", role: "app-role", wantErr: "not found"},
		{name: "bad form", sa: "demo", role: "app-role", wantErr: "NAMESPACE/NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, "", append([]string{"assume-role", "--service-account", tt.sa, "-r", tt.role, "-o", "json"}, kube...)...)
			if tt.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", r.err, tt.wantErr)
				}
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			// -o json is for scripts: everything in full.
			if !strings.Contains(r.stdout, `"accessKeyId": "STS.`) || strings.Contains(r.stdout, "****") || !strings.Contains(r.stdout, `"securityToken": "CAIS`) {
				t.Errorf("stdout:\n%s", r.stdout)
			}
		})
	}

	// Pointing the service account at another role says what it pointed at before.
	r = f.run(t, "", append([]string{"associate-role", "-r", "next-role", "-n", "demo", "-s", "app", "-y", "--annotate-service-account", "--create-role-if-not-exist"}, kube...)...)
	if r.err != nil {
		t.Fatalf("associate next-role: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stderr, `Warning: service account demo/app pointed at RAM role "app-role" and now points at "next-role"`) {
		t.Errorf("no re-point warning; stderr:\n%s", r.stderr)
	}
	if sa, err := kc.CoreV1().ServiceAccounts("demo").Get(ctx, "app", metav1.GetOptions{}); err != nil || sa.Annotations[rrsa.RoleNameAnnotation] != "next-role" {
		t.Errorf("service account after re-point: %v %v", sa, err)
	}
	// Annotating again with the same role warns about nothing.
	r = f.run(t, "", append([]string{"associate-role", "-r", "next-role", "-n", "demo", "-s", "app", "-y", "--annotate-service-account"}, kube...)...)
	if r.err != nil || strings.Contains(r.stderr, "Warning") {
		t.Errorf("re-run: err %v, stderr:\n%s", r.err, r.stderr)
	}

	r = f.run(t, "", append([]string{"associate-role", "-r", "app-role", "-n", "absent", "-s", "app", "-y", "--annotate-service-account"}, kube...)...)
	if r.err == nil || !strings.Contains(r.err.Error(), `namespace "absent" does not exist`) {
		t.Errorf("missing namespace err = %v", r.err)
	}
}
