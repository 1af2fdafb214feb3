package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
)

func kubectl(t *testing.T, kubeconfig string, args ...string) []byte {
	t.Helper()
	dir, err := kubetest.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestManifestsApply applies deploy/ (kustomize) and the examples to a real kube-apiserver with
// server-side dry run and checks the security settings of what the API server accepted.
func TestManifestsApply(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	env := kubetest.Start(t, kubetest.WithCRD())
	out := kubectl(t, env.Kubeconfig, "apply", "-k", ".", "--dry-run=server", "-o", "json")
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("kubectl output: %v", err)
	}
	kinds := map[string]json.RawMessage{}
	for _, raw := range list.Items {
		var u unstructured.Unstructured
		if err := u.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		kinds[u.GetKind()] = raw
	}
	for _, k := range []string{"CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("kustomization does not produce a %s (got %d objects)", k, len(list.Items))
		}
	}

	var ds appsv1.DaemonSet
	if err := json.Unmarshal(kinds["DaemonSet"], &ds); err != nil {
		t.Fatal(err)
	}
	ps := ds.Spec.Template.Spec
	if !ps.HostNetwork {
		t.Error("DaemonSet is not hostNetwork")
	}
	if ps.DNSPolicy != corev1.DNSDefault {
		t.Errorf("dnsPolicy = %q, want Default (the node's resolver, independent of cluster DNS)", ps.DNSPolicy)
	}
	if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot || ps.SecurityContext.RunAsUser == nil || *ps.SecurityContext.RunAsUser == 0 {
		t.Errorf("pod security context %+v is not non-root", ps.SecurityContext)
	}
	if _, ok := ps.NodeSelector["node-role.kubernetes.io/control-plane"]; !ok {
		t.Errorf("nodeSelector %v does not select control-plane nodes", ps.NodeSelector)
	}
	if !slices.ContainsFunc(ps.Tolerations, func(tl corev1.Toleration) bool {
		return tl.Key == "node-role.kubernetes.io/control-plane" && tl.Operator == corev1.TolerationOpExists
	}) {
		t.Errorf("tolerations %v lack the control-plane taint", ps.Tolerations)
	}
	for _, c := range append(slices.Clone(ps.InitContainers), ps.Containers...) {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("container %s security context %+v: want readOnlyRootFilesystem, no privilege escalation, drop ALL", c.Name, sc)
		}
		if !strings.HasPrefix(c.Image, "kubectl-ack/ack-ram-authenticator:") {
			t.Errorf("container %s image %s, want the kustomize-able kubectl-ack/ack-ram-authenticator", c.Name, c.Image)
		}
	}
	if len(ps.Containers) != 1 || ps.Containers[0].ReadinessProbe == nil || ps.Containers[0].ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("server container lacks the /readyz readiness probe")
	}

	// The ConfigMap holds a configuration file the server parses (with its placeholder id).
	var cm corev1.ConfigMap
	if err := json.Unmarshal(kinds["ConfigMap"], &cm); err != nil {
		t.Fatal(err)
	}
	cfg, err := authenticator.ParseConfig([]byte(cm.Data["config.yaml"]), "ConfigMap")
	if err != nil {
		t.Fatalf("ConfigMap config.yaml: %v", err)
	}
	if _, err := cfg.Validate(true, nil); err != nil {
		t.Errorf("ConfigMap config.yaml does not validate: %v", err)
	}
	if cfg.Server.Port != 21362 || ps.Containers[0].Ports[0].ContainerPort != 21362 {
		t.Error("port is not 21362 in the ConfigMap and the DaemonSet")
	}

	// The ClusterRole grants exactly read + status update of the mappings.
	var cr struct {
		Rules []struct {
			Resources []string `json:"resources"`
			Verbs     []string `json:"verbs"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(kinds["ClusterRole"], &cr); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range cr.Rules {
		for _, res := range r.Resources {
			got[res] = append(got[res], r.Verbs...)
		}
	}
	if !slices.Equal(got["ramidentitymappings"], []string{"get", "list", "watch"}) || !slices.Contains(got["ramidentitymappings/status"], "update") || len(got) != 2 {
		t.Errorf("ClusterRole rules = %v", got)
	}

	// The examples are accepted too (the CRD is installed by kubetest).
	for _, f := range []string{"examples/ramidentitymapping.yaml", "examples/clusterrolebinding.yaml"} {
		kubectl(t, env.Kubeconfig, "apply", "-f", f, "--dry-run=server")
	}
}

func runScript(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"configure-apiserver.sh"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestConfigureAPIServer runs the script on a kubeadm-style manifest twice: the first run backs
// it up, replaces the old webhook flag and adds the mount; the second changes nothing. The result
// is a valid Pod for the real kube-apiserver.
func TestConfigureAPIServer(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "manifests", "kube-apiserver.yaml")
	backups := filepath.Join(dir, "backup")
	kc := filepath.Join(dir, "webhook", "kubeconfig.yaml")
	orig, err := os.ReadFile("testdata/kube-apiserver.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(manifest), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--manifest", manifest, "--webhook-kubeconfig", kc, "--backup-dir", backups}

	// Refused while the webhook kubeconfig does not exist: kube-apiserver would not start.
	if out, err := runScript(t, args...); err == nil || !strings.Contains(out, "does not exist yet") {
		t.Fatalf("without kubeconfig: %v %s", err, out)
	}
	if b, _ := os.ReadFile(manifest); !bytes.Equal(b, orig) {
		t.Fatal("manifest changed although the script refused")
	}
	if err := os.MkdirAll(filepath.Dir(kc), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	out, err := runScript(t, args...)
	if err != nil {
		t.Fatalf("first run: %v %s", err, out)
	}
	first, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	bks, _ := filepath.Glob(filepath.Join(backups, "kube-apiserver.yaml.*"))
	if len(bks) != 1 {
		t.Fatalf("backups = %v, want one", bks)
	}
	if b, _ := os.ReadFile(bks[0]); !bytes.Equal(b, orig) {
		t.Error("backup is not the original manifest")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "manifests", "*")); len(left) != 1 {
		t.Errorf("manifests directory holds %v, want only the manifest (kubelet runs every file)", left)
	}
	if hidden, _ := filepath.Glob(filepath.Join(dir, "manifests", ".*")); len(hidden) != 0 {
		t.Errorf("temporary files left: %v", hidden)
	}

	out, err = runScript(t, args...)
	if err != nil || !strings.Contains(out, "already configured") {
		t.Fatalf("second run: %v %s", err, out)
	}
	second, _ := os.ReadFile(manifest)
	if !bytes.Equal(first, second) {
		t.Errorf("second run changed the manifest:\n%s", second)
	}
	if bks, _ := filepath.Glob(filepath.Join(backups, "kube-apiserver.yaml.*")); len(bks) != 1 {
		t.Errorf("second run made another backup: %v", bks)
	}

	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(second, &pod); err != nil {
		t.Fatalf("result is not a valid Pod: %v\n%s", err, second)
	}
	c := pod.Spec.Containers[0]
	var webhookFlags []string
	for _, a := range c.Command {
		if strings.HasPrefix(a, "--authentication-token-webhook") {
			webhookFlags = append(webhookFlags, a)
		}
	}
	want := []string{"--authentication-token-webhook-config-file=" + kc, "--authentication-token-webhook-version=v1"}
	if !slices.Equal(webhookFlags, want) {
		t.Errorf("webhook flags = %v, want %v (the old one replaced)", webhookFlags, want)
	}
	if c.Command[0] != "kube-apiserver" || !slices.Contains(c.Command, "--secure-port=6443") {
		t.Errorf("other flags changed: %v", c.Command)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == filepath.Dir(kc) && m.ReadOnly }) {
		t.Errorf("no read-only mount of %s: %v", filepath.Dir(kc), c.VolumeMounts)
	}
	if !slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.HostPath != nil && v.HostPath.Path == filepath.Dir(kc) }) {
		t.Errorf("no hostPath volume for %s", filepath.Dir(kc))
	}
	if len(c.VolumeMounts) != 3 || len(pod.Spec.Volumes) != 3 {
		t.Errorf("mounts %d volumes %d, want 3 each", len(c.VolumeMounts), len(pod.Spec.Volumes))
	}

	// A different kubeconfig path replaces ours instead of adding a second mount.
	kc2 := filepath.Join(dir, "webhook2", "kc.yaml")
	if err := os.MkdirAll(filepath.Dir(kc2), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kc2, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runScript(t, "--manifest", manifest, "--webhook-kubeconfig", kc2, "--backup-dir", backups); err != nil {
		t.Fatalf("third run: %v %s", err, out)
	}
	third, _ := os.ReadFile(manifest)
	var pod3 corev1.Pod
	if err := yaml.UnmarshalStrict(third, &pod3); err != nil {
		t.Fatal(err)
	}
	if len(pod3.Spec.Containers[0].VolumeMounts) != 3 || len(pod3.Spec.Volumes) != 3 || !strings.Contains(string(third), "config-file="+kc2) || strings.Contains(string(third), "config-file="+kc+"\n") {
		t.Errorf("path change not applied cleanly:\n%s", third)
	}
}

func TestConfigureAPIServerErrors(t *testing.T) {
	dir := t.TempDir()
	notPod := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(notPod, []byte("apiVersion: v1\nkind: ConfigMap\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing manifest", []string{"--manifest", filepath.Join(dir, "nope.yaml"), "--skip-kubeconfig-check"}, "not found"},
		{"not kube-apiserver", []string{"--manifest", notPod, "--skip-kubeconfig-check"}, "no '- kube-apiserver'"},
		{"relative kubeconfig", []string{"--manifest", notPod, "--webhook-kubeconfig", "kc.yaml"}, "absolute path"},
		{"unknown flag", []string{"--frobnicate"}, "unknown argument"},
		{"bad uid", []string{"--prepare-dirs", "--uid", "root"}, "must be a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runScript(t, tc.args...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("err %v, output %q, want failure with %q", err, out, tc.want)
			}
		})
	}
}

// TestConfigureAPIServerForeignMount: a manifest that already mounts the kubeconfig directory
// through another volume (say, from a manual install of the official add-on) is refused and left
// alone, because a second mount of the same path makes the kube-apiserver pod invalid.
func TestConfigureAPIServerForeignMount(t *testing.T) {
	orig, err := os.ReadFile("testdata/kube-apiserver.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "    volumeMounts:\n"
	if !bytes.Contains(orig, []byte(anchor)) {
		t.Fatalf("testdata has no %q", anchor)
	}
	tests := []struct {
		name  string
		mount string // volumeMount item, %s is the kubeconfig directory
		ok    bool
	}{
		{"mountPath first", "    - mountPath: %s\n      name: authenticator\n      readOnly: true\n", false},
		{"name first", "    - name: authenticator\n      mountPath: %s\n", false},
		{"quoted with trailing slash", "    - mountPath: \"%s/\"\n      name: authenticator\n", false},
		{"parent directory", "    - mountPath: %s/..\n      name: authenticator\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			kc := filepath.Join(dir, "webhook", "kubeconfig.yaml")
			if err := os.MkdirAll(filepath.Dir(kc), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			manifest := filepath.Join(dir, "kube-apiserver.yaml")
			in := bytes.Replace(orig, []byte(anchor), []byte(anchor+strings.ReplaceAll(tc.mount, "%s", filepath.Dir(kc))), 1)
			if err := os.WriteFile(manifest, in, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := runScript(t, "--manifest", manifest, "--webhook-kubeconfig", kc, "--backup-dir", filepath.Join(dir, "backup"))
			got, _ := os.ReadFile(manifest)
			if tc.ok {
				if err != nil || bytes.Equal(got, in) {
					t.Fatalf("want the manifest configured: %v %s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(out, "already mounts "+filepath.Dir(kc)) {
				t.Fatalf("err %v, output %q, want a refusal naming the directory", err, out)
			}
			if !bytes.Equal(got, in) {
				t.Errorf("manifest changed although the script refused:\n%s", got)
			}
		})
	}
}
