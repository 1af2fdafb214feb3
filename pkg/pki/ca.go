package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"
)

// caValidity is the lifetime of a new CA: long enough that nothing in a test run or a
// long-lived emulator state directory ever sees it expire.
const caValidity = 10 * 365 * 24 * time.Hour

// backdate moves NotBefore into the past so that a peer whose clock is a little behind accepts
// a certificate issued just now.
const backdate = time.Hour

// CA is a certificate authority held in memory.
type CA struct {
	// CertPEM is the PEM encoded CA certificate.
	CertPEM []byte
	// KeyPEM is the PEM encoded private key of the CA.
	KeyPEM []byte

	cert *x509.Certificate
	key  crypto.Signer
}

// NewCA generates a self-signed ECDSA P-256 CA valid for ten years.
func NewCA(commonName string) (*CA, error) {
	now := time.Now()
	p, err := create(&x509.Certificate{
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, KeyECDSA, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	return ParseCA(p.CertPEM, p.KeyPEM)
}

// ParseCA loads a CA from a PEM encoded certificate and private key (PKCS#8, PKCS#1 or SEC 1).
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("parse CA key: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("parse CA certificate: not a CA certificate (basic constraints CA:FALSE)")
	}
	return &CA{CertPEM: certPEM, KeyPEM: keyPEM, cert: cert, key: key}, nil
}

// LoadOrCreateCA reuses the CA in certFile and keyFile when both exist, and otherwise creates
// one named commonName and writes it there (the key first, 0600; the certificate 0644), so a
// restart keeps the CA that clients already trust.
func LoadOrCreateCA(certFile, keyFile, commonName string) (*CA, error) {
	certPEM, certErr := os.ReadFile(certFile)
	keyPEM, keyErr := os.ReadFile(keyFile)
	if certErr == nil && keyErr == nil {
		return ParseCA(certPEM, keyPEM)
	}
	for _, err := range []error{certErr, keyErr} {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read CA: %w", err)
		}
	}
	ca, err := NewCA(commonName)
	if err != nil {
		return nil, err
	}
	if err := (KeyPair{CertPEM: ca.CertPEM, KeyPEM: ca.KeyPEM}).Write(certFile, keyFile); err != nil {
		return nil, err
	}
	return ca, nil
}

// Certificate returns the parsed CA certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// CertPool returns a pool holding only this CA, for clients that trust nothing else.
func (c *CA) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// IssueServing issues a TLS serving certificate (ExtKeyUsageServerAuth) valid until notAfter for
// hosts: each is an IP address SAN when it parses as one, else a DNS name SAN.
func (c *CA) IssueServing(hosts []string, notAfter time.Time) (KeyPair, error) {
	dns, ips := SplitHosts(hosts)
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "ack-emulator"},
		NotBefore:   time.Now().Add(-backdate),
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    dns,
		IPAddresses: ips,
	}
	return c.issue(tmpl)
}

// IssueClient issues a client certificate (ExtKeyUsageClientAuth) with common name cn and
// organisations orgs (Kubernetes reads them as the user name and groups), as the CS API does
// for certificate-mode kubeconfigs.
func (c *CA) IssueClient(cn string, orgs []string, notBefore, notAfter time.Time) (KeyPair, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return c.issue(tmpl)
}

// issue signs tmpl, with a new ECDSA key and a random serial, by the CA.
func (c *CA) issue(tmpl *x509.Certificate) (KeyPair, error) {
	return create(tmpl, KeyECDSA, c.cert, c.key)
}

// create gives tmpl a random serial and a new key of type kt, has parent (nil: tmpl itself,
// self-signed) sign it with parentKey, and returns the PEM encoded certificate and new key.
func create(tmpl *x509.Certificate, kt KeyType, parent *x509.Certificate, parentKey crypto.Signer) (KeyPair, error) {
	key, err := GenerateKey(kt)
	if err != nil {
		return KeyPair{}, err
	}
	if tmpl.SerialNumber, err = randomSerial(); err != nil {
		return KeyPair{}, err
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return KeyPair{}, fmt.Errorf("create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	keyPEM, err := EncodePrivateKeyPEM(key)
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{CertPEM: encodeCertPEM(der), KeyPEM: keyPEM}, nil
}

// SplitHosts sorts hosts into DNS names and IP addresses, the two kinds of SAN.
func SplitHosts(hosts []string) (dns []string, ips []net.IP) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, h)
		}
	}
	return dns, ips
}
