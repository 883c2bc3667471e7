package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
)

// The pair a refresh token is rotated into is kept, sealed, on the retired
// token's row, so that within the grace interval the same pair can be handed
// out again instead of a second one (which would fork the session). The key
// is derived from the retired token itself, which the database holds only as
// a hash, and from the service's signing secret: neither a copy of the
// database nor an old token, nor both together, open the box; only the
// service does, when the token is presented.

// successorInfo separates this key from any other use of the token bytes.
const successorInfo = "auth-service refresh-token successor v1"

// sealSuccessor encrypts next with a key derived from the refresh token raw
// that it replaces and from serverSecret.
func sealSuccessor(serverSecret []byte, raw string, next Pair) ([]byte, error) {
	aead, err := successorAEAD(serverSecret, raw)
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(next)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, plain, nil), nil
}

// openSuccessor decrypts what sealSuccessor made for raw.
func openSuccessor(serverSecret []byte, raw string, sealed []byte) (Pair, error) {
	aead, err := successorAEAD(serverSecret, raw)
	if err != nil {
		return Pair{}, err
	}
	if len(sealed) < aead.NonceSize() {
		return Pair{}, errors.New("sealed successor too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return Pair{}, fmt.Errorf("open sealed successor: %w", err)
	}
	var p Pair
	if err := json.Unmarshal(plain, &p); err != nil || p.Access == "" || p.Refresh == "" {
		return Pair{}, errors.New("sealed successor is not a token pair")
	}
	return p, nil
}

// successorAEAD is AES-256-GCM under HKDF-SHA256(ikm: the token, salt: the
// server secret, info: successorInfo).
func successorAEAD(serverSecret []byte, raw string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(raw), serverSecret, successorInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
