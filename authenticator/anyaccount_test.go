package authenticator_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// TestAnyAccountNeedsOptInAtTheServer: a wildcard account id in a static mapping stops the
// server from starting unless the entry says allowAnyAccount: true, and a RAMIdentityMapping
// with one maps nobody until spec.allowAnyAccount is set; then it maps a user of another account.
func TestAnyAccountNeedsOptInAtTheServer(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	const otherAcct = "1888888888888888"
	_, doraKey, err := srv.CreateUser(otherAcct, "dora")
	if err != nil {
		t.Fatal(err)
	}

	cfg := baseConfig(t, info)
	cfg.Server.MapUsers = []mapper.UserMapping{{UserARN: "acs:ram::*:user/dora", Username: "dora"}}
	if _, err := authenticator.NewServer(cfg, authenticator.Options{}); err == nil || !strings.Contains(err.Error(), "allowAnyAccount: true") {
		t.Fatalf("NewServer with a wildcard account and no opt-in: %v, want a refusal naming allowAnyAccount", err)
	}

	cs, err := versioned.NewForConfig(kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	api := cs.RamauthenticatorV1alpha1().RAMIdentityMappings()
	ctx := ctxT(t, time.Minute)
	m := &v1alpha1.RAMIdentityMapping{ObjectMeta: metav1.ObjectMeta{Name: "anyaccount-dora"},
		Spec: v1alpha1.RAMIdentityMappingSpec{ARN: "acs:ram::*:user/dora", Username: "dora-{{AccountID}}"}}
	if _, err := api.Create(ctx, m, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Delete(ctxT(t, 10*time.Second), m.Name, metav1.DeleteOptions{}) })
	// Created before the server starts: once ready, its informer has the object.
	cfg = baseConfig(t, info)
	cfg.Server.Mappers = []string{authenticator.MapperCRD}
	r := startServer(t, cfg, authenticator.Options{KubeConfig: kube.Config})
	eventually(t, 20*time.Second, func() string {
		if code, body := r.get(t, "/readyz"); code != 200 {
			return body
		}
		return ""
	})
	tok := sign(t, info.ClusterID, doraKey.ID, doraKey.Secret, "")
	// Without the opt-in the mapping is skipped as invalid: dora is not mapped.
	if _, rv := r.post(t, authenticator.APIVersionV1, tok); rv.Status.Authenticated || !strings.Contains(rv.Status.Error, "is not mapped") {
		t.Fatalf("a wildcard-account mapping without allowAnyAccount: %+v, want dora unmapped", rv.Status)
	}
	// A merge patch: the server writes the object's status meanwhile.
	if _, err := api.Patch(ctx, m.Name, types.MergePatchType, []byte(`{"spec":{"allowAnyAccount":true}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() string {
		if _, rv := r.post(t, authenticator.APIVersionV1, tok); !rv.Status.Authenticated || rv.Status.User.Username != "dora-"+otherAcct {
			return "not mapped yet: " + rv.Status.Error
		}
		return ""
	})
}
