package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeyPairWriteRead(t *testing.T) {
	ca, err := NewCA("CA")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ca.IssueServing([]string{"localhost"}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	// An existing key file with loose permissions is replaced by a private one.
	if err := os.WriteFile(keyFile, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]os.FileMode{certFile: 0o644, keyFile: 0o600} {
		if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %v", file, fi, err, want)
		}
	}
	got, err := ReadKeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.CertPEM, p.CertPEM) || !bytes.Equal(got.KeyPEM, p.KeyPEM) {
		t.Errorf("read back a different pair")
	}
	if _, err := ReadKeyPair(certFile, filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "read key") {
		t.Errorf("missing key: err = %v", err)
	}
	if _, err := ReadKeyPair(filepath.Join(dir, "missing"), keyFile); err == nil || !strings.Contains(err.Error(), "read certificate") {
		t.Errorf("missing certificate: err = %v", err)
	}
	// Write to a directory that does not exist fails without creating anything.
	if err := p.Write(filepath.Join(dir, "no", "c"), filepath.Join(dir, "no", "k")); err == nil {
		t.Errorf("write into a missing directory succeeded")
	}
}

func TestKeyPairCheck(t *testing.T) {
	ca, err := NewCA("CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	issued, err := ca.IssueServing([]string{"localhost", "127.0.0.1"}, now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	otherPair, err := other.IssueServing([]string{"localhost"}, now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pair    KeyPair
		req     Requirements
		wantErr string
	}{
		{name: "meets everything", pair: issued, req: Requirements{Now: now, MinValidity: 24 * time.Hour,
			DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, SignedBy: ca.Certificate()}},
		{name: "zero Now is now", pair: issued, req: Requirements{MinValidity: time.Hour}},
		{name: "not valid yet", pair: issued, req: Requirements{Now: now.Add(-2 * time.Hour)}, wantErr: "not valid before"},
		{name: "expires within the renewal window", pair: issued, req: Requirements{Now: now, MinValidity: 72 * time.Hour}, wantErr: "expires"},
		{name: "expired", pair: issued, req: Requirements{Now: now.Add(49 * time.Hour)}, wantErr: "expires"},
		{name: "DNS name not covered", pair: issued, req: Requirements{DNSNames: []string{"localhost", "auth.example"}}, wantErr: `DNS name "auth.example"`},
		{name: "IP not covered", pair: issued, req: Requirements{IPs: []net.IP{net.ParseIP("10.0.0.1")}}, wantErr: "IP address 10.0.0.1"},
		{name: "signed by another CA", pair: otherPair, req: Requirements{SignedBy: ca.Certificate()}, wantErr: `not signed by "CA"`},
		{name: "key of another certificate", pair: KeyPair{CertPEM: issued.CertPEM, KeyPEM: otherPair.KeyPEM}, wantErr: "load key pair"},
		{name: "garbage", pair: KeyPair{CertPEM: []byte("x"), KeyPEM: []byte("y")}, wantErr: "load key pair"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.pair.Check(tt.req)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Check: %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSelfSignedServing(t *testing.T) {
	now := time.Now()
	valid := SelfSigned{CommonName: "ack-ram-authenticator", DNSNames: []string{"localhost"},
		IPs: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: now.Add(-5 * time.Minute), NotAfter: now.Add(5 * 365 * 24 * time.Hour)}
	withKey := func(kt KeyType) SelfSigned { s := valid; s.KeyType = kt; return s }
	tests := []struct {
		name    string
		in      SelfSigned
		wantRSA bool
		wantErr string
	}{
		{name: "ECDSA by default", in: valid},
		{name: "RSA", in: withKey(KeyRSA), wantRSA: true},
		{name: "unknown key type", in: withKey("ed448"), wantErr: `key type "ed448"`},
		{name: "no SANs", in: SelfSigned{NotBefore: now, NotAfter: now.Add(time.Hour)}, wantErr: "no DNS name or IP address"},
		{name: "empty validity", in: SelfSigned{DNSNames: []string{"a"}, NotBefore: now, NotAfter: now}, wantErr: "is not after NotBefore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := SelfSignedServing(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseCertificatePEM(p.CertPEM)
			if err != nil {
				t.Fatal(err)
			}
			if _, isRSA := c.PublicKey.(*rsa.PublicKey); isRSA != tt.wantRSA {
				t.Errorf("public key %T", c.PublicKey)
			} else if _, isEC := c.PublicKey.(*ecdsa.PublicKey); !isRSA && !isEC {
				t.Errorf("public key %T", c.PublicKey)
			}
			if !c.IsCA || c.Subject.CommonName != "ack-ram-authenticator" || !c.NotAfter.Equal(tt.in.NotAfter.Truncate(time.Second)) {
				t.Errorf("IsCA %v, CN %q, NotAfter %v", c.IsCA, c.Subject.CommonName, c.NotAfter)
			}
			// The certificate is its own trust anchor: a client that trusts it connects.
			roots := x509.NewCertPool()
			roots.AddCert(c)
			cert, err := p.TLS()
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"localhost", "127.0.0.1"} {
				if err := handshake(t, cert, roots, name); err != nil {
					t.Errorf("handshake as %s: %v", name, err)
				}
			}
			if err := p.Check(Requirements{MinValidity: 30 * 24 * time.Hour, DNSNames: tt.in.DNSNames, IPs: tt.in.IPs}); err != nil {
				t.Errorf("a fresh certificate fails the reuse check: %v", err)
			}
		})
	}
}
