package kube

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/internal/cli"
	"github.com/kubectl-ack/kubectl-ack/internal/kubetest"
)

const noContextKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: ctx
  context: {cluster: c, user: u}
`

func flagsFor(t *testing.T, content, context string) *genericclioptions.ConfigFlags {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if content != "" {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := genericclioptions.NewConfigFlags(false)
	f.KubeConfig = &path
	f.Context = &context
	return f
}

func TestRESTConfigNoUsableContext(t *testing.T) {
	tests := []struct {
		name    string
		content string
		context string
		detail  string
	}{
		{"missing file", "", "", "no such file"},
		{"no current context", noContextKubeconfig, "", "has no current context"},
		{"unknown context", noContextKubeconfig, "nope", `context "nope" is not in the kubeconfig`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RESTConfig(flagsFor(t, tt.content, tt.context))
			if !errors.Is(err, ErrNoContext) || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("RESTConfig = %v, want ErrNoContext with %q", err, tt.detail)
			}
			if !strings.Contains(err.Error(), "kubectl ack-login kubeconfig") {
				t.Errorf("the hint does not say how to get a context: %v", err)
			}
		})
	}
	cfg, err := RESTConfig(flagsFor(t, noContextKubeconfig, "ctx"))
	if err != nil || cfg.Host != "https://127.0.0.1:1" {
		t.Fatalf("RESTConfig with --context = %v, %v", cfg, err)
	}
}

func TestPrintTemplate(t *testing.T) {
	list := map[string]any{"items": []any{
		map[string]any{"metadata": map[string]any{"name": "a"}, "spec": map[string]any{"arn": "acs:ram::1:user/a"}},
		map[string]any{"metadata": map[string]any{"name": "b"}},
	}}
	tests := []struct {
		format, want string
		noHeaders    bool
		wantErr      string
	}{
		{format: "jsonpath={.items[*].metadata.name}", want: "a b\n"},
		{format: "jsonpath=.items[0].spec.arn", want: "acs:ram::1:user/a\n"},
		{format: "custom-columns=NAME:.metadata.name,ARN:.spec.arn", want: "NAME   ARN\na      acs:ram::1:user/a\nb      <none>\n"},
		{format: "custom-columns=NAME:.metadata.name", noHeaders: true, want: "a\nb\n"},
		{format: "custom-columns=NAME", wantErr: "is not HEADER:JSONPATH"},
		{format: "jsonpath={.items[", wantErr: "bad template"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			o := cli.NewOutput("", cli.FormatJSONPath, cli.FormatCustomColumns)
			o.Format, o.NoHeaders = tt.format, tt.noHeaders
			var b bytes.Buffer
			err := PrintTemplate(&b, o, list)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !cli.IsUsage(err) {
					t.Fatalf("err %v, want usage error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || b.String() != tt.want {
				t.Fatalf("got %q, %v; want %q", b.String(), err, tt.want)
			}
		})
	}
}

func TestCompleteNamespacesAndServiceAccounts(t *testing.T) {
	env := kubetest.Start(t)
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"team-a", "team-b", "other"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sa := range []string{"app", "api", "batch"} {
		if _, err := cs.CoreV1().ServiceAccounts("team-a").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	f := genericclioptions.NewConfigFlags(false)
	f.KubeConfig = &env.Kubeconfig
	cmd := &cobra.Command{}
	cmd.SetContext(ctx)

	got, dir := CompleteNamespaces(f)(cmd, nil, "team-")
	if !slices.Equal(got, []cobra.Completion{"team-a", "team-b"}) || dir != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("namespaces = %v (%v)", got, dir)
	}
	got, _ = CompleteServiceAccounts(f, func() string { return "team-a" })(cmd, nil, "a")
	if !slices.Equal(got, []cobra.Completion{"api", "app"}) {
		t.Errorf("service accounts = %v", got)
	}
	bad := flagsFor(t, noContextKubeconfig, "")
	if got, _ := CompleteNamespaces(bad)(cmd, nil, ""); len(got) != 0 {
		t.Errorf("no usable context completed %v", got)
	}
}
