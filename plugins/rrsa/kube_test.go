package rrsa

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

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

// readerKubeconfig writes a kubeconfig for a user RBAC lets read, but not change, service
// accounts in namespace ns, and waits until the binding is in force.
func readerKubeconfig(t *testing.T, env *kubetest.Env, kc kubernetes.Interface, ns string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := kc.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "sa-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"get", "list"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "sa-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "sa-reader"},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "reader"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	path, err := env.AddUserKubeconfig(t.TempDir(), "reader")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	get := []rrsa.Permission{{Verb: "get", Resource: "serviceaccounts", Namespace: ns, Name: "web"}}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return rrsa.CheckAccess(ctx, reader, get) == nil, nil
	}); err != nil {
		t.Fatalf("the reader binding never took effect: %v", err)
	}
	return path
}

// With Kubernetes side effects the commands check first that they can do them (a usable context,
// RBAC, the namespace) and only then touch RAM; a step that still fails later says what was
// changed and the command that finishes or reverts it.
func TestKubernetesSideCheckedBeforeRAM(t *testing.T) {
	f := newFixture(t, seedRole("app-role", foreignPolicy))
	env, kc := realKube(t, f)
	ctx := context.Background()
	if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	reader := readerKubeconfig(t, env, kc, "app")
	unreachable := filepath.Join(t.TempDir(), "unreachable.kubeconfig")
	if err := os.WriteFile(unreachable, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: x\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: x\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: x, user: x}\ncurrent-context: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := env.Kubeconfig
	tests := []struct {
		name, kubeconfig, ns string
		wantErr              []string
	}{
		{name: "no kubeconfig", kubeconfig: filepath.Join(t.TempDir(), "missing"), ns: "app", wantErr: []string{"no usable kube context", "kubectl ack-login kubeconfig --cluster NAME", "or leave out --annotate-service-account"}},
		{name: "unreachable cluster", kubeconfig: unreachable, ns: "app", wantErr: []string{"cannot use the cluster of"}},
		{name: "RBAC denied", kubeconfig: reader, ns: "app", wantErr: []string{`user "reader" may not get namespaces app, patch namespaces app`, "patch serviceaccounts web in namespace app", "kubectl auth can-i"}},
		{name: "namespace missing", kubeconfig: admin, ns: "absent", wantErr: []string{`namespace "absent" does not exist`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, "", "associate-role", "-r", "app-role", "-n", tt.ns, "-s", "web", "--annotate-service-account", "-y", "--kubeconfig", tt.kubeconfig)
			for _, want := range append(tt.wantErr, "nothing was changed") {
				if r.err == nil || !strings.Contains(r.err.Error(), want) {
					t.Errorf("err = %v, want %q", r.err, want)
				}
			}
			if doc := f.trustPolicy(t, "app-role"); !rrsa.Equal(doc, foreignPolicy) || f.srv.Calls("ram", "UpdateRole") != 0 {
				t.Errorf("RAM was changed: %s", doc)
			}
		})
	}

	// Associate and annotate as admin; disassociating as the reader is refused before RAM.
	f.mustRun(t, "associate-role", "-r", "app-role", "-n", "app", "-s", "web", "--annotate-service-account", "-y", "--kubeconfig", admin)
	trusted := f.trustPolicy(t, "app-role")
	r := f.run(t, "", "disassociate-role", "-r", "app-role", "-n", "app", "-s", "web", "--annotate-service-account", "-y", "--kubeconfig", reader)
	if r.err == nil || !strings.Contains(r.err.Error(), "nothing was changed") || f.trustPolicy(t, "app-role") != trusted {
		t.Fatalf("reader disassociate: %v", r.err)
	}
	// As admin: the trust statement and the annotation that still names the role go.
	r = f.mustRun(t, "disassociate-role", "-r", "app-role", "-n", "app", "-s", "web", "--annotate-service-account", "-y", "--kubeconfig", admin)
	if !strings.Contains(r.stdout, `Removed annotation pod-identity.alibabacloud.com/role-name=app-role from service account app/web`) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if sa, _ := kc.CoreV1().ServiceAccounts("app").Get(ctx, "web", metav1.GetOptions{}); sa.Annotations[rrsa.RoleNameAnnotation] != "" {
		t.Errorf("annotation left: %v", sa.Annotations)
	}
	if !rrsa.Equal(f.trustPolicy(t, "app-role"), foreignPolicy) {
		t.Errorf("trust policy after disassociate: %s", f.trustPolicy(t, "app-role"))
	}
	// An annotation that names another role is kept.
	f.mustRun(t, "associate-role", "-r", "app-role", "-n", "app", "-s", "web", "--annotate-service-account", "-y", "--kubeconfig", admin)
	f.mustRun(t, "associate-role", "-r", "next-role", "-n", "app", "-s", "web", "--create-role-if-not-exist", "--annotate-service-account", "-y", "--kubeconfig", admin)
	r = f.mustRun(t, "disassociate-role", "-r", "app-role", "-n", "app", "-s", "web", "--annotate-service-account", "-y", "--kubeconfig", admin)
	if !strings.Contains(r.stdout, `annotated for RAM role "next-role", not "app-role"; annotation kept`) {
		t.Errorf("stdout:\n%s", r.stdout)
	}

	// A step that fails after the trust policy changed says so and how to finish or revert.
	r = f.run(t, "", "associate-role", "-r", "half-role", "-n", "app", "-s", "web", "--create-role-if-not-exist",
		"--attach-system-policy", "NoSuchPolicy", "--annotate-service-account", "-y", "--kubeconfig", admin)
	if r.err == nil || !strings.Contains(r.err.Error(), `RAM role "half-role" now trusts service account app/web`) {
		t.Fatalf("err = %v", r.err)
	}
	revert := commandAfter(t, r.err.Error(), "or revert the trust policy with:")
	if !strings.Contains(revert, "--delete-role") || !strings.Contains(revert, "-c "+f.clusterID) || !strings.Contains(revert, "--kubeconfig "+admin) {
		t.Fatalf("revert command %q", revert)
	}
	f.mustRun(t, append(strings.Fields(revert)[2:], f.endpointArgs()[:len(f.endpointArgs())-2]...)...)
	if _, ok := f.srv.Role(f.accountID, "half-role"); ok {
		t.Error("the revert command left the role")
	}
}

// commandAfter returns the indented command on the line after marker in a message.
func commandAfter(t *testing.T, msg, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(msg, marker+"\n")
	if !ok {
		t.Fatalf("no %q in %q", marker, msg)
	}
	line, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(line)
}
