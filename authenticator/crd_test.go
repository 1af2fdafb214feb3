package authenticator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// TestCRDMapper runs the CRD mapper against the real kube-apiserver: creating, updating and
// deleting a RAMIdentityMapping applies to the next reviews, status.canonicalARN is written by
// the server (and user-written values are corrected), and a broken object does not disable the
// others.
func TestCRDMapper(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	acct := info.AccountID
	bob, bobKey, err := srv.CreateUser(acct, "Bob")
	if err != nil {
		t.Fatal(err)
	}
	_, carolKey, err := srv.CreateUser(acct, "carol")
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t, info)
	cfg.Server.Mappers = []string{authenticator.MapperMountedFile, authenticator.MapperCRD}
	// The file maps carol; a CRD for carol must not override it (MountedFile comes first).
	cfg.Server.MapUsers = []mapper.UserMapping{{UserARN: "acs:ram::" + acct + ":user/carol", Username: "carol-from-file"}}
	r := startServer(t, cfg, authenticator.Options{KubeConfig: kube.Config})
	eventually(t, 20*time.Second, func() string {
		if code, body := r.get(t, "/readyz"); code != 200 {
			return body
		}
		return ""
	})

	cs, err := versioned.NewForConfig(kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	api := cs.RamauthenticatorV1alpha1().RAMIdentityMappings()
	ctx := ctxT(t, time.Minute)
	bobTok := sign(t, info.ClusterID, bobKey.ID, bobKey.Secret, "")
	carolTok := sign(t, info.ClusterID, carolKey.ID, carolKey.Secret, "")
	expect := func(tok, wantUser string, wantGroups ...string) func() string {
		return func() string {
			_, rv := r.post(t, authenticator.APIVersionV1, tok)
			got := rv.Status.User.Username
			if wantUser == "" {
				if rv.Status.Authenticated {
					return "still authenticated as " + got
				}
				return ""
			}
			if !rv.Status.Authenticated || got != wantUser || strings.Join(rv.Status.User.Groups, ",") != strings.Join(wantGroups, ",") {
				return "got " + got + " [" + strings.Join(rv.Status.User.Groups, ",") + "] " + rv.Status.Error
			}
			return ""
		}
	}
	if msg := expect(bobTok, "")(); msg != "" {
		t.Fatalf("bob before any mapping: %s", msg)
	}

	// A broken object (unknown placeholder) must not disable the others.
	broken := &v1alpha1.RAMIdentityMapping{ObjectMeta: metav1.ObjectMeta{Name: "crdtest-broken"},
		Spec: v1alpha1.RAMIdentityMappingSpec{ARN: "acs:ram::" + acct + ":user/*", Username: "{{Nope}}"}}
	if _, err := api.Create(ctx, broken, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	m := &v1alpha1.RAMIdentityMapping{ObjectMeta: metav1.ObjectMeta{Name: "crdtest-bob"},
		Spec: v1alpha1.RAMIdentityMappingSpec{ARN: "acs:ram::" + acct + ":user/BOB", Username: "bob", Groups: []string{"devs"}}}
	created, err := api.Create(ctx, m, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{"crdtest-bob", "crdtest-broken", "crdtest-carol"} {
			if err := api.Delete(context.Background(), n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("delete %s: %v", n, err)
			}
		}
	})
	eventually(t, 10*time.Second, expect(bobTok, "bob", "devs"))

	wantCanonical := "acs:ram::" + acct + ":user/bob"
	status := func() string {
		got, err := api.Get(ctx, created.Name, metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if got.Status.CanonicalARN != wantCanonical {
			return "status.canonicalARN = " + got.Status.CanonicalARN
		}
		return ""
	}
	eventually(t, 10*time.Second, status)
	// status.userID records who authenticated through the mapping (coalesced, within seconds).
	eventually(t, 20*time.Second, func() string {
		got, err := api.Get(ctx, created.Name, metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if got.Status.UserID != bob.UserID {
			return "status.userID = " + got.Status.UserID + ", want " + bob.UserID
		}
		return ""
	})
	// A user writing a false status is corrected by the server.
	cur, err := api.Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Status.CanonicalARN = "acs:ram::" + acct + ":root"
	if _, err := api.UpdateStatus(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, status)

	// Update applies at once (the identity is cached; the mapping is not).
	cur, err = api.Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Username = "bob-{{UserID}}-renamed"
	cur.Spec.Groups = []string{"ops", "devs"}
	if _, err := api.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() string {
		_, rv := r.post(t, authenticator.APIVersionV1, bobTok)
		if !strings.HasSuffix(rv.Status.User.Username, "-renamed") || strings.Join(rv.Status.User.Groups, ",") != "ops,devs" {
			return "got " + rv.Status.User.Username + " " + rv.Status.Error
		}
		return ""
	})

	// The file mapping wins for carol because MountedFile is first.
	carolCRD := &v1alpha1.RAMIdentityMapping{ObjectMeta: metav1.ObjectMeta{Name: "crdtest-carol"},
		Spec: v1alpha1.RAMIdentityMappingSpec{ARN: "acs:ram::" + acct + ":user/carol", Username: "carol-from-crd"}}
	if _, err := api.Create(ctx, carolCRD, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() string {
		got, err := api.Get(ctx, "crdtest-carol", metav1.GetOptions{})
		if err != nil || got.Status.CanonicalARN == "" {
			return "carol mapping not seen by the server yet"
		}
		return ""
	})
	if msg := expect(carolTok, "carol-from-file")(); msg != "" {
		t.Errorf("carol: %s", msg)
	}

	// Delete applies at once.
	if err := api.Delete(ctx, created.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, expect(bobTok, ""))
}
