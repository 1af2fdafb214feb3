package rrsa

import (
	"context"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeKube is a fake clientset whose TokenRequest answers with tokens signed by the fixture's
// service-account key, as the cluster's kube-apiserver would.
func fakeKube(t *testing.T, f *fixture, objs ...runtime.Object) *fake.Clientset {
	t.Helper()
	kc := fake.NewClientset(objs...)
	kc.PrependReactor("create", "serviceaccounts", func(action k8stesting.Action) (bool, runtime.Object, error) {
		ca, ok := action.(k8stesting.CreateActionImpl)
		if !ok || action.GetSubresource() != "token" {
			return false, nil, nil
		}
		if _, err := kc.Tracker().Get(corev1.SchemeGroupVersion.WithResource("serviceaccounts"), ca.GetNamespace(), ca.Name); err != nil {
			return true, nil, err
		}
		tr := ca.GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		tr.Status.Token = f.saTokenFor(t, ca.GetNamespace(), ca.Name, tr.Spec.Audiences)
		return true, tr, nil
	})
	return kc
}

func TestAnnotateAndAssumeServiceAccount(t *testing.T) {
	f := newFixture(t, seedRole("app-role", foreignPolicy))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "demo"}}
	other := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "demo"}}
	kc := fakeKube(t, f, ns, other)
	h := hooks{kubeClient: func() (kubernetes.Interface, error) { return kc, nil }}
	ctx := context.Background()

	r := f.run(t, h, "", "associate-role", "-r", "app-role", "-n", "demo", "-s", "app", "-y", "--annotate-service-account")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	sa, err := kc.CoreV1().ServiceAccounts("demo").Get(ctx, "app", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("service account not created: %v", err)
	}
	if sa.Annotations[roleNameAnnotation] != "app-role" {
		t.Errorf("annotations = %v", sa.Annotations)
	}
	gotNS, _ := kc.CoreV1().Namespaces().Get(ctx, "demo", metav1.GetOptions{})
	if gotNS.Labels[injectionLabel] != "on" {
		t.Errorf("namespace labels = %v", gotNS.Labels)
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
			r := f.run(t, h, "", "assume-role", "--service-account", tt.sa, "-r", tt.role, "-o", "json")
			if tt.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", r.err, tt.wantErr)
				}
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !strings.Contains(r.stdout, `"accessKeyId": "STS.`) || !strings.Contains(r.stdout, "********") {
				t.Errorf("stdout:\n%s", r.stdout)
			}
		})
	}

	r = f.run(t, h, "", "associate-role", "-r", "app-role", "-n", "absent", "-s", "app", "-y", "--annotate-service-account")
	if r.err == nil || !strings.Contains(r.err.Error(), `namespace "absent" does not exist`) {
		t.Errorf("missing namespace err = %v", r.err)
	}
}
