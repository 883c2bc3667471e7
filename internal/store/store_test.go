package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
	sqlfiles "github.com/ecommerce/auth-service/sql"
)

// base is a microsecond-aligned instant, so that what the stores keep is
// exactly what was written.
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

func newUser(t *testing.T, st store.DB, email string) auth.User {
	t.Helper()
	u, err := st.CreateUser(t.Context(), auth.User{Email: email, PasswordHash: "hash", IsActive: true, DateJoined: base})
	mustNil(t, "CreateUser "+email, err)
	return u
}

// newSession stores session id of userID with its first refresh token tok,
// as a login does; both expire at expires.
func newSession(t *testing.T, st store.DB, userID int64, id string, tok []byte, created, expires time.Time) {
	t.Helper()
	err := st.InTx(t.Context(), func(tx auth.Tx) error {
		if err := tx.CreateSession(t.Context(), auth.Session{ID: id, UserID: userID, CreatedAt: created, ExpiresAt: expires}); err != nil {
			return err
		}
		return tx.InsertRefreshToken(t.Context(), auth.StoredRefreshToken{Hash: tok, SessionID: id, IssuedAt: created, ExpiresAt: expires})
	})
	mustNil(t, "new session "+id, err)
}

func session(t *testing.T, st store.DB, id string) auth.Session {
	t.Helper()
	s, _, err := st.SessionUser(t.Context(), id)
	mustNil(t, "SessionUser "+id, err)
	return s
}

func refreshToken(t *testing.T, st store.DB, h []byte) auth.StoredRefreshToken {
	t.Helper()
	tok, err := st.StoredRefreshToken(t.Context(), h)
	mustNil(t, "StoredRefreshToken", err)
	return tok
}

func wantNoToken(t *testing.T, st store.DB, what string, h []byte) {
	t.Helper()
	_, err := st.StoredRefreshToken(t.Context(), h)
	wantErr(t, what+": StoredRefreshToken", err, auth.ErrNotFound)
}

func wantNoSession(t *testing.T, st store.DB, what, id string) {
	t.Helper()
	_, _, err := st.SessionUser(t.Context(), id)
	wantErr(t, what+": SessionUser "+id, err, auth.ErrNotFound)
}

func wantLive(t *testing.T, st store.DB, id string) {
	t.Helper()
	if s := session(t, st, id); s.RevokedAt != nil || s.RevokedReason != "" {
		t.Errorf("session %s revoked at %v (%q), want live", id, s.RevokedAt, s.RevokedReason)
	}
}

func wantRevoked(t *testing.T, st store.DB, id, reason string, at time.Time) {
	t.Helper()
	s := session(t, st, id)
	wantOptTime(t, "session "+id+" RevokedAt", s.RevokedAt, at)
	if s.RevokedReason != reason {
		t.Errorf("session %s RevokedReason = %q, want %q", id, s.RevokedReason, reason)
	}
}

func TestUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		joined := time.Date(2025, 7, 1, 9, 30, 0, 123456789, offset)
		u, err := st.CreateUser(ctx, auth.User{
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

		_, err = st.CreateUser(ctx, auth.User{Email: "a@X.COM", PasswordHash: "h", DateJoined: base})
		wantErr(t, "CreateUser with the same email in another case", err, auth.ErrConflict)

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
		wantErr(t, "UserByID of a missing user", err, auth.ErrNotFound)
		_, err = st.UserByEmail(ctx, "nobody@x.com")
		wantErr(t, "UserByEmail of a missing user", err, auth.ErrNotFound)

		other := newUser(t, st, "other@x.com")
		if other.ID == u.ID {
			t.Fatalf("two users got id %d", u.ID)
		}

		// RecordLogin keeps microseconds, in UTC, and touches one user.
		at := time.Date(2026, 1, 2, 3, 4, 5, 987654321, offset)
		mustNil(t, "RecordLogin", st.RecordLogin(ctx, u.ID, at))
		got, err := st.UserByID(ctx, u.ID)
		mustNil(t, "UserByID", err)
		wantOptTime(t, "LastLogin", got.LastLogin, at)
		if o, _ := st.UserByID(ctx, other.ID); o.LastLogin != nil {
			t.Errorf("RecordLogin also set another user's LastLogin: %v", o.LastLogin)
		}

		// ReplacePasswordHash is a compare-and-set.
		replaced, err := st.ReplacePasswordHash(ctx, u.ID, "h1", "h2")
		mustNil(t, "ReplacePasswordHash", err)
		if got, _ := st.UserByID(ctx, u.ID); got.PasswordHash != "h2" || !replaced {
			t.Errorf("after ReplacePasswordHash(h1, h2): hash %q, want h2", got.PasswordHash)
		}
		replaced, err = st.ReplacePasswordHash(ctx, u.ID, "h1", "h3")
		mustNil(t, "ReplacePasswordHash stale", err)
		if got, _ := st.UserByID(ctx, u.ID); got.PasswordHash != "h2" || replaced {
			t.Errorf("ReplacePasswordHash with a stale old hash replaced it: hash %q, want h2", got.PasswordHash)
		}
		if o, _ := st.UserByID(ctx, other.ID); o.PasswordHash != "hash" {
			t.Errorf("ReplacePasswordHash changed another user's hash to %q", o.PasswordHash)
		}
	})
}

// Addresses that differ only in the case of non-ASCII letters, or in how an
// accented letter is encoded, are one account on both stores: SQL lower()
// would fold only ASCII in SQLite.
func TestNonASCIIEmailsAreOneAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		u := newUser(t, st, "Élodie@Example.com")
		for _, same := range []string{"élodie@example.com", "ÉLODIE@EXAMPLE.COM", "e\u0301lodie@example.com", " élodie@example.com  "} {
			got, err := st.UserByEmail(ctx, same)
			if err != nil || got.ID != u.ID {
				t.Errorf("UserByEmail(%q) = %+v, %v; want user %d", same, got, err, u.ID)
			}
			_, err = st.CreateUser(ctx, auth.User{Email: strings.TrimSpace(same), PasswordHash: "h", DateJoined: base})
			wantErr(t, "CreateUser "+same, err, auth.ErrConflict)
		}
		if got, _ := st.UserByID(ctx, u.ID); got.Email != "Élodie@Example.com" {
			t.Errorf("stored email = %q, want it as given", got.Email)
		}
		_, err := st.UserByEmail(ctx, "elodie@example.com")
		wantErr(t, "UserByEmail without the accent", err, auth.ErrNotFound)
	})
}

func TestDeleteUserCascades(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		u := newUser(t, st, "gone@x.com")
		keep := newUser(t, st, "kept@x.com")
		newSession(t, st, u.ID, "s1", hash("s1-a"), base, base.Add(time.Hour))
		newSession(t, st, u.ID, "s2", hash("s2-a"), base, base.Add(time.Hour))
		mustNil(t, "InsertRefreshToken", st.InsertRefreshToken(ctx, auth.StoredRefreshToken{
			Hash: hash("s1-b"), SessionID: "s1", IssuedAt: base, ExpiresAt: base.Add(2 * time.Hour),
		}))
		newSession(t, st, keep.ID, "k1", hash("k1-a"), base, base.Add(time.Hour))

		storetest.DeleteUser(t, st, u.ID)

		_, err := st.UserByID(ctx, u.ID)
		wantErr(t, "UserByID after delete", err, auth.ErrNotFound)
		_, err = st.UserByEmail(ctx, "gone@x.com")
		wantErr(t, "UserByEmail after delete", err, auth.ErrNotFound)
		for _, id := range []string{"s1", "s2"} {
			wantNoSession(t, st, "after delete", id)
		}
		for _, label := range []string{"s1-a", "s1-b", "s2-a"} {
			wantNoToken(t, st, label+" after delete", hash(label))
		}
		wantLive(t, st, "k1")
		refreshToken(t, st, hash("k1-a"))
		if _, err := st.UserByID(ctx, keep.ID); err != nil {
			t.Errorf("another user went too: %v", err)
		}
	})
}

func TestImportUserKeepsIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		last := time.Date(2025, 12, 24, 18, 0, 0, 999999999, offset)
		want := auth.User{ID: 205, Email: "Admin@x.com", PasswordHash: "pbkdf2_sha256$b", IsActive: true, IsStaff: true, IsSuperuser: true,
			DateJoined: time.Date(2018, 1, 1, 0, 0, 0, 0, offset), LastLogin: &last}
		mustNil(t, "ImportUser", st.ImportUser(ctx, want))
		got, err := st.UserByEmail(ctx, "admin@X.com")
		mustNil(t, "UserByEmail", err)
		if got.ID != 205 || got.Email != want.Email || got.PasswordHash != want.PasswordHash || !got.IsActive || !got.IsStaff || !got.IsSuperuser {
			t.Errorf("imported user = %+v, want %+v", got, want)
		}
		wantTime(t, "DateJoined", got.DateJoined, want.DateJoined)
		wantOptTime(t, "LastLogin", got.LastLogin, last)

		wantErr(t, "ImportUser of a taken id", st.ImportUser(ctx, auth.User{ID: 205, Email: "other@x.com", PasswordHash: "h", DateJoined: base}), auth.ErrConflict)
		wantErr(t, "ImportUser of a taken email", st.ImportUser(ctx, auth.User{ID: 206, Email: "ADMIN@x.com", PasswordHash: "h", DateJoined: base}), auth.ErrConflict)

		// New users get ids above the imported ones (PostgreSQL: the identity
		// sequence was moved past them).
		mustNil(t, "SyncUserIDs", st.SyncUserIDs(ctx))
		if u := newUser(t, st, "after@x.com"); u.ID <= 205 {
			t.Errorf("CreateUser after import got id %d, want > 205", u.ID)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		u := newUser(t, st, "s@x.com")
		created := time.Date(2026, 2, 1, 10, 0, 0, 111222333, offset)
		expires := created.Add(30 * 24 * time.Hour)
		loggedIn := auth.Client{Address: "192.0.2.7", UserAgent: "Firefox/140"}
		mustNil(t, "CreateSession", st.CreateSession(ctx, auth.Session{ID: "sess", UserID: u.ID, CreatedAt: created, ExpiresAt: expires, CreatedBy: loggedIn}))
		first := auth.StoredRefreshToken{Hash: hash("first"), SessionID: "sess", IssuedAt: created, ExpiresAt: expires.Add(-time.Minute)}
		mustNil(t, "InsertRefreshToken", st.InsertRefreshToken(ctx, first))

		s := session(t, st, "sess")
		if s.ID != "sess" || s.UserID != u.ID || s.RevokedAt != nil || s.RevokedReason != "" ||
			s.CreatedBy != loggedIn || s.RefreshedAt != nil || s.RefreshedBy != (auth.Client{}) {
			t.Errorf("Session = %+v", s)
		}
		wantTime(t, "Session CreatedAt", s.CreatedAt, created)
		wantTime(t, "Session ExpiresAt", s.ExpiresAt, expires)

		tok := refreshToken(t, st, hash("first"))
		if string(tok.Hash) != string(hash("first")) || tok.SessionID != "sess" || tok.RetiredAt != nil {
			t.Errorf("StoredRefreshToken = %+v", tok)
		}
		wantTime(t, "StoredRefreshToken IssuedAt", tok.IssuedAt, created)
		wantTime(t, "StoredRefreshToken ExpiresAt", tok.ExpiresAt, first.ExpiresAt)

		wantNoSession(t, st, "missing", "nope")
		wantNoToken(t, st, "missing", hash("nope"))

		wantErr(t, "CreateSession with a taken id",
			st.CreateSession(ctx, auth.Session{ID: "sess", UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}), auth.ErrConflict)
		if err := st.CreateSession(ctx, auth.Session{ID: "orphan", UserID: u.ID + 1000, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); err == nil {
			t.Error("CreateSession for a missing user succeeded")
		}
		wantErr(t, "InsertRefreshToken with a taken hash",
			st.InsertRefreshToken(ctx, auth.StoredRefreshToken{Hash: hash("first"), SessionID: "sess", IssuedAt: base, ExpiresAt: base.Add(time.Hour)}), auth.ErrConflict)

		// A rotation's writes: the old token retired with its sealed
		// successor, the new one stored, the session extended (never
		// earlier) and marked refreshed by the client.
		retired := created.Add(time.Minute)
		refresher := auth.Client{Address: "2001:db8::1", UserAgent: "Safari/18", RequestID: "not-stored"}
		second := auth.StoredRefreshToken{Hash: hash("second"), SessionID: "sess", IssuedAt: retired, ExpiresAt: expires.Add(time.Hour)}
		mustNil(t, "RecordRotation", st.RecordRotation(ctx, auth.RotationWrite{
			OldHash: hash("first"), Successor: []byte("sealed"), Next: second, At: retired, By: refresher,
		}))
		tok = refreshToken(t, st, hash("first"))
		wantOptTime(t, "RetiredAt", tok.RetiredAt, retired)
		if string(tok.Successor) != "sealed" {
			t.Errorf("Successor = %q, want the sealed pair", tok.Successor)
		}
		if next := refreshToken(t, st, hash("second")); next.SessionID != "sess" || next.RetiredAt != nil {
			t.Errorf("the new token = %+v, want live in sess", next)
		}
		s = session(t, st, "sess")
		wantTime(t, "ExpiresAt after extending", s.ExpiresAt, expires.Add(time.Hour))
		wantOptTime(t, "RefreshedAt", s.RefreshedAt, retired)
		if s.RefreshedBy != (auth.Client{Address: "2001:db8::1", UserAgent: "Safari/18"}) || s.CreatedBy != loggedIn {
			t.Errorf("after RecordRotation: created by %+v, refreshed by %+v", s.CreatedBy, s.RefreshedBy)
		}
		mustNil(t, "ExtendSession earlier", st.ExtendSession(ctx, "sess", expires, retired.Add(time.Minute), auth.Client{}))
		wantTime(t, "ExpiresAt after an earlier extension", session(t, st, "sess").ExpiresAt, expires.Add(time.Hour))
		wantOptTime(t, "RefreshedAt after a second refresh", session(t, st, "sess").RefreshedAt, retired.Add(time.Minute))

		// Exposure is recorded once: the first time counts.
		if tok.ExposedAt != nil {
			t.Errorf("a new token is exposed at %v", tok.ExposedAt)
		}
		mustNil(t, "ExposeRefreshToken", st.ExposeRefreshToken(ctx, hash("first"), retired))
		mustNil(t, "ExposeRefreshToken again", st.ExposeRefreshToken(ctx, hash("first"), retired.Add(time.Hour)))
		wantOptTime(t, "ExposedAt", refreshToken(t, st, hash("first")).ExposedAt, retired)
	})
}

// A user lists and ends only their own live sessions.
func TestUserSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		u, other := newUser(t, st, "mine@x.com"), newUser(t, st, "other@x.com")
		now := base
		newSession(t, st, u.ID, "old", hash("old"), now.Add(-2*time.Hour), now.Add(time.Hour))
		newSession(t, st, u.ID, "new", hash("new"), now.Add(-time.Hour), now.Add(time.Hour))
		newSession(t, st, u.ID, "expired", hash("expired"), now.Add(-3*time.Hour), now)
		newSession(t, st, u.ID, "revoked", hash("revoked"), now.Add(-time.Hour), now.Add(time.Hour))
		mustNil(t, "RevokeSession", st.RevokeSession(ctx, "revoked", auth.ReasonLogout, now))
		newSession(t, st, other.ID, "theirs", hash("theirs"), now.Add(-time.Hour), now.Add(time.Hour))

		list := func(limit int) []string {
			t.Helper()
			sessions, err := st.ListUserSessions(ctx, u.ID, now, limit)
			mustNil(t, "ListUserSessions", err)
			var ids []string
			for _, s := range sessions {
				ids = append(ids, s.ID)
			}
			return ids
		}
		if got := list(10); !slices.Equal(got, []string{"new", "old"}) {
			t.Errorf("ListUserSessions = %v, want the live ones newest first: [new old]", got)
		}
		if got := list(1); !slices.Equal(got, []string{"new"}) {
			t.Errorf("ListUserSessions limit 1 = %v", got)
		}

		for _, c := range []struct {
			user int64
			id   string
		}{{u.ID, "theirs"}, {other.ID, "old"}, {u.ID, "expired"}, {u.ID, "revoked"}, {u.ID, "missing"}} {
			ended, err := st.RevokeUserSession(ctx, c.user, c.id, auth.ReasonEnded, now)
			if err != nil || ended {
				t.Errorf("RevokeUserSession(user %d, %s) = %v, %v; want false", c.user, c.id, ended, err)
			}
		}
		wantLive(t, st, "theirs")
		wantRevoked(t, st, "revoked", auth.ReasonLogout, now)
		ended, err := st.RevokeUserSession(ctx, u.ID, "old", auth.ReasonEnded, now)
		if err != nil || !ended {
			t.Fatalf("RevokeUserSession of a live own session = %v, %v", ended, err)
		}
		wantRevoked(t, st, "old", auth.ReasonEnded, now)
		if got := list(10); !slices.Equal(got, []string{"new"}) {
			t.Errorf("after ending old: %v", got)
		}
	})
}

// Events are kept as recorded, found by time and by address (typed, or the
// user's), and deleted by age.
func TestSecurityEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		u := newUser(t, st, "Élodie@Example.com")
		client := auth.Client{Address: "198.51.100.4", UserAgent: "curl/8", RequestID: "req-1"}
		events := []auth.SecurityEvent{
			{At: base.Add(-48 * time.Hour), Kind: auth.EventLoginFailed, Email: "ÉLODIE@example.com ", UserID: u.ID, Client: client},
			{At: base.Add(-time.Hour), Kind: auth.EventLoginFailed, Email: "nobody@example.com", Client: client},
			{At: base.Add(-time.Minute), Kind: auth.EventLoginSucceeded, UserID: u.ID, SessionID: "s1", Client: client},
			{At: base, Kind: auth.EventKeyLoaded, Detail: "kid=k alg=ES256 use=signing"},
		}
		for _, e := range events {
			mustNil(t, "RecordEvent", st.RecordEvent(ctx, e))
		}
		read := func(q auth.EventQuery) []auth.SecurityEvent {
			t.Helper()
			q.Limit = max(q.Limit, 100)
			got, err := st.SecurityEvents(ctx, q)
			mustNil(t, "SecurityEvents", err)
			return got
		}
		all := read(auth.EventQuery{Since: base.Add(-72 * time.Hour)})
		if len(all) != 4 || all[0].Kind != auth.EventKeyLoaded || all[3].Kind != auth.EventLoginFailed {
			t.Fatalf("all events, newest first: %+v", all)
		}
		got := all[1]
		wantTime(t, "At", got.At, events[2].At)
		if got.UserID != u.ID || got.SessionID != "s1" || got.Client != client || got.UserEmail != "Élodie@Example.com" || got.ID == 0 {
			t.Errorf("login event read back as %+v", got)
		}
		if all[0].UserID != 0 || all[0].UserEmail != "" || all[0].Detail != "kid=k alg=ES256 use=signing" {
			t.Errorf("key event read back as %+v", all[0])
		}
		if all[3].Email != "ÉLODIE@example.com " {
			t.Errorf("the email was not kept as typed: %q", all[3].Email)
		}
		if got := read(auth.EventQuery{Since: base.Add(-2 * time.Hour)}); len(got) != 3 {
			t.Errorf("since 2h ago: %d events, want 3", len(got))
		}
		// By address: the user's events and failures typed in another case.
		if got := read(auth.EventQuery{Email: "élodie@example.com", Since: base.Add(-72 * time.Hour)}); len(got) != 2 ||
			got[0].Kind != auth.EventLoginSucceeded || got[1].Kind != auth.EventLoginFailed {
			t.Errorf("by email: %+v", got)
		}
		if got := read(auth.EventQuery{Email: "nobody@example.com", Since: base.Add(-72 * time.Hour)}); len(got) != 1 || got[0].UserID != 0 {
			t.Errorf("an unknown address: %+v", got)
		}
		if got, _ := st.SecurityEvents(ctx, auth.EventQuery{Since: base.Add(-72 * time.Hour), Limit: 2}); len(got) != 2 || got[0].Kind != auth.EventKeyLoaded {
			t.Errorf("limit 2: %+v", got)
		}

		n, err := st.DeleteEventsBefore(ctx, base.Add(-30*time.Minute), 1)
		if err != nil || n != 1 {
			t.Errorf("DeleteEventsBefore batch 1 = %d, %v", n, err)
		}
		n, err = st.DeleteEventsBefore(ctx, base.Add(-30*time.Minute), 10)
		if err != nil || n != 1 {
			t.Errorf("DeleteEventsBefore = %d, %v; want the other old one", n, err)
		}
		if got := read(auth.EventQuery{Since: base.Add(-72 * time.Hour)}); len(got) != 2 {
			t.Errorf("after deleting: %d events, want 2", len(got))
		}
	})
}

// A transaction writes all or nothing: a write that fails takes the earlier
// ones of its transaction with it.
func TestInTxIsAtomic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		u := newUser(t, st, "tx@x.com")
		newSession(t, st, u.ID, "sess", hash("first"), base, base.Add(time.Hour))

		// A first token that cannot be stored takes its session with it.
		err := st.InTx(ctx, func(tx auth.Tx) error {
			if err := tx.CreateSession(ctx, auth.Session{ID: "sess2", UserID: u.ID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}); err != nil {
				return err
			}
			return tx.InsertRefreshToken(ctx, auth.StoredRefreshToken{Hash: hash("first"), SessionID: "sess2", IssuedAt: base, ExpiresAt: base.Add(time.Hour)})
		})
		wantErr(t, "InTx with a taken token hash", err, auth.ErrConflict)
		wantNoSession(t, st, "after a failed InTx", "sess2")
		if tok := refreshToken(t, st, hash("first")); tok.SessionID != "sess" {
			t.Errorf("failed InTx moved the token to %q", tok.SessionID)
		}

		// A successor that cannot be stored rolls back the retirement and the
		// extension of a rotation.
		later := base.Add(time.Minute)
		err = st.InTx(ctx, func(tx auth.Tx) error {
			if _, err := tx.LockRotation(ctx, "sess", hash("first")); err != nil {
				return err
			}
			return tx.RecordRotation(ctx, auth.RotationWrite{
				OldHash: hash("first"), Successor: []byte("sealed"), At: later,
				Next: auth.StoredRefreshToken{Hash: hash("first"), SessionID: "sess", IssuedAt: later, ExpiresAt: later.Add(2 * time.Hour)},
			})
		})
		wantErr(t, "InTx with a taken successor hash", err, auth.ErrConflict)
		if tok := refreshToken(t, st, hash("first")); tok.RetiredAt != nil || tok.Successor != nil {
			t.Errorf("a failed InTx retired the token: %+v", tok)
		}
		wantTime(t, "ExpiresAt after a failed InTx", session(t, st, "sess").ExpiresAt, base.Add(time.Hour))

		// An error of fn's own rolls back too, and comes back as it was.
		mine := errors.New("changed my mind")
		err = st.InTx(ctx, func(tx auth.Tx) error {
			if err := tx.RevokeSession(ctx, "sess", auth.ReasonLogout, later); err != nil {
				return err
			}
			return mine
		})
		if err != mine {
			t.Errorf("InTx returned %v, want fn's own error", err)
		}
		wantLive(t, st, "sess")
	})
}

// LockRotation reads what a rotation decides on in one query: the session,
// its user and roles, and the token, which may be missing or another
// session's.
func TestLockRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		u := newUser(t, st, "rot@x.com")
		newSession(t, st, u.ID, "a", hash("a0"), base, base.Add(time.Hour))
		newSession(t, st, u.ID, "b", hash("b0"), base, base.Add(time.Hour))

		state, err := st.LockRotation(ctx, "a", hash("a0"))
		mustNil(t, "LockRotation", err)
		if state.Session.ID != "a" || state.User.ID != u.ID || len(state.Roles) != 0 || state.Token == nil ||
			string(state.Token.Hash) != string(hash("a0")) || state.Token.SessionID != "a" {
			t.Errorf("LockRotation = %+v", state)
		}
		for _, role := range []string{"support", "catalog:write"} {
			if _, err := st.AddUserRole(ctx, u.ID, role, base); err != nil {
				t.Fatal(err)
			}
		}
		state, err = st.LockRotation(ctx, "a", hash("b0"))
		mustNil(t, "LockRotation of another session's token", err)
		if state.Token == nil || state.Token.SessionID != "b" || !slices.Equal(state.Roles, []string{"catalog:write", "support"}) {
			t.Errorf("LockRotation with b's token = %+v, want b's token and the sorted roles", state)
		}
		state, err = st.LockRotation(ctx, "a", hash("nope"))
		mustNil(t, "LockRotation of an unknown token", err)
		if state.Token != nil || state.Session.ID != "a" {
			t.Errorf("LockRotation with an unknown token = %+v, want the session and no token", state)
		}
		_, err = st.LockRotation(ctx, "nope", hash("a0"))
		wantErr(t, "LockRotation of an unknown session", err, auth.ErrNotFound)
	})
}

func TestRevokeSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		u := newUser(t, st, "u@x.com")
		other := newUser(t, st, "o@x.com")
		for _, id := range []string{"u1", "u2", "u3"} {
			newSession(t, st, u.ID, id, hash(id), base, base.Add(time.Hour))
		}
		newSession(t, st, other.ID, "o1", hash("o1"), base, base.Add(time.Hour))

		first := base.Add(time.Minute)
		mustNil(t, "RevokeSession", st.RevokeSession(ctx, "u1", auth.ReasonLogout, first))
		wantRevoked(t, st, "u1", auth.ReasonLogout, first)
		mustNil(t, "RevokeSession again", st.RevokeSession(ctx, "u1", auth.ReasonReuse, first.Add(time.Minute)))
		wantRevoked(t, st, "u1", auth.ReasonLogout, first)
		wantLive(t, st, "u2")

		all := base.Add(time.Hour / 2)
		n, err := st.RevokeUserSessions(ctx, u.ID, auth.ReasonLogoutAll, all)
		mustNil(t, "RevokeUserSessions", err)
		if n != 2 {
			t.Errorf("RevokeUserSessions = %d, want 2 (u1 was already revoked)", n)
		}
		wantRevoked(t, st, "u1", auth.ReasonLogout, first)
		wantRevoked(t, st, "u2", auth.ReasonLogoutAll, all)
		wantRevoked(t, st, "u3", auth.ReasonLogoutAll, all)
		wantLive(t, st, "o1")

		n, err = st.RevokeUserSessions(ctx, u.ID, auth.ReasonLogoutAll, all.Add(time.Minute))
		mustNil(t, "RevokeUserSessions again", err)
		if n != 0 {
			t.Errorf("second RevokeUserSessions = %d, want 0", n)
		}
		wantRevoked(t, st, "u2", auth.ReasonLogoutAll, all)
	})
}

// deleteExpired is one batch of each, as auth's cleanup runs them.
func deleteExpired(ctx context.Context, st store.DB, before time.Time, batch int) (int64, error) {
	tokens, err := st.DeleteExpiredRefreshTokens(ctx, before, batch)
	if err != nil {
		return tokens, err
	}
	sessions, err := st.DeleteExpiredSessions(ctx, before, batch)
	return tokens + sessions, err
}

func TestDeleteExpired(t *testing.T) {
	const batch = 10
	storetest.Each(t, func(t *testing.T, st store.DB) {
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
			cur := auth.StoredRefreshToken{Hash: hash(id + "-cur"), SessionID: id, IssuedAt: start, ExpiresAt: now.Add(time.Hour)}
			mustNil(t, "InsertRefreshToken "+id, st.InsertRefreshToken(ctx, cur))
			mustNil(t, "ExtendSession "+id, st.ExtendSession(ctx, id, cur.ExpiresAt, start, auth.Client{}))
			liveSessions = append(liveSessions, id)
			liveTokens = append(liveTokens, cur.Hash)
			expiredTokens = append(expiredTokens, hash(id+"-old"))
		}

		sessionsLeft := func(ids []string) int {
			n := 0
			for _, id := range ids {
				if _, _, err := st.SessionUser(ctx, id); err == nil {
					n++
				} else if !errors.Is(err, auth.ErrNotFound) {
					t.Fatalf("SessionUser %s: %v", id, err)
				}
			}
			return n
		}
		tokensLeft := func(hashes [][]byte) int {
			n := 0
			for _, h := range hashes {
				if _, err := st.StoredRefreshToken(ctx, h); err == nil {
					n++
				} else if !errors.Is(err, auth.ErrNotFound) {
					t.Fatalf("StoredRefreshToken: %v", err)
				}
			}
			return n
		}

		n, err := deleteExpired(ctx, st, now, batch)
		mustNil(t, "deleteExpired", err)
		if n != 2*batch {
			t.Errorf("first deleteExpired = %d, want %d (a full batch of each)", n, 2*batch)
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
				t.Fatalf("deleteExpired still deleting after %d calls", calls)
			}
			n, err = deleteExpired(ctx, st, now, batch)
			mustNil(t, "deleteExpired", err)
			if n > 2*batch {
				t.Errorf("deleteExpired = %d, want at most %d", n, 2*batch)
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
	storetest.Each(t, func(t *testing.T, st store.DB) {
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

// rawDB opens the database behind a storetest URL with database/sql, and
// says which goose dialect and migrations it takes.
func rawDB(t *testing.T, url string) (*sql.DB, goose.Dialect, fs.FS) {
	t.Helper()
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path)
		mustNil(t, "open SQLite", err)
		t.Cleanup(func() { db.Close() })
		files, _ := fs.Sub(sqlfiles.SQLiteMigrations, "sqlite/migrations")
		return db, goose.DialectSQLite3, files
	}
	db, err := sql.Open("pgx", url)
	mustNil(t, "open PostgreSQL", err)
	t.Cleanup(func() { db.Close() })
	files, _ := fs.Sub(sqlfiles.PostgresMigrations, "migrations")
	return db, goose.DialectPostgres, files
}

// Users created before email keys existed get theirs when the database is
// migrated, and are found by any form of their address.
func TestMigrationFillsEmailKeys(t *testing.T) {
	_ = stdlib.GetDefaultDriver() // registers "pgx" for database/sql
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := t.Context()
			url := storetest.URL(t, kind)
			db, dialect, files := rawDB(t, url)
			old, err := goose.NewProvider(dialect, db, files)
			mustNil(t, "goose provider", err)
			_, err = old.UpTo(ctx, 4)
			mustNil(t, "migrate up to 00004", err)
			for i, email := range []string{"Élodie@Example.com", "plain@x.com"} {
				_, err := db.ExecContext(ctx, fmt.Sprintf(
					"INSERT INTO users (email, password_hash, is_active, is_staff, is_superuser, date_joined) VALUES ('%s', 'h', TRUE, FALSE, FALSE, %s)",
					email, map[goose.Dialect]string{goose.DialectPostgres: "now()", goose.DialectSQLite3: fmt.Sprint(base.UnixMicro() + int64(i))}[dialect]))
				mustNil(t, "insert "+email, err)
			}
			st := storetest.OpenURL(t, url) // migrates the rest
			for _, email := range []string{"élodie@example.com", "PLAIN@X.COM"} {
				if _, err := st.UserByEmail(ctx, email); err != nil {
					t.Errorf("UserByEmail(%q) after the migration: %v", email, err)
				}
			}
			_, err = st.CreateUser(ctx, auth.User{Email: "ÉLODIE@example.com", PasswordHash: "h", DateJoined: base})
			wantErr(t, "CreateUser of a migrated address in another case", err, auth.ErrConflict)
		})
	}
}

func TestDeletedUserIDsAreNeverReused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		joined := time.Now().UTC()
		first, err := st.CreateUser(ctx, auth.User{Email: "first@example.com", PasswordHash: "x", IsActive: true, DateJoined: joined})
		if err != nil {
			t.Fatal(err)
		}
		storetest.DeleteUser(t, st, first.ID)
		// An import also moves the PostgreSQL sequence; it must not move it back.
		if err := st.SyncUserIDs(ctx); err != nil {
			t.Fatal(err)
		}
		second, err := st.CreateUser(ctx, auth.User{Email: "second@example.com", PasswordHash: "x", IsActive: true, DateJoined: joined})
		if err != nil {
			t.Fatal(err)
		}
		if second.ID <= first.ID {
			t.Fatalf("new user got id %d after deleted user %d: tokens of the deleted user would name the new one", second.ID, first.ID)
		}
	})
}

func TestSessionUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
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
		wantErr(t, "SessionUser of a missing session", err, auth.ErrNotFound)
	})
}
