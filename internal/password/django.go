package password

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// maxPBKDF2Iterations bounds the work a stored hash can ask for.
const maxPBKDF2Iterations = 20_000_000

// parsePBKDF2 reads Django's "pbkdf2_sha256$<iterations>$<salt>$<hash>": the
// salt is used as its text, the hash is padded standard base64.
func parsePBKDF2(encoded string) stored {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[2] == "" {
		return stored{}
	}
	iterations, err := strconv.Atoi(parts[1])
	if err != nil || iterations < 1 || iterations > maxPBKDF2Iterations {
		return stored{}
	}
	want, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil || len(want) != sha256.Size {
		return stored{}
	}
	salt := []byte(parts[2])
	return stored{format: "pbkdf2_sha256", kib: smallHashKiB, check: func(password string) verdict {
		got, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
		if err != nil {
			return malformed
		}
		return matchIf(subtle.ConstantTimeCompare(got, want) == 1)
	}}
}

// bcryptSHA256Secret is what Django's "bcrypt_sha256$<bcrypt hash>" hands
// bcrypt: the hex of the password's SHA-256 (so that bcrypt's 72-byte limit
// does not truncate it).
func bcryptSHA256Secret(password string) []byte {
	sum := sha256.Sum256([]byte(password))
	return []byte(hex.EncodeToString(sum[:]))
}

// bcryptSecret is what Django's "bcrypt$<bcrypt hash>" hands bcrypt: the raw
// password, of which bcrypt itself only reads the first 72 bytes, as
// Python's bcrypt did.
func bcryptSecret(password string) []byte {
	secret := []byte(password)
	if len(secret) > 72 {
		secret = secret[:72]
	}
	return secret
}

// maxBcryptCost bounds the work a stored bcrypt hash can ask for (Django uses 12).
const maxBcryptCost = 16

// parseBcrypt reads a bcrypt hash of format (Django's prefix removed), whose
// secret is derived from the password by secret.
func parseBcrypt(format, hash string, secret func(string) []byte) stored {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil || cost > maxBcryptCost {
		return stored{}
	}
	return stored{format: format, kib: smallHashKiB, check: func(password string) verdict {
		switch err := bcrypt.CompareHashAndPassword([]byte(hash), secret(password)); {
		case err == nil:
			return match
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return mismatch
		}
		return malformed
	}}
}
