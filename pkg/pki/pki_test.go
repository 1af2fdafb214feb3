package pki

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGenerateKey(t *testing.T) {
	tests := []struct {
		kt      KeyType
		wantRSA bool
		wantErr string
	}{
		{kt: ""},
		{kt: KeyECDSA},
		{kt: KeyRSA, wantRSA: true},
		{kt: "dsa", wantErr: `key type "dsa": use ecdsa or rsa`},
	}
	for _, tt := range tests {
		t.Run(string(tt.kt), func(t *testing.T) {
			k, err := GenerateKey(tt.kt)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch k := k.(type) {
			case *rsa.PrivateKey:
				if !tt.wantRSA || k.N.BitLen() != rsaBits {
					t.Errorf("RSA key of %d bits, want RSA %v", k.N.BitLen(), tt.wantRSA)
				}
			case *ecdsa.PrivateKey:
				if tt.wantRSA || k.Curve.Params().Name != "P-256" {
					t.Errorf("ECDSA key on %s, want RSA %v", k.Curve.Params().Name, tt.wantRSA)
				}
			default:
				t.Errorf("key type %T", k)
			}
		})
	}
}

// handshake serves one TLS connection with cert and dials it as a client that trusts roots and
// expects serverName, returning the client's handshake error.
func handshake(t *testing.T, cert tls.Certificate, roots *x509.CertPool, serverName string) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.(*tls.Conn).Handshake()
		_, _ = io.Copy(io.Discard, c)
		_ = c.Close()
	}()
	d := tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err == nil {
		_ = c.Close()
	}
	return err
}

func TestCAIssueServing(t *testing.T) {
	ca, err := NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	if got := ca.Certificate().Subject.CommonName; got != "test CA" || !ca.Certificate().IsCA {
		t.Fatalf("CA subject %q, IsCA %v", got, ca.Certificate().IsCA)
	}
	p, err := ca.IssueServing([]string{"127.0.0.1", "::1", "localhost"}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := p.TLS()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other CA")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		roots      *x509.CertPool
		serverName string
		wantErr    string
	}{
		{name: "IP SAN", roots: ca.CertPool(), serverName: "127.0.0.1"},
		{name: "IPv6 SAN", roots: ca.CertPool(), serverName: "::1"},
		{name: "DNS SAN", roots: ca.CertPool(), serverName: "localhost"},
		{name: "name not covered", roots: ca.CertPool(), serverName: "example.com", wantErr: "not example.com"},
		{name: "untrusted CA", roots: other.CertPool(), serverName: "localhost", wantErr: "unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := handshake(t, cert, tt.roots, tt.serverName)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("handshake: %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCAIssueClient(t *testing.T) {
	ca, err := NewCA("client CA")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p, err := ca.IssueClient("alice", []string{"system:masters", "dev"}, now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCertificatePEM(p.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != "alice" || !slices.Equal(slices.Sorted(slices.Values(c.Subject.Organization)), []string{"dev", "system:masters"}) {
		t.Errorf("subject %v", c.Subject)
	}
	for _, tt := range []struct {
		usage   x509.ExtKeyUsage
		wantErr bool
	}{{x509.ExtKeyUsageClientAuth, false}, {x509.ExtKeyUsageServerAuth, true}} {
		_, err := c.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: []x509.ExtKeyUsage{tt.usage}})
		if (err != nil) != tt.wantErr {
			t.Errorf("verify for usage %v: %v, want error %v", tt.usage, err, tt.wantErr)
		}
	}
	if _, err := p.TLS(); err != nil {
		t.Errorf("key does not match certificate: %v", err)
	}
}

func TestParseCA(t *testing.T) {
	ca, err := NewCA("CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.IssueServing([]string{"localhost"}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		cert, key      []byte
		wantErr        string
		wantCommonName string
	}{
		{name: "round trip", cert: ca.CertPEM, key: ca.KeyPEM, wantCommonName: "CA"},
		{name: "key before certificate in one bundle", cert: append(append([]byte{}, ca.KeyPEM...), ca.CertPEM...), key: ca.KeyPEM, wantCommonName: "CA"},
		{name: "no certificate", cert: ca.KeyPEM, key: ca.KeyPEM, wantErr: "no CERTIFICATE block"},
		{name: "no key", cert: ca.CertPEM, key: ca.CertPEM, wantErr: "no private key block"},
		{name: "not a CA", cert: leaf.CertPEM, key: leaf.KeyPEM, wantErr: "not a CA certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCA(tt.cert, tt.key)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Certificate().Subject.CommonName != tt.wantCommonName {
				t.Errorf("CN %q", got.Certificate().Subject.CommonName)
			}
			// The parsed CA signs: what it issues verifies against the original.
			p, err := got.IssueClient("x", nil, time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			c, _ := ParseCertificatePEM(p.CertPEM)
			if err := c.CheckSignatureFrom(ca.Certificate()); err != nil {
				t.Errorf("issued certificate: %v", err)
			}
		})
	}
}

func TestLoadOrCreateCA(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	first, err := LoadOrCreateCA(certFile, keyFile, "persisted CA")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]os.FileMode{certFile: 0o644, keyFile: 0o600} {
		if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %v", file, fi, err, want)
		}
	}
	second, err := LoadOrCreateCA(certFile, keyFile, "another name")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.CertPEM, second.CertPEM) || second.Certificate().Subject.CommonName != "persisted CA" {
		t.Errorf("the persisted CA was not reused")
	}

	// A key file that cannot be read (here a directory) is an error, never a silent new CA that
	// clients do not trust.
	bad := filepath.Join(dir, "bad")
	if err := os.Mkdir(bad, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateCA(filepath.Join(dir, "missing.pem"), bad, "x"); err == nil || !strings.Contains(err.Error(), "read CA") {
		t.Errorf("unreadable key file: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.pem")); err == nil {
		t.Errorf("a certificate was written next to an unreadable key")
	}
}

func TestParsePrivateKeyPEM(t *testing.T) {
	ec, err := GenerateKey(KeyECDSA)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := GenerateKey(KeyRSA)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := EncodePrivateKeyPEM(ec)
	if err != nil {
		t.Fatal(err)
	}
	sec1DER, err := x509.MarshalECPrivateKey(ec.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER})
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey.(*rsa.PrivateKey))})
	other := pem.EncodeToMemory(&pem.Block{Type: "SOMETHING", Bytes: []byte("x")})
	tests := []struct {
		name    string
		in      []byte
		wantRSA bool
		wantErr string
	}{
		{name: "PKCS#8", in: pkcs8},
		{name: "SEC 1", in: sec1},
		{name: "PKCS#1", in: pkcs1, wantRSA: true},
		{name: "after another block", in: append(append([]byte{}, other...), pkcs8...)},
		{name: "none", in: other, wantErr: "no private key block"},
		{name: "corrupt", in: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}), wantErr: "asn1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParsePrivateKeyPEM(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, isRSA := k.(*rsa.PrivateKey); isRSA != tt.wantRSA {
				t.Errorf("key %T", k)
			}
		})
	}
}

func TestParsePublicKeysPEM(t *testing.T) {
	ca, err := NewCA("CA")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKeyPEM(ca.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pkixDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pkix := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixDER})
	rsaKey, err := GenerateKey(KeyRSA)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsaKey.Public().(*rsa.PublicKey))})
	other := pem.EncodeToMemory(&pem.Block{Type: "SOMETHING", Bytes: []byte("x")})
	tests := []struct {
		name    string
		in      []byte
		want    int
		wantErr string
	}{
		{name: "PKIX", in: pkix, want: 1},
		{name: "PKCS#1", in: pkcs1, want: 1},
		{name: "certificate", in: ca.CertPEM, want: 1},
		{name: "private key gives its public half", in: ca.KeyPEM, want: 1},
		{name: "bundle with an unknown block", in: bytes.Join([][]byte{pkix, other, pkcs1, ca.CertPEM, ca.KeyPEM}, nil), want: 4},
		{name: "no key", in: other, wantErr: "no public key found"},
		{name: "empty", in: nil, wantErr: "no public key found"},
		{name: "corrupt block", in: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")}), wantErr: "PUBLIC KEY block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParsePublicKeysPEM(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != tt.want {
				t.Errorf("%d keys, want %d", len(keys), tt.want)
			}
		})
	}
	// The public half of the private key is the CA certificate's key.
	keys, _ := ParsePublicKeysPEM(ca.KeyPEM)
	if !key.Public().(*ecdsa.PublicKey).Equal(keys[0]) || !ca.Certificate().PublicKey.(*ecdsa.PublicKey).Equal(keys[0]) {
		t.Errorf("public half differs")
	}
}

func TestSplitHosts(t *testing.T) {
	dns, ips := SplitHosts([]string{"localhost", "127.0.0.1", "::1", "a.example", "10.0.0.1"})
	if strings.Join(dns, ",") != "localhost,a.example" || len(ips) != 3 || !ips[1].Equal(net.IPv6loopback) {
		t.Errorf("dns %v, ips %v", dns, ips)
	}
}
