package kubefile

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

const (
	testID  = "c0123456789abcdef0123456789abcdef"
	testCtx = "1234567890123456-" + testID
)

var testNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func testEntries(setCurrent bool) Entries {
	return Entries{
		ClusterName: testID,
		Cluster:     Cluster{Server: "https://10.0.0.1:6443", CertificateAuthorityData: []byte("-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n")},
		UserName:    testCtx,
		Exec: ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: "kubectl-ack_login",
			Args: []string{"--cluster-id", testID}, InteractiveMode: "Never", InstallHint: "kubectl krew install ack-login"},
		ContextName:       testCtx,
		Context:           Context{Cluster: testID, User: testCtx},
		SetCurrentContext: setCurrent,
	}
}

const otherConfig = `apiVersion: v1
kind: Config
clusters:
- name: other
  cluster:
    server: https://other:6443
    proxy-url: http://proxy:3128
    extensions:
    - name: foo
      extension: {a: 1}
users:
- name: other-user
  user:
    token: secret-token
contexts:
- name: other-ctx
  context: {cluster: other, user: other-user, namespace: ns1}
current-context: other-ctx
preferences: {}
`

func readDoc(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func names(m map[string]any, section string) []string {
	var out []string
	list, _ := m[section].([]any)
	for _, it := range list {
		out = append(out, it.(map[string]any)["name"].(string))
	}
	return out
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestMergeIntoExistingFileKeepsOthersAndBacksUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(otherConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		setCurrent bool
		wantCur    string
	}{
		{name: "set current context", setCurrent: true, wantCur: testCtx},
		{name: "no-set-context keeps current", setCurrent: false, wantCur: "other-ctx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(otherConfig), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Merge(PathOptions{ExplicitPath: path}, testEntries(tt.setCurrent), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Files) != 1 || res.Files[0] != path || len(res.Backups) != 1 {
				t.Fatalf("result = %+v", res)
			}
			bak, err := os.ReadFile(res.Backups[0])
			if err != nil || string(bak) != otherConfig {
				t.Fatalf("backup content differs: %v\n%s", err, bak)
			}
			if !strings.Contains(res.Backups[0], ".bak-20261122T100000Z") {
				t.Fatalf("backup name %s", res.Backups[0])
			}
			if runtime.GOOS != "windows" {
				if m := mode(t, path); m != 0o600 {
					t.Fatalf("kubeconfig mode %v", m)
				}
				if m := mode(t, res.Backups[0]); m != 0o600 {
					t.Fatalf("backup mode %v", m)
				}
			}
			m := readDoc(t, path)
			if got := strings.Join(names(m, "clusters"), ","); got != "other,"+testID {
				t.Fatalf("clusters %s", got)
			}
			if got := strings.Join(names(m, "users"), ","); got != "other-user,"+testCtx {
				t.Fatalf("users %s", got)
			}
			if got := strings.Join(names(m, "contexts"), ","); got != "other-ctx,"+testCtx {
				t.Fatalf("contexts %s", got)
			}
			if m["current-context"] != tt.wantCur {
				t.Fatalf("current-context %v", m["current-context"])
			}
			raw, _ := os.ReadFile(path)
			for _, keep := range []string{"proxy-url: http://proxy:3128", "token: secret-token", "namespace: ns1", "interactiveMode: Never", "provideClusterInfo: false", "kubectl krew install ack-login"} {
				if !strings.Contains(string(raw), keep) {
					t.Fatalf("merged file lacks %q:\n%s", keep, raw)
				}
			}
		})
	}
}

func TestMergeTwiceMakesDistinctBackupsAndIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(otherConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	r1, err := Merge(PathOptions{ExplicitPath: path}, testEntries(true), testNow)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	r2, err := Merge(PathOptions{ExplicitPath: path}, testEntries(true), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Files) != 0 || len(r2.Backups) != 0 {
		t.Fatalf("unchanged merge wrote files: %+v", r2)
	}
	e := testEntries(true)
	e.Cluster.Server = "https://10.0.0.2:6443"
	r3, err := Merge(PathOptions{ExplicitPath: path}, e, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(r3.Backups) != 1 || r3.Backups[0] == r1.Backups[0] {
		t.Fatalf("backups %v then %v", r1.Backups, r3.Backups)
	}
	bak, _ := os.ReadFile(r3.Backups[0])
	if string(bak) != string(first) {
		t.Fatal("second backup is not the state before the second change")
	}
}

func TestMergeReplacesStaleCredentialFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	stale := `clusters:
- name: ` + testID + `
  cluster: {server: https://old, certificate-authority: /tmp/ca.pem, insecure-skip-tls-verify: true, proxy-url: http://p}
users:
- name: ` + testCtx + `
  user: {client-certificate-data: AAAA, client-key-data: BBBB}
contexts:
- name: ` + testCtx + `
  context: {cluster: x, user: y, namespace: team-a}
`
	if err := os.WriteFile(path, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(PathOptions{ExplicitPath: path}, testEntries(true), testNow); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	s := string(raw)
	for _, gone := range []string{"certificate-authority: /tmp/ca.pem", "insecure-skip-tls-verify", "client-key-data", "https://old"} {
		if strings.Contains(s, gone) {
			t.Fatalf("stale %q kept:\n%s", gone, s)
		}
	}
	for _, kept := range []string{"proxy-url: http://p", "namespace: team-a", "cluster: " + testID} {
		if !strings.Contains(s, kept) {
			t.Fatalf("%q lost:\n%s", kept, s)
		}
	}
}

func TestMergeKubeconfigEnvList(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	missing := filepath.Join(dir, "missing")
	// b already defines the user: the new user must replace it there.
	bContent := "users:\n- name: " + testCtx + "\n  user: {token: old}\ncurrent-context: other-ctx\n"
	tests := []struct {
		name        string
		env         string
		files       map[string]string
		wantCluster string // file that must hold the cluster
		wantUser    string
		wantCurrent string
	}{
		{name: "first existing file gets new entries, existing entry updated in place",
			env:   strings.Join([]string{missing, a, b}, string(os.PathListSeparator)),
			files: map[string]string{a: otherConfig, b: bContent}, wantCluster: a, wantUser: b, wantCurrent: a},
		{name: "none exists: last file",
			env:   strings.Join([]string{missing, a}, string(os.PathListSeparator)),
			files: map[string]string{}, wantCluster: a, wantUser: a, wantCurrent: a},
		{name: "current-context goes where it is set",
			env:   strings.Join([]string{a, b}, string(os.PathListSeparator)),
			files: map[string]string{a: "clusters: []\n", b: bContent}, wantCluster: a, wantUser: b, wantCurrent: b},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []string{a, b, missing} {
				_ = os.Remove(f)
			}
			for f, c := range tt.files {
				if err := os.WriteFile(f, []byte(c), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := func(k string) (string, bool) {
				if k == EnvKubeconfig {
					return tt.env, true
				}
				return "", false
			}
			if _, err := Merge(PathOptions{Env: env, HomeDir: dir}, testEntries(true), testNow); err != nil {
				t.Fatal(err)
			}
			if !contains(names(readDoc(t, tt.wantCluster), "clusters"), testID) {
				t.Fatalf("cluster not in %s", tt.wantCluster)
			}
			if !contains(names(readDoc(t, tt.wantUser), "users"), testCtx) {
				t.Fatalf("user not in %s", tt.wantUser)
			}
			if got := readDoc(t, tt.wantCurrent)["current-context"]; got != testCtx {
				t.Fatalf("current-context in %s = %v", tt.wantCurrent, got)
			}
			if _, err := os.Stat(missing); err == nil && tt.wantCluster != missing {
				t.Fatal("missing file was created")
			}
		})
	}
}

func TestDefaultFileIsHomeKubeConfig(t *testing.T) {
	home := t.TempDir()
	o := PathOptions{HomeDir: home, Env: func(string) (string, bool) { return "", false }}
	if _, err := Merge(o, testEntries(true), testNow); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(home, ".kube", "config")
	if readDoc(t, p)["current-context"] != testCtx {
		t.Fatal("not written to ~/.kube/config")
	}
}

func TestMergeRejectsCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	for _, bad := range []string{"clusters: {a: b}\n", "current-context: [x]\n", ":\n  - ]["} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Merge(PathOptions{ExplicitPath: path}, testEntries(true), testNow); err == nil {
			t.Fatalf("corrupt %q accepted", bad)
		}
		after, _ := os.ReadFile(path)
		if string(after) != bad {
			t.Fatal("corrupt file was changed")
		}
	}
}

func TestRender(t *testing.T) {
	out, err := Render(testEntries(false))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m["current-context"] != testCtx || m["kind"] != "Config" {
		t.Fatalf("rendered:\n%s", out)
	}
	if _, err := Render(Entries{}); err == nil {
		t.Fatal("empty entries rendered")
	}
}

func TestClusterIDFromExecArgs(t *testing.T) {
	tests := []struct {
		cmd    string
		args   []string
		wantID string
	}{
		{"kubectl-ack_login", []string{"--cluster-id", testID}, testID},
		{`C:\bin\kubectl-ack_login.exe`, []string{"--cluster-id=" + testID}, testID},
		{"ack-ram-tool", []string{"credential-plugin", "get-credential", "-c", testID}, testID},
		{"ack-ram-tool", []string{"rrsa", "-c", testID}, ""},
		{"kubectl", []string{"ack-login", "get-token", "--cluster-id", testID}, testID},
		{"kubectl", []string{"oidc-login", "--cluster-id", testID}, ""},
		{"kubectl-ack_login", []string{"--cluster-id", "--mode"}, ""},
		{"gke-gcloud-auth-plugin", []string{"--cluster-id", testID}, ""},
	}
	for _, tt := range tests {
		id, ok := ClusterIDFromExecArgs(tt.cmd, tt.args)
		if id != tt.wantID || ok != (tt.wantID != "") {
			t.Errorf("%s %v: got %q %v", tt.cmd, tt.args, id, ok)
		}
	}
	if !IsClusterID(testID) || IsClusterID("c123") || IsClusterID(strings.ToUpper(testID)) {
		t.Fatal("IsClusterID")
	}
	if id, ok := ClusterIDFromContextName(testCtx); !ok || id != testID {
		t.Fatal("ClusterIDFromContextName")
	}
}

func TestWriteFileAtomicFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles", "kubeconfig")
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("%s was replaced by a regular file", link)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Fatalf("symlink target holds %q, want the new content", b)
	}
	// A path that does not exist yet is created as given.
	fresh := filepath.Join(dir, "sub", "fresh")
	if err := WriteFileAtomic(fresh, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(fresh); string(b) != "x" {
		t.Fatalf("fresh file holds %q", b)
	}
}
