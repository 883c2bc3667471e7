package password_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Hashes of djangoPassword made by Django 3.2.25's make_password (each
// self-checked by its check_password), with:
//
//	PASSWORD='correct horse' /usr/bin/python3 internal/interop/testdata/django_hashes.py
//
// Pasted here so that the test needs no Python.
const (
	djangoPassword = "correct horse"

	djangoPBKDF2        = "pbkdf2_sha256$260000$YZnCPuGWzg1IMyaUpTZclb$EfWtQB5IYed4+A6CNC4Mx1ZoS4mqIoyJq3ZRTJTz7/I="
	djangoPBKDF2LowIter = "pbkdf2_sha256$1000$9Th0R7QvQmCQwjqVOav7RG$CvIZjp0OANlPBmhNWPgPlbD/dbC07yE+/m4e3IJbjVY="
	djangoArgon2        = "argon2$argon2id$v=19$m=102400,t=2,p=8$U051UEF3ZGRad3pPS0N4alZZSmcwbA$8mxyil6+WF7VY/N/UnNIqg"
	djangoBcryptSHA256  = "bcrypt_sha256$$2b$12$28o9P5Rz8eWDVKL9E.A8d.kfjYNXB26.wgJcYQTR6mlc.ZRQl.qXy"
	djangoBcrypt        = "bcrypt$$2b$12$TnRGNXSYjC1HropgpHr4VONVjiExFiZI2w.DUs9XTqtE98NSB5w7S"

	// Django before 3.2 wrote argon2i; made with argon2-cffi 21.1 (Debian's):
	//	argon2.PasswordHasher(type=argon2.Type.I, time_cost=2, memory_cost=512, parallelism=2)
	djangoArgon2i = "argon2$argon2i$v=19$m=512,t=2,p=2$AkJRvtEhY1n0h0b4xZhDtA$20nH8ydxn7C/axjxP7YQSw"
)

func TestVerifyDjangoArgon2i(t *testing.T) {
	h := newHasher(t, tiny)
	if ok, rehash := verify(t, h, djangoPassword, djangoArgon2i); !ok || !rehash {
		t.Fatalf("argon2i: ok=%v rehash=%v, want true true", ok, rehash)
	}
	if ok, _ := verify(t, h, "wrong", djangoArgon2i); ok {
		t.Fatal("argon2i accepted a wrong password")
	}
}

func TestVerifyRefusesExpensiveStoredParameters(t *testing.T) {
	h := newHasher(t, tiny)
	for _, encoded := range []string{
		"$argon2id$v=19$m=64,t=1000000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=5000000,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1junk$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"bcrypt$$2b$31$TnRGNXSYjC1HropgpHr4VONVjiExFiZI2w.DUs9XTqtE98NSB5w7S",
	} {
		if ok, _ := verify(t, h, djangoPassword, encoded); ok {
			t.Errorf("accepted %q", encoded)
		}
	}
}

// longPassword is 89 bytes; bcrypt reads only its first 72. longBcrypt is
// Python bcrypt 3.2.2's hashpw(longPassword, gensalt(4)) (the version the
// Django service used), which silently truncates:
//
//	/usr/bin/python3 -c 'import bcrypt; print(bcrypt.hashpw(PW, bcrypt.gensalt(4)).decode())'
const (
	longPassword = "correct horse battery staple, correct horse battery staple, correct horse battery staple!"
	longBcrypt   = "$2b$04$EoigZ5W9mzaBM490Qu9IrOGr4uTlrhH6k8P0fWwxCFRCHjxYbVyj."
)

func TestVerifyDjango(t *testing.T) {
	h := newHasher(t, tiny)
	tests := []struct {
		name    string
		encoded string
	}{
		{"pbkdf2_sha256 default iterations", djangoPBKDF2},
		{"pbkdf2_sha256 1000 iterations", djangoPBKDF2LowIter},
		{"argon2 (argon2id)", djangoArgon2},
		{"bcrypt_sha256", djangoBcryptSHA256},
		{"bcrypt", djangoBcrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // bcrypt at cost 12 is slow, under -race very slow
			// Django formats are always upgraded to argon2id on a good login.
			if ok, rehash := verify(t, h, djangoPassword, tt.encoded); !ok || !rehash {
				t.Errorf("Verify(right password) = ok %v, rehash %v; want true, true", ok, rehash)
			}
			if ok, rehash := verify(t, h, "Correct horse", tt.encoded); ok || rehash {
				t.Errorf("Verify(wrong password) = ok %v, rehash %v; want false, false", ok, rehash)
			}
		})
	}
}

// TestVerifyDjangoWrongPasswords tries near misses on the cheap vector (the
// other formats get one wrong password each above, as each try costs seconds).
func TestVerifyDjangoWrongPasswords(t *testing.T) {
	h := newHasher(t, tiny)
	// Not "correct horse\x00": HMAC zero-pads short keys, so PBKDF2-HMAC (and
	// Django's own check_password) cannot tell a trailing NUL from none.
	wrong := []string{"", "correct hors", "correct horse ", " correct horse", "Correct horse", "correct horsé", "correct horse correct horse"}
	for _, w := range wrong {
		t.Run(w, func(t *testing.T) {
			if ok, rehash := verify(t, h, w, djangoPBKDF2LowIter); ok || rehash {
				t.Errorf("Verify(%q) = ok %v, rehash %v; want false, false", w, ok, rehash)
			}
		})
	}
}

// TestVerifyDjangoTampered checks that each Django verifier really compares
// against the stored hash: flipping one character of it must fail the login.
func TestVerifyDjangoTampered(t *testing.T) {
	h := newHasher(t, tiny)
	// Cost-4 hashes of djangoPassword, for speed; controls: in their own
	// format they verify.
	plain, viaSHA := bcryptPlain(t, djangoPassword), bcryptSHA256(t, djangoPassword)
	for _, control := range []string{"bcrypt$" + plain, "bcrypt_sha256$" + viaSHA} {
		if ok, _ := verify(t, h, djangoPassword, control); !ok {
			t.Fatalf("control: Verify(%q) failed", control)
		}
	}
	tests := []struct{ name, encoded string }{
		{"pbkdf2_sha256 other iterations", strings.Replace(djangoPBKDF2LowIter, "$1000$", "$1001$", 1)},
		{"pbkdf2_sha256 other salt", strings.Replace(djangoPBKDF2LowIter, "$9Th0", "$9Th1", 1)},
		{"pbkdf2_sha256 other hash", strings.Replace(djangoPBKDF2LowIter, "$CvIZ", "$CvIA", 1)},
		{"argon2 other params", strings.Replace(djangoArgon2, "t=2", "t=1", 1)},
		{"argon2 other hash", strings.Replace(djangoArgon2, "$8mxy", "$8mxA", 1)},
		{"bcrypt_sha256 read as bcrypt", "bcrypt$" + viaSHA},
		{"bcrypt read as bcrypt_sha256", "bcrypt_sha256$" + plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.encoded == djangoPBKDF2LowIter || tt.encoded == djangoArgon2 {
				t.Fatal("tampering changed nothing")
			}
			if ok, rehash := verify(t, h, djangoPassword, tt.encoded); ok || rehash {
				t.Errorf("Verify(%q) = ok %v, rehash %v; want false, false", tt.encoded, ok, rehash)
			}
		})
	}
}

// TestVerifyDjangoArgon2OfOwnHash checks that Django's "argon2$" prefix wraps
// the same PHC string the service writes, and that it is always upgraded.
func TestVerifyDjangoArgon2OfOwnHash(t *testing.T) {
	h := newHasher(t, tiny)
	encoded := hash(t, h, "pw")
	django := "argon2" + encoded // "argon2$argon2id$v=19$…"
	if ok, rehash := verify(t, h, "pw", django); !ok || !rehash {
		t.Errorf("Verify(%q) = ok %v, rehash %v; want true, true", django, ok, rehash)
	}
	if ok, _ := verify(t, h, "px", django); ok {
		t.Errorf("Verify(wrong, %q) = ok", django)
	}
}

func TestVerifyBcryptLongPassword(t *testing.T) {
	if len(longPassword) <= 72 {
		t.Fatalf("longPassword is %d bytes; the test needs more than 72", len(longPassword))
	}
	prefix := longPassword[:72]
	// The same rule from Go's bcrypt, which refuses > 72 bytes, on the prefix.
	goHash, err := bcrypt.GenerateFromPassword([]byte(prefix), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := newHasher(t, tiny)
	sources := []struct{ name, encoded string }{
		{"python bcrypt of whole password", "bcrypt$" + longBcrypt},
		{"go bcrypt of prefix", "bcrypt$" + string(goHash)},
	}
	for _, src := range sources {
		tests := []struct {
			name     string
			password string
			ok       bool
		}{
			{"whole password", longPassword, true},
			{"first 72 bytes", prefix, true},
			{"first 72 bytes and another tail", prefix + "something else entirely", true},
			{"first 71 bytes", prefix[:71], false},
			{"72nd byte changed", prefix[:71] + "X", false},
			{"first byte changed", "C" + longPassword[1:], false},
		}
		for _, tt := range tests {
			t.Run(src.name+"/"+tt.name, func(t *testing.T) {
				ok, rehash := verify(t, h, tt.password, src.encoded)
				if ok != tt.ok || rehash != tt.ok {
					t.Errorf("Verify = ok %v, rehash %v; want %v, %v", ok, rehash, tt.ok, tt.ok)
				}
			})
		}
	}
}

// TestVerifyBcryptSHA256LongPassword checks that bcrypt_sha256 does not
// truncate: it hashes SHA-256 hex of the whole password.
func TestVerifyBcryptSHA256LongPassword(t *testing.T) {
	h := newHasher(t, tiny)
	// bcrypt_sha256 of longPassword, built the way Django does it.
	encoded := "bcrypt_sha256$" + bcryptSHA256(t, longPassword)
	if ok, rehash := verify(t, h, longPassword, encoded); !ok || !rehash {
		t.Errorf("Verify(whole) = ok %v, rehash %v; want true, true", ok, rehash)
	}
	if ok, _ := verify(t, h, longPassword[:72], encoded); ok {
		t.Error("Verify(first 72 bytes) = ok; bcrypt_sha256 must use the whole password")
	}
}

// bcryptSHA256 is Django's BCryptSHA256PasswordHasher without its prefix:
// bcrypt of the lowercase hex SHA-256 of the password (at the lowest cost).
func bcryptSHA256(tb testing.TB, password string) string {
	tb.Helper()
	sum := sha256.Sum256([]byte(password))
	h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(sum[:])), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	return string(h)
}

// bcryptPlain is Django's BCryptPasswordHasher without its prefix, at the lowest cost.
func bcryptPlain(tb testing.TB, password string) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	return string(h)
}
