package password

import (
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// FuzzParseStoredHash hands arbitrary stored hashes to the parser and, where
// the work they ask for is small, checks passwords against them: nothing
// panics, the memory a check would take is within the bounds the service
// sets, a malformed hash never matches, and no stored hash asks for a check
// that is not bounded.
func FuzzParseStoredHash(f *testing.F) {
	h, err := New(Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	if err != nil {
		f.Fatal(err)
	}
	own, err := h.Hash(f.Context(), "pw")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		own, "argon2" + own, "pbkdf2_sha256$1000$salt$" + strings.Repeat("A", 43) + "=",
		"bcrypt$$2b$04$EoigZ5W9mzaBM490Qu9IrOGr4uTlrhH6k8P0fWwxCFRCHjxYbVyj.",
		"bcrypt_sha256$$2b$04$EoigZ5W9mzaBM490Qu9IrOGr4uTlrhH6k8P0fWwxCFRCHjxYbVyj.",
		"$argon2id$v=19$m=4194304,t=100,p=64$c2FsdA$aGFzaGhhc2g", "!", "",
	} {
		f.Add(seed, "pw")
	}
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		s := h.parse(encoded)
		if s.kib < 1 || s.kib > maxArgon2MemoryKiB {
			t.Fatalf("parse(%q): cost %d KiB out of bounds", encoded, s.kib)
		}
		if s.check == nil {
			t.Fatalf("parse(%q): no check", encoded)
		}
		if !cheap(encoded, s) {
			return
		}
		v := s.check(pw)
		if s.format == "unknown" && v != malformed {
			t.Fatalf("parse(%q): a hash of no known format checked as %v", encoded, v)
		}
	})
}

// cheap reports whether checking against encoded is fast enough for a fuzz
// iteration: small argon2 parameters, few PBKDF2 iterations, low bcrypt cost.
func cheap(encoded string, s stored) bool {
	switch s.format {
	case "argon2id", "django argon2":
		parts := strings.Split(strings.TrimPrefix(strings.TrimPrefix(encoded, "argon2"), "$"), "$")
		p, ok := parseArgon2Params(parts[2])
		return ok && p.MemoryKiB <= 1024 && p.Iterations <= 2
	case "pbkdf2_sha256":
		n, err := strconv.Atoi(strings.Split(encoded, "$")[1])
		return err == nil && n <= 10_000
	case "bcrypt", "bcrypt_sha256":
		cost, err := bcrypt.Cost([]byte(encoded[strings.Index(encoded, "$")+1:]))
		return err == nil && cost <= 5
	}
	return true
}
