package pki_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/pki"
)

// A server keeps its serving certificate across restarts while it still covers its names and
// stays valid for a while, and otherwise replaces it.
func Example_reuseOrGenerate() {
	dir, _ := os.MkdirTemp("", "pki-example")
	defer func() { _ = os.RemoveAll(dir) }()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	dns, ips := []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}

	for range 2 {
		now := time.Now()
		p, err := pki.ReadKeyPair(certFile, keyFile)
		if err == nil {
			err = p.Check(pki.Requirements{Now: now, MinValidity: 30 * 24 * time.Hour, DNSNames: dns, IPs: ips})
		}
		if err == nil {
			fmt.Println("kept the certificate")
			continue
		}
		p, err = pki.SelfSignedServing(pki.SelfSigned{CommonName: "example", DNSNames: dns, IPs: ips,
			NotBefore: now.Add(-5 * time.Minute), NotAfter: now.Add(365 * 24 * time.Hour)})
		if err == nil {
			err = p.Write(certFile, keyFile)
		}
		fmt.Println("generated a certificate:", err)
	}
	// Output:
	// generated a certificate: <nil>
	// kept the certificate
}
