package emulator

import (
	"crypto"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kubectl-ack/kubectl-ack/pkg/atomicfile"
	"github.com/kubectl-ack/kubectl-ack/pkg/pki"
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
		if _, err := pki.LoadOrCreateCA(certFile, filepath.Join(s.workDir, "apiserver-ca-"+c.ID+".key"), "ack-emulator API server CA "+c.ID); err != nil {
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
		_, err := pki.ParsePrivateKeyPEM(b)
		return err
	}
	key, err := pki.GenerateKey(pki.KeyECDSA)
	if err != nil {
		return err
	}
	pemBytes, err := pki.EncodePrivateKeyPEM(key)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, pemBytes)
}

// ParseSigningKey parses a PEM private key (PKCS#8, PKCS#1 or SEC 1), such as a cluster's
// generated service-account signing key, for tools and tests that mint tokens with it.
func ParseSigningKey(pemBytes []byte) (crypto.Signer, error) { return pki.ParsePrivateKeyPEM(pemBytes) }
