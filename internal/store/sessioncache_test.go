package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
)

// A cache that would stay stale for a minute unless told: every write of
// this process that revokes a session or changes a user is seen at once,
// in a transaction or not.
func TestSessionCacheForgetsWhatThisProcessWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, raw store.DB) {
		ctx := t.Context()
		st, _ := store.WithSessionCache(raw, time.Minute)
		u := newUser(t, st, "cache@x.com")
		other := newUser(t, st, "other@x.com")
		for _, id := range []string{"a", "b", "c"} {
			newSession(t, st, u.ID, id, hash(id), base, base.Add(time.Hour))
		}
		newSession(t, st, other.ID, "o", hash("o"), base, base.Add(time.Hour))
		for _, id := range []string{"a", "b", "c", "o"} {
			wantLive(t, st, id) // now cached
		}

		// Behind the cache's back: not seen (the cache works).
		mustNil(t, "RevokeSession behind the cache", raw.RevokeSession(ctx, "c", auth.ReasonLogout, base))
		wantLive(t, st, "c")

		// Through it, outside a transaction: seen at once.
		mustNil(t, "RevokeSession", st.RevokeSession(ctx, "a", auth.ReasonLogout, base))
		wantRevoked(t, st, "a", auth.ReasonLogout, base)

		// In a transaction: seen once it commits.
		mustNil(t, "InTx", st.InTx(ctx, func(tx auth.Tx) error {
			_, err := tx.RevokeUserSession(ctx, u.ID, "b", auth.ReasonEnded, base)
			return err
		}))
		wantRevoked(t, st, "b", auth.ReasonEnded, base)

		// A user's change reaches every cached session of theirs, and only theirs.
		mustNil(t, "DeactivateUser", st.DeactivateUser(ctx, u.ID, base))
		if _, user, err := st.SessionUser(ctx, "c"); err != nil || user.IsActive {
			t.Errorf("after DeactivateUser: user %+v, %v; want inactive", user, err)
		}
		if _, user, _ := st.SessionUser(ctx, "o"); !user.IsActive {
			t.Error("another user reads inactive")
		}

		// Deleting expired sessions forgets everything.
		storetest.DeleteUser(t, raw, other.ID)
		if _, err := st.DeleteExpiredSessions(ctx, base, 10); err != nil {
			t.Fatal(err)
		}
		wantNoSession(t, st, "after a cleanup", "o")
	})
}

// Replicas hear each other: a session revoked through one PostgreSQL
// handle is refused by another's cache within milliseconds, through the
// triggers' NOTIFY.
func TestSessionCacheHearsOtherReplicas(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a, b := storetest.OpenURL(t, url), storetest.OpenURL(t, url)
	cachedB, listen := store.WithSessionCache(b, time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go listen(ctx, func(err error) { t.Logf("listener: %v", err) })

	u := newUser(t, a, "replicas@x.com")
	for _, id := range []string{"s1", "s2"} {
		newSession(t, a, u.ID, id, hash(id), base, base.Add(time.Hour))
	}
	waitFor := func(what string, done func() bool) {
		t.Helper()
		start := time.Now()
		for !done() {
			if time.Since(start) > 100*time.Millisecond {
				t.Fatalf("%s: not seen by the other replica within 100 ms", what)
			}
			time.Sleep(time.Millisecond)
		}
		t.Logf("%s: seen after %s", what, time.Since(start))
	}
	// Give the listener time to connect and LISTEN (it flushes the cache
	// when it does).
	time.Sleep(200 * time.Millisecond)
	wantLive(t, cachedB, "s1")
	wantLive(t, cachedB, "s2")

	mustNil(t, "RevokeSession on replica A", a.RevokeSession(t.Context(), "s1", auth.ReasonLogout, base))
	waitFor("a logout", func() bool { s, _, _ := cachedB.SessionUser(t.Context(), "s1"); return s.RevokedAt != nil })

	storetest.SetUserActive(t, a, u.ID, false)
	waitFor("a deactivation", func() bool { _, user, _ := cachedB.SessionUser(t.Context(), "s2"); return !user.IsActive })
}
