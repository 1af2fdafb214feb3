package pki

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/atomicfile"
)

// KeyPair is a certificate and its private key, PEM encoded.
type KeyPair struct {
	CertPEM []byte
	// KeyPEM is the private key: a secret, written 0600 and never logged.
	KeyPEM []byte
}

// ReadKeyPair reads a certificate file and a key file.
func ReadKeyPair(certFile, keyFile string) (KeyPair, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return KeyPair{}, fmt.Errorf("read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return KeyPair{}, fmt.Errorf("read key: %w", err)
	}
	return KeyPair{CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// Write writes the key to keyFile (0600) and then the certificate to certFile (0644), each
// atomically. The key goes first: a certificate without its key is useless, while a key without
// its certificate is simply replaced the next time.
func (p KeyPair) Write(certFile, keyFile string) error {
	if err := atomicfile.WriteWith(keyFile, p.KeyPEM, atomicfile.Options{Perm: 0o600}); err != nil {
		return err
	}
	return atomicfile.WriteWith(certFile, p.CertPEM, atomicfile.Options{Perm: 0o644})
}

// TLS returns the pair as a tls.Certificate (its Leaf parsed), failing when the key does not
// match the certificate.
func (p KeyPair) TLS() (tls.Certificate, error) {
	c, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load key pair: %w", err)
	}
	return c, nil
}

// Requirements say what an existing serving certificate must meet to be kept.
type Requirements struct {
	// Now is the current time (zero: time.Now).
	Now time.Time
	// MinValidity is how long after Now the certificate must stay valid: a certificate that
	// expires sooner is renewed ahead of time.
	MinValidity time.Duration
	// DNSNames and IPs must all be among the certificate's SANs.
	DNSNames []string
	IPs      []net.IP
	// SignedBy, when set, is the CA that must have signed the certificate.
	SignedBy *x509.Certificate
}

// Check returns nil when p is a certificate and matching key that meet r, and otherwise an
// error that says what is wrong (for a log line: "expires ...", "does not cover ...").
func (p KeyPair) Check(r Requirements) error {
	pair, err := p.TLS()
	if err != nil {
		return err
	}
	c := pair.Leaf
	if c == nil {
		if c, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Errorf("parse certificate: %w", err)
		}
	}
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	switch {
	case now.Before(c.NotBefore):
		return fmt.Errorf("certificate is not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	case now.Add(r.MinValidity).After(c.NotAfter):
		return fmt.Errorf("certificate expires %s, within %s", c.NotAfter.UTC().Format(time.RFC3339), r.MinValidity)
	}
	if r.SignedBy != nil {
		if err := c.CheckSignatureFrom(r.SignedBy); err != nil {
			return fmt.Errorf("certificate is not signed by %q: %w", r.SignedBy.Subject.CommonName, err)
		}
	}
	return covers(c, r.DNSNames, r.IPs)
}

// covers returns an error naming the first of dns and ips that c has no SAN for.
func covers(c *x509.Certificate, dns []string, ips []net.IP) error {
	for _, d := range dns {
		if !slices.Contains(c.DNSNames, d) {
			return fmt.Errorf("certificate does not cover DNS name %q", d)
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return fmt.Errorf("certificate does not cover IP address %s", ip)
		}
	}
	return nil
}

// SelfSigned describes a self-signed serving certificate.
type SelfSigned struct {
	// CommonName is the subject's common name.
	CommonName string
	// KeyType is the algorithm of the new key ("" means KeyECDSA).
	KeyType KeyType
	// DNSNames and IPs are the SANs; at least one is required.
	DNSNames []string
	IPs      []net.IP
	// NotBefore and NotAfter bound the validity.
	NotBefore, NotAfter time.Time
}

// SelfSignedServing creates a self-signed TLS serving certificate that is also its own CA, so a
// client can trust it directly (a webhook kubeconfig's certificate-authority-data is the
// certificate itself).
func SelfSignedServing(s SelfSigned) (KeyPair, error) {
	if len(s.DNSNames) == 0 && len(s.IPs) == 0 {
		return KeyPair{}, errors.New("self-signed serving certificate: no DNS name or IP address to cover")
	}
	if !s.NotAfter.After(s.NotBefore) {
		return KeyPair{}, fmt.Errorf("self-signed serving certificate: NotAfter %s is not after NotBefore %s", s.NotAfter, s.NotBefore)
	}
	return create(&x509.Certificate{
		Subject:   pkix.Name{CommonName: s.CommonName},
		NotBefore: s.NotBefore,
		NotAfter:  s.NotAfter,
		// Its own CA, hence CertSign; KeyEncipherment for RSA key exchange with an RSA key.
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              s.DNSNames,
		IPAddresses:           s.IPs,
	}, s.KeyType, nil, nil)
}
