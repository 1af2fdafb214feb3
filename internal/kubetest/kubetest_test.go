package kubetest

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
)

func TestStartServesCRDAndKubeconfig(t *testing.T) {
	e := Start(t, WithCRD())
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("get default namespace: %v", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", e.Kubeconfig)
	if err != nil {
		t.Fatalf("load kubeconfig file: %v", err)
	}
	mc, err := versioned.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	list, err := mc.RamauthenticatorV1alpha1().RAMIdentityMappings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list RAMIdentityMappings through the kubeconfig file: %v", err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("fresh cluster has %d mappings", len(list.Items))
	}
}
