package password_test

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/ecommerce/auth-service/internal/password"
)

// tiny keeps argon2id cheap in tests; production uses DefaultParams.
var tiny = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// newHasher returns a Hasher with params, failing the test if New rejects them.
func newHasher(tb testing.TB, p password.Params) *password.Hasher {
	tb.Helper()
	h, err := password.New(p)
	if err != nil {
		tb.Fatalf("New(%+v): %v", p, err)
	}
	return h
}

// hash hashes pw with h, failing the test on error.
func hash(tb testing.TB, h *password.Hasher, pw string) string {
	tb.Helper()
	encoded, err := h.Hash(context.Background(), pw)
	if err != nil {
		tb.Fatalf("Hash(%q): %v", pw, err)
	}
	return encoded
}

// verify runs h.Verify without a deadline, failing the test if it cannot run.
func verify(tb testing.TB, h *password.Hasher, pw, encoded string) (ok, rehash bool) {
	tb.Helper()
	ok, rehash, err := h.Verify(context.Background(), pw, encoded)
	if err != nil {
		tb.Fatalf("Verify(%q): %v", encoded, err)
	}
	return ok, rehash
}

func TestHashVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		params   password.Params
		password string
		wrong    []string
	}{
		{"ascii", tiny, "correct horse", []string{"correct hors", "correct horse ", "Correct horse", ""}},
		{"empty password", tiny, "", []string{" ", "\x00"}},
		{"unicode", tiny, "pässwörd €𝄞", []string{"passwörd €𝄞", "pässwörd €"}},
		// argon2 has no 72-byte limit: a change after byte 72 must matter.
		{"long", tiny, strings.Repeat("a", 200), []string{strings.Repeat("a", 199), strings.Repeat("a", 199) + "b"}},
		{"default params", password.DefaultParams(), "correct horse", []string{"correct horsf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHasher(t, tt.params)
			encoded := hash(t, h, tt.password)
			if ok, rehash := verify(t, h, tt.password, encoded); !ok || rehash {
				t.Errorf("Verify(right password) = ok %v, rehash %v; want true, false", ok, rehash)
			}
			// A second Hasher with equal params must also accept without rehash:
			// nothing but the string itself is needed to verify.
			if ok, rehash := verify(t, newHasher(t, tt.params), tt.password, encoded); !ok || rehash {
				t.Errorf("other Hasher, same params: Verify = ok %v, rehash %v; want true, false", ok, rehash)
			}
			for _, w := range tt.wrong {
				if ok, rehash := verify(t, h, w, encoded); ok || rehash {
					t.Errorf("Verify(%q) = ok %v, rehash %v; want false, false", w, ok, rehash)
				}
			}
		})
	}
}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestHashFormat(t *testing.T) {
	tests := []password.Params{
		tiny,
		{MemoryKiB: 128, Iterations: 3, Parallelism: 2},
		password.DefaultParams(),
	}
	for _, p := range tests {
		t.Run(strconv.Itoa(int(p.MemoryKiB)), func(t *testing.T) {
			const pw = "correct horse"
			encoded := hash(t, newHasher(t, p), pw)
			m := phcRE.FindStringSubmatch(encoded)
			if m == nil {
				t.Fatalf("Hash = %q, not $argon2id$v=19$m=…,t=…,p=…$salt$hash with unpadded std base64", encoded)
			}
			if m[1] != strconv.Itoa(int(p.MemoryKiB)) || m[2] != strconv.Itoa(int(p.Iterations)) || m[3] != strconv.Itoa(int(p.Parallelism)) {
				t.Errorf("params in %q = m=%s,t=%s,p=%s; want %+v", encoded, m[1], m[2], m[3], p)
			}
			salt, err := base64.RawStdEncoding.DecodeString(m[4])
			if err != nil || len(salt) != 16 {
				t.Errorf("salt %q: %d bytes, err %v; want 16 bytes", m[4], len(salt), err)
			}
			key, err := base64.RawStdEncoding.DecodeString(m[5])
			if err != nil || len(key) != 32 {
				t.Errorf("hash %q: %d bytes, err %v; want 32 bytes", m[5], len(key), err)
			}
			// Recompute independently: the string must be a real argon2id
			// (not argon2i, not another KDF) of the password and salt.
			want := argon2.IDKey([]byte(pw), salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
			if subtle.ConstantTimeCompare(key, want) != 1 {
				t.Errorf("hash in %q is not argon2id(%q, salt, %+v)", encoded, pw, p)
			}
			if again := hash(t, newHasher(t, p), pw); again == encoded {
				t.Errorf("two hashes of one password are equal (%q): salt is not random", encoded)
			}
		})
	}
}

func TestVerifyRehashWhenParamsDiffer(t *testing.T) {
	const pw = "correct horse"
	encoded := hash(t, newHasher(t, tiny), pw)
	tests := []struct {
		name   string
		params password.Params
		rehash bool
	}{
		{"same params", tiny, false},
		{"more memory", password.Params{MemoryKiB: 128, Iterations: 1, Parallelism: 1}, true},
		{"less memory", password.Params{MemoryKiB: 32, Iterations: 1, Parallelism: 1}, true},
		{"more iterations", password.Params{MemoryKiB: 64, Iterations: 2, Parallelism: 1}, true},
		{"more parallelism", password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 2}, true},
		{"defaults", password.DefaultParams(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHasher(t, tt.params)
			if ok, rehash := verify(t, h, pw, encoded); !ok || rehash != tt.rehash {
				t.Errorf("Verify = ok %v, rehash %v; want true, %v", ok, rehash, tt.rehash)
			}
			// A wrong password never asks for a rehash, whatever the params.
			if ok, rehash := verify(t, h, pw+"!", encoded); ok || rehash {
				t.Errorf("Verify(wrong) = ok %v, rehash %v; want false, false", ok, rehash)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	const pw = "correct horse"
	h := newHasher(t, tiny)
	valid := hash(t, h, pw)
	// Control: the mutations below start from a hash that does verify.
	if ok, _ := verify(t, h, pw, valid); !ok {
		t.Fatalf("control: Verify(%q) failed", valid)
	}
	parts := strings.Split(valid, "$") // "", argon2id, v=19, m=64,t=1,p=1, salt, hash
	salt, key := parts[4], parts[5]
	phc := func(alg, version, params, salt, key string) string {
		return "$" + strings.Join([]string{alg, version, params, salt, key}, "$")
	}
	const okParams = "m=64,t=1,p=1"
	tests := []struct{ name, encoded string }{
		{"empty", ""},
		{"unusable", "!"},
		{"unusable with suffix", "!unusable"},
		{"django unusable", "!" + strings.Repeat("x", 40)},
		{"md5", "md5$salt$9f86d081884c7d659a2feaa0c55ad015"},
		{"unsalted md5", "unsalted_md5$$9f86d081884c7d659a2feaa0c55ad015"},
		{"sha1", "sha1$salt$a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"},
		{"pbkdf2_sha1", "pbkdf2_sha1$1000$salt$AAAA"},
		{"plain text", pw},
		{"PHC without leading dollar", strings.TrimPrefix(valid, "$")},
		{"PHC with leading space", " " + valid},
		{"argon2i", phc("argon2i", "v=19", okParams, salt, key)},
		{"argon2d", phc("argon2d", "v=19", okParams, salt, key)},
		{"truncated after id", "$argon2id$"},
		{"truncated after version", "$argon2id$v=19"},
		{"truncated after params", "$argon2id$v=19$" + okParams},
		{"truncated after salt", "$argon2id$v=19$" + okParams + "$" + salt},
		{"empty hash", phc("argon2id", "v=19", okParams, salt, "")},
		{"hash cut by one char", valid[:len(valid)-1]},
		{"hash cut in half", valid[:len(valid)-len(key)/2]},
		{"extra segment", valid + "$AAAA"},
		{"version 16", phc("argon2id", "v=16", okParams, salt, key)},
		{"version missing", phc("argon2id", "", okParams, salt, key)},
		{"version not a number", phc("argon2id", "v=abc", okParams, salt, key)},
		{"params missing", phc("argon2id", "v=19", "", salt, key)},
		{"params reordered", phc("argon2id", "v=19", "t=1,m=64,p=1", salt, key)},
		{"params not numbers", phc("argon2id", "v=19", "m=a,t=b,p=c", salt, key)},
		{"m=0", phc("argon2id", "v=19", "m=0,t=1,p=1", salt, key)},
		{"m below 8*p", phc("argon2id", "v=19", "m=15,t=1,p=2", salt, key)},
		{"m above 4 GiB", phc("argon2id", "v=19", "m=4194305,t=1,p=1", salt, key)},
		{"m overflows uint32", phc("argon2id", "v=19", "m=4294967296,t=1,p=1", salt, key)},
		{"m negative", phc("argon2id", "v=19", "m=-64,t=1,p=1", salt, key)},
		{"t=0", phc("argon2id", "v=19", "m=64,t=0,p=1", salt, key)},
		{"p=0", phc("argon2id", "v=19", "m=64,t=1,p=0", salt, key)},
		{"p overflows uint8", phc("argon2id", "v=19", "m=4096,t=1,p=256", salt, key)},
		{"other params than hashed", phc("argon2id", "v=19", "m=64,t=2,p=1", salt, key)},
		{"salt bad base64", phc("argon2id", "v=19", okParams, "!!!!", key)},
		{"salt padded", phc("argon2id", "v=19", okParams, salt+"==", key)},
		{"salt url alphabet", phc("argon2id", "v=19", okParams, strings.NewReplacer("+", "-", "/", "_").Replace(salt)+"-_", key)},
		{"hash bad base64", phc("argon2id", "v=19", okParams, salt, "****")},
		{"hash padded", phc("argon2id", "v=19", okParams, salt, key+"=")},
		{"hash too long", phc("argon2id", "v=19", okParams, salt, strings.Repeat("A", 2000))},
		{"django argon2 truncated", "argon2$argon2id$v=19$" + okParams},
		{"django argon2 of argon2i", "argon2$" + phc("argon2i", "v=19", okParams, salt, key)[1:]},
		{"pbkdf2 no parts", "pbkdf2_sha256$"},
		{"pbkdf2 iterations not a number", "pbkdf2_sha256$abc$salt$" + strings.Repeat("A", 43) + "="},
		{"pbkdf2 zero iterations", "pbkdf2_sha256$0$salt$" + strings.Repeat("A", 43) + "="},
		{"pbkdf2 negative iterations", "pbkdf2_sha256$-1$salt$" + strings.Repeat("A", 43) + "="},
		{"pbkdf2 absurd iterations", "pbkdf2_sha256$99999999999$salt$" + strings.Repeat("A", 43) + "="},
		{"pbkdf2 empty salt", "pbkdf2_sha256$1000$$" + strings.Repeat("A", 43) + "="},
		{"pbkdf2 hash bad base64", "pbkdf2_sha256$1000$salt$****"},
		{"pbkdf2 hash too short", "pbkdf2_sha256$1000$salt$AAAA"},
		{"pbkdf2 extra segment", "pbkdf2_sha256$1000$salt$" + strings.Repeat("A", 43) + "=$x"},
		{"bcrypt empty", "bcrypt$"},
		{"bcrypt garbage", "bcrypt$notahash"},
		{"bcrypt cost too high", "bcrypt$$2b$32$" + strings.Repeat("a", 53)},
		{"bcrypt truncated", "bcrypt$$2b$04$EoigZ5W9mzaBM490Qu9IrO"},
		{"bcrypt_sha256 empty", "bcrypt_sha256$"},
		{"bcrypt_sha256 garbage", "bcrypt_sha256$$2b$12$"},
		{"bare bcrypt without prefix", "$2b$04$EoigZ5W9mzaBM490Qu9IrOGr4uTlrhH6k8P0fWwxCFRCHjxYbVyj."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok, rehash := verify(t, h, pw, tt.encoded); ok || rehash {
				t.Errorf("Verify(%q) = ok %v, rehash %v; want false, false", tt.encoded, ok, rehash)
			}
		})
	}
}

func TestNewRejectsInvalidParams(t *testing.T) {
	tests := []struct {
		name    string
		params  password.Params
		wantErr bool
	}{
		{"zero", password.Params{}, true},
		{"no memory", password.Params{MemoryKiB: 0, Iterations: 1, Parallelism: 1}, true},
		{"no iterations", password.Params{MemoryKiB: 64, Iterations: 0, Parallelism: 1}, true},
		{"no parallelism", password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 0}, true},
		{"memory 7 KiB at p=1", password.Params{MemoryKiB: 7, Iterations: 1, Parallelism: 1}, true},
		{"memory 15 KiB at p=2", password.Params{MemoryKiB: 15, Iterations: 1, Parallelism: 2}, true},
		{"memory 8 KiB at p=1 (minimum)", password.Params{MemoryKiB: 8, Iterations: 1, Parallelism: 1}, false},
		{"memory 16 KiB at p=2 (minimum)", password.Params{MemoryKiB: 16, Iterations: 1, Parallelism: 2}, false},
		// Beyond what a stored hash may ask for: the dummy hash must stay verifiable.
		{"101 iterations", password.Params{MemoryKiB: 64, Iterations: 101, Parallelism: 1}, true},
		{"parallelism 65", password.Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 65}, true},
		{"tiny", tiny, false},
		{"defaults", password.DefaultParams(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := password.New(tt.params)
			if tt.wantErr {
				if !errors.Is(err, password.ErrInvalidParams) || h != nil {
					t.Fatalf("New(%+v) = %v, %v; want nil, ErrInvalidParams", tt.params, h, err)
				}
				return
			}
			if err != nil || h == nil {
				t.Fatalf("New(%+v) = %v, %v; want a Hasher", tt.params, h, err)
			}
			if ok, _ := verify(t, h, "pw", hash(t, h, "pw")); !ok {
				t.Errorf("Hasher from New(%+v) does not verify its own hash", tt.params)
			}
		})
	}
}

func TestDefaultParams(t *testing.T) {
	// OWASP's argon2id recommendation; lowering it silently would weaken every hash.
	want := password.Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}
	if got := password.DefaultParams(); got != want {
		t.Errorf("DefaultParams() = %+v; want %+v", got, want)
	}
}

func BenchmarkHash(b *testing.B) {
	h := newHasher(b, password.DefaultParams())
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := newHasher(b, password.DefaultParams())
	encoded := hash(b, h, "correct horse battery staple")
	for b.Loop() {
		if ok, _ := verify(b, h, "correct horse battery staple", encoded); !ok {
			b.Fatal("Verify failed")
		}
	}
}
