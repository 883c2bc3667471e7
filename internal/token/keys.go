package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms the service can sign with.
const (
	HS256 = "HS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
	RS256 = "RS256"
)

// MinSecretLen is the shortest HS256 secret accepted, in bytes.
const MinSecretLen = 32

// Keys holds the signing key and every verification key of one algorithm.
type Keys struct {
	method  jwt.SigningMethod
	signKey any
	signKID string
	// verify maps kid to public key; empty in HS256 mode, where the one secret
	// both signs and verifies.
	verify map[string]crypto.PublicKey
	jwks   []JWK
	// sealing is secret material as sensitive as the signing key, for other
	// packages to derive keys from (see SealingSecret).
	sealing []byte
}

// JWK is a public key in JSON Web Key form (RFC 7517).
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// NewHS256 returns keys that sign and verify with a shared secret, as
// SimpleJWT does with Django's SECRET_KEY. It fails for a secret shorter than
// MinSecretLen.
func NewHS256(secret []byte) (*Keys, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("token: HS256 secret must be at least %d bytes", MinSecretLen)
	}
	return &Keys{method: jwt.SigningMethodHS256, signKey: secret, sealing: secret}, nil
}

// NewAsymmetric returns keys for alg (ES256, EdDSA or RS256) from PEM blocks:
// the first must be a private key and signs; each other one, private or
// public, only verifies, so that a retired key keeps its tokens valid.
func NewAsymmetric(alg string, pems [][]byte) (*Keys, error) {
	method := jwt.GetSigningMethod(alg)
	if method == nil || alg == HS256 {
		return nil, fmt.Errorf("token: unsupported asymmetric algorithm %q", alg)
	}
	if len(pems) == 0 {
		return nil, errors.New("token: no keys")
	}
	k := &Keys{method: method, verify: map[string]crypto.PublicKey{}}
	for i, data := range pems {
		private, public, err := parsePEM(data)
		if err != nil {
			return nil, fmt.Errorf("token: key %d: %w", i+1, err)
		}
		if i == 0 && private == nil {
			return nil, errors.New("token: key 1 signs, so it must be a private key")
		}
		jwk, err := publicJWK(alg, public)
		if err != nil {
			return nil, fmt.Errorf("token: key %d: %w", i+1, err)
		}
		if _, dup := k.verify[jwk.Kid]; dup {
			return nil, fmt.Errorf("token: key %d is listed twice", i+1)
		}
		if i == 0 {
			k.signKey, k.signKID = private, jwk.Kid
			if k.sealing, err = x509.MarshalPKCS8PrivateKey(private); err != nil {
				return nil, fmt.Errorf("token: key 1: %w", err)
			}
		}
		k.verify[jwk.Kid] = public
		k.jwks = append(k.jwks, jwk)
	}
	return k, nil
}

// SealingSecret returns secret bytes that only a holder of the signing key
// has: the HS256 secret, or the signing private key's PKCS #8 encoding. It is
// meant as input to a key derivation, never to be used or shown as is.
func (k *Keys) SealingSecret() []byte { return k.sealing }

// Algorithm returns the JWS algorithm the keys sign with.
func (k *Keys) Algorithm() string { return k.method.Alg() }

// JWKS returns the public keys, signing key first; none in HS256 mode.
func (k *Keys) JWKS() []JWK { return k.jwks }

// verificationKey is the jwt.Keyfunc: it looks the key up only among the
// configured keys, by kid, and ignores every other header.
func (k *Keys) verificationKey(t *jwt.Token) (any, error) {
	if k.verify == nil {
		return k.signKey, nil
	}
	kid, _ := t.Header["kid"].(string)
	key, ok := k.verify[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	return key, nil
}

// parsePEM reads one PEM block: a private key (PKCS #8, SEC 1 or PKCS #1) or
// a public key (PKIX). It returns the private key (nil for a public one) and
// the public key.
func parsePEM(data []byte) (crypto.Signer, crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, nil, errors.New("no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		return nil, pub, err
	default:
		return nil, nil, fmt.Errorf("unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("not a signing key")
	}
	return signer, signer.Public(), nil
}

// publicJWK checks that pub suits alg and returns it as a JWK whose kid is its
// RFC 7638 thumbprint.
func publicJWK(alg string, pub crypto.PublicKey) (JWK, error) {
	var jwk JWK
	switch key := pub.(type) {
	case *ecdsa.PublicKey:
		if alg != ES256 || key.Curve != elliptic.P256() {
			return JWK{}, fmt.Errorf("an ECDSA key needs ES256 and curve P-256")
		}
		ecdh, err := key.ECDH()
		if err != nil {
			return JWK{}, err
		}
		point := ecdh.Bytes() // 0x04 || X || Y
		jwk = JWK{Kty: "EC", Crv: "P-256", X: b64url(point[1:33]), Y: b64url(point[33:])}
	case *rsa.PublicKey:
		if alg != RS256 || key.N.BitLen() < 2048 {
			return JWK{}, fmt.Errorf("an RSA key needs RS256 and at least 2048 bits")
		}
		jwk = JWK{Kty: "RSA", N: b64url(key.N.Bytes()), E: b64url(big.NewInt(int64(key.E)).Bytes())}
	case ed25519.PublicKey:
		if alg != EdDSA {
			return JWK{}, fmt.Errorf("an Ed25519 key needs EdDSA")
		}
		jwk = JWK{Kty: "OKP", Crv: "Ed25519", X: b64url(key)}
	default:
		return JWK{}, fmt.Errorf("unsupported key type %T", pub)
	}
	jwk.Kid = thumbprint(jwk)
	jwk.Use, jwk.Alg = "sig", alg
	return jwk, nil
}

// thumbprint is the RFC 7638 SHA-256 thumbprint: the required members in
// lexicographic order, no white space.
func thumbprint(j JWK) string {
	var members any
	switch j.Kty {
	case "EC":
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{j.Crv, j.Kty, j.X, j.Y}
	case "RSA":
		members = struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{j.E, j.Kty, j.N}
	default:
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
		}{j.Crv, j.Kty, j.X}
	}
	data, _ := json.Marshal(members) // cannot fail: strings only
	sum := sha256.Sum256(data)
	return b64url(sum[:])
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// GenerateKey makes a new private key for alg and returns it as a PKCS #8 PEM block.
func GenerateKey(alg string) ([]byte, error) {
	var (
		key any
		err error
	)
	switch alg {
	case ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		key, err = rsa.GenerateKey(rand.Reader, 3072)
	case EdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("token: cannot generate a key for %q (want ES256, EdDSA or RS256)", alg)
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
