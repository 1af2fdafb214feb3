package mapping

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
)

// TestMissingCRDThenInstall uses its own control plane without the CRD: every command that needs
// it says to run install-crd; after install-crd they work.
func TestMissingCRDThenInstall(t *testing.T) {
	env := kubetest.Start(t)
	f := fixtureFor(t, env, false)
	cfg := writeFile(t, "c.yaml", authConfigMap)
	for _, args := range [][]string{
		{"list"},
		{"get", "x"},
		{"add", "--arn", roleDev, "--username", "dev"},
		{"update", "x", "--username", "y"},
		{"delete", "x", "--yes"},
		{"delete", "--arn", roleDev, "--yes"},
		{"explain", "--arn", roleDev},
		{"import", "--from-config", cfg},
		{"export"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := f.run(t, "", args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s", r.code, r)
			}
			contains(t, "stderr", r.stderr, "RAMIdentityMapping CRD", "is not installed", "run 'kubectl ack-map install-crd'")
		})
	}

	r := f.ok(t, "install-crd", "--timeout", "30s")
	contains(t, "stdout", r.stdout, "customresourcedefinition.apiextensions.k8s.io/ramidentitymappings.ramauthenticator.k8s.alibabacloud created")
	contains(t, "stderr", r.stderr, "Waiting up to 30s", "is established")
	ax, err := apiextensions.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	crd, err := ax.ApiextensionsV1().CustomResourceDefinitions().Get(context.Background(), "ramidentitymappings.ramauthenticator.k8s.alibabacloud", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if crd.Spec.Scope != "Cluster" || crd.Spec.Names.Kind != "RAMIdentityMapping" {
		t.Fatalf("unexpected CRD %+v", crd.Spec)
	}

	f.ok(t, "add", "--arn", roleDev, "--username", "dev")
	r = f.ok(t, "list", "-o", "name")
	contains(t, "stdout", r.stdout, resourceRef(DeriveName(roleDev)))
	f.ok(t, "explain", "--arn", roleDev)

	// Another installer's metadata (as Helm sets it) must survive a re-apply.
	crd.Annotations["meta.helm.sh/release-name"] = "ack-ram-authenticator"
	crd.Annotations["controller-gen.kubebuilder.io/version"] = "v0.0.1"
	crd.Labels = map[string]string{"app.kubernetes.io/managed-by": "Helm"}
	if _, err := ax.ApiextensionsV1().CustomResourceDefinitions().Update(context.Background(), crd, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Re-applying updates in place and keeps the data.
	r = f.ok(t, "install-crd")
	contains(t, "stdout", r.stdout, " configured")
	if n := len(f.list(t)); n != 1 {
		t.Fatalf("%d mappings after re-install, want 1", n)
	}
	crd, err = ax.ApiextensionsV1().CustomResourceDefinitions().Get(context.Background(), crd.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if crd.Annotations["meta.helm.sh/release-name"] != "ack-ram-authenticator" || crd.Labels["app.kubernetes.io/managed-by"] != "Helm" {
		t.Errorf("re-apply dropped foreign metadata: annotations %v, labels %v", crd.Annotations, crd.Labels)
	}
	if crd.Annotations["controller-gen.kubebuilder.io/version"] == "v0.0.1" {
		t.Errorf("re-apply did not restore the built-in annotation: %v", crd.Annotations)
	}
	if r := f.run(t, "", "install-crd", "--timeout", "0s"); r.code != 2 || !strings.Contains(r.stderr, "must be positive") {
		t.Fatalf("--timeout 0s: %s", r)
	}
}

func TestCompletion(t *testing.T) {
	f := newFixture(t)
	f.create(t, "dev-one", roleDev, "dev")
	f.create(t, "dev-two", "acs:ram::1:role/two", "two")
	f.create(t, "bob", userBob, "bob")
	tests := []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{name: "get names", args: []string{"__complete", "get", ""}, want: []string{"dev-one\t" + roleDev, "dev-two", "bob", ":4"}},
		{name: "prefix", args: []string{"__complete", "delete", "dev-"}, want: []string{"dev-one", "dev-two"}, notWant: []string{"bob"}},
		{name: "names already given are not offered", args: []string{"__complete", "get", "dev-one", ""}, want: []string{"dev-two", "bob"}, notWant: []string{"dev-one"}},
		{name: "update", args: []string{"__complete", "update", "b"}, want: []string{"bob"}},
		{name: "output formats", args: []string{"__complete", "list", "-o", ""}, want: []string{"table", "wide", "json", "yaml", "name"}},
		{name: "add output formats", args: []string{"__complete", "add", "-o", ""}, want: []string{"yaml", "json", "name"}, notWant: []string{"wide"}},
		{name: "dry-run values", args: []string{"__complete", "add", "--dry-run="}, want: []string{"none\n", "client\n", "server\n"}},
		{name: "subcommands", args: []string{"__complete", ""}, want: []string{"add", "explain", "install-crd", "import", "export", "completion", "version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.ok(t, tt.args...)
			contains(t, "completion", r.stdout, tt.want...)
			for _, nw := range tt.notWant {
				if strings.Contains(r.stdout, nw) {
					t.Errorf("completion offers %q:\n%s", nw, r.stdout)
				}
			}
		})
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run("completion "+shell, func(t *testing.T) {
			r := f.ok(t, "completion", shell)
			if !strings.Contains(r.stdout, "kubectl-ack_map") {
				t.Errorf("%s completion script does not mention the binary:\n%.300s", shell, r.stdout)
			}
		})
	}
}

// TestHelp checks every command has a short description and examples, and that version works.
func TestHelp(t *testing.T) {
	root := NewRootCommand(discardStreams())
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "__complete" || c.Parent() != nil && c.Parent().Name() == "completion" || c.Name() == "completion" {
			return
		}
		t.Run(c.CommandPath(), func(t *testing.T) {
			if c.Short == "" || c.Example == "" {
				t.Errorf("%s: Short %q, Example %q: both are required", c.CommandPath(), c.Short, c.Example)
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	if len(root.Commands()) < 10 {
		t.Fatalf("only %d subcommands", len(root.Commands()))
	}
	f := newFixture(t)
	r := f.ok(t, "version")
	contains(t, "version", r.stdout, "kubectl ack-map v")
	r = f.ok(t, "--version")
	contains(t, "--version", r.stdout, "commit")
	r = f.ok(t, "add", "--help")
	contains(t, "add --help", r.stdout, "--arn", "--overwrite", "--dry-run", "Examples:")
}
