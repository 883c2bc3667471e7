package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms the service can sign with.
const (
	HS256 = "HS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
	RS256 = "RS256"
)

// ErrNoSigningKey means no loaded key has the kid asked to sign.
var ErrNoSigningKey = errors.New("token: no key has the signing kid")

// MinSecretLen is the shortest HS256 secret accepted, in bytes.
const MinSecretLen = 32

// sealingInfo is the HKDF label of the sealing secret (SealingSecret): a key
// of its own, derived from the signing material, so that nothing the service
// seals is ever protected by the signing key itself.
const sealingInfo = "auth-service grace-replay sealing key v1"

// Keys holds the signing key, every verification key of one algorithm, and
// the policy its tokens' claims are held to.
type Keys struct {
	method  jwt.SigningMethod
	signKey any
	signKID string
	// secrets are the HS256 verification secrets, the signing one first;
	// nil in the asymmetric modes.
	secrets [][]byte
	// verify maps kid to public key; nil in HS256 mode.
	verify map[string]crypto.PublicKey
	jwks   []JWK
	loaded []KeyInfo
	// sealing is derived from the signing material (see SealingSecret).
	sealing []byte
	policy  Policy
}

// KeyInfo describes a loaded key without any of its material: what the
// service logs and records when it starts.
type KeyInfo struct {
	// Kid is the key's id: the RFC 7638 thumbprint of a public key, or for
	// an HS256 secret a fingerprint ("hs256:" and 12 characters of a
	// SHA-256 over it), which tells secrets apart and reveals nothing a
	// token signed with it does not.
	Kid     string
	Alg     string
	Signing bool
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

// NewHS256 returns keys that sign with a shared secret, as SimpleJWT does
// with Django's SECRET_KEY, and verify with it and with the previous
// secrets, which only verify, so that the secret can be rotated without
// ending sessions. It fails for a secret shorter than MinSecretLen or listed
// twice.
func NewHS256(secret []byte, previous ...[]byte) (*Keys, error) {
	k := &Keys{method: jwt.SigningMethodHS256, signKey: secret, policy: DefaultPolicy()}
	for i, s := range append([][]byte{secret}, previous...) {
		name := "the secret"
		if i > 0 {
			name = fmt.Sprintf("previous secret %d", i)
		}
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("token: HS256 %s must be at least %d bytes", name, MinSecretLen)
		}
		for _, seen := range k.secrets {
			if subtle.ConstantTimeCompare(seen, s) == 1 {
				return nil, fmt.Errorf("token: HS256 %s is listed twice", name)
			}
		}
		k.secrets = append(k.secrets, s)
		k.loaded = append(k.loaded, KeyInfo{Kid: secretFingerprint(s), Alg: HS256, Signing: i == 0})
	}
	k.sealing = deriveSealing(secret)
	return k, nil
}

// NewAsymmetric returns keys for alg (ES256, EdDSA or RS256) from PEM blocks,
// private or public. Every key verifies and is published; the one whose kid
// is signingKID signs, or the first if signingKID is empty, and it must be a
// private key. Publishing a key before it signs is what lets verifiers that
// cache the key set keep up with a roll.
func NewAsymmetric(alg string, pems [][]byte, signingKID string) (*Keys, error) {
	method := jwt.GetSigningMethod(alg)
	if method == nil || alg == HS256 {
		return nil, fmt.Errorf("token: unsupported asymmetric algorithm %q", alg)
	}
	if len(pems) == 0 {
		return nil, errors.New("token: no keys")
	}
	k := &Keys{method: method, verify: map[string]crypto.PublicKey{}, policy: DefaultPolicy()}
	var signer crypto.Signer
	for i, data := range pems {
		private, public, err := parsePEM(data)
		if err != nil {
			return nil, fmt.Errorf("token: key %d: %w", i+1, err)
		}
		jwk, err := publicJWK(alg, public)
		if err != nil {
			return nil, fmt.Errorf("token: key %d: %w", i+1, err)
		}
		if _, dup := k.verify[jwk.Kid]; dup {
			return nil, fmt.Errorf("token: key %d is listed twice", i+1)
		}
		signs := signingKID == jwk.Kid || signingKID == "" && i == 0
		if signs {
			if private == nil {
				return nil, fmt.Errorf("token: key %d (kid %s) signs, so it must be a private key", i+1, jwk.Kid)
			}
			signer, k.signKID = private, jwk.Kid
		}
		k.verify[jwk.Kid] = public
		k.jwks = append(k.jwks, jwk)
		k.loaded = append(k.loaded, KeyInfo{Kid: jwk.Kid, Alg: alg, Signing: signs})
	}
	if signer == nil {
		kids := make([]string, len(k.jwks))
		for i, j := range k.jwks {
			kids[i] = j.Kid
		}
		return nil, fmt.Errorf("%w %q (the keys' kids: %s)", ErrNoSigningKey, signingKID, strings.Join(kids, ", "))
	}
	material, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, fmt.Errorf("token: signing key: %w", err)
	}
	k.signKey, k.sealing = signer, deriveSealing(material)
	return k, nil
}

// WithPolicy returns a copy of k that mints and verifies under p.
func (k *Keys) WithPolicy(p Policy) *Keys {
	c := *k
	c.policy = p
	return &c
}

// Policy returns the policy the keys mint and verify under.
func (k *Keys) Policy() Policy { return k.policy }

// SealingSecret returns a secret that only a holder of the signing key has,
// derived from it (the HS256 secret, or the signing private key's PKCS #8
// encoding) with HKDF under a label of its own: it is never a signing key. It
// is meant as input to further key derivation, never to be shown. It changes
// with the signing key, so what was sealed before a key change no longer
// opens.
func (k *Keys) SealingSecret() []byte { return k.sealing }

// Algorithm returns the JWS algorithm the keys sign with.
func (k *Keys) Algorithm() string { return k.method.Alg() }

// JWKS returns the public keys in the order they were given; none in HS256
// mode.
func (k *Keys) JWKS() []JWK { return k.jwks }

// Loaded describes every key, in the order given, without key material.
func (k *Keys) Loaded() []KeyInfo { return k.loaded }

// deriveSealing is SealingSecret's derivation.
func deriveSealing(material []byte) []byte {
	key, err := hkdf.Key(sha256.New, material, nil, sealingInfo, 32)
	if err != nil {
		panic(err) // only for lengths beyond HKDF's limit, never 32 bytes
	}
	return key
}

// secretFingerprint names an HS256 secret in logs and the audit trail.
func secretFingerprint(secret []byte) string {
	sum := sha256.Sum256(append([]byte("auth-service key fingerprint v1\x00"), secret...))
	return "hs256:" + b64url(sum[:9])
}

// verificationKey is the jwt.Keyfunc: it looks the key up only among the
// configured keys, by kid, and ignores every other header. In HS256 mode it
// offers every secret, the signing one first.
func (k *Keys) verificationKey(t *jwt.Token) (any, error) {
	if k.verify == nil {
		if len(k.secrets) == 1 {
			return k.secrets[0], nil
		}
		set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, len(k.secrets))}
		for i, s := range k.secrets {
			set.Keys[i] = s
		}
		return set, nil
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
