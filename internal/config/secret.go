package config

import (
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
	"changeme", "changethis", "changeit", "replaceme", "secret", "secretkey", "yoursecretkey", "yoursecret",
	"mysecret", "mysecretkey", "supersecret", "supersecretkey", "jwtsecret", "jwtsecretkey", "secretjwt",
	"your256bitsecret", "password", "default", "example", "insecure", "test", "testsecret", "development",
	"devsecret", "notasecret", "pleasechangeme", "djangoinsecure",
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
	if distinct < minDistinctSecretBytes {
		return fmt.Errorf("%s has only %d different bytes, at least %d required: generate a secret, for example `openssl rand -base64 48`",
			variable, distinct, minDistinctSecretBytes)
	}
	return nil
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
