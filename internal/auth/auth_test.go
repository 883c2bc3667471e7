package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
)

// countingHasher is the real hasher, counting the hashes it computes.
type countingHasher struct {
	*password.Hasher
	verifies int
	hashes   int
}

func (c *countingHasher) Hash(ctx context.Context, pw string) (string, error) {
	c.hashes++
	return c.Hasher.Hash(ctx, pw)
}

func (c *countingHasher) Verify(ctx context.Context, pw, encoded string) (bool, bool, error) {
	c.verifies++
	return c.Hasher.Verify(ctx, pw, encoded)
}

func (c *countingHasher) VerifyDummy(ctx context.Context, pw string) error {
	c.verifies++
	return c.Hasher.VerifyDummy(ctx, pw)
}

func newService(t *testing.T, st store.DB) (*auth.Service, *countingHasher) {
	t.Helper()
	hasher := &countingHasher{Hasher: cheapHasher(t)}
	params := auth.Params{AccessTTL: time.Minute, RefreshTTL: time.Hour, ReuseInterval: 10 * time.Second}
	return auth.New(st, testKeys(t), hasher, time.Now, params, slog.New(slog.NewTextHandler(io.Discard, nil))), hasher
}

// Every failed login costs exactly one password hash, whether or not the
// email exists, so that response time does not reveal which accounts exist.
func TestEveryFailedLoginCostsOneHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := context.Background()
		svc, hasher := newService(t, st)
		if _, err := svc.CreateUser(ctx, "known@example.com", "right-password", false, false); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ email, pw string }{
			{"known@example.com", "wrong-password"},
			{"unknown@example.com", "right-password"},
		} {
			hasher.verifies = 0
			_, err := svc.Login(ctx, c.email, c.pw)
			if !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("%s: err = %v, want ErrBadCredentials", c.email, err)
			}
			if hasher.verifies != 1 {
				t.Errorf("%s: %d password hashes computed, want exactly 1", c.email, hasher.verifies)
			}
		}
	})
}

func TestCreateUserValidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := context.Background()
		svc, _ := newService(t, st)
		for _, c := range []struct{ email, pw string }{{"no-at-sign", "pw-12345"}, {"a b@example.com", "pw-12345"}, {"a@example.com", ""}} {
			if _, err := svc.CreateUser(ctx, c.email, c.pw, false, false); !errors.Is(err, auth.ErrInvalidUser) {
				t.Errorf("CreateUser(%q, %q) err = %v, want ErrInvalidUser", c.email, c.pw, err)
			}
		}
		u, err := svc.CreateUser(ctx, "  padded@example.com ", "pw-12345", true, true)
		if err != nil || u.Email != "padded@example.com" || !u.IsStaff || !u.IsSuperuser {
			t.Fatalf("CreateUser = %+v, %v", u, err)
		}
	})
}
