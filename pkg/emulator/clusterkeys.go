package emulator

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
)

// fillClusterKeys gives a cluster what a real ACK cluster always has and a seed may leave out:
// a service-account signing key (so RRSA tokens can be minted and verified; the private key file
// also serves kube-apiserver's --service-account-signing-key-file) and the CA of its API server
// (so issued kubeconfigs carry certificate-authority-data). Both are generated once in the work
// directory and reused on restart with a state directory.
func (s *Server) fillClusterKeys(c *Cluster) error {
	if len(c.ServiceAccountKeyFiles) == 0 {
		path := filepath.Join(s.workDir, "sa-"+c.ID+".key")
		if err := loadOrCreateSigningKey(path); err != nil {
			return fmt.Errorf("cluster %s: service account signing key: %w", c.ID, err)
		}
		c.ServiceAccountKeyFiles = []string{path}
	}
	if c.APIServerCAFile == "" {
		certFile := filepath.Join(s.workDir, "apiserver-ca-"+c.ID+".pem")
		if _, err := loadOrCreateCA(certFile, filepath.Join(s.workDir, "apiserver-ca-"+c.ID+".key"), "ack-emulator API server CA "+c.ID); err != nil {
			return fmt.Errorf("cluster %s: API server CA: %w", c.ID, err)
		}
		c.APIServerCAFile = certFile
	}
	return nil
}

// loadOrCreateSigningKey keeps an existing key file or writes a new ECDSA P-256 key (PKCS#8 PEM,
// which kube-apiserver accepts for signing and verifying service account tokens).
func loadOrCreateSigningKey(path string) error {
	if b, err := os.ReadFile(path); err == nil {
		_, err := parsePrivateKeyPEM(b)
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	pemBytes, err := encodeKey(key)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, pemBytes, 0o600)
}

// ParseSigningKey parses a PEM private key (PKCS#8, PKCS#1 or SEC 1), such as a cluster's
// generated service-account signing key, for tools and tests that mint tokens with it.
func ParseSigningKey(pemBytes []byte) (crypto.Signer, error) { return parsePrivateKeyPEM(pemBytes) }
