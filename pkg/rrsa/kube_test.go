package rrsa_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// TestServiceAccountSide runs the Kubernetes half of RRSA against a real kube-apiserver: access
// checks for an admin and for a user RBAC only lets read, annotating and un-annotating.
func TestServiceAccountSide(t *testing.T) {
	env := kubetest.Start(t)
	admin, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	reader := readOnlyUser(t, env, admin)

	t.Run("access", func(t *testing.T) {
		if err := rrsa.CheckAccess(ctx, admin, rrsa.AnnotatePermissions("app", "web")); err != nil {
			t.Errorf("admin: %v", err)
		}
		err := rrsa.CheckAccess(ctx, reader, rrsa.AnnotatePermissions("app", "web"))
		var denied *rrsa.AccessDeniedError
		if !errors.As(err, &denied) || !errors.Is(err, rrsa.ErrAccessDenied) {
			t.Fatalf("reader: %v", err)
		}
		want := []rrsa.Permission{
			{Verb: "get", Resource: "namespaces", Name: "app"}, {Verb: "patch", Resource: "namespaces", Name: "app"},
			{Verb: "patch", Resource: "serviceaccounts", Namespace: "app", Name: "web"}, {Verb: "create", Resource: "serviceaccounts", Namespace: "app"},
		}
		if !reflect.DeepEqual(denied.Missing, want) || denied.User != "reader" || !strings.Contains(err.Error(), `user "reader" may not get namespaces app`) {
			t.Errorf("missing = %v, want %v", denied.Missing, want)
		}
		if err := rrsa.CheckNamespace(ctx, admin, "absent"); !errors.Is(err, rrsa.ErrNamespaceNotFound) {
			t.Errorf("absent namespace: %v", err)
		}
	})

	t.Run("annotate and remove", func(t *testing.T) {
		res, err := rrsa.AnnotateServiceAccount(ctx, admin, "app", "web", "role-a")
		if err != nil || !res.Created || res.PreviousRole != "" {
			t.Fatalf("first annotate: %+v %v", res, err)
		}
		if res, err = rrsa.AnnotateServiceAccount(ctx, admin, "app", "web", "role-b"); err != nil || res.Created || res.PreviousRole != "role-a" {
			t.Fatalf("re-point: %+v %v", res, err)
		}
		ns, _ := admin.CoreV1().Namespaces().Get(ctx, "app", metav1.GetOptions{})
		if ns.Labels[rrsa.InjectionLabel] != rrsa.InjectionOn {
			t.Errorf("namespace labels %v", ns.Labels)
		}
		tests := []struct {
			sa, role  string
			want      rrsa.AnnotationOutcome
			wantNamed string
		}{
			{"web", "role-a", rrsa.AnnotationNamesOther, "role-b"},
			{"web", "role-b", rrsa.AnnotationRemoved, "role-b"},
			{"web", "role-b", rrsa.AnnotationAbsent, ""},
			{"ghost", "role-b", rrsa.AnnotationAbsent, ""},
		}
		for _, tt := range tests {
			got, named, err := rrsa.RemoveRoleAnnotation(ctx, admin, "app", tt.sa, tt.role)
			if err != nil || got != tt.want || named != tt.wantNamed {
				t.Errorf("remove %s/%s: %q %q %v, want %q %q", tt.sa, tt.role, got, named, err, tt.want, tt.wantNamed)
			}
		}
		sa, _ := admin.CoreV1().ServiceAccounts("app").Get(ctx, "web", metav1.GetOptions{})
		if _, ok := sa.Annotations[rrsa.RoleNameAnnotation]; ok {
			t.Errorf("annotation still there: %v", sa.Annotations)
		}
		if tok, err := rrsa.ServiceAccountToken(ctx, admin, "app", "web"); err != nil || tok == "" {
			t.Errorf("token: %v", err)
		}
	})
}

// readOnlyUser returns a client for a user who may read (not change) service accounts in "app".
func readOnlyUser(t *testing.T, env *kubetest.Env, admin kubernetes.Interface) kubernetes.Interface {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "sa-reader", Namespace: "app"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"get", "list"}}}}
	if _, err := admin.RbacV1().Roles("app").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "sa-reader", Namespace: "app"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "sa-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "reader", APIGroup: "rbac.authorization.k8s.io"}}}
	if _, err := admin.RbacV1().RoleBindings("app").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := env.AddUser("reader")
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// RBAC learns the binding through a watch: wait until it is in force.
	get := []rrsa.Permission{{Verb: "get", Resource: "serviceaccounts", Namespace: "app", Name: "web"}}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return rrsa.CheckAccess(ctx, kc, get) == nil, nil
	}); err != nil {
		t.Fatalf("the reader binding never took effect: %v", err)
	}
	return kc
}
