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

// verifyPBKDF2 checks Django's "pbkdf2_sha256$<iterations>$<salt>$<hash>":
// the salt is used as its text, the hash is padded standard base64.
func verifyPBKDF2(password, encoded string) verdict {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[2] == "" {
		return malformed
	}
	iterations, err := strconv.Atoi(parts[1])
	if err != nil || iterations < 1 || iterations > maxPBKDF2Iterations {
		return malformed
	}
	want, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil || len(want) != sha256.Size {
		return malformed
	}
	got, err := pbkdf2.Key(sha256.New, password, []byte(parts[2]), iterations, sha256.Size)
	if err != nil {
		return malformed
	}
	return matchIf(subtle.ConstantTimeCompare(got, want) == 1)
}

// verifyBcryptSHA256 checks Django's "bcrypt_sha256$<bcrypt hash>", where the
// password is first reduced to the hex of its SHA-256 (so that bcrypt's
// 72-byte limit does not truncate it).
func verifyBcryptSHA256(password, encoded string) verdict {
	sum := sha256.Sum256([]byte(password))
	hash := strings.TrimPrefix(encoded, "bcrypt_sha256$")
	return compareBcrypt(hash, []byte(hex.EncodeToString(sum[:])))
}

// verifyBcrypt checks Django's "bcrypt$<bcrypt hash>" of the raw password.
// bcrypt itself only reads the first 72 bytes, as Python's bcrypt did.
func verifyBcrypt(password, encoded string) verdict {
	secret := []byte(password)
	if len(secret) > 72 {
		secret = secret[:72]
	}
	return compareBcrypt(strings.TrimPrefix(encoded, "bcrypt$"), secret)
}

// maxBcryptCost bounds the work a stored bcrypt hash can ask for (Django uses 12).
const maxBcryptCost = 16

func compareBcrypt(hash string, secret []byte) verdict {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil || cost > maxBcryptCost {
		return malformed
	}
	switch err := bcrypt.CompareHashAndPassword([]byte(hash), secret); {
	case err == nil:
		return match
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return mismatch
	}
	return malformed
}
