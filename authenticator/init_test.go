package authenticator_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-ack/kubectl-ack/authenticator"
	"github.com/kubectl-ack/kubectl-ack/pkg/emulator/emulatortest"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	cfg, err := authenticator.ParseConfig([]byte("clusterID: c1\nserver:\n  address: 10.0.0.5\n  port: 21999\n  stateDir: "+filepath.Join(dir, "state")+"\n  generateKubeconfig: "+filepath.Join(dir, "etc", "webhook.yaml")+"\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	res, err := authenticator.Init(cfg, authenticator.InitOptions{Hostnames: []string{"auth.example.com"}, Addresses: []string{"192.168.1.9"}})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	if !res.Generated {
		t.Error("first Init did not generate a certificate")
	}
	for path, want := range map[string]os.FileMode{res.KeyFile: 0o600, res.Kubeconfig: 0o600, res.CertFile: 0o644} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", path, st.Mode().Perm(), want)
		}
	}
	c := readCert(t, res.CertFile)
	if _, ok := c.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("default key is %T, want ECDSA", c.PublicKey)
	}
	for _, d := range []string{"localhost", "auth.example.com"} {
		if !slices.Contains(c.DNSNames, d) {
			t.Errorf("DNS SANs %v lack %s", c.DNSNames, d)
		}
	}
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	for _, ip := range []string{"127.0.0.1", "10.0.0.5", "192.168.1.9"} {
		if !slices.Contains(ips, ip) {
			t.Errorf("IP SANs %v lack %s", ips, ip)
		}
	}
	kc, err := clientcmd.LoadFromFile(res.Kubeconfig)
	if err != nil {
		t.Fatalf("client-go cannot load the webhook kubeconfig: %v", err)
	}
	rc, err := clientcmd.NewDefaultClientConfig(*kc, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if rc.Host != "https://10.0.0.5:21999/authenticate" {
		t.Errorf("server = %s", rc.Host)
	}
	certPEM, _ := os.ReadFile(res.CertFile)
	if !bytes.Equal(rc.CAData, certPEM) {
		t.Error("kubeconfig CA data is not the serving certificate")
	}
	if rc.BearerToken != "" || rc.Username != "" || len(rc.CertData) != 0 {
		t.Errorf("kubeconfig user is not empty: %+v", rc)
	}

	// Re-running keeps the certificate; --force replaces it; a new SAN replaces it too.
	res2, err := authenticator.Init(cfg, authenticator.InitOptions{Hostnames: []string{"auth.example.com"}, Addresses: []string{"192.168.1.9"}})
	if err != nil || res2.Generated || readCert(t, res.CertFile).SerialNumber.Cmp(c.SerialNumber) != 0 {
		t.Errorf("second Init: generated=%v err=%v, want the existing certificate kept", res2.Generated, err)
	}
	// A kept key is made private again if its mode was loosened.
	if err := os.Chmod(res.KeyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	resKept, err := authenticator.Init(cfg, authenticator.InitOptions{Hostnames: []string{"auth.example.com"}, Addresses: []string{"192.168.1.9"}})
	if err != nil || resKept.Generated {
		t.Fatalf("Init over a 0644 key: generated=%v err=%v, want the existing certificate kept", resKept.Generated, err)
	}
	if st, err := os.Stat(res.KeyFile); err != nil {
		t.Fatal(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Errorf("kept key mode = %v, want 0600", st.Mode().Perm())
	}
	res3, err := authenticator.Init(cfg, authenticator.InitOptions{Hostnames: []string{"other.example.com"}})
	if err != nil || !res3.Generated {
		t.Errorf("Init with a new SAN: generated=%v err=%v, want a new certificate", res3.Generated, err)
	}
	res4, err := authenticator.Init(cfg, authenticator.InitOptions{Hostnames: []string{"other.example.com"}, Force: true, KeyType: authenticator.KeyTypeRSA})
	if err != nil || !res4.Generated {
		t.Fatalf("Init --force: generated=%v err=%v", res4.Generated, err)
	}
	if _, ok := readCert(t, res.CertFile).PublicKey.(*rsa.PublicKey); !ok {
		t.Error("--key-type rsa did not give an RSA key")
	}
	if _, err := tls.LoadX509KeyPair(res.CertFile, res.KeyFile); err != nil {
		t.Errorf("key and certificate do not match: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "state", ".*tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestInitErrors(t *testing.T) {
	dir := t.TempDir()
	cfg, err := authenticator.ParseConfig([]byte("clusterID: c1\nserver: {stateDir: "+dir+", generateKubeconfig: "+filepath.Join(dir, "k.yaml")+"}\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    authenticator.InitOptions
		want string
	}{
		{"bad key type", authenticator.InitOptions{KeyType: "dsa"}, "use ecdsa or rsa"},
		{"bad hostname", authenticator.InitOptions{Hostnames: []string{"not a host"}}, "--hostname"},
		{"bad address", authenticator.InitOptions{Addresses: []string{"300.1.1.1"}}, "--address"},
		{"hostname neither name nor IP", authenticator.InitOptions{Hostnames: []string{"a_b"}}, "not a DNS name or IP address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := authenticator.Init(cfg, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestWebhookKubeconfigReachesServer: a client built by client-go from the kubeconfig init wrote
// (as kube-apiserver builds it) trusts the server and gets TokenReview answers.
func TestWebhookKubeconfigReachesServer(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	srv := emulatortest.Start(t)
	info := srv.Info()
	cfg := baseConfig(t, info)
	cfg.Server.MapAccounts = []mapper.AccountMapping{{AccountID: info.AccountID}}
	r := startServer(t, cfg, authenticator.Options{})
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.Server.GenerateKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	// The kubeconfig points at the configured port; the test server listens on a random one.
	rc.Host = r.url + "/authenticate"
	hc, err := rest.HTTPClientFor(rc)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Post(rc.Host, "application/json", bytes.NewReader(reviewBody(authenticator.APIVersionV1, sign(t, info.ClusterID, info.AccessKeyID, info.AccessKeySecret, ""))))
	if err != nil {
		t.Fatalf("POST with the kubeconfig's CA: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var rv review
	if err := json.NewDecoder(resp.Body).Decode(&rv); err != nil || resp.StatusCode != http.StatusOK || !rv.Status.Authenticated {
		t.Fatalf("answer %d %+v %v", resp.StatusCode, rv, err)
	}
}
