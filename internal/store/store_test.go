package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
)

// base is a microsecond-aligned instant, so that boundaries computed from it
// (RetiredAt+Grace) are exactly what the stores keep.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// offset is a non-UTC zone: values written in it must come back in UTC.
var offset = time.FixedZone("UTC+5", 5*3600)

// hash returns a stand-in for the SHA-256 hash of a refresh token.
func hash(label string) []byte {
	sum := sha256.Sum256([]byte(label))
	return sum[:]
}

// wantTime checks that got is want at microsecond precision, in UTC.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s: location %v, want UTC", what, got.Location())
	}
	if w := want.Truncate(time.Microsecond); !got.Equal(w) {
		t.Errorf("%s = %v, want %v", what, got, w)
	}
}

// wantOptTime checks that got is set and is want at microsecond precision, in UTC.
func wantOptTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", what, want)
		return
	}
	wantTime(t, what, *got, want)
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func newUser(t *testing.T, st store.Store, email string) store.User {
	t.Helper()
	u, err := st.CreateUser(t.Context(), store.NewUser{Email: email, PasswordHash: "hash", IsActive: true, DateJoined: base})
	mustNil(t, "CreateUser "+email, err)
	return u
}

// newSession stores session id of userID with its first refresh token tok;
// both expire at expires.
func newSession(t *testing.T, st store.Store, userID int64, id string, tok []byte, created, expires time.Time) {
	t.Helper()
	err := st.CreateSession(t.Context(),
		store.Session{ID: id, UserID: userID, CreatedAt: created, ExpiresAt: expires},
		store.RefreshToken{Hash: tok, SessionID: id, IssuedAt: created, ExpiresAt: expires})
	mustNil(t, "CreateSession "+id, err)
}

func session(t *testing.T, st store.Store, id string) store.Session {
	t.Helper()
	s, err := st.Session(t.Context(), id)
	mustNil(t, "Session "+id, err)
	return s
}

func refreshToken(t *testing.T, st store.Store, h []byte) store.RefreshToken {
	t.Helper()
	tok, err := st.RefreshToken(t.Context(), h)
	mustNil(t, "RefreshToken", err)
	return tok
}

func wantNoToken(t *testing.T, st store.Store, what string, h []byte) {
	t.Helper()
	_, err := st.RefreshToken(t.Context(), h)
	wantErr(t, what+": RefreshToken", err, store.ErrNotFound)
}

func wantLive(t *testing.T, st store.Store, id string) {
	t.Helper()
	if s := session(t, st, id); s.RevokedAt != nil || s.RevokedReason != "" {
		t.Errorf("session %s revoked at %v (%q), want live", id, s.RevokedAt, s.RevokedReason)
	}
}

func wantRevoked(t *testing.T, st store.Store, id, reason string, at time.Time) {
	t.Helper()
	s := session(t, st, id)
	wantOptTime(t, "session "+id+" RevokedAt", s.RevokedAt, at)
	if s.RevokedReason != reason {
		t.Errorf("session %s RevokedReason = %q, want %q", id, s.RevokedReason, reason)
	}
}

func TestUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		joined := time.Date(2025, 7, 1, 9, 30, 0, 123456789, offset)
		u, err := st.CreateUser(ctx, store.NewUser{
			Email: "A@x.com", PasswordHash: "h1", IsActive: true, IsStaff: true, DateJoined: joined,
		})
		mustNil(t, "CreateUser", err)
		if u.ID <= 0 {
			t.Errorf("CreateUser ID = %d, want > 0", u.ID)
		}
		if u.Email != "A@x.com" || u.PasswordHash != "h1" || !u.IsActive || !u.IsStaff || u.IsSuperuser || u.LastLogin != nil {
			t.Errorf("CreateUser = %+v", u)
		}
		wantTime(t, "CreateUser DateJoined", u.DateJoined, joined)

		_, err = st.CreateUser(ctx, store.NewUser{Email: "a@X.COM", PasswordHash: "h", DateJoined: base})
		wantErr(t, "CreateUser with the same email in another case", err, store.ErrConflict)

		byEmail, err := st.UserByEmail(ctx, "a@X.cOm")
		mustNil(t, "UserByEmail", err)
		if byEmail.ID != u.ID || byEmail.Email != "A@x.com" {
			t.Errorf("UserByEmail = %+v, want id %d email A@x.com", byEmail, u.ID)
		}
		byID, err := st.UserByID(ctx, u.ID)
		mustNil(t, "UserByID", err)
		if byID.Email != u.Email || byID.PasswordHash != "h1" || !byID.IsActive || !byID.IsStaff || byID.IsSuperuser || byID.LastLogin != nil {
			t.Errorf("UserByID = %+v, want %+v", byID, u)
		}
		wantTime(t, "UserByID DateJoined", byID.DateJoined, joined)

		_, err = st.UserByID(ctx, u.ID+1000)
		wantErr(t, "UserByID of a missing user", err, store.ErrNotFound)
		_, err = st.UserByEmail(ctx, "nobody@x.com")
		wantErr(t, "UserByEmail of a missing user", err, store.ErrNotFound)

		other := newUser(t, st, "other@x.com")
		if other.ID == u.ID {
			t.Fatalf("two users got id %d", u.ID)
		}

		// Starting a session records the login, keeping microseconds, in UTC.
		at := time.Date(2026, 1, 2, 3, 4, 5, 987654321, offset)
		newSession(t, st, u.ID, "login", hash("login"), at, at.Add(time.Hour))
		got, err := st.UserByID(ctx, u.ID)
		mustNil(t, "UserByID", err)
		wantOptTime(t, "LastLogin", got.LastLogin, at)
		if o, _ := st.UserByID(ctx, other.ID); o.LastLogin != nil {
			t.Errorf("CreateSession also set another user's LastLogin: %v", o.LastLogin)
		}

		// ReplacePasswordHash is a compare-and-set.
		mustNil(t, "ReplacePasswordHash", st.ReplacePasswordHash(ctx, u.ID, "h1", "h2"))
		if got, _ := st.UserByID(ctx, u.ID); got.PasswordHash != "h2" {
			t.Errorf("after ReplacePasswordHash(h1, h2): hash %q, want h2", got.PasswordHash)
		}
		mustNil(t, "ReplacePasswordHash stale", st.ReplacePasswordHash(ctx, u.ID, "h1", "h3"))
		if got, _ := st.UserByID(ctx, u.ID); got.PasswordHash != "h2" {
			t.Errorf("ReplacePasswordHash with a stale old hash replaced it: hash %q, want h2", got.PasswordHash)
		}
		if o, _ := st.UserByID(ctx, other.ID); o.PasswordHash != "hash" {
			t.Errorf("ReplacePasswordHash changed another user's hash to %q", o.PasswordHash)
		}

		mustNil(t, "SetUserActive false", st.SetUserActive(ctx, u.ID, false))
		if got, _ := st.UserByID(ctx, u.ID); got.IsActive {
			t.Error("SetUserActive(false): user still active")
		}
		if o, _ := st.UserByID(ctx, other.ID); !o.IsActive {
			t.Error("SetUserActive(false) deactivated another user")
		}
		mustNil(t, "SetUserActive true", st.SetUserActive(ctx, u.ID, true))
		if got, _ := st.UserByID(ctx, u.ID); !got.IsActive {
			t.Error("SetUserActive(true): user still inactive")
		}
	})
}

func TestDeleteUserCascades(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		u := newUser(t, st, "gone@x.com")
		keep := newUser(t, st, "kept@x.com")
		newSession(t, st, u.ID, "s1", hash("s1-a"), base, base.Add(time.Hour))
		newSession(t, st, u.ID, "s2", hash("s2-a"), base, base.Add(time.Hour))
		mustNil(t, "Rotate", rotate(ctx, st, store.Rotation{
			SessionID: "s1", OldHash: hash("s1-a"), Now: base,
			Next: store.RefreshToken{Hash: hash("s1-b"), SessionID: "s1", IssuedAt: base, ExpiresAt: base.Add(2 * time.Hour)},
		}))
		newSession(t, st, keep.ID, "k1", hash("k1-a"), base, base.Add(time.Hour))

		mustNil(t, "DeleteUser", st.DeleteUser(ctx, u.ID))

		_, err := st.UserByID(ctx, u.ID)
		wantErr(t, "UserByID after DeleteUser", err, store.ErrNotFound)
		_, err = st.UserByEmail(ctx, "gone@x.com")
		wantErr(t, "UserByEmail after DeleteUser", err, store.ErrNotFound)
		for _, id := range []string{"s1", "s2"} {
			_, err := st.Session(ctx, id)
			wantErr(t, "Session "+id+" after DeleteUser", err, store.ErrNotFound)
		}
		for _, label := range []string{"s1-a", "s1-b", "s2-a"} {
			wantNoToken(t, st, label+" after DeleteUser", hash(label))
		}
		wantLive(t, st, "k1")
		refreshToken(t, st, hash("k1-a"))
		if _, err := st.UserByID(ctx, keep.ID); err != nil {
			t.Errorf("another user went too: %v", err)
		}
	})
}

// importFile is the users of a Django export, ids out of order.
func importFile() []store.NewUser {
	last := time.Date(2025, 12, 24, 18, 0, 0, 999999999, offset)
	return []store.NewUser{
		{ID: 100, Email: "Hundred@x.com", PasswordHash: "pbkdf2_sha256$a", IsActive: true, DateJoined: time.Date(2019, 5, 6, 7, 8, 9, 123456000, time.UTC)},
		{ID: 205, Email: "admin@x.com", PasswordHash: "pbkdf2_sha256$b", IsActive: true, IsStaff: true, IsSuperuser: true, DateJoined: time.Date(2018, 1, 1, 0, 0, 0, 0, offset), LastLogin: &last},
		{ID: 7, Email: "seven@x.com", PasswordHash: "pbkdf2_sha256$c", IsActive: false, DateJoined: time.Date(2017, 2, 3, 4, 5, 6, 7000, time.UTC)},
	}
}

func TestImportUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		early := newUser(t, st, "early@x.com")
		file := importFile()

		res, err := st.ImportUsers(ctx, file)
		mustNil(t, "ImportUsers", err)
		if res != (store.ImportResult{Created: 3}) {
			t.Errorf("ImportUsers = %+v, want Created 3", res)
		}
		for _, want := range file {
			got, err := st.UserByID(ctx, want.ID)
			if err != nil {
				t.Errorf("UserByID(%d) after import: %v", want.ID, err)
				continue
			}
			if got.Email != want.Email || got.PasswordHash != want.PasswordHash || got.IsActive != want.IsActive ||
				got.IsStaff != want.IsStaff || got.IsSuperuser != want.IsSuperuser {
				t.Errorf("imported user %d = %+v, want %+v", want.ID, got, want)
			}
			wantTime(t, fmt.Sprintf("user %d DateJoined", want.ID), got.DateJoined, want.DateJoined)
			if want.LastLogin == nil {
				if got.LastLogin != nil {
					t.Errorf("user %d LastLogin = %v, want nil", want.ID, got.LastLogin)
				}
			} else {
				wantOptTime(t, fmt.Sprintf("user %d LastLogin", want.ID), got.LastLogin, *want.LastLogin)
			}
		}

		// A hash upgraded since the first run survives the second.
		mustNil(t, "ReplacePasswordHash", st.ReplacePasswordHash(ctx, 205, "pbkdf2_sha256$b", "argon2id$new"))
		res, err = st.ImportUsers(ctx, file)
		mustNil(t, "second ImportUsers", err)
		if res != (store.ImportResult{Unchanged: 3}) {
			t.Errorf("second ImportUsers = %+v, want Unchanged 3", res)
		}
		if got, _ := st.UserByID(ctx, 205); got.PasswordHash != "argon2id$new" {
			t.Errorf("second import overwrote the hash: %q", got.PasswordHash)
		}

		allIDs := []int64{early.ID, 7, 100, 205, 300, 301, 302, 303, 304}
		count := func() int {
			n := 0
			for _, id := range allIDs {
				if _, err := st.UserByID(ctx, id); err == nil {
					n++
				} else if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("UserByID(%d): %v", id, err)
				}
			}
			return n
		}
		before := count()
		if before != 4 {
			t.Fatalf("%d users before the failing imports, want 4", before)
		}
		clashes := map[string][]store.NewUser{
			// The clash comes after a good new user: it must be rolled back.
			"same id, other email": {
				{ID: 300, Email: "new300@x.com", PasswordHash: "h", DateJoined: base},
				{ID: 100, Email: "someone-else@x.com", PasswordHash: "h", DateJoined: base},
			},
			"new id, email taken in another case": {
				{ID: 301, Email: "new301@x.com", PasswordHash: "h", DateJoined: base},
				{ID: 302, Email: "ADMIN@X.COM", PasswordHash: "h", DateJoined: base},
			},
			"new id, email of a created user": {
				{ID: 303, Email: "new303@x.com", PasswordHash: "h", DateJoined: base},
				{ID: 304, Email: "early@x.com", PasswordHash: "h", DateJoined: base},
			},
			"two new users with one email": {
				{ID: 303, Email: "twice@x.com", PasswordHash: "h", DateJoined: base},
				{ID: 304, Email: "Twice@x.com", PasswordHash: "h", DateJoined: base},
			},
		}
		for name, users := range clashes {
			res, err := st.ImportUsers(ctx, users)
			wantErr(t, "ImportUsers "+name, err, store.ErrConflict)
			if res != (store.ImportResult{}) {
				t.Errorf("ImportUsers %s = %+v on failure, want zero", name, res)
			}
			if after := count(); after != before {
				t.Errorf("ImportUsers %s: %d users after, %d before: not atomic", name, after, before)
			}
		}
		if got, _ := st.UserByID(ctx, 100); got.Email != "Hundred@x.com" {
			t.Errorf("a failed import changed user 100: %+v", got)
		}

		// New users get ids above the imported ones (PostgreSQL: the identity
		// sequence was moved past them).
		u := newUser(t, st, "after@x.com")
		if u.ID <= 205 {
			t.Errorf("CreateUser after import got id %d, want > 205", u.ID)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		u := newUser(t, st, "s@x.com")
		created := time.Date(2026, 2, 1, 10, 0, 0, 111222333, offset)
		expires := created.Add(30 * 24 * time.Hour)
		first := store.RefreshToken{Hash: hash("first"), SessionID: "sess", IssuedAt: created, ExpiresAt: expires.Add(-time.Minute)}
		mustNil(t, "CreateSession", st.CreateSession(ctx,
			store.Session{ID: "sess", UserID: u.ID, CreatedAt: created, ExpiresAt: expires}, first))

		s := session(t, st, "sess")
		if s.ID != "sess" || s.UserID != u.ID || s.RevokedAt != nil || s.RevokedReason != "" {
			t.Errorf("Session = %+v", s)
		}
		wantTime(t, "Session CreatedAt", s.CreatedAt, created)
		wantTime(t, "Session ExpiresAt", s.ExpiresAt, expires)

		tok := refreshToken(t, st, hash("first"))
		if string(tok.Hash) != string(hash("first")) || tok.SessionID != "sess" || tok.RetiredAt != nil {
			t.Errorf("RefreshToken = %+v", tok)
		}
		wantTime(t, "RefreshToken IssuedAt", tok.IssuedAt, created)
		wantTime(t, "RefreshToken ExpiresAt", tok.ExpiresAt, first.ExpiresAt)

		_, err := st.Session(ctx, "nope")
		wantErr(t, "Session of a missing id", err, store.ErrNotFound)
		wantNoToken(t, st, "missing", hash("nope"))

		// A first token that cannot be stored takes the session with it.
		err = st.CreateSession(ctx, store.Session{ID: "sess2", UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)},
			store.RefreshToken{Hash: hash("first"), SessionID: "sess2", IssuedAt: base, ExpiresAt: base.Add(time.Hour)})
		wantErr(t, "CreateSession with a taken token hash", err, store.ErrConflict)
		_, err = st.Session(ctx, "sess2")
		wantErr(t, "Session after a failed CreateSession", err, store.ErrNotFound)
		if tok := refreshToken(t, st, hash("first")); tok.SessionID != "sess" {
			t.Errorf("failed CreateSession moved the token to %q", tok.SessionID)
		}

		err = st.CreateSession(ctx, store.Session{ID: "sess", UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)},
			store.RefreshToken{Hash: hash("other"), SessionID: "sess", IssuedAt: base, ExpiresAt: base.Add(time.Hour)})
		wantErr(t, "CreateSession with a taken id", err, store.ErrConflict)
		wantNoToken(t, st, "failed CreateSession", hash("other"))

		err = st.CreateSession(ctx, store.Session{ID: "orphan", UserID: u.ID + 1000, CreatedAt: base, ExpiresAt: base.Add(time.Hour)},
			store.RefreshToken{Hash: hash("orphan"), SessionID: "orphan", IssuedAt: base, ExpiresAt: base.Add(time.Hour)})
		if err == nil {
			t.Error("CreateSession for a missing user succeeded")
		}
		wantNoToken(t, st, "CreateSession for a missing user", hash("orphan"))
	})
}

// next is the token a rotation at now issues, valid for an hour.
func next(label, sessionID string, now time.Time) store.RefreshToken {
	return store.RefreshToken{Hash: hash(label), SessionID: sessionID, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
}

// rotate is RotateRefreshToken when the replayed successor does not matter.
func rotate(ctx context.Context, st store.Store, r store.Rotation) error {
	_, err := st.RotateRefreshToken(ctx, r)
	return err
}

func TestRotateRefreshToken(t *testing.T) {
	const grace = 10 * time.Second
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		u := newUser(t, st, "r@x.com")
		newSession(t, st, u.ID, "s", hash("t0"), base, base.Add(time.Hour))

		// Normal rotation: retire t0 with its sealed successor, store t1, extend the session.
		now := base.Add(10 * time.Minute)
		n1 := next("t1", "s", now)
		sealed := []byte("sealed pair of t1")
		replayed, err := st.RotateRefreshToken(ctx, store.Rotation{SessionID: "s", OldHash: hash("t0"), Next: n1, Successor: sealed, Now: now, Grace: grace})
		mustNil(t, "rotate t0", err)
		if replayed != nil {
			t.Errorf("a normal rotation replayed %q", replayed)
		}
		retiredAt := now
		t0 := refreshToken(t, st, hash("t0"))
		wantOptTime(t, "t0 RetiredAt", t0.RetiredAt, retiredAt)
		if string(t0.Successor) != string(sealed) {
			t.Errorf("t0 Successor = %q, want the sealed pair", t0.Successor)
		}
		t1 := refreshToken(t, st, hash("t1"))
		if t1.SessionID != "s" || t1.RetiredAt != nil {
			t.Errorf("t1 = %+v, want live in s", t1)
		}
		wantTime(t, "t1 ExpiresAt", t1.ExpiresAt, n1.ExpiresAt)
		wantTime(t, "session ExpiresAt after rotation", session(t, st, "s").ExpiresAt, n1.ExpiresAt)

		// Within the grace interval (up to its last microsecond) t0 yields the
		// same sealed successor again and nothing is written: no second token,
		// no fork of the session.
		for i, at := range []time.Time{retiredAt.Add(5 * time.Second), retiredAt.Add(grace)} {
			label := fmt.Sprintf("would-be%d", i)
			replayed, err := st.RotateRefreshToken(ctx, store.Rotation{
				SessionID: "s", OldHash: hash("t0"), Next: next(label, "s", at), Successor: []byte("other"), Now: at, Grace: grace,
			})
			mustNil(t, "rotate t0 within grace at "+at.Sub(retiredAt).String(), err)
			if string(replayed) != string(sealed) {
				t.Errorf("replayed %q, want t0's sealed successor", replayed)
			}
			wantNoToken(t, st, "a replay", hash(label))
			wantOptTime(t, "t0 RetiredAt after a replay", refreshToken(t, st, hash("t0")).RetiredAt, retiredAt)
			wantLive(t, st, "s")
		}

		// One microsecond after the grace interval it is reuse: the session is
		// revoked and the would-be token is not stored.
		late := retiredAt.Add(grace + time.Microsecond)
		err = rotate(ctx, st, store.Rotation{SessionID: "s", OldHash: hash("t0"), Next: next("late", "s", late), Now: late, Grace: grace})
		wantErr(t, "rotate t0 after grace", err, store.ErrReuseDetected)
		wantRevoked(t, st, "s", store.ReasonReuse, late)
		wantNoToken(t, st, "rotation after grace", hash("late"))

		// From now on every token of the session is refused, even the live t1.
		later := late.Add(time.Second)
		for _, old := range []string{"t1", "t0"} {
			err := rotate(ctx, st, store.Rotation{SessionID: "s", OldHash: hash(old), Next: next("after-"+old, "s", later), Now: later, Grace: grace})
			wantErr(t, "rotate "+old+" in a session revoked for reuse", err, store.ErrTokenReused)
			wantNoToken(t, st, "rotation in a revoked session", hash("after-"+old))
		}
		if got := refreshToken(t, st, hash("t1")); got.RetiredAt != nil {
			t.Errorf("a refused rotation retired t1 at %v", got.RetiredAt)
		}
		wantRevoked(t, st, "s", store.ReasonReuse, late)
	})
}

func TestRotateRefreshTokenStrict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		u := newUser(t, st, "strict@x.com")
		newSession(t, st, u.ID, "s", hash("t0"), base, base.Add(time.Hour))
		mustNil(t, "rotate", rotate(ctx, st, store.Rotation{SessionID: "s", OldHash: hash("t0"), Next: next("t1", "s", base), Now: base}))
		// Grace 0: the same instant is already too late.
		err := rotate(ctx, st, store.Rotation{SessionID: "s", OldHash: hash("t0"), Next: next("t2", "s", base), Now: base})
		wantErr(t, "immediate reuse with Grace 0", err, store.ErrTokenReused)
		wantRevoked(t, st, "s", store.ReasonReuse, base)
		wantNoToken(t, st, "strict reuse", hash("t2"))
	})
}

func TestRotateRefreshTokenRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		u := newUser(t, st, "refused@x.com")
		other := newUser(t, st, "other@x.com")
		newSession(t, st, u.ID, "a", hash("a0"), base, base.Add(time.Hour))
		newSession(t, st, u.ID, "b", hash("b0"), base, base.Add(time.Hour))
		newSession(t, st, other.ID, "c", hash("c0"), base, base.Add(time.Hour))
		now := base.Add(time.Minute)

		// refused checks that a failed rotation wrote nothing.
		refused := func(what string, r store.Rotation, target error) {
			t.Helper()
			err := rotate(ctx, st, r)
			wantErr(t, what, err, target)
			if !errors.Is(err, store.ErrConflict) {
				wantNoToken(t, st, what, r.Next.Hash)
			}
			for _, h := range []string{"a0", "b0", "c0"} {
				if tok := refreshToken(t, st, hash(h)); tok.RetiredAt != nil {
					t.Errorf("%s: retired %s", what, h)
				}
			}
			for _, id := range []string{"a", "b", "c"} {
				wantTime(t, what+": session "+id+" ExpiresAt", session(t, st, id).ExpiresAt, base.Add(time.Hour))
			}
		}
		refused("unknown old hash", store.Rotation{SessionID: "a", OldHash: hash("nope"), Next: next("x1", "a", now), Now: now, Grace: time.Minute}, store.ErrNotFound)
		refused("unknown session", store.Rotation{SessionID: "nope", OldHash: hash("a0"), Next: next("x2", "nope", now), Now: now, Grace: time.Minute}, store.ErrNotFound)
		refused("token of another session of the user", store.Rotation{SessionID: "b", OldHash: hash("a0"), Next: next("x3", "b", now), Now: now, Grace: time.Minute}, store.ErrNotFound)
		refused("token of another user's session", store.Rotation{SessionID: "a", OldHash: hash("c0"), Next: next("x4", "a", now), Now: now, Grace: time.Minute}, store.ErrNotFound)
		// A Next that cannot be stored rolls the retirement and the extension back.
		refused("next hash already taken", store.Rotation{SessionID: "a", OldHash: hash("a0"), Next: store.RefreshToken{Hash: hash("b0"), SessionID: "a", IssuedAt: now, ExpiresAt: now.Add(2 * time.Hour)}, Now: now, Grace: time.Minute}, store.ErrConflict)
		if tok := refreshToken(t, st, hash("b0")); tok.SessionID != "b" {
			t.Errorf("failed rotation moved b0 to session %q", tok.SessionID)
		}
		for _, id := range []string{"a", "b", "c"} {
			wantLive(t, st, id)
		}

		// Logout: every rotation of the session is refused as revoked, not as
		// reuse, and the logout reason stays.
		logout := now.Add(time.Minute)
		mustNil(t, "rotate b0", rotate(ctx, st, store.Rotation{SessionID: "b", OldHash: hash("b0"), Next: next("b1", "b", now), Now: now}))
		mustNil(t, "RevokeSession", st.RevokeSession(ctx, "b", store.ReasonLogout, logout))
		after := logout.Add(time.Hour)
		for _, old := range []string{"b1", "b0"} {
			err := rotate(ctx, st, store.Rotation{SessionID: "b", OldHash: hash(old), Next: next("b-after-"+old, "b", after), Now: after})
			wantErr(t, "rotate "+old+" after logout", err, store.ErrSessionRevoked)
			wantNoToken(t, st, "rotate after logout", hash("b-after-"+old))
		}
		if tok := refreshToken(t, st, hash("b1")); tok.RetiredAt != nil {
			t.Errorf("rotation after logout retired b1 at %v", tok.RetiredAt)
		}
		wantRevoked(t, st, "b", store.ReasonLogout, logout)
	})
}

func TestRevokeSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		u := newUser(t, st, "u@x.com")
		other := newUser(t, st, "o@x.com")
		for _, id := range []string{"u1", "u2", "u3"} {
			newSession(t, st, u.ID, id, hash(id), base, base.Add(time.Hour))
		}
		newSession(t, st, other.ID, "o1", hash("o1"), base, base.Add(time.Hour))

		first := base.Add(time.Minute)
		mustNil(t, "RevokeSession", st.RevokeSession(ctx, "u1", store.ReasonLogout, first))
		wantRevoked(t, st, "u1", store.ReasonLogout, first)
		mustNil(t, "RevokeSession again", st.RevokeSession(ctx, "u1", store.ReasonReuse, first.Add(time.Minute)))
		wantRevoked(t, st, "u1", store.ReasonLogout, first)
		wantLive(t, st, "u2")

		all := base.Add(time.Hour / 2)
		n, err := st.RevokeUserSessions(ctx, u.ID, store.ReasonLogoutAll, all)
		mustNil(t, "RevokeUserSessions", err)
		if n != 2 {
			t.Errorf("RevokeUserSessions = %d, want 2 (u1 was already revoked)", n)
		}
		wantRevoked(t, st, "u1", store.ReasonLogout, first)
		wantRevoked(t, st, "u2", store.ReasonLogoutAll, all)
		wantRevoked(t, st, "u3", store.ReasonLogoutAll, all)
		wantLive(t, st, "o1")

		n, err = st.RevokeUserSessions(ctx, u.ID, store.ReasonLogoutAll, all.Add(time.Minute))
		mustNil(t, "RevokeUserSessions again", err)
		if n != 0 {
			t.Errorf("second RevokeUserSessions = %d, want 0", n)
		}
		wantRevoked(t, st, "u2", store.ReasonLogoutAll, all)
	})
}

func TestDeleteExpired(t *testing.T) {
	const batch = 10
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		u := newUser(t, st, "e@x.com")
		now := base

		var expiredSessions, liveSessions []string
		var expiredTokens, liveTokens [][]byte
		for i := range 25 {
			id := fmt.Sprintf("expired%02d", i)
			exp := now.Add(-time.Duration(i+1) * time.Minute)
			newSession(t, st, u.ID, id, hash(id), exp.Add(-time.Hour), exp)
			expiredSessions = append(expiredSessions, id)
			expiredTokens = append(expiredTokens, hash(id))
		}
		// Live sessions whose first token expired after a rotation.
		for i := range 3 {
			id := fmt.Sprintf("live%d", i)
			start := now.Add(-3 * time.Hour)
			newSession(t, st, u.ID, id, hash(id+"-old"), start, now.Add(-2*time.Hour))
			cur := store.RefreshToken{Hash: hash(id + "-cur"), SessionID: id, IssuedAt: start, ExpiresAt: now.Add(time.Hour)}
			mustNil(t, "rotate "+id, rotate(ctx, st, store.Rotation{SessionID: id, OldHash: hash(id + "-old"), Next: cur, Now: start}))
			liveSessions = append(liveSessions, id)
			liveTokens = append(liveTokens, cur.Hash)
			expiredTokens = append(expiredTokens, hash(id+"-old"))
		}

		sessionsLeft := func(ids []string) int {
			n := 0
			for _, id := range ids {
				if _, err := st.Session(ctx, id); err == nil {
					n++
				} else if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("Session %s: %v", id, err)
				}
			}
			return n
		}
		tokensLeft := func(hashes [][]byte) int {
			n := 0
			for _, h := range hashes {
				if _, err := st.RefreshToken(ctx, h); err == nil {
					n++
				} else if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("RefreshToken: %v", err)
				}
			}
			return n
		}

		n, err := st.DeleteExpired(ctx, now, batch)
		mustNil(t, "DeleteExpired", err)
		if n != 2*batch {
			t.Errorf("first DeleteExpired = %d, want %d (a full batch of each)", n, 2*batch)
		}
		if left := sessionsLeft(expiredSessions); left != 25-batch {
			t.Errorf("after one batch %d expired sessions left, want %d", left, 25-batch)
		}
		// Tokens go by the batch and with their sessions (cascade).
		if left := tokensLeft(expiredTokens); left < 28-2*batch || left > 28-batch {
			t.Errorf("after one batch %d expired tokens left, want %d..%d", left, 28-2*batch, 28-batch)
		}

		calls := 1
		for n > 0 {
			if calls > 10 {
				t.Fatalf("DeleteExpired still deleting after %d calls", calls)
			}
			n, err = st.DeleteExpired(ctx, now, batch)
			mustNil(t, "DeleteExpired", err)
			if n > 2*batch {
				t.Errorf("DeleteExpired = %d, want at most %d", n, 2*batch)
			}
			calls++
		}
		// 25 sessions at 10 a call need three calls, and one more finds nothing.
		if calls < 4 {
			t.Errorf("drained in %d calls, want at least 4", calls)
		}
		if left := sessionsLeft(expiredSessions); left != 0 {
			t.Errorf("%d expired sessions left", left)
		}
		if left := tokensLeft(expiredTokens); left != 0 {
			t.Errorf("%d expired tokens left", left)
		}
		if left := sessionsLeft(liveSessions); left != 3 {
			t.Errorf("%d of 3 live sessions left", left)
		}
		if left := tokensLeft(liveTokens); left != 3 {
			t.Errorf("%d of 3 live tokens left", left)
		}
		for _, id := range liveSessions {
			wantLive(t, st, id)
		}
	})
}

func TestMigrateIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		u := newUser(t, st, "m@x.com")
		for i := range 2 {
			if err := st.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate #%d on a migrated store: %v", i+2, err)
			}
		}
		if _, err := st.UserByID(t.Context(), u.ID); err != nil {
			t.Errorf("user gone after re-migrating: %v", err)
		}
		newUser(t, st, "m2@x.com")
	})
}

// twoPostgres opens two pools on one fresh, migrated PostgreSQL database: two
// replicas of the service.
func twoPostgres(t *testing.T) []store.Store {
	t.Helper()
	url := pgtest.NewDatabase(t)
	var out []store.Store
	for range 2 {
		st, err := store.OpenPostgres(t.Context(), url)
		mustNil(t, "OpenPostgres", err)
		t.Cleanup(func() { st.Close() })
		mustNil(t, "Migrate", st.Migrate(t.Context()))
		out = append(out, st)
	}
	return out
}

// twoSQLite opens two handles on one migrated SQLite file: two processes
// sharing the file.
func twoSQLite(t *testing.T) []store.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth.db")
	var out []store.Store
	for range 2 {
		st, err := store.OpenSQLite(t.Context(), path)
		mustNil(t, "OpenSQLite", err)
		t.Cleanup(func() { st.Close() })
		mustNil(t, "Migrate", st.Migrate(t.Context()))
		out = append(out, st)
	}
	return out
}

// race is the outcome of rotating one token from many goroutines at once.
type race struct {
	nows     []time.Time
	nexts    [][]byte
	errs     []error
	replayed [][]byte
}

const racers = 50

// rotateAtOnce creates session "s" with token "old" and has racers goroutines,
// spread over stores, rotate "old" at once, each with its own Next and Now.
func rotateAtOnce(t *testing.T, stores []store.Store, grace time.Duration) race {
	t.Helper()
	ctx := t.Context()
	u := newUser(t, stores[0], "race@x.com")
	newSession(t, stores[0], u.ID, "s", hash("old"), base, base.Add(time.Hour))

	r := race{nows: make([]time.Time, racers), nexts: make([][]byte, racers), errs: make([]error, racers), replayed: make([][]byte, racers)}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		r.nows[i] = base.Add(time.Minute + time.Duration(i)*time.Millisecond)
		n := next(fmt.Sprintf("next%02d", i), "s", r.nows[i])
		r.nexts[i] = n.Hash
		st := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			r.replayed[i], r.errs[i] = st.RotateRefreshToken(ctx, store.Rotation{
				SessionID: "s", OldHash: hash("old"), Next: n, Successor: []byte(fmt.Sprintf("sealed %02d", i)), Now: r.nows[i], Grace: grace,
			})
		})
	}
	close(start)
	wg.Wait()
	return r
}

// checkGraceRace: with a grace interval every concurrent rotation succeeds;
// the first retires the token and the others are handed its successor back:
// one live token, one session.
func checkGraceRace(t *testing.T, stores []store.Store) {
	r := rotateAtOnce(t, stores, 10*time.Second)
	st := stores[1]
	for i, err := range r.errs {
		if err != nil {
			t.Errorf("rotation %d: %v", i, err)
		}
	}
	old := refreshToken(t, st, hash("old"))
	if old.RetiredAt == nil {
		t.Fatal("old token not retired")
	}
	winner := -1
	for i, now := range r.nows {
		if old.RetiredAt.Equal(now) {
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("old RetiredAt %v is no rotation's Now", old.RetiredAt)
	}
	for i, h := range r.nexts {
		tok, err := st.RefreshToken(t.Context(), h)
		switch {
		case i == winner && (err != nil || tok.SessionID != "s" || tok.RetiredAt != nil):
			t.Errorf("the winner's token = %+v, %v; want live in s", tok, err)
		case i != winner && !errors.Is(err, store.ErrNotFound):
			t.Errorf("rotation %d stored a second live token (err %v): the session forked", i, err)
		}
		if i != winner && string(r.replayed[i]) != fmt.Sprintf("sealed %02d", winner) {
			t.Errorf("rotation %d replayed %q, want the winner's sealed successor", i, r.replayed[i])
		}
	}
	wantLive(t, st, "s")
	wantTime(t, "session ExpiresAt", session(t, st, "s").ExpiresAt, r.nows[winner].Add(time.Hour))
}

// checkStrictRace: with Grace 0 exactly one concurrent rotation succeeds; the
// next one revokes the session and all the others find it revoked.
func checkStrictRace(t *testing.T, stores []store.Store) {
	r := rotateAtOnce(t, stores, 0)
	st := stores[1]
	winner := -1
	for i, err := range r.errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("rotations %d and %d both succeeded", winner, i)
			}
			winner = i
		case !errors.Is(err, store.ErrTokenReused):
			t.Errorf("rotation %d: %v, want nil or ErrTokenReused", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no rotation succeeded")
	}
	wantOptTime(t, "old RetiredAt", refreshToken(t, st, hash("old")).RetiredAt, r.nows[winner])
	for i, h := range r.nexts {
		_, err := st.RefreshToken(t.Context(), h)
		switch {
		case i == winner && err != nil:
			t.Errorf("winner's token: %v", err)
		case i != winner && !errors.Is(err, store.ErrNotFound):
			t.Errorf("refused rotation %d stored its token (err %v)", i, err)
		}
	}
	s := session(t, st, "s")
	if s.RevokedAt == nil || s.RevokedReason != store.ReasonReuse {
		t.Errorf("session = %+v, want revoked for reuse", s)
	}
}

func TestRotateConcurrentPostgres(t *testing.T) {
	t.Run("grace", func(t *testing.T) { checkGraceRace(t, twoPostgres(t)) })
	t.Run("strict", func(t *testing.T) { checkStrictRace(t, twoPostgres(t)) })
}

func TestRotateConcurrentSQLite(t *testing.T) {
	t.Run("grace", func(t *testing.T) { checkGraceRace(t, twoSQLite(t)) })
	t.Run("strict", func(t *testing.T) { checkStrictRace(t, twoSQLite(t)) })
}

func TestDeletedUserIDsAreNeverReused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		joined := time.Now().UTC()
		first, err := st.CreateUser(ctx, store.NewUser{Email: "first@example.com", PasswordHash: "x", IsActive: true, DateJoined: joined})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteUser(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		// An import also moves the PostgreSQL sequence; it must not move it back.
		if _, err := st.ImportUsers(ctx, nil); err != nil {
			t.Fatal(err)
		}
		second, err := st.CreateUser(ctx, store.NewUser{Email: "second@example.com", PasswordHash: "x", IsActive: true, DateJoined: joined})
		if err != nil {
			t.Fatal(err)
		}
		if second.ID <= first.ID {
			t.Fatalf("new user got id %d after deleted user %d: tokens of the deleted user would name the new one", second.ID, first.ID)
		}
	})
}

func TestSessionUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.Store) {
		ctx := t.Context()
		u := newUser(t, st, "owner@x.com")
		newUser(t, st, "someone-else@x.com")
		newSession(t, st, u.ID, "s", hash("s0"), base, base.Add(time.Hour))
		sess, user, err := st.SessionUser(ctx, "s")
		mustNil(t, "SessionUser", err)
		if sess.ID != "s" || sess.UserID != u.ID || user.ID != u.ID || user.Email != "owner@x.com" {
			t.Errorf("SessionUser = %+v, %+v", sess, user)
		}
		wantTime(t, "session ExpiresAt", sess.ExpiresAt, base.Add(time.Hour))
		_, _, err = st.SessionUser(ctx, "missing")
		wantErr(t, "SessionUser of a missing session", err, store.ErrNotFound)
	})
}
