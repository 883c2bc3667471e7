package config

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ecommerce/auth-service/internal/token"
)

// minDistinctSecretBytes is the fewest different byte values an HS256
// secret may have: 32 × "a" is 32 bytes long and guessed at once.
const minDistinctSecretBytes = 16

// placeholderSecrets are values copied from examples and tutorials, compared
// without case and without the punctuation between words; a secret equal to
// one of them, or to one repeated, is refused however long it is.
var placeholderSecrets = []string{
	"changeit", "secret", "secretkey", "mysecret", "mysecretkey", "supersecret", "supersecretkey", "jwtsecret",
	"jwtsecretkey", "secretjwt", "your256bitsecret", "password", "default", "example", "test", "testsecret",
	"development", "devsecret", "djangoinsecure",
}

// placeholderPrefixes begin the values that tell the reader to put a real
// secret there ("change-me-in-production", "your-secret-key-here-…"):
// refused whatever follows, since a random secret never starts so.
var placeholderPrefixes = []string{
	"changeme", "changethis", "replaceme", "replacethis", "yoursecret", "pleasechangeme", "putyour", "insertyour",
	"notasecret", "insecure",
}

// checkSecret refuses an HS256 secret that is too short, has too few
// different bytes, or is a well-known placeholder, naming the variable and
// never echoing the secret.
func checkSecret(variable string, secret []byte) error {
	if len(secret) < token.MinSecretLen {
		return fmt.Errorf("%s is too short: %d bytes, at least %d required", variable, len(secret), token.MinSecretLen)
	}
	if strings.HasPrefix(strings.ToLower(string(secret)), "django-insecure-") {
		return fmt.Errorf("%s is a Django development key (django-insecure-…): generate a secret, for example `openssl rand -base64 48`", variable)
	}
	if isPlaceholder(string(secret)) {
		return fmt.Errorf("%s is a well-known placeholder value: generate a secret, for example `openssl rand -base64 48`", variable)
	}
	var seen [256]bool
	distinct := 0
	for _, b := range secret {
		if !seen[b] {
			seen[b], distinct = true, distinct+1
		}
	}
	if distinct < minDistinctSecretBytes && !randomHex(secret, distinct) {
		return fmt.Errorf("%s has only %d different bytes, at least %d required: generate a secret, for example `openssl rand -base64 48`",
			variable, distinct, minDistinctSecretBytes)
	}
	return nil
}

// randomHex reports whether secret looks like the hex encoding of at least
// 32 random bytes (`openssl rand -hex 32`): 64 or more hex digits, not a
// repetition of a shorter unit, with at least 12 of the 16 digits. Such a
// secret has only 16 byte values to draw from, and one in four misses one
// of them by chance, which minDistinctSecretBytes alone would refuse.
func randomHex(secret []byte, distinct int) bool {
	if len(secret) < 64 || distinct < 12 {
		return false
	}
	for _, b := range secret {
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F') {
			return false
		}
	}
	for size := 1; size <= len(secret)/2; size++ {
		if len(secret)%size == 0 && bytes.Equal(bytes.Repeat(secret[:size], len(secret)/size), secret) {
			return false
		}
	}
	return true
}

// isPlaceholder reports whether s, lower-cased and with everything but
// letters and digits removed, is a placeholder or a repetition of one, or
// starts with one of placeholderPrefixes.
func isPlaceholder(s string) bool {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	folded := b.String()
	for _, p := range placeholderPrefixes {
		if strings.HasPrefix(folded, p) {
			return true
		}
	}
	for _, p := range placeholderSecrets {
		if folded != "" && len(folded)%len(p) == 0 && strings.Repeat(p, len(folded)/len(p)) == folded {
			return true
		}
	}
	return false
}
