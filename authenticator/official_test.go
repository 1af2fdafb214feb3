package authenticator_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper/configmap"
)

// TestReservedGroups: system:masters, the official README's admin mapping, is granted by
// default; "allowedGroups: []" forbids it; other system: groups and system: usernames are refused
// unless listed.
func TestReservedGroups(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	acct := info.AccountID
	users := map[string]mapper.UserMapping{}
	toks := map[string]string{}
	for name, m := range map[string]mapper.UserMapping{
		"kadmin": {Username: "kubernetes-admin", Groups: []string{"system:masters"}},
		"node":   {Username: "node", Groups: []string{"system:nodes"}},
		"system": {Username: "system:evil"},
	} {
		_, key, err := srv.CreateUser(acct, name)
		if err != nil {
			t.Fatal(err)
		}
		m.UserARN = "acs:ram::" + acct + ":user/" + name
		users[name] = m
		toks[name] = sign(t, info.ClusterID, key.ID, key.Secret, "")
	}
	tests := []struct {
		name    string
		allowed []string
		want    map[string]string // user → username, "" = refused
	}{
		{name: "default", allowed: nil, want: map[string]string{"kadmin": "kubernetes-admin", "node": "", "system": ""}},
		{name: "allowedGroups: []", allowed: []string{}, want: map[string]string{"kadmin": "", "node": "", "system": ""}},
		{name: "nodes listed", allowed: []string{"system:nodes"}, want: map[string]string{"kadmin": "", "node": "node", "system": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs := captureKlog(t, "0")
			cfg := baseConfig(t, info)
			cfg.Server.AllowedGroups = tc.allowed
			for _, m := range users {
				cfg.Server.MapUsers = append(cfg.Server.MapUsers, m)
			}
			r := startServer(t, cfg, authenticator.Options{})
			for name, want := range tc.want {
				_, rv := r.post(t, authenticator.APIVersionV1, toks[name])
				if got := rv.Status.User.Username; got != want || rv.Status.Authenticated != (want != "") {
					t.Errorf("%s: authenticated %v as %q (%s), want %q", name, rv.Status.Authenticated, got, rv.Status.Error, want)
				}
			}
			// Every mapping that names a reserved group is logged at start-up.
			out := logs.String()
			if tc.allowed == nil && !strings.Contains(out, `"mapping grants a reserved group" group="system:masters" backend="MountedFile"`) {
				t.Errorf("start-up logs lack the system:masters grant:\n%s", out)
			}
			if !strings.Contains(out, `server.allowedGroups does not allow`) {
				t.Errorf("start-up logs lack the refused reserved group:\n%s", out)
			}
		})
	}
}

// TestStartupLogsEveryBackend: grants of system:masters and patterns the official server reads
// differently are logged from the CRD, ACKConfigMap and DynamicFile backends too, when they
// load; scrubbedAccounts keeps the account's identities out of the request logs.
func TestStartupLogsEveryBackend(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	logs := captureKlog(t, "2")
	srv := emulatortest.Start(t)
	info := srv.Info()
	acct := info.AccountID
	ctx := ctxT(t, time.Minute)
	cs := kubernetes.NewForConfigOrDie(kube.Config)
	if _, err := cs.CoreV1().ConfigMaps(configmap.Namespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configmap.Name},
		Data: map[string]string{"mapRoles": "- rolearn: acs:ram::" + acct + ":role/cm-admin\n  username: cm-admin\n  groups: [system:masters]\n"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().ConfigMaps(configmap.Namespace).Delete(ctxT(t, time.Minute), configmap.Name, metav1.DeleteOptions{})
	})
	api := versioned.NewForConfigOrDie(kube.Config).RamauthenticatorV1alpha1().RAMIdentityMappings()
	if _, err := api.Create(ctx, &v1alpha1.RAMIdentityMapping{ObjectMeta: metav1.ObjectMeta{Name: "logs-team"},
		Spec: v1alpha1.RAMIdentityMappingSpec{ARN: "acs:ram::" + acct + ":role/team-*", Username: "team", Groups: []string{"system:masters"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Delete(ctxT(t, time.Minute), "logs-team", metav1.DeleteOptions{}) })
	dyn := filepath.Join(t.TempDir(), "mappings.json")
	if err := os.WriteFile(dyn, []byte(`{"mapUsers":[{"userarn":"acs:ram::`+acct+`:user/`+info.UserName+`","username":"dyn-admin","groups":["system:masters"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t, info)
	cfg.Server.BackendMode = []string{authenticator.MapperDynamicFile, authenticator.MapperACKConfigMap, authenticator.MapperCRD}
	cfg.Server.DynamicFilePath = dyn
	cfg.Server.ScrubbedAccounts = []string{acct}
	r := startServer(t, cfg, authenticator.Options{KubeConfig: kube.Config})
	eventually(t, 30*time.Second, func() string {
		if code, body := r.get(t, "/readyz"); code != 200 {
			return body
		}
		return ""
	})
	tok := sign(t, info.ClusterID, info.AccessKeyID, info.AccessKeySecret, "")
	if _, rv := r.post(t, authenticator.APIVersionV1, tok); rv.Status.User.Username != "dyn-admin" {
		t.Fatalf("DynamicFile mapping: %+v", rv.Status)
	}
	out := logs.String()
	for _, want := range []string{
		`group="system:masters" backend="DynamicFile"`,
		`group="system:masters" backend="ACKConfigMap"`,
		`group="system:masters" backend="CRD" rule="crd:logs-team"`,
		`pattern="acs:ram::` + acct + `:role/team-*" backend="CRD"`,
		`onlyOfficialMatches="acs:ram::` + acct + `:role/team"`,
		`"authenticated" arn="<scrubbed>"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	if strings.Contains(out, `arn="acs:ram::`+acct+`:user/`) {
		t.Errorf("a scrubbed account's ARN is in the request logs:\n%s", out)
	}
}

// TestPrepareState: without kubeconfigPregenerated the server writes what init writes, keeping a
// valid certificate; with it, the server writes nothing and refuses a missing or mismatched
// kubeconfig. server.hostname names the certificate and the kubeconfig's URL.
func TestPrepareState(t *testing.T) {
	dir := t.TempDir()
	cfg, err := authenticator.ParseConfig([]byte("clusterID: c1\nserver:\n  hostname: authn.example.com\n  port: 21999\n  stateDir: "+filepath.Join(dir, "state")+"\n  generateKubeconfig: "+filepath.Join(dir, "out", "kubeconfig.yaml")+"\n  kubeconfigPregenerated: true\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := authenticator.PrepareState(cfg); err == nil || !strings.Contains(err.Error(), "run 'ack-ram-authenticator init' first") {
		t.Fatalf("pregenerated without files: %v", err)
	}
	if _, err := os.Stat(cfg.Server.GenerateKubeconfig); err == nil {
		t.Fatal("a pregenerated start wrote the kubeconfig")
	}
	cfg.Server.KubeconfigPregenerated = false
	res, err := authenticator.PrepareState(cfg)
	if err != nil || !res.Generated {
		t.Fatalf("self-initialisation: %+v, %v", res, err)
	}
	cert := readCert(t, res.CertFile)
	kc, err := os.ReadFile(res.Kubeconfig)
	if err != nil || !strings.Contains(string(kc), "server: https://authn.example.com:21999/authenticate") || !slices.Contains(cert.DNSNames, "authn.example.com") {
		t.Fatalf("hostname: SANs %v, kubeconfig %s (%v)", cert.DNSNames, kc, err)
	}
	if res, err := authenticator.PrepareState(cfg); err != nil || res.Generated {
		t.Fatalf("second start must keep the valid certificate: %+v, %v", res, err)
	}
	cfg.Server.KubeconfigPregenerated = true
	if _, err := authenticator.PrepareState(cfg); err != nil {
		t.Fatalf("pregenerated with init's files: %v", err)
	}
	// A certificate replaced behind the kubeconfig's back is caught before kube-apiserver fails.
	if _, err := authenticator.Init(cfg, authenticator.InitOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.Server.GenerateKubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := authenticator.PrepareState(cfg); err == nil || !strings.Contains(err.Error(), "does not trust the serving certificate") {
		t.Fatalf("mismatched pregenerated kubeconfig: %v", err)
	}
}
