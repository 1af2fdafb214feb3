// Package pki is the project's one home for X.509 certificates and keys: an in-memory CA (the
// emulator's HTTPS and client-certificate CAs) with the serving and client certificates it
// signs, a self-signed serving certificate (the authenticator's webhook certificate, which the
// API server trusts directly), the check that decides whether a certificate on disk can be kept,
// and the PEM parsing and encoding these need.
//
// New keys are ECDSA P-256 unless a caller asks for RSA; private keys are written as PKCS#8 and
// read as PKCS#8, PKCS#1 or SEC 1. Files are written through pkg/atomicfile: keys 0600,
// certificates 0644.
//
// test/e2e/harness has a PKI of its own on purpose: the e2e module depends on the standard
// library only, not on this module.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// KeyType selects the algorithm of a new key.
type KeyType string

// Key types.
const (
	// KeyECDSA is ECDSA on P-256, the default: small keys, fast handshakes, accepted everywhere
	// Kubernetes runs.
	KeyECDSA KeyType = "ecdsa"
	// KeyRSA is RSA with 3072 bits, for peers that require RSA.
	KeyRSA KeyType = "rsa"
)

// rsaBits is the RSA key size: 3072 bits matches the 128-bit security level of P-256.
const rsaBits = 3072

// GenerateKey returns a new private key of type t ("" means KeyECDSA).
func GenerateKey(t KeyType) (crypto.Signer, error) {
	var (
		key crypto.Signer
		err error
	)
	switch t {
	case KeyECDSA, "":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyRSA:
		key, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return nil, fmt.Errorf("key type %q: use %s or %s", t, KeyECDSA, KeyRSA)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", t, err)
	}
	return key, nil
}

// randomSerial returns a random positive 127-bit serial number: unpredictable (RFC 5280 wants
// at least 64 random bits) and short enough for the 20-octet limit.
func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// EncodePrivateKeyPEM returns key as a PKCS#8 "PRIVATE KEY" PEM block.
func EncodePrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// encodeCertPEM returns a DER certificate as a "CERTIFICATE" PEM block.
func encodeCertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ParseCertificatePEM parses the first CERTIFICATE block of data; other blocks before it (a key,
// for example) are skipped.
func ParseCertificatePEM(data []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no CERTIFICATE block found")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

// ParsePrivateKeyPEM parses the first private key block of data: "PRIVATE KEY" (PKCS#8),
// "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC 1).
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no private key block found")
		}
		if isPrivateKeyBlock(block.Type) {
			return parsePrivateKeyBlock(block)
		}
	}
}

func isPrivateKeyBlock(typ string) bool {
	return typ == "PRIVATE KEY" || typ == "RSA PRIVATE KEY" || typ == "EC PRIVATE KEY"
}

func parsePrivateKeyBlock(block *pem.Block) (crypto.Signer, error) {
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", k)
	}
	return s, nil
}

// ParsePublicKeysPEM returns every public key in a PEM bundle: "PUBLIC KEY" (PKIX), "RSA PUBLIC
// KEY" (PKCS#1), the key of each CERTIFICATE, and the public half of each private key (so a
// service-account signing key file serves as a verification key file too, as in kube-apiserver).
// Blocks of other types are skipped; a bundle without any key is an error.
func ParsePublicKeysPEM(data []byte) ([]crypto.PublicKey, error) {
	var out []crypto.PublicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		k, err := parsePublicKeyBlock(block)
		if err != nil {
			return nil, fmt.Errorf("%s block: %w", block.Type, err)
		}
		if k != nil {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no public key found")
	}
	return out, nil
}

// parsePublicKeyBlock returns the public key in block, or nil for a block that holds none.
func parsePublicKeyBlock(block *pem.Block) (crypto.PublicKey, error) {
	switch block.Type {
	case "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		return c.PublicKey, nil
	}
	if isPrivateKeyBlock(block.Type) {
		k, err := parsePrivateKeyBlock(block)
		if err != nil {
			return nil, err
		}
		return k.Public(), nil
	}
	return nil, nil
}
