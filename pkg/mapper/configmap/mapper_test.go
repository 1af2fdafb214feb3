package configmap_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// eventually polls cond until it returns "" or the timeout passes.
func eventually(t *testing.T, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		<-tick.C
	}
}

// leastPrivilege is a client that may only get, list and watch the one ConfigMap, which works
// because the backend lists and watches with a metadata.name field selector.
func leastPrivilege(t *testing.T, ctx context.Context, env *kubetest.Env, admin kubernetes.Interface) kubernetes.Interface {
	t.Helper()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "auth-reader", Namespace: configmap.Namespace},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{configmap.Name}, Verbs: []string{"get", "list", "watch"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "auth-reader", Namespace: configmap.Namespace},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "auth-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "authenticator"}}}
	if _, err := admin.RbacV1().Roles(configmap.Namespace).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings(configmap.Namespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := env.AddUser("authenticator")
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(rc)
}

// TestMapperWatchesConfigMap runs the ACKConfigMap backend against a real kube-apiserver: it is
// ready (with no mappings) before the ConfigMap exists, picks up its creation and edits without a
// restart, keeps the last good mappings when an edit is invalid, and maps nobody once it is
// deleted.
func TestMapperWatchesConfigMap(t *testing.T) {
	env := kubetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(env.Config)
	var observed []string
	obsCh := make(chan []mapper.Rule, 16)
	m := configmap.New(leastPrivilege(t, ctx, env, admin), configmap.Namespace, configmap.Name, func(backend string, rules []mapper.Rule) {
		obsCh <- rules
	})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); m.Run(runCtx) }()
	defer func() { stop(); <-done }()

	id := token.Identity{AccountID: "000000000000", ARN: "acs:ram::000000000000:assumed-role/KubernetesAdmin/alice", CanonicalARN: "acs:ram::000000000000:role/KubernetesAdmin", SessionName: "alice"}
	user := func() string {
		res, ok, err := m.Map(id)
		switch {
		case err != nil:
			return "error: " + err.Error()
		case !ok:
			return "unmapped"
		}
		return res.Username + " " + strings.Join(res.Groups, ",")
	}
	eventually(t, "synced without the ConfigMap", func() string {
		if !m.HasSynced() {
			return "not synced"
		}
		return ""
	})
	if got := user(); got != "unmapped" {
		t.Fatalf("before the ConfigMap exists: %s", got)
	}

	cms := admin.CoreV1().ConfigMaps(configmap.Namespace)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configmap.Name},
		Data: map[string]string{"mapRoles": "- rolearn: acs:ram::000000000000:role/KubernetesAdmin\n  username: admin:{{SessionName}}\n  groups: [system:masters]\n"}}
	cm, err := cms.Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "created ConfigMap applies", func() string {
		if got := user(); got != "admin:alice system:masters" {
			return got
		}
		return ""
	})

	cm.Data["mapRoles"] = "- rolearn: acs:ram::000000000000:role/KubernetesAdmin\n  username: viewer:{{SessionName}}\n  groups: [viewers]\n"
	if cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "edit applies without a restart", func() string {
		if got := user(); got != "viewer:alice viewers" {
			return got
		}
		return ""
	})

	// An invalid edit (unknown placeholder) is refused as a whole: the last good rules stay.
	cm.Data["mapRoles"] = "- rolearn: acs:ram::000000000000:role/KubernetesAdmin\n  username: '{{Nope}}'\n"
	if cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "invalid edit handled", func() string {
		if m.Seen() != cm.ResourceVersion {
			return "seen " + m.Seen() + ", want " + cm.ResourceVersion
		}
		return ""
	})
	if got := user(); got != "viewer:alice viewers" {
		t.Fatalf("after an invalid edit: %s, want the last good mapping", got)
	}

	if err := cms.Delete(ctx, configmap.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted ConfigMap maps nobody", func() string {
		if got := user(); got != "unmapped" {
			return got
		}
		return ""
	})
	// The observer saw every applied set, the system:masters grant among them.
	for len(obsCh) > 0 {
		for _, r := range <-obsCh {
			observed = append(observed, r.Username)
		}
	}
	if !strings.Contains(strings.Join(observed, ","), "admin:{{SessionName}}") {
		t.Errorf("observer saw %q, want the admin rule", observed)
	}
}

// TestEdit creates the ConfigMap on first use, appends with the official spelling and refuses an
// edit that would make the mappings invalid without writing anything.
func TestEdit(t *testing.T) {
	env := kubetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cms := kubernetes.NewForConfigOrDie(env.Config).CoreV1().ConfigMaps(configmap.Namespace)
	addRole := func(c *mapper.StaticConfig) error {
		c.MapRoles = append(c.MapRoles, mapper.RoleMapping{RoleARN: "acs:ram::1:role/dev", Username: "dev"})
		return nil
	}
	if _, _, err := configmap.Edit(ctx, cms, configmap.Name, configmap.EditOptions{}, addRole); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("Edit without Create on a missing ConfigMap: %v", err)
	}
	got, created, err := configmap.Edit(ctx, cms, configmap.Name, configmap.EditOptions{Create: true}, addRole)
	if err != nil || !created || !strings.Contains(got.Data["mapRoles"], "rolearn: acs:ram::1:role/dev") {
		t.Fatalf("Edit(create) = %+v, %v, %v", got, created, err)
	}
	_, _, err = configmap.Edit(ctx, cms, configmap.Name, configmap.EditOptions{}, func(c *mapper.StaticConfig) error {
		c.MapUsers = append(c.MapUsers, mapper.UserMapping{UserARN: "acs:ram::1:role/not-a-user", Username: "x"})
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "mapUsers[0]") {
		t.Fatalf("invalid edit: %v", err)
	}
	c, _, err := configmap.Get(ctx, cms, configmap.Name)
	if err != nil || len(c.MapRoles) != 1 || len(c.MapUsers) != 0 {
		t.Fatalf("after the refused edit: %+v, %v", c, err)
	}
}
