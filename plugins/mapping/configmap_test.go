package mapping

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
)

// authConfigMaps returns the kube-system ConfigMap client, with alibabacloud-auth removed now and
// when the test ends (the control plane is shared).
func authConfigMaps(t *testing.T, f *fixture) corev1client.ConfigMapInterface {
	t.Helper()
	cms := kubernetes.NewForConfigOrDie(f.env.Config).CoreV1().ConfigMaps(configmap.Namespace)
	drop := func() {
		if err := cms.Delete(context.Background(), configmap.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	drop()
	t.Cleanup(drop)
	return cms
}

// TestConfigMapImportExport: export --to-configmap writes the cluster's mappings into the live
// alibabacloud-auth ConfigMap (asking first, keeping mapAccounts), and import --from-configmap
// reads them back into RAMIdentityMappings.
func TestConfigMapImportExport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cms := authConfigMaps(t, f)
	f.ok(t, "add", "--arn", "acs:ram::"+acct+":role/dev", "--username", "dev:{{SessionName}}", "-g", "devs")
	f.ok(t, "add", "--arn", "acs:ram::"+acct+":user/alice", "--username", "alice")

	if r := f.run(t, "", "export", "--to-configmap"); r.code != 2 || !strings.Contains(r.stderr, "pass -y/--yes") {
		t.Fatalf("export --to-configmap without a terminal or --yes: %s", r)
	}
	if r := f.ok(t, "export", "--to-configmap", "--dry-run=server", "--yes"); !strings.Contains(r.stdout, "created (server dry run)") {
		t.Fatalf("server dry run: %s", r)
	}
	if _, err := cms.Get(ctx, configmap.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a dry run created the ConfigMap: %v", err)
	}
	// An existing ConfigMap keeps its accounts and other keys.
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configmap.Name},
		Data: map[string]string{"mapAccounts": "- \"5555\"\n", "note": "kept"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.terminal = true
	r := f.run(t, "y\n", "export", "--to-configmap")
	f.terminal = false
	if r.code != 0 || !strings.Contains(r.stderr, "Replace mapRoles and mapUsers of ConfigMap kube-system/alibabacloud-auth with 1 role and 1 user mapping(s)?") {
		t.Fatalf("confirmed export: %s", r)
	}
	cm, err := cms.Get(ctx, configmap.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["note"] != "kept" || !strings.Contains(cm.Data["mapAccounts"], "5555") || !strings.Contains(cm.Data["mapRoles"], "rolearn: acs:ram::"+acct+":role/dev") || !strings.Contains(cm.Data["mapUsers"], "userarn: acs:ram::"+acct+":user/alice") {
		t.Fatalf("ConfigMap after export: %q", cm.Data)
	}

	before := specs(t, f)
	f.reset(t)
	r = f.ok(t, "import", "--from-configmap")
	if strings.Count(r.stdout, " created\n") != 2 || !strings.Contains(r.stderr, "mapAccounts[0] (account 5555)") {
		t.Fatalf("import --from-configmap: %s", r)
	}
	if got := specs(t, f); strings.Join(got, "\n") != strings.Join(before, "\n") {
		t.Fatalf("import(export --to-configmap) = %q, want %q", got, before)
	}
	if r := f.run(t, "", "import", "--from-configmap", "--configmap-name", "nope"); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("missing ConfigMap: %s", r)
	}
}

// TestExplainBackends: explain --config asks the backends the file lists, with the server's
// code: the live ConfigMap (ACKConfigMap) and the dynamic file (DynamicFile), in order, and
// names patterns the official server reads differently.
func TestExplainBackends(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cms := authConfigMaps(t, f)
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configmap.Name},
		Data: map[string]string{"mapRoles": "- rolearn: acs:ram::" + acct + ":role/team-*\n  username: team:{{SessionName}}\n"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dyn := writeFile(t, "mappings.json", `{"mapUsers":[{"userarn":"acs:ram::`+acct+`:user/zoe","username":"zoe-dynamic"}]}`)
	cfg := writeFile(t, "config.yaml", "clusterID: c1\nserver:\n  backendMode: [DynamicFile, ConfigMap, CRD]\n  dynamicfilepath: "+dyn+"\n")
	f.ok(t, "add", "--arn", "acs:ram::"+acct+":user/zoe", "--username", "zoe-crd")

	r := f.ok(t, "explain", "--config", cfg, "--arn", "acs:ram::"+acct+":user/zoe")
	contains(t, "DynamicFile first", r.stdout, "Username:       zoe-dynamic", "(DynamicFile mapper)")
	r = f.ok(t, "explain", "--config", cfg, "--arn", "acs:ram::"+acct+":assumed-role/team-a/s1")
	contains(t, "live ConfigMap", r.stdout, "Username:       team:s1",
		"Official reading differs: config:mapRoles: pattern acs:ram::"+acct+":role/team-* matches other identities on the official ack-ram-authenticator (exact comparison",
		"this identity is matched here only")

	missing := writeFile(t, "missing.yaml", "clusterID: c1\nserver:\n  backendMode: [DynamicFile, CRD]\n  dynamicfilepath: "+filepath.Join(t.TempDir(), "none.json")+"\n")
	r = f.ok(t, "explain", "--config", missing, "--arn", "acs:ram::"+acct+":user/zoe")
	contains(t, "unreadable dynamic file", r.stderr, "DynamicFile backend is skipped")
	contains(t, "unreadable dynamic file", r.stdout, "Username:       zoe-crd")
}
