package password_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/hashlimit"
)

// A check holds the memory it allocates: argon2's m (all lanes share it), a
// small constant for PBKDF2 and bcrypt, and the dummy's for a malformed hash,
// since the dummy is what is computed then.
func TestCost(t *testing.T) {
	h := newHasher(t, tiny)
	cases := map[string]int64{
		hash(t, h, "pw"):    64,
		djangoArgon2:        102400,
		djangoArgon2i:       512,
		djangoPBKDF2:        64,
		djangoBcrypt:        64,
		djangoBcryptSHA256:  64,
		"garbage":           int64(tiny.MemoryKiB),
		"$argon2id$v=19$m=": int64(tiny.MemoryKiB),
	}
	for encoded, want := range cases {
		if got := h.Cost(encoded); got != want {
			t.Errorf("Cost(%.40q) = %d KiB, want %d", encoded, got, want)
		}
	}
}

// A stored hash that alone needs more than the whole budget is never
// computed: it fails like a wrong password, the error carries its cost (for
// the log), and the dummy is computed in its place, through the limiter, so
// that it takes the time a wrong password takes.
func TestTooCostlyStoredHashFailsLikeAWrongPassword(t *testing.T) {
	lim := hashlimit.New(int64(tiny.MemoryKiB), 4, 50*time.Millisecond, 10)
	h := newHasher(t, tiny).Limited(lim)
	ok, rehash, err := h.Verify(context.Background(), djangoPassword, djangoArgon2)
	var tc *hashlimit.TooCostlyError
	if ok || rehash || !errors.As(err, &tc) || tc.KiB != 102400 {
		t.Fatalf("Verify = %v, %v, %v; want a mismatch with a TooCostlyError of 102400 KiB", ok, rehash, err)
	}

	// The dummy goes through the limiter: with the budget taken, it cannot run.
	hold, err := lim.Acquire(context.Background(), int64(tiny.MemoryKiB))
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	if _, _, err := h.Verify(context.Background(), djangoPassword, djangoArgon2); !errors.Is(err, hashlimit.ErrOverloaded) {
		t.Errorf("with the budget taken: err = %v, want ErrOverloaded (the dummy waits for its share)", err)
	}
}

// Every hash goes through the limiter: Hash, Verify and the dummy of an
// unknown email alike; a caller that has gone costs none.
func TestEveryHashGoesThroughTheLimiter(t *testing.T) {
	lim := hashlimit.New(int64(tiny.MemoryKiB), 4, 20*time.Millisecond, 10)
	h := newHasher(t, tiny).Limited(lim)
	encoded, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if h.Cost(encoded) != h.Cost("") {
		t.Errorf("the dummy (%d KiB) does not cost what a real hash (%d KiB) costs", h.Cost(""), h.Cost(encoded))
	}
	hold, err := lim.Acquire(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Hash(context.Background(), "pw"); !errors.Is(err, hashlimit.ErrOverloaded) {
		t.Errorf("Hash with the budget taken: %v, want ErrOverloaded", err)
	}
	if _, _, err := h.Verify(context.Background(), "pw", encoded); !errors.Is(err, hashlimit.ErrOverloaded) {
		t.Errorf("Verify with the budget taken: %v, want ErrOverloaded", err)
	}
	if err := h.VerifyDummy(context.Background(), "pw"); !errors.Is(err, hashlimit.ErrOverloaded) {
		t.Errorf("VerifyDummy with the budget taken: %v, want ErrOverloaded", err)
	}
	hold()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := h.Verify(ctx, "pw", encoded); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify for a caller that has gone: %v, want context.Canceled", err)
	}
	if ok, _, err := h.Verify(context.Background(), "pw", encoded); !ok || err != nil {
		t.Errorf("Verify once the budget is free: %v, %v", ok, err)
	}
}
