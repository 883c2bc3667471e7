package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

// base is microsecond-aligned, so that boundaries computed from it
// (RetiredAt+grace) are exactly what the stores keep.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

const refreshTTL = time.Hour

// clock is a settable time source shared by services and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// rig is a service over a store, on a clock the test sets.
type rig struct {
	svc   *auth.Service
	st    store.DB
	keys  *token.Keys
	clock *clock
	user  auth.User
}

// testSecret signs the tests' tokens.
const testSecret = "a-test-secret-of-sixteen-distinct-bytes-or-more"

func testKeys(t *testing.T) *token.Keys {
	t.Helper()
	keys, err := token.NewHS256([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func cheapHasher(t *testing.T) *password.Hasher {
	t.Helper()
	h, err := password.New(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// newRig returns a service over st with the given grace interval and one user.
func newRig(t *testing.T, st store.DB, keys *token.Keys, clk *clock, grace time.Duration) *rig {
	t.Helper()
	params := auth.Params{AccessTTL: time.Minute, RefreshTTL: refreshTTL, ReuseInterval: grace}
	svc := auth.New(st, keys, cheapHasher(t), clk.Now, params, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &rig{svc: svc, st: st, keys: keys, clock: clk}
}

func (r *rig) createUser(t *testing.T, email string) auth.User {
	t.Helper()
	u, err := r.svc.CreateUser(t.Context(), email, "pw-12345", false, false)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// login starts a session at the rig's time and returns its pair and id.
func (r *rig) login(t *testing.T, email string) (auth.Pair, string) {
	t.Helper()
	p, err := r.svc.Login(t.Context(), email, "pw-12345")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	claims, err := r.keys.Parse(p.Refresh, r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p, claims.SessionID
}

func (r *rig) stored(t *testing.T, raw string) auth.StoredRefreshToken {
	t.Helper()
	tok, err := r.st.StoredRefreshToken(t.Context(), auth.HashToken(raw))
	if err != nil {
		t.Fatalf("StoredRefreshToken: %v", err)
	}
	return tok
}

func (r *rig) session(t *testing.T, id string) auth.Session {
	t.Helper()
	s, _, err := r.st.SessionUser(t.Context(), id)
	if err != nil {
		t.Fatalf("SessionUser %s: %v", id, err)
	}
	return s
}

func wantLive(t *testing.T, r *rig, id string) {
	t.Helper()
	if s := r.session(t, id); s.RevokedAt != nil {
		t.Errorf("session %s revoked (%q), want live", id, s.RevokedReason)
	}
}

func wantRevoked(t *testing.T, r *rig, id, reason string, at time.Time) {
	t.Helper()
	s := r.session(t, id)
	if s.RevokedAt == nil || !s.RevokedAt.Equal(at) || s.RevokedReason != reason {
		t.Errorf("session %s revoked at %v (%q), want %v (%q)", id, s.RevokedAt, s.RevokedReason, at, reason)
	}
}

func TestRotate(t *testing.T) {
	const grace = 10 * time.Second
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		r := newRig(t, st, testKeys(t), &clock{now: base}, grace)
		r.createUser(t, "r@x.com")
		p0, sid := r.login(t, "r@x.com")

		// Normal rotation: retire p0 with its sealed successor, store p1,
		// extend the session.
		now := base.Add(10 * time.Minute)
		r.clock.Set(now)
		p1, err := r.svc.Rotate(ctx, p0.Refresh)
		if err != nil {
			t.Fatalf("rotate p0: %v", err)
		}
		if p1 == p0 {
			t.Fatal("rotation returned the same pair")
		}
		retiredAt := now
		t0 := r.stored(t, p0.Refresh)
		if t0.RetiredAt == nil || !t0.RetiredAt.Equal(retiredAt) || len(t0.Successor) == 0 {
			t.Errorf("p0 after rotation = %+v, want retired at %v with a sealed successor", t0, retiredAt)
		}
		if t1 := r.stored(t, p1.Refresh); t1.SessionID != sid || t1.RetiredAt != nil {
			t.Errorf("p1 = %+v, want live in %s", t1, sid)
		}
		if got := r.session(t, sid).ExpiresAt; !got.Equal(now.Add(refreshTTL).Truncate(time.Second)) { // the token's exp, in whole seconds
			t.Errorf("session ExpiresAt after rotation = %v, want %v", got, now.Add(refreshTTL))
		}

		// Within the grace interval (up to its last microsecond) p0 yields p1
		// again and nothing is written: no second token, no fork.
		for _, at := range []time.Time{retiredAt.Add(5 * time.Second), retiredAt.Add(grace)} {
			r.clock.Set(at)
			again, err := r.svc.Rotate(ctx, p0.Refresh)
			if err != nil || again != p1 {
				t.Errorf("rotate p0 %s after: %v, same pair %t; want p1 again", at.Sub(retiredAt), err, again == p1)
			}
			if got := r.stored(t, p0.Refresh).RetiredAt; !got.Equal(retiredAt) {
				t.Errorf("a replay moved p0's RetiredAt to %v", got)
			}
			if r.stored(t, p1.Refresh).RetiredAt != nil {
				t.Error("a replay retired p1")
			}
			wantLive(t, r, sid)
		}

		// One microsecond after the grace interval it is reuse: the session is
		// revoked.
		late := retiredAt.Add(grace + time.Microsecond)
		r.clock.Set(late)
		_, err = r.svc.Rotate(ctx, p0.Refresh)
		if !errors.Is(err, auth.ErrTokenReused) {
			t.Fatalf("rotate p0 after grace: %v, want ErrTokenReused", err)
		}
		wantRevoked(t, r, sid, auth.ReasonReuse, late)

		// From now on every token of the session is refused as reused, even
		// the live p1, which stays unretired.
		r.clock.Set(late.Add(time.Second))
		for name, p := range map[string]auth.Pair{"p1": p1, "p0": p0} {
			if _, err := r.svc.Rotate(ctx, p.Refresh); !errors.Is(err, auth.ErrTokenReused) {
				t.Errorf("rotate %s in a session revoked for reuse: %v, want ErrTokenReused", name, err)
			}
		}
		if r.stored(t, p1.Refresh).RetiredAt != nil {
			t.Error("a refused rotation retired p1")
		}
		wantRevoked(t, r, sid, auth.ReasonReuse, late)
	})
}

func TestRotateStrict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		r := newRig(t, st, testKeys(t), &clock{now: base}, 0)
		r.createUser(t, "strict@x.com")
		p0, sid := r.login(t, "strict@x.com")
		if _, err := r.svc.Rotate(ctx, p0.Refresh); err != nil {
			t.Fatal(err)
		}
		// Grace 0: the same instant is already too late.
		if _, err := r.svc.Rotate(ctx, p0.Refresh); !errors.Is(err, auth.ErrTokenReused) {
			t.Fatalf("immediate reuse with grace 0: %v, want ErrTokenReused", err)
		}
		wantRevoked(t, r, sid, auth.ReasonReuse, base)
	})
}

func TestRotateRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		r := newRig(t, st, testKeys(t), &clock{now: base}, time.Minute)
		u := r.createUser(t, "refused@x.com")
		r.createUser(t, "other@x.com")
		pa, a := r.login(t, "refused@x.com")
		pb, b := r.login(t, "refused@x.com")
		pc, c := r.login(t, "other@x.com")
		r.clock.Set(base.Add(time.Minute))

		mint := func(userID int64, sid string) string {
			t.Helper()
			tok, err := r.keys.Mint(token.Refresh, userID, sid, base, refreshTTL, token.Authz{})
			if err != nil {
				t.Fatal(err)
			}
			return tok.Token
		}
		// A genuine token of session b whose stored row says session a: the
		// claims and the row disagree.
		crossed := mint(u.ID, b)
		if err := st.InsertRefreshToken(ctx, auth.StoredRefreshToken{Hash: auth.HashToken(crossed), SessionID: a, IssuedAt: base, ExpiresAt: base.Add(refreshTTL)}); err != nil {
			t.Fatal(err)
		}
		cases := map[string]string{
			"unknown token":                   mint(u.ID, a),
			"unknown session":                 mint(u.ID, "nope"),
			"token of another session":        crossed,
			"token of another user's session": mint(u.ID, c),
		}
		for name, raw := range cases {
			if _, err := r.svc.Rotate(ctx, raw); !errors.Is(err, auth.ErrTokenInvalid) {
				t.Errorf("%s: %v, want ErrTokenInvalid", name, err)
			}
		}
		for _, p := range []auth.Pair{pa, pb, pc} {
			if r.stored(t, p.Refresh).RetiredAt != nil {
				t.Error("a refused rotation retired a live token")
			}
		}
		for _, id := range []string{a, b, c} {
			wantLive(t, r, id)
			if got := r.session(t, id).ExpiresAt; !got.Equal(base.Add(refreshTTL)) {
				t.Errorf("a refused rotation extended session %s to %v", id, got)
			}
		}

		// After a logout every rotation of the session is refused as
		// revoked, not as reuse, and the logout reason stays.
		pb1, err := r.svc.Rotate(ctx, pb.Refresh)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.svc.Logout(ctx, pb1.Refresh); err != nil {
			t.Fatal(err)
		}
		loggedOut := r.clock.Now()
		r.clock.Set(loggedOut.Add(time.Hour / 2))
		for name, p := range map[string]auth.Pair{"pb1": pb1, "pb": pb} {
			_, err := r.svc.Rotate(ctx, p.Refresh)
			if !errors.Is(err, auth.ErrTokenInvalid) || errors.Is(err, auth.ErrTokenReused) {
				t.Errorf("rotate %s after logout: %v, want ErrTokenInvalid", name, err)
			}
		}
		if r.stored(t, pb1.Refresh).RetiredAt != nil {
			t.Error("a rotation after logout retired pb1")
		}
		wantRevoked(t, r, b, auth.ReasonLogout, loggedOut)
	})
}

// twoHandles opens two stores on one fresh database of the given kind: two
// replicas of the service (PostgreSQL) or two processes sharing the file
// (SQLite).
func twoHandles(t *testing.T, kind string) []store.DB {
	t.Helper()
	url := storetest.URL(t, kind)
	return []store.DB{storetest.OpenURL(t, url), storetest.OpenURL(t, url)}
}

const racers = 50

// rotateAtOnce logs in and has racers goroutines, spread over services on
// the stores, rotate the one refresh token at once.
func rotateAtOnce(t *testing.T, stores []store.DB, grace time.Duration) (*rig, string, []auth.Pair, []error) {
	t.Helper()
	keys, clk := testKeys(t), &clock{now: base}
	rigs := make([]*rig, len(stores))
	for i, st := range stores {
		rigs[i] = newRig(t, st, keys, clk, grace)
	}
	rigs[0].createUser(t, "race@x.com")
	p0, sid := rigs[0].login(t, "race@x.com")
	clk.Set(base.Add(time.Minute))

	pairs, errs := make([]auth.Pair, racers), make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		svc := rigs[i%len(rigs)].svc
		wg.Go(func() {
			<-start
			pairs[i], errs[i] = svc.Rotate(context.Background(), p0.Refresh)
		})
	}
	close(start)
	wg.Wait()
	return rigs[1], sid, pairs, errs
}

// checkGraceRace: with a grace interval every concurrent rotation succeeds,
// and all get one and the same pair: one live token, one session.
func checkGraceRace(t *testing.T, stores []store.DB) {
	r, sid, pairs, errs := rotateAtOnce(t, stores, 10*time.Second)
	for i, err := range errs {
		if err != nil {
			t.Errorf("rotation %d: %v", i, err)
		}
	}
	for i, p := range pairs {
		if p != pairs[0] {
			t.Fatalf("rotations 0 and %d got different pairs: the session forked", i)
		}
	}
	if tok := r.stored(t, pairs[0].Refresh); tok.SessionID != sid || tok.RetiredAt != nil {
		t.Errorf("the one new token = %+v, want live in %s", tok, sid)
	}
	wantLive(t, r, sid)
}

// checkStrictRace: with grace 0 exactly one concurrent rotation succeeds; the
// next one revokes the session and all the others find it revoked.
func checkStrictRace(t *testing.T, stores []store.DB) {
	r, sid, pairs, errs := rotateAtOnce(t, stores, 0)
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("rotations %d and %d both succeeded", winner, i)
			}
			winner = i
		case !errors.Is(err, auth.ErrTokenReused):
			t.Errorf("rotation %d: %v, want nil or ErrTokenReused", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no rotation succeeded")
	}
	if tok := r.stored(t, pairs[winner].Refresh); tok.SessionID != sid {
		t.Errorf("the winner's token = %+v", tok)
	}
	wantRevoked(t, r, sid, auth.ReasonReuse, base.Add(time.Minute))
}

func TestRotateConcurrentPostgres(t *testing.T) {
	t.Run("grace", func(t *testing.T) { checkGraceRace(t, twoHandles(t, "postgres")) })
	t.Run("strict", func(t *testing.T) { checkStrictRace(t, twoHandles(t, "postgres")) })
}

func TestRotateConcurrentSQLite(t *testing.T) {
	t.Run("grace", func(t *testing.T) { checkGraceRace(t, twoHandles(t, "sqlite")) })
	t.Run("strict", func(t *testing.T) { checkStrictRace(t, twoHandles(t, "sqlite")) })
}

// Cleanup drains expired tokens and sessions in batches and keeps live ones.
func TestCleanup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		r := newRig(t, st, testKeys(t), &clock{now: base}, 0)
		r.createUser(t, "c@x.com")
		var old []string
		for range 5 {
			_, sid := r.login(t, "c@x.com")
			old = append(old, sid)
		}
		r.clock.Set(base.Add(2 * refreshTTL))
		live, sid := r.login(t, "c@x.com")
		n, err := r.svc.Cleanup(ctx, 2)
		if err != nil || n != 10 {
			t.Errorf("Cleanup = %d, %v; want 10 rows (5 sessions, 5 tokens)", n, err)
		}
		for _, id := range old {
			if _, _, err := st.SessionUser(ctx, id); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("expired session %s: %v, want gone", id, err)
			}
		}
		wantLive(t, r, sid)
		r.stored(t, live.Refresh)
	})
}
