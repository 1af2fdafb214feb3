package authenticator

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-ack/kubectl-ack/pkg/atomicfile"
	"github.com/kubectl-ack/kubectl-ack/pkg/authconfig"
	"github.com/kubectl-ack/kubectl-ack/pkg/pki"
)

// Key types of init.
const (
	KeyTypeECDSA = "ecdsa"
	KeyTypeRSA   = "rsa"
)

// certValidity is the lifetime of the self-signed serving certificate; the API server trusts it
// through the webhook kubeconfig, so it is replaced by re-running init.
const certValidity = 5 * 365 * 24 * time.Hour

// renewBefore: init replaces a certificate that expires sooner than this.
const renewBefore = 30 * 24 * time.Hour

// InitOptions are the inputs of Init besides the configuration.
type InitOptions struct {
	// Hostnames and Addresses are extra DNS and IP SANs.
	Hostnames []string
	Addresses []string
	// KeyType is KeyTypeECDSA (default, P-256) or KeyTypeRSA (3072 bits).
	KeyType string
	// Force replaces an existing valid certificate.
	Force bool
	// Now is the current time (zero: time.Now).
	Now time.Time
}

// InitResult says what Init did.
type InitResult struct {
	CertFile, KeyFile, Kubeconfig string
	// Generated is false when an existing certificate was kept.
	Generated bool
	DNSNames  []string
	IPs       []string
}

// Init writes the serving key and certificate to server.stateDir (kept when still valid and
// covering the SANs, unless Force) and the webhook kubeconfig to server.generateKubeconfig.
func Init(cfg *Config, o InitOptions) (*InitResult, error) {
	if err := cfg.ValidateListen(); err != nil {
		return nil, err
	}
	if o.KeyType == "" {
		o.KeyType = KeyTypeECDSA
	}
	if o.KeyType != KeyTypeECDSA && o.KeyType != KeyTypeRSA {
		return nil, fmt.Errorf("--key-type %q: use ecdsa or rsa", o.KeyType)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	dns, ips, err := sans(cfg, o)
	if err != nil {
		return nil, err
	}
	dir := cfg.Server.StateDir
	res := &InitResult{CertFile: filepath.Join(dir, CertFile), KeyFile: filepath.Join(dir, KeyFile), Kubeconfig: cfg.Server.GenerateKubeconfig, DNSNames: dns}
	for _, ip := range ips {
		res.IPs = append(res.IPs, ip.String())
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	certPEM, ok := existingCert(res.CertFile, res.KeyFile, dns, ips, o.Now)
	if !ok || o.Force {
		var keyPEM []byte
		certPEM, keyPEM, err = generateCert(o.KeyType, dns, ips, o.Now)
		if err != nil {
			return nil, err
		}
		// Key first: a certificate without its key is useless, the reverse is regenerated.
		if err := atomicfile.WriteWith(res.KeyFile, keyPEM, atomicfile.Options{Perm: 0o600}); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteWith(res.CertFile, certPEM, atomicfile.Options{Perm: 0o644}); err != nil {
			return nil, err
		}
		res.Generated = true
	} else if err := restrictKey(res.KeyFile); err != nil {
		return nil, err
	}
	kc, err := WebhookKubeconfig(cfg, certPEM)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(res.Kubeconfig), 0o755); err != nil {
		return nil, fmt.Errorf("create kubeconfig directory: %w", err)
	}
	if err := atomicfile.Write(res.Kubeconfig, kc); err != nil {
		return nil, err
	}
	return res, nil
}

// restrictKey makes a kept key file 0600: it may come from an older install or a copy made with a
// looser umask, and init promises a private key.
func restrictKey(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("check key file: %w", err)
	}
	if st.Mode().Perm() == 0o600 {
		return nil
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("make key file %s private (0600): %w", path, err)
	}
	return nil
}

// sans returns the DNS and IP SANs: localhost, 127.0.0.1, server.address, server.hostname, and
// the extras.
func sans(cfg *Config, o InitOptions) ([]string, []net.IP, error) {
	dns := []string{"localhost"}
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	addIP := func(ip net.IP) {
		for _, have := range ips {
			if have.Equal(ip) {
				return
			}
		}
		ips = append(ips, ip)
	}
	addDNS := func(h string) {
		if !slices.Contains(dns, h) {
			dns = append(dns, h)
		}
	}
	for _, name := range []string{cfg.Server.Address, cfg.Server.Hostname} {
		if ip := net.ParseIP(name); ip != nil {
			if !ip.IsUnspecified() {
				addIP(ip)
			}
		} else if name != "" {
			addDNS(name)
		}
	}
	for _, h := range o.Hostnames {
		// As on the official add-on, a hostname may be an IP literal.
		if ip := net.ParseIP(h); ip != nil {
			addIP(ip)
			continue
		}
		if !authconfig.ValidHostname(h) {
			return nil, nil, fmt.Errorf("--hostname %q is not a DNS name or IP address", h)
		}
		addDNS(h)
	}
	for _, a := range o.Addresses {
		ip := net.ParseIP(a)
		if ip == nil {
			return nil, nil, fmt.Errorf("--address %q is not an IP address", a)
		}
		// 0.0.0.0 or :: (listen everywhere, as the official --address allows) names no host.
		if !ip.IsUnspecified() {
			addIP(ip)
		}
	}
	return dns, ips, nil
}

// existingCert returns the current certificate when it is usable: it parses, matches its key,
// is valid for more than renewBefore, and covers all SANs.
func existingCert(certFile, keyFile string, dns []string, ips []net.IP, now time.Time) ([]byte, bool) {
	p, err := pki.ReadKeyPair(certFile, keyFile)
	if err != nil || p.Check(pki.Requirements{Now: now, MinValidity: renewBefore, DNSNames: dns, IPs: ips}) != nil {
		return nil, false
	}
	return p.CertPEM, true
}

func generateCert(keyType string, dns []string, ips []net.IP, now time.Time) (certPEM, keyPEM []byte, err error) {
	p, err := pki.SelfSignedServing(pki.SelfSigned{CommonName: "ack-ram-authenticator", KeyType: pki.KeyType(keyType),
		DNSNames: dns, IPs: ips, NotBefore: now.Add(-5 * time.Minute), NotAfter: now.Add(certValidity)})
	return p.CertPEM, p.KeyPEM, err
}

// WebhookKubeconfig is the kubeconfig for kube-apiserver --authentication-token-webhook-config-file:
// the cluster is https://<hostname or address>:<port>/authenticate trusting caPEM; the user is
// empty.
func WebhookKubeconfig(cfg *Config, caPEM []byte) ([]byte, error) {
	host := cfg.Server.Address
	if cfg.Server.Hostname != "" {
		host = cfg.Server.Hostname
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		// Listening on all addresses: the API server on the same node uses loopback.
		host = "127.0.0.1"
	}
	const name = "ack-ram-authenticator"
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{
		Server:                   "https://" + net.JoinHostPort(host, strconv.Itoa(cfg.Server.Port)) + "/authenticate",
		CertificateAuthorityData: bytes.Clone(caPEM),
	}
	kc.AuthInfos["kube-apiserver"] = &clientcmdapi.AuthInfo{}
	kc.Contexts["webhook"] = &clientcmdapi.Context{Cluster: name, AuthInfo: "kube-apiserver"}
	kc.CurrentContext = "webhook"
	b, err := clientcmd.Write(*kc)
	if err != nil {
		return nil, fmt.Errorf("encode webhook kubeconfig: %w", err)
	}
	return b, nil
}

// CheckPregenerated is the server's start with server.kubeconfigPregenerated: "init" already
// wrote everything, so nothing is written. The serving certificate and key must load, and the
// webhook kubeconfig at server.generateKubeconfig must exist and trust that certificate, or
// kube-apiserver would refuse the server.
func CheckPregenerated(cfg *Config) error {
	dir := cfg.Server.StateDir
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		return fmt.Errorf("server.kubeconfigPregenerated is true but the serving certificate in %s does not load (run 'ack-ram-authenticator init' first): %w", dir, err)
	}
	path := cfg.Server.GenerateKubeconfig
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return fmt.Errorf("server.kubeconfigPregenerated is true but the webhook kubeconfig %s does not load (run 'ack-ram-authenticator init' first, or set it false to let the server write it): %w", path, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("parse serving certificate: %w", err)
	}
	for name, c := range kc.Clusters {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.CertificateAuthorityData) {
			continue
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
			return nil
		} else if len(kc.Clusters) == 1 {
			return fmt.Errorf("the pregenerated webhook kubeconfig %s (cluster %q) does not trust the serving certificate in %s: run 'ack-ram-authenticator init' again so they match: %w", path, name, dir, err)
		}
	}
	return fmt.Errorf("the pregenerated webhook kubeconfig %s has no cluster whose certificate-authority-data trusts the serving certificate in %s: run 'ack-ram-authenticator init' again", path, dir)
}
