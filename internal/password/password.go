// Package password hashes passwords with argon2id in the PHC string format and
// verifies both those hashes and the formats Django stores, so that users of
// the Django service log in unchanged and are upgraded on their next login.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrInvalidParams is returned by New for argon2id parameters out of range.
var ErrInvalidParams = errors.New("password: invalid argon2id parameters")

// Params are the argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultParams are OWASP's recommended argon2id parameters: 19 MiB, t=2, p=1.
func DefaultParams() Params {
	return Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}
}

const (
	saltLen = 16
	keyLen  = 32
	phcID   = "$argon2id$"
)

// Hasher hashes new passwords and verifies stored hashes.
type Hasher struct {
	params Params
	// dummy is a hash of a random password with the current parameters, checked
	// when no user matches so that an unknown email costs one hash too.
	dummy string
	// slots bounds how many hashes run at once: each takes MemoryKiB of
	// memory, and a burst of logins must queue rather than exhaust it.
	slots chan struct{}
}

// concurrentHashesPerCPU is how many hashes may run at once per CPU.
const concurrentHashesPerCPU = 2

// New returns a Hasher with the given parameters, or ErrInvalidParams.
func New(p Params) (*Hasher, error) {
	if p.MemoryKiB < 8*uint32(p.Parallelism) || p.MemoryKiB > maxArgon2MemoryKiB ||
		p.Iterations < 1 || p.Iterations > maxArgon2Iterations || p.Parallelism < 1 || p.Parallelism > maxArgon2Parallelism {
		return nil, ErrInvalidParams
	}
	h := &Hasher{params: p, slots: make(chan struct{}, concurrentHashesPerCPU*runtime.GOMAXPROCS(0))}
	dummy, err := h.Hash(rand.Text())
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

// Hash returns the PHC string of password, for example
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func (h *Hasher) Hash(password string) (string, error) {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Iterations, h.params.MemoryKiB, h.params.Parallelism, keyLen)
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", phcID, argon2.Version,
		h.params.MemoryKiB, h.params.Iterations, h.params.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// b64 is the PHC strings' (and Django argon2's) base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// Verify reports whether password matches encoded, and whether encoded should
// be replaced by a fresh Hash (it is in a Django format, or its argon2id
// parameters differ from the Hasher's). An unknown or malformed format is a
// mismatch, never an error: it must fail like any other bad login.
func (h *Hasher) Verify(password, encoded string) (ok, rehash bool) {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return h.verify(password, encoded)
}

// verdict is what checking a password against a stored hash found.
type verdict int

const (
	mismatch  verdict = iota
	match             // the password is right
	malformed         // the stored hash cannot be checked at all
)

func matchIf(ok bool) verdict {
	if ok {
		return match
	}
	return mismatch
}

func (h *Hasher) verify(password, encoded string) (ok, rehash bool) {
	var v verdict
	switch {
	case strings.HasPrefix(encoded, phcID):
		var p Params
		if p, v = verifyArgon2(password, strings.TrimPrefix(encoded, "$")); v != malformed {
			// Our own format is upgraded only when the parameters have changed.
			return v == match, v == match && p != h.params
		}
	case strings.HasPrefix(encoded, "argon2$"):
		_, v = verifyArgon2(password, strings.TrimPrefix(encoded, "argon2$"))
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		v = verifyPBKDF2(password, encoded)
	case strings.HasPrefix(encoded, "bcrypt_sha256$"):
		v = verifyBcryptSHA256(password, encoded)
	case strings.HasPrefix(encoded, "bcrypt$"):
		v = verifyBcrypt(password, encoded)
	default:
		v = malformed
	}
	if v == malformed {
		// An unusable, unknown or broken hash costs a hash too, so that timing
		// does not tell such accounts apart from a wrong password. (The dummy
		// is well formed: New only accepts parameters within the bounds.)
		verifyArgon2(password, strings.TrimPrefix(h.dummy, "$"))
	}
	// Django's formats are always upgraded to the service's own.
	return v == match, v == match
}

// VerifyDummy spends the time of one Verify without a user, so that a login
// for an unknown email takes as long as one with a wrong password.
func (h *Hasher) VerifyDummy(password string) {
	h.Verify(password, h.dummy)
}

// verifyArgon2 checks "argon2id$v=19$m=..,t=..,p=..$salt$hash", the PHC
// string without its leading "$" (Django writes it after "argon2$"). It also
// takes argon2i, which Django wrote before 3.2, so those users can still log
// in (and are upgraded). It returns the hash's parameters and the verdict;
// parameters beyond sane bounds make the hash malformed, so that a stored hash
// cannot make a login arbitrarily expensive.
func verifyArgon2(password, encoded string) (Params, verdict) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 || (parts[0] != "argon2id" && parts[0] != "argon2i") || parts[1] != "v=19" {
		return Params{}, malformed
	}
	p, ok := parseArgon2Params(parts[2])
	if !ok {
		return Params{}, malformed
	}
	salt, err := b64.DecodeString(parts[3])
	if err != nil {
		return Params{}, malformed
	}
	want, err := b64.DecodeString(parts[4])
	if err != nil || len(want) < 4 || len(want) > 1024 {
		return Params{}, malformed
	}
	derive := argon2.IDKey
	if parts[0] == "argon2i" {
		derive = argon2.Key
	}
	got := derive([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
	return p, matchIf(subtle.ConstantTimeCompare(got, want) == 1)
}

// parseArgon2Params reads exactly "m=<KiB>,t=<iterations>,p=<parallelism>".
func parseArgon2Params(s string) (Params, bool) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return Params{}, false
	}
	var values [3]uint64
	for i, prefix := range []string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(fields[i], prefix)
		if !ok {
			return Params{}, false
		}
		v, err := strconv.ParseUint(digits, 10, 32)
		if err != nil {
			return Params{}, false
		}
		values[i] = v
	}
	p := Params{MemoryKiB: uint32(values[0]), Iterations: uint32(values[1]), Parallelism: uint8(min(values[2], 255))}
	if p.Iterations < 1 || p.Iterations > maxArgon2Iterations || p.Parallelism < 1 || values[2] > maxArgon2Parallelism ||
		p.MemoryKiB < 8*uint32(p.Parallelism) || p.MemoryKiB > maxArgon2MemoryKiB {
		return Params{}, false
	}
	return p, true
}

// Bounds on the argon2 parameters, configured or stored: the configuration's
// own limits, so that any hash the service could have written verifies (and
// is upgraded after the parameters are lowered).
const (
	maxArgon2MemoryKiB   = 4 * 1024 * 1024
	maxArgon2Iterations  = 100
	maxArgon2Parallelism = 64
)
