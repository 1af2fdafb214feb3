package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// tokenLogin writes a token-mode kubeconfig for u with `kubectl ack-login kubeconfig`; extra
// flags (--role-arn, ...) are copied into the exec arguments by ack-login.
func tokenLogin(t *testing.T, u *harness.User, extra ...string) {
	t.Helper()
	args := append([]string{"ack-login", "kubeconfig", "--cluster-id", stack.ClusterID, "--mode", "token"}, extra...)
	must(t, u.Kubectl(context.Background(), args...))
}

// TestMapping is the main job: an admin maps a RAM user and a RAM role (with a session-name
// template) with `kubectl ack-map add`; people log in with token-mode kubeconfigs from
// `kubectl ack-login kubeconfig`, and kube-apiserver asks ack-ram-authenticator, which verifies
// each token with the emulator's STS and maps the identity through the RAMIdentityMapping
// objects it watches.
func TestMapping(t *testing.T) {
	ctx := context.Background()
	admin := stack.Admin()
	if testing.Verbose() {
		admin.Echo = testWriter{t}
	}
	alice, aliceTerm := newRAMUser(t, "alice")
	_, bobTerm := newRAMUser(t, "bob")
	carol, carolTerm := newRAMUser(t, "carol")

	must(t, admin.Kubectl(ctx, "ack-map", "add", "--arn", userARN("alice"), "--username", "alice", "--group", readersGroup))
	must(t, admin.Kubectl(ctx, "ack-map", "add", "--arn", roleARN(devRole), "--username", "dev:{{SessionName}}", "--group", readersGroup, "--group", "e2e-devs"))
	// Mapped, but no RBAC binding for this user or group.
	must(t, admin.Kubectl(ctx, "ack-map", "add", "--arn", userARN("carol"), "--username", "carol", "--group", "e2e-nobody"))
	r := must(t, admin.Kubectl(ctx, "ack-map", "explain", "--arn", "acs:ram::"+stack.AccountID+":assumed-role/"+devRole+"/alice@example.com"))
	if !strings.Contains(r.Stdout, "dev:alice-example.com") {
		t.Errorf("ack-map explain of an assumed-role ARN does not show the templated username:\n%s", r)
	}

	t.Run("user", func(t *testing.T) {
		tokenLogin(t, aliceTerm)
		// The mapping reaches the authenticator through its informer: poll, then assert.
		eventually(t, "alice lists namespaces", 30*time.Second, func() (bool, string) {
			r := aliceTerm.Kubectl(ctx, "get", "ns", "-o", "name")
			return r.Err() == nil && strings.Contains(r.Stdout, "namespace/default"), r.String()
		})
		w := authWhoami(t, aliceTerm)
		ui := w.Status.UserInfo
		if ui.Username != "alice" || !contains(ui.Groups, readersGroup) || !contains(ui.Groups, "system:authenticated") {
			t.Fatalf("alice is %+v, want alice in %s and system:authenticated", ui, readersGroup)
		}
		if ui.UID == "" && len(ui.Extra) == 0 {
			t.Errorf("no uid or extra carried from the RAM identity: %+v", ui)
		}
		if !strings.Contains(strings.Join(flatten(ui.Extra), " "), alice.UserID) && ui.UID != alice.UserID {
			t.Errorf("the RAM user id %s appears neither in uid nor extra: %+v", alice.UserID, ui)
		}
	})

	t.Run("role with session-name template", func(t *testing.T) {
		u, err := stack.NewUser("alice-as-dev", alice.AccessKeyID, alice.AccessKeySecret)
		if err != nil {
			t.Fatal(err)
		}
		if testing.Verbose() {
			u.Echo = testWriter{t}
		}
		tokenLogin(t, u, "--role-arn", roleARN(devRole), "--role-session-name", "alice@example.com")
		var w whoami
		eventually(t, "alice as dev is mapped", 30*time.Second, func() (bool, string) {
			r := u.Kubectl(ctx, "auth", "whoami", "-o", "json")
			if r.Err() != nil {
				return false, r.String()
			}
			return json.Unmarshal([]byte(r.Stdout), &w) == nil, r.String()
		})
		ui := w.Status.UserInfo
		if ui.Username != "dev:alice-example.com" || !contains(ui.Groups, "e2e-devs") || !contains(ui.Groups, readersGroup) {
			t.Fatalf("role session is %+v, want dev:alice-example.com in e2e-devs and %s", ui, readersGroup)
		}
		must(t, u.Kubectl(ctx, "get", "ns"))
	})

	t.Run("role from a ram_role_arn profile", func(t *testing.T) {
		u, err := stack.NewUser("ci-as-dev", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if testing.Verbose() {
			u.Echo = testWriter{t}
		}
		ini := fmt.Sprintf("[default]\ntype = ram_role_arn\naccess_key_id = %s\naccess_key_secret = %s\nrole_arn = %s\nrole_session_name = ci-pipeline\n",
			alice.AccessKeyID, alice.AccessKeySecret, roleARN(devRole))
		if err := u.WriteCredentials(ini); err != nil {
			t.Fatal(err)
		}
		tokenLogin(t, u)
		w := authWhoami(t, u)
		if ui := w.Status.UserInfo; ui.Username != "dev:ci-pipeline" || !contains(ui.Groups, "e2e-devs") {
			t.Fatalf("ram_role_arn profile session is %+v, want dev:ci-pipeline in e2e-devs", ui)
		}
	})

	t.Run("unmapped identity is unauthorized", func(t *testing.T) {
		tokenLogin(t, bobTerm)
		before := stsCalls(t)
		mustFail(t, bobTerm.Kubectl(ctx, "get", "ns"), unauthorized)
		// The 401 comes from the mapping step: STS did verify bob's token.
		if stsCalls(t) == before {
			t.Errorf("no STS GetCallerIdentity call for bob's token: the 401 did not come from the mapping step")
		}
		mustFail(t, bobTerm.Kubectl(ctx, "auth", "whoami"), unauthorized)
	})

	t.Run("mapped without RBAC is forbidden", func(t *testing.T) {
		tokenLogin(t, carolTerm)
		var w whoami
		eventually(t, "carol is mapped", 30*time.Second, func() (bool, string) {
			r := carolTerm.Kubectl(ctx, "auth", "whoami", "-o", "json")
			if r.Err() != nil {
				return false, r.String()
			}
			return json.Unmarshal([]byte(r.Stdout), &w) == nil, r.String()
		})
		if w.Status.UserInfo.Username != "carol" || !strings.Contains(w.Status.UserInfo.UID, carol.UserID) {
			t.Fatalf("carol is %+v", w.Status.UserInfo)
		}
		mustFail(t, carolTerm.Kubectl(ctx, "get", "ns"), "Forbidden", `User "carol"`)
	})

	t.Run("deleting the mapping revokes access", func(t *testing.T) {
		// A new token works before the deletion, so the refusal below is the deletion's doing.
		must(t, aliceTerm.Kubectl(ctx, "ack-login", "cache", "clear"))
		must(t, aliceTerm.Kubectl(ctx, "get", "ns"))
		must(t, admin.Kubectl(ctx, "ack-map", "delete", "--arn", userARN("alice"), "--yes"))
		// Each try gets a new token, as the next kubectl run after the cached one expires would.
		eventually(t, "alice is refused after the mapping was deleted", 30*time.Second, func() (bool, string) {
			if r := aliceTerm.Kubectl(ctx, "ack-login", "cache", "clear"); r.Err() != nil {
				return false, r.String()
			}
			r := aliceTerm.Kubectl(ctx, "get", "ns")
			return r.ExitCode != 0 && strings.Contains(r.Stderr, unauthorized), r.String()
		})
	})
}

// TestStaticMapping covers the authenticator's config-file mapper (server.mapUsers).
func TestStaticMapping(t *testing.T) {
	_, u := newRAMUser(t, staticUser)
	tokenLogin(t, u)
	w := authWhoami(t, u)
	if w.Status.UserInfo.Username != "static:"+staticUser || !contains(w.Status.UserInfo.Groups, readersGroup) {
		t.Fatalf("static user is %+v, want static:%s in %s", w.Status.UserInfo, staticUser, readersGroup)
	}
	must(t, u.Kubectl(context.Background(), "get", "ns"))
}

// TestTokenForAnotherCluster: a token signed for another cluster id is refused by the
// authenticator before any STS call (the signed ACKClusterId must equal its cluster id), while
// the same identity's token for this cluster works.
func TestTokenForAnotherCluster(t *testing.T) {
	ctx := context.Background()
	_, u := newRAMUser(t, otherClusterUser)
	token := func(clusterID string) string {
		t.Helper()
		r := must(t, u.Run(ctx, "kubectl-ack_login", "--cluster-id", clusterID, "--mode", "token", "--no-cache"))
		var ec struct {
			Status struct {
				Token string `json:"token"`
			} `json:"status"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &ec); err != nil || !strings.HasPrefix(ec.Status.Token, "k8s-ack-v2.") {
			t.Fatalf("ExecCredential without a k8s-ack-v2 token (%v):\n%s", err, r)
		}
		return ec.Status.Token
	}
	getNS := func(tok string) *harness.Result {
		return u.Kubectl(ctx, "--server", stack.APIServerURL, "--certificate-authority", stack.APIServerCAFile, "--token", tok, "get", "ns")
	}
	must(t, getNS(token(stack.ClusterID)))

	before := stsCalls(t)
	other := "c" + strings.Repeat("0", 31) + "1"
	mustFail(t, getNS(token(other)), unauthorized)
	if after := stsCalls(t); after != before {
		t.Errorf("the authenticator called STS GetCallerIdentity %d times for a token of another cluster, want 0", after-before)
	}
}

// stsCalls is the number of STS GetCallerIdentity calls the emulator accepted so far.
func stsCalls(t *testing.T) int {
	t.Helper()
	c, err := stack.Calls(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c["sts"]["GetCallerIdentity"]
}

func flatten(m map[string][]string) []string {
	var out []string
	for k, vs := range m {
		out = append(out, k)
		out = append(out, vs...)
	}
	return out
}
