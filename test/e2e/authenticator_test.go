package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-ack/kubectl-ack/test/e2e/harness"
)

// startOwnStack starts a chain of its own for a scenario that runs the authenticator differently
// from the shared one, and stops it when the test ends (keeping its logs on failure).
func startOwnStack(t *testing.T, opts harness.Options) *harness.Stack {
	t.Helper()
	start := time.Now()
	opts.Logf = func(format string, args ...any) {
		t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), fmt.Sprintf(format, args...))
	}
	s, err := harness.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start the chain: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			s.KeepDir()
			t.Logf("process logs (kept in %s):\n%s", s.Dir, s.Logs(40))
		}
		s.Close()
	})
	return s
}

// loginWithToken makes a RAM user and a person at a terminal whose kubeconfig uses
// `kubectl ack-login` in token mode for s's cluster.
func loginWithToken(t *testing.T, s *harness.Stack, name string) (harness.RAMUser, *harness.User) {
	t.Helper()
	ctx := context.Background()
	ru, err := s.CreateRAMUser(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.NewUser(name, ru.AccessKeyID, ru.AccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	must(t, u.Kubectl(ctx, "ack-login", "kubeconfig", "--cluster-id", s.ClusterID, "--mode", "token"))
	return ru, u
}

// eventuallyUser polls `kubectl auth whoami` as u until kube-apiserver (through the webhook)
// reports want as the username.
func eventuallyUser(t *testing.T, u *harness.User, want string) {
	t.Helper()
	eventually(t, "kube-apiserver authenticates "+want, 60*time.Second, func() (bool, string) {
		r := u.Kubectl(context.Background(), "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		return r.Err() == nil && strings.TrimSpace(r.Stdout) == want, r.String()
	})
}

// TestServerSelfInitialises: `ack-ram-authenticator server` starts on an empty state directory
// (no init has run), writes its serving certificate and the webhook kubeconfig as init would, and
// kube-apiserver, started afterwards with that kubeconfig, authenticates a token through it.
func TestServerSelfInitialises(t *testing.T) {
	account := harness.RandomAccountID()
	s := startOwnStack(t, harness.Options{
		AccountID:     account,
		Authenticator: &harness.SelfInit{},
		MapUsers:      []harness.StaticMapping{{ARN: "acs:ram::" + account + ":user/self-init", Username: "static:self-init"}},
	})
	log, err := os.ReadFile(s.LogFile("authenticator"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wrote a new serving certificate", "wrote the webhook kubeconfig"} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("authenticator log lacks %q:\n%s", want, log)
		}
	}
	_, u := loginWithToken(t, s, "self-init")
	eventuallyUser(t, u, "static:self-init")
}

// officialRBAC is the official deploy/example.yaml's ClusterRole, ServiceAccount and binding:
// the permissions the authenticator runs with in the official deployment.
const officialRBAC = `kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: ack-ram-authenticator
rules:
  - apiGroups: [ramauthenticator.k8s.alibabacloud]
    resources: [ramidentitymappings]
    verbs: [get, list, watch]
  - apiGroups: [ramauthenticator.k8s.alibabacloud]
    resources: [ramidentitymappings/status]
    verbs: [patch, update]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, update, patch]
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [list, watch]
  - apiGroups: [""]
    resources: [configmaps]
    resourceNames: [alibabacloud-auth]
    verbs: [get]
  - apiGroups: [apiextensions.k8s.io]
    resources: [customresourcedefinitions]
    verbs: [get, create, update]
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ack-ram-authenticator
  namespace: kube-system
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: ack-ram-authenticator
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ack-ram-authenticator
subjects:
  - kind: ServiceAccount
    name: ack-ram-authenticator
    namespace: kube-system
`

// officialConfig is the official example ConfigMap's config.yaml, unchanged but for the cluster
// id its comment asks to fill in: no stsEndpoint, empty scrubbedAccounts and mapAccounts,
// backendMode CRD.
const officialConfig = `# a unique-per-cluster identifier to prevent replay attacks
# (good choices are a random token or a domain name that will be unique to your cluster)
# Replace <your-cluster-id> with actual id
clusterID: <your-cluster-id>
# server listener configuration
server:
  # localhost port where the server will serve the /authenticate endpoint
  port: 21362 # (default)

  # state directory for generated TLS certificate and private keys
  stateDir: /var/ack-ram-authenticator/

  # RAM Account IDs to scrub from server logs. (Defaults to empty list)
  scrubbedAccounts:

  # automatically map RAM ARN from these accounts to username.
  # NOTE: Always use quotes to avoid the account numbers being recognized as numbers
  # instead of strings by the yaml parser.
  mapAccounts:

  # source mappings from this file (mapUsers, mapRoles, & mapAccounts)
  backendMode:
    - CRD
`

// officialInitCommand is the official example DaemonSet's init container command (sh -c).
const officialInitCommand = "ack-ram-authenticator init --cluster-id=<your-cluster-id> &&" +
	"mkdir -p /var/ack-ram-authenticator /etc/kubernetes/ack-ram-authenticator &&" +
	"mv cert.pem key.pem /var/ack-ram-authenticator &&" +
	"mv ack-ram-authenticator.kubeconfig /etc/kubernetes/ack-ram-authenticator/kubeconfig.yaml &&" +
	"chown -R 65534:65534 /var/ack-ram-authenticator /etc/kubernetes/ack-ram-authenticator"

// officialServerArgs are the official example DaemonSet's container args.
var officialServerArgs = []string{"server", "--config=/etc/ack-ram-authenticator/config.yaml", "--state-dir=/var/ack-ram-authenticator", "--kubeconfig-pregenerated=true"}

// podFS gives the pod's containers their file system: a private mount namespace (unshare) in
// which the pod's volumes are mounted at their mountPaths, as kubelet mounts them, so the
// containers run with exactly the official paths while the files live in the test's directory.
// /etc and /var are replaced by trees of links to the host's entries plus the mount points;
// /var/run/secrets/kubernetes.io/serviceaccount holds the service account token, as in a pod.
const podFS = `set -eu
root=$1; shift
# Each container gets its own tree (the init container and the server run one after the other).
ns=$(mktemp -d "$root/ns.XXXXXX")
mkdir -p "$ns/fs/etc" "$ns/fs/var" "$ns/host/etc" "$ns/host/var"
mount --bind /etc "$ns/host/etc"
mount --bind /var "$ns/host/var"
for d in etc var; do
  for e in "$ns/host/$d"/* "$ns/host/$d"/.[!.]*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    case "$d/$(basename "$e")" in etc/kubernetes|etc/ack-ram-authenticator|var/ack-ram-authenticator|var/run) continue;; esac
    ln -s "$e" "$ns/fs/$d/$(basename "$e")"
  done
done
vol() { mkdir -p "$ns/fs$2"; mount --bind "$root/volumes/$1" "$ns/fs$2"; }
vol config /etc/ack-ram-authenticator
vol state /var/ack-ram-authenticator
vol output /etc/kubernetes/ack-ram-authenticator
vol serviceaccount /var/run/secrets/kubernetes.io/serviceaccount
mount --rbind "$ns/fs/etc" /etc
mount --rbind "$ns/fs/var" /var
cd "$root/workdir"
exec "$@"
`

// officialDeployment runs the official example deployment: its init container, then (once
// kube-apiserver serves) its RBAC and its server container with the in-cluster configuration of
// its service account. The STS emulator is given by environment, as the DaemonSet would set it.
type officialDeployment struct {
	root string
	// kubeconfig is the webhook kubeconfig as the init container left it.
	kubeconfig []byte
}

func (d *officialDeployment) pod(s *harness.Stack, env []string, name string, cmd ...string) (*harness.Process, error) {
	args := append([]string{"--mount", "--propagation", "private", "sh", filepath.Join(d.root, "pod.sh"), d.root}, cmd...)
	return s.StartProcess(name, append(env, "ALIBABA_CLOUD_STS_ENDPOINT="+s.Emulator.Endpoint, "SSL_CERT_FILE="+s.Emulator.CAFile), "unshare", args...)
}

func (d *officialDeployment) BeforeAPIServer(ctx context.Context, s *harness.Stack) (string, error) {
	if ln, err := net.Listen("tcp", "127.0.0.1:21362"); err != nil {
		return "", fmt.Errorf("the official deployment listens on 127.0.0.1:21362, which is taken: %w", err)
	} else {
		_ = ln.Close()
	}
	for _, dir := range []string{"volumes/config", "volumes/state", "volumes/output", "volumes/serviceaccount", "workdir"} {
		if err := os.MkdirAll(filepath.Join(d.root, dir), 0o755); err != nil {
			return "", err
		}
	}
	cfg := strings.ReplaceAll(officialConfig, "<your-cluster-id>", s.ClusterID)
	if err := os.WriteFile(filepath.Join(d.root, "volumes/config/config.yaml"), []byte(cfg), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(d.root, "pod.sh"), []byte(podFS), 0o755); err != nil {
		return "", err
	}
	p, err := d.pod(s, nil, "init-container", "sh", "-c", strings.ReplaceAll(officialInitCommand, "<your-cluster-id>", s.ClusterID))
	if err != nil {
		return "", err
	}
	if err := p.Wait(ctx, 60*time.Second); err != nil {
		return "", fmt.Errorf("the official init container failed: %w", err)
	}
	kubeconfig := filepath.Join(d.root, "volumes/output/kubeconfig.yaml")
	d.kubeconfig, err = os.ReadFile(kubeconfig)
	return kubeconfig, err
}

func (d *officialDeployment) AfterAPIServer(ctx context.Context, s *harness.Stack) error {
	rbac := filepath.Join(d.root, "rbac.yaml")
	if err := os.WriteFile(rbac, []byte(officialRBAC), 0o600); err != nil {
		return err
	}
	admin := s.Admin()
	if err := admin.Kubectl(ctx, "apply", "-f", rbac).Err(); err != nil {
		return fmt.Errorf("official RBAC: %w", err)
	}
	r := admin.Kubectl(ctx, "-n", "kube-system", "create", "token", "ack-ram-authenticator", "--duration=1h")
	if err := r.Err(); err != nil {
		return fmt.Errorf("service account token: %w", err)
	}
	ca, err := os.ReadFile(s.APIServerCAFile)
	if err != nil {
		return err
	}
	sa := filepath.Join(d.root, "volumes/serviceaccount")
	for name, content := range map[string][]byte{"token": []byte(strings.TrimSpace(r.Stdout)), "ca.crt": ca, "namespace": []byte("kube-system")} {
		if err := os.WriteFile(filepath.Join(sa, name), content, 0o644); err != nil {
			return err
		}
	}
	u, err := url.Parse(s.APIServerURL)
	if err != nil {
		return err
	}
	env := []string{"KUBERNETES_SERVICE_HOST=" + u.Hostname(), "KUBERNETES_SERVICE_PORT=" + u.Port()}
	p, err := d.pod(s, env, "authenticator", append([]string{"ack-ram-authenticator"}, officialServerArgs...)...)
	if err != nil {
		return err
	}
	s.AuthenticatorURL = "https://127.0.0.1:21362"
	return s.WaitAuthenticator(ctx, p, filepath.Join(d.root, "volumes/state/cert.pem"))
}

// TestOfficialExampleDeployment runs the official deploy/example.yaml unchanged but for image:
// its init container's command, its server container's args, its ConfigMap's config.yaml
// (backendMode CRD, empty scrubbedAccounts, no stsEndpoint), its RBAC and service account, with
// the volumes at their official paths. A RAM user mapped by a RAMIdentityMapping then logs in with
// a k8s-ack-v2 token (the official client's format) through the real kube-apiserver.
func TestOfficialExampleDeployment(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("this scenario mounts the pod's volumes in a private mount namespace with unshare (util-linux): %v", err)
	}
	d := &officialDeployment{root: t.TempDir()}
	s := startOwnStack(t, harness.Options{Authenticator: d})
	ctx := context.Background()

	kubeconfig := filepath.Join(d.root, "volumes/output/kubeconfig.yaml")
	if now, err := os.ReadFile(kubeconfig); err != nil || !bytes.Equal(now, d.kubeconfig) {
		t.Errorf("with --kubeconfig-pregenerated=true the server must not rewrite the webhook kubeconfig (err %v)", err)
	}
	log, err := os.ReadFile(s.LogFile("authenticator"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("using the pregenerated serving certificate and webhook kubeconfig")) {
		t.Errorf("authenticator log:\n%s", log)
	}

	ru, u := loginWithToken(t, s, "official-user")
	must(t, s.Admin().Kubectl(ctx, "ack-map", "add", "--arn", ru.ARN, "--username", "official:{{UserID}}"))
	eventuallyUser(t, u, "official:"+ru.UserID)
	// The CRD backend writes status with the official RBAC (ramidentitymappings/status update).
	eventually(t, "status.canonicalARN written", 30*time.Second, func() (bool, string) {
		r := s.Admin().Kubectl(ctx, "get", "ramidentitymappings", "-o", "jsonpath={.items[*].status.canonicalARN}")
		return strings.EqualFold(strings.TrimSpace(r.Stdout), ru.ARN), r.String()
	})
}
