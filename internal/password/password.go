// Package password hashes passwords with argon2id in the PHC string format and
// verifies both those hashes and the formats Django stores, so that users of
// the Django service log in unchanged and are upgraded on their next login.
//
// Every hash it computes may go through a hashlimit.Limiter (Limited): it then
// holds the memory it allocates out of a budget while it runs, waits for it
// within bounds, and is never started for a caller that has gone.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/ecommerce/auth-service/internal/hashlimit"
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
	// dummyTime is how long computing dummy took: the limiter's first estimate.
	dummyTime time.Duration
	// limit, when set, is what every hash holds its memory from.
	limit *hashlimit.Limiter
}

// New returns a Hasher with the given parameters, or ErrInvalidParams. Its
// hashes are not limited: see Limited.
func New(p Params) (*Hasher, error) {
	if p.MemoryKiB < 8*uint32(p.Parallelism) || p.MemoryKiB > maxArgon2MemoryKiB ||
		p.Iterations < 1 || p.Iterations > maxArgon2Iterations || p.Parallelism < 1 || p.Parallelism > maxArgon2Parallelism {
		return nil, ErrInvalidParams
	}
	h := &Hasher{params: p}
	start := time.Now()
	dummy, err := h.Hash(context.Background(), rand.Text())
	if err != nil {
		return nil, err
	}
	h.dummy, h.dummyTime = dummy, time.Since(start)
	return h, nil
}

// Limited returns a Hasher like h whose every hash holds its memory from l
// while it runs (see Cost), and tells l how long a hash takes here.
func (h *Hasher) Limited(l *hashlimit.Limiter) *Hasher {
	c := *h
	c.limit = l
	l.Observe(h.dummyTime)
	return &c
}

// Hash returns the PHC string of password, for example
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
// Under a limiter it fails as Verify does when it cannot run.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx, int64(h.params.MemoryKiB))
	if err != nil {
		return "", err
	}
	defer release()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Iterations, h.params.MemoryKiB, h.params.Parallelism, keyLen)
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", phcID, argon2.Version,
		h.params.MemoryKiB, h.params.Iterations, h.params.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Reserve takes a place in the limiter's queue for the caller's next Verify
// or VerifyDummy, to be made with the returned context once the caller knows
// which hash to check (see hashlimit.Limiter.Reserve): under a burst it
// fails at once with hashlimit.ErrOverloaded, before the caller does that
// work. done gives the place up; call it when finished, in any case.
func (h *Hasher) Reserve(ctx context.Context) (context.Context, func(), error) {
	if h.limit == nil {
		return ctx, func() {}, ctx.Err()
	}
	return h.limit.Reserve(ctx)
}

// acquire takes kib of the limiter's budget, if there is a limiter.
func (h *Hasher) acquire(ctx context.Context, kib int64) (release func(), err error) {
	if h.limit == nil {
		return func() {}, ctx.Err()
	}
	return h.limit.Acquire(ctx, kib)
}

// b64 is the PHC strings' (and Django argon2's) base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// Verify reports whether password matches encoded, and whether encoded should
// be replaced by a fresh Hash (it is in a Django format, or its argon2id
// parameters differ from the Hasher's). An unknown or malformed format is a
// mismatch, never an error: it must fail like any other bad login, and costs
// a hash like one.
//
// Under a limiter, Verify fails without hashing with hashlimit.ErrOverloaded
// when the hash cannot start in time, or with ctx's error when the caller
// has gone. A stored hash that alone needs more memory than the whole budget
// is not computed: the dummy is checked in its place, so that it fails like
// a wrong password in the same time, and the error is a
// *hashlimit.TooCostlyError carrying its cost, for the log.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	s := h.parse(encoded)
	release, err := h.acquire(ctx, s.kib)
	var tooCostly *hashlimit.TooCostlyError
	if errors.As(err, &tooCostly) {
		if err := h.VerifyDummy(ctx, password); err != nil {
			return false, false, err
		}
		return false, false, fmt.Errorf("password: stored %s hash: %w", s.format, err)
	}
	if err != nil {
		return false, false, err
	}
	defer release()
	v := s.check(password)
	if v == malformed {
		// An unusable, unknown or broken hash costs a hash too, so that timing
		// does not tell such accounts apart from a wrong password. (The dummy
		// is well formed: New only accepts parameters within the bounds.)
		h.parse(h.dummy).check(password)
	}
	// Our own format is upgraded only when its parameters have changed;
	// Django's formats always are.
	return v == match, v == match && (s.format != ownFormat || s.params != h.params), nil
}

// VerifyDummy spends the time and memory of one Verify without a user, so
// that a login for an unknown email costs what one with a wrong password
// costs. It fails as Verify does when it cannot run.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy)
	return err
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

// ownFormat is the format of the hashes the service writes: argon2id in a
// PHC string.
const ownFormat = "argon2id"

// stored is a stored hash as parsed: how to check a password against it and
// the memory that check allocates, before any of that work is done.
type stored struct {
	// format names the hash's format, for logs ("argon2id", "django argon2",
	// "pbkdf2_sha256", ...; "unknown" when malformed).
	format string
	// kib is the memory a check allocates (see Cost).
	kib int64
	// params are an argon2 hash's parameters.
	params Params
	check  func(password string) verdict
}

// smallHashKiB is what a PBKDF2 or bcrypt check holds of the memory budget:
// both work in a few KiB. (Their CPU is bounded by the limiter's slots.)
const smallHashKiB = 64

// Cost is the memory, in KiB, that verifying a password against encoded
// allocates: m for argon2 (the whole m, however many lanes), a small
// constant for PBKDF2 and bcrypt, and the dummy's for a malformed hash,
// which the dummy stands in for.
func (h *Hasher) Cost(encoded string) int64 { return h.parse(encoded).kib }

// parse reads encoded without checking anything against it.
func (h *Hasher) parse(encoded string) stored {
	var s stored
	switch {
	case strings.HasPrefix(encoded, phcID):
		s = parseArgon2(strings.TrimPrefix(encoded, "$"))
		s.format = ownFormat
	case strings.HasPrefix(encoded, "argon2$"):
		s = parseArgon2(strings.TrimPrefix(encoded, "argon2$"))
		s.format = "django argon2"
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		s = parsePBKDF2(encoded)
	case strings.HasPrefix(encoded, "bcrypt_sha256$"):
		s = parseBcrypt("bcrypt_sha256", strings.TrimPrefix(encoded, "bcrypt_sha256$"), bcryptSHA256Secret)
	case strings.HasPrefix(encoded, "bcrypt$"):
		s = parseBcrypt("bcrypt", strings.TrimPrefix(encoded, "bcrypt$"), bcryptSecret)
	}
	if s.check == nil {
		return stored{format: "unknown", kib: int64(h.params.MemoryKiB),
			check: func(string) verdict { return malformed }}
	}
	return s
}

// parseArgon2 reads "argon2id$v=19$m=..,t=..,p=..$salt$hash", the PHC string
// without its leading "$" (Django writes it after "argon2$"). It also takes
// argon2i, which Django wrote before 3.2, so those users can still log in
// (and are upgraded). Parameters beyond sane bounds make the hash malformed
// (no check), so that a stored hash cannot make a login arbitrarily
// expensive.
func parseArgon2(encoded string) stored {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 || (parts[0] != "argon2id" && parts[0] != "argon2i") || parts[1] != "v=19" {
		return stored{}
	}
	p, ok := parseArgon2Params(parts[2])
	if !ok {
		return stored{}
	}
	salt, err := b64.DecodeString(parts[3])
	if err != nil {
		return stored{}
	}
	want, err := b64.DecodeString(parts[4])
	if err != nil || len(want) < 4 || len(want) > 1024 {
		return stored{}
	}
	derive := argon2.IDKey
	if parts[0] == "argon2i" {
		derive = argon2.Key
	}
	return stored{kib: int64(p.MemoryKiB), params: p, check: func(password string) verdict {
		got := derive([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(want)))
		return matchIf(subtle.ConstantTimeCompare(got, want) == 1)
	}}
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
