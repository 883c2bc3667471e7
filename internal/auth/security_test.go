package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

// The clients of the scenarios below, as the HTTP layer would put them in
// the request context.
var (
	victim = auth.Client{Address: "192.0.2.10", UserAgent: "VictimBrowser/1.0", RequestID: "req-victim"}
	thief  = auth.Client{Address: "203.0.113.66", UserAgent: "ThiefScript/0.1", RequestID: "req-thief"}
)

func as(c auth.Client) context.Context { return auth.WithClient(context.Background(), c) }

// events returns the session's events, oldest first.
func (r *rig) events(t *testing.T, sessionID string) []auth.SecurityEvent {
	t.Helper()
	all, err := r.st.SecurityEvents(t.Context(), auth.EventQuery{Since: time.Time{}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []auth.SecurityEvent
	for i := len(all) - 1; i >= 0; i-- {
		if sessionID == "" || all[i].SessionID == sessionID {
			out = append(out, all[i])
		}
	}
	return out
}

func kinds(events []auth.SecurityEvent) []auth.EventKind {
	out := make([]auth.EventKind, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

func lastOf(t *testing.T, events []auth.SecurityEvent, kind auth.EventKind) auth.SecurityEvent {
	t.Helper()
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Kind == kind {
			return events[i]
		}
	}
	t.Fatalf("no %s event among %v", kind, kinds(events))
	return auth.SecurityEvent{}
}

// A grace replay hands out the successor only while it is unused, marks it
// exposed, and is recorded with the replaying client.
func TestGraceReplayRules(t *testing.T) {
	const grace = 10 * time.Second
	storetest.Each(t, func(t *testing.T, st store.DB) {
		r := newRig(t, st, testKeys(t), &clock{now: base}, grace)
		r.createUser(t, "v@x.com")

		t.Run("the replayed successor is exposed and the replay recorded", func(t *testing.T) {
			p0, sid := r.login(t, "v@x.com")
			p1, err := r.svc.Rotate(as(victim), p0.Refresh)
			if err != nil {
				t.Fatal(err)
			}
			r.clock.Set(r.clock.Now().Add(2 * time.Second))
			again, err := r.svc.Rotate(as(thief), p0.Refresh)
			if err != nil || again != p1 {
				t.Fatalf("replay within grace = %v (same pair %t), want p1", err, again == p1)
			}
			if r.stored(t, p1.Refresh).ExposedAt == nil {
				t.Error("the successor handed out twice is not marked exposed")
			}
			e := lastOf(t, r.events(t, sid), auth.EventGraceReplay)
			if e.Client.Address != thief.Address || e.Client.UserAgent != thief.UserAgent || e.Client.RequestID != thief.RequestID {
				t.Errorf("grace replay recorded with client %+v, want the replaying one %+v", e.Client, thief)
			}
			// The victim moves on; the thief's copy of p1 is now worthless:
			// presenting it, even at once, revokes the session.
			if _, err := r.svc.Rotate(as(victim), p1.Refresh); err != nil {
				t.Fatal(err)
			}
			if _, err := r.svc.Rotate(as(thief), p1.Refresh); !errors.Is(err, auth.ErrTokenReused) {
				t.Fatalf("the exposed, retired successor within grace: %v, want ErrTokenReused", err)
			}
			wantRevoked(t, r, sid, auth.ReasonReuse, r.clock.Now())
			if e := lastOf(t, r.events(t, sid), auth.EventRefreshReuse); e.Client.Address != thief.Address || e.Detail == "" {
				t.Errorf("reuse event %+v", e)
			}
		})

		t.Run("a replay after the successor was used is reuse", func(t *testing.T) {
			p0, sid := r.login(t, "v@x.com")
			p1, err := r.svc.Rotate(as(victim), p0.Refresh)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.svc.Rotate(as(victim), p1.Refresh); err != nil {
				t.Fatal(err)
			}
			if _, err := r.svc.Rotate(as(thief), p0.Refresh); !errors.Is(err, auth.ErrTokenReused) {
				t.Fatalf("replay of p0 after p1 was used: %v, want ErrTokenReused", err)
			}
			wantRevoked(t, r, sid, auth.ReasonReuse, r.clock.Now())
		})

		t.Run("a thief that rotates first is found out at the victim's next refresh", func(t *testing.T) {
			p0, sid := r.login(t, "v@x.com")
			stolen, err := r.svc.Rotate(as(thief), p0.Refresh)
			if err != nil {
				t.Fatal(err)
			}
			// The victim's refresh within grace looks like a second tab: it
			// gets the thief's pair, which both now hold, exposed.
			mine, err := r.svc.Rotate(as(victim), p0.Refresh)
			if err != nil || mine != stolen {
				t.Fatalf("victim's replay: %v", err)
			}
			if _, err := r.svc.Rotate(as(thief), stolen.Refresh); err != nil {
				t.Fatal(err)
			}
			if _, err := r.svc.Rotate(as(victim), mine.Refresh); !errors.Is(err, auth.ErrTokenReused) {
				t.Fatalf("victim's next refresh: %v, want ErrTokenReused", err)
			}
			wantRevoked(t, r, sid, auth.ReasonReuse, r.clock.Now())
		})

		t.Run("a successor sealed under another key fails closed", func(t *testing.T) {
			p0, sid := r.login(t, "v@x.com")
			if _, err := r.svc.Rotate(as(victim), p0.Refresh); err != nil {
				t.Fatal(err)
			}
			// The secret rolls: the old one only verifies now, and the sealing
			// secret is derived from the new one.
			rolled, err := token.NewHS256([]byte("the-next-secret-0123456789-ABCDEFGHIJ"), []byte(testSecret))
			if err != nil {
				t.Fatal(err)
			}
			after := newRig(t, st, rolled, r.clock, grace)
			_, err = after.svc.Rotate(as(victim), p0.Refresh)
			if !errors.Is(err, auth.ErrTokenInvalid) || errors.Is(err, auth.ErrTokenReused) {
				t.Fatalf("replay across a secret roll: %v, want ErrTokenInvalid", err)
			}
			wantLive(t, r, sid)
		})
	})
}

// A refresh token presented to verify, or as a bearer token, is looked at,
// not used: a retired one is reuse, a live one loses its grace interval.
func TestRefreshTokensPresentedElsewhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		r := newRig(t, st, testKeys(t), &clock{now: base}, 10*time.Second)
		r.createUser(t, "e@x.com")
		present := map[string]func(ctx context.Context, raw string) error{
			"verify": func(ctx context.Context, raw string) error { return r.svc.Verify(ctx, raw) },
			"bearer": func(ctx context.Context, raw string) error { _, err := r.svc.Authenticate(ctx, raw); return err },
		}
		for name, look := range present {
			t.Run(name+": a retired token revokes the session", func(t *testing.T) {
				p0, sid := r.login(t, "e@x.com")
				p1, err := r.svc.Rotate(as(victim), p0.Refresh)
				if err != nil {
					t.Fatal(err)
				}
				if err := look(as(thief), p0.Refresh); !errors.Is(err, auth.ErrTokenReused) {
					t.Fatalf("%s of a retired refresh token: %v, want ErrTokenReused", name, err)
				}
				wantRevoked(t, r, sid, auth.ReasonReuse, r.clock.Now())
				if _, err := r.svc.Rotate(as(victim), p1.Refresh); !errors.Is(err, auth.ErrTokenReused) {
					t.Errorf("the victim's next refresh: %v, want ErrTokenReused", err)
				}
				if e := lastOf(t, r.events(t, sid), auth.EventRefreshReuse); e.Client != thief {
					t.Errorf("reuse recorded with client %+v", e.Client)
				}
			})
			t.Run(name+": a live token loses its grace", func(t *testing.T) {
				p0, sid := r.login(t, "e@x.com")
				err := look(as(thief), p0.Refresh)
				if name == "verify" && err != nil || name == "bearer" && !errors.Is(err, auth.ErrTokenInvalid) {
					t.Fatalf("%s of a live refresh token: %v", name, err)
				}
				if r.stored(t, p0.Refresh).ExposedAt == nil {
					t.Fatal("not marked exposed")
				}
				if _, err := r.svc.Rotate(as(victim), p0.Refresh); err != nil {
					t.Fatalf("a live exposed token no longer rotates: %v", err)
				}
				if _, err := r.svc.Rotate(as(thief), p0.Refresh); !errors.Is(err, auth.ErrTokenReused) {
					t.Fatalf("replay of an exposed token within grace: %v, want ErrTokenReused", err)
				}
				wantRevoked(t, r, sid, auth.ReasonReuse, r.clock.Now())
			})
		}
	})
}

// Every event of the trail is written, with the caller, and without a
// password or a token anywhere in it.
func TestSecurityEventsAreRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := as(victim)
		r := newRig(t, st, testKeys(t), &clock{now: base}, 10*time.Second)
		u := r.createUser(t, "audit@x.com")
		const pw = "pw-12345"

		if _, err := r.svc.Login(as(thief), " AUDIT@x.com", "wrong-password"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatal(err)
		}
		if _, err := r.svc.Login(as(thief), "nobody@x.com", "guess-1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatal(err)
		}
		// An outdated hash is upgraded at login, in the login's transaction.
		legacy, err := password.New(password.Params{MemoryKiB: 32, Iterations: 1, Parallelism: 1})
		if err != nil {
			t.Fatal(err)
		}
		oldHash, err := legacy.Hash(t.Context(), pw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ReplacePasswordHash(t.Context(), u.ID, mustUserHash(t, st, u.ID), oldHash); err != nil {
			t.Fatal(err)
		}
		p, err := r.svc.Login(ctx, "audit@x.com", pw)
		if err != nil {
			t.Fatal(err)
		}
		sid := sessionOf(t, r, p)
		second, _ := r.login(t, "audit@x.com")
		principal, err := r.svc.Authenticate(ctx, p.Access)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.svc.EndSession(ctx, principal, sessionOf(t, r, second)); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.LogoutAll(ctx, principal); err != nil {
			t.Fatal(err)
		}
		third, _ := r.login(t, "audit@x.com")
		if err := r.svc.Logout(ctx, third.Refresh); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.RecordKeysLoaded(context.Background()); err != nil {
			t.Fatal(err)
		}

		all := r.events(t, "")
		want := []auth.EventKind{
			auth.EventLoginFailed, auth.EventLoginFailed,
			auth.EventPasswordHashUpgraded, auth.EventLoginSucceeded, auth.EventLoginSucceeded,
			auth.EventSessionRevoked, auth.EventLogoutAll, auth.EventLoginSucceeded, auth.EventLogout, auth.EventKeyLoaded,
		}
		if got := kinds(all); !equalKinds(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		failed, unknown := all[0], all[1]
		if failed.Email != " AUDIT@x.com" || failed.UserID != u.ID || failed.Client != thief {
			t.Errorf("failed login of a known account: %+v", failed)
		}
		if unknown.Email != "nobody@x.com" || unknown.UserID != 0 {
			t.Errorf("failed login of an unknown address: %+v", unknown)
		}
		if up := all[2]; up.UserID != u.ID || up.SessionID != sid || up.Client != victim {
			t.Errorf("hash upgrade event %+v", up)
		}
		if in := all[3]; in.UserID != u.ID || in.SessionID != sid || in.Client != victim || in.Email != "" {
			t.Errorf("login event %+v", in)
		}
		if ended := all[5]; ended.SessionID != sessionOf(t, r, second) || ended.Client != victim {
			t.Errorf("session revoked event %+v", ended)
		}
		if all[6].SessionID != sid || !strings.Contains(all[6].Detail, "sessions") {
			t.Errorf("logout all event %+v", all[6])
		}
		if key := all[9]; key.UserID != 0 || !strings.Contains(key.Detail, "alg=HS256") || !strings.Contains(key.Detail, "use=signing") {
			t.Errorf("key loaded event %+v", key)
		}
		secrets := []string{pw, "wrong-password", "guess-1", p.Access, p.Refresh, third.Refresh, testSecret, oldHash}
		for _, e := range all {
			for _, s := range secrets {
				if strings.Contains(e.Detail, s) || strings.Contains(e.Email, s) || strings.Contains(e.Client.UserAgent, s) {
					t.Errorf("event %s holds a secret", e.Kind)
				}
			}
		}
	})
}

// The cleanup job enforces the audit retention.
func TestCleanupEnforcesAuditRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		clk := &clock{now: base}
		params := auth.Params{AccessTTL: time.Minute, RefreshTTL: refreshTTL, AuditRetention: 90 * 24 * time.Hour}
		svc := auth.New(st, testKeys(t), cheapHasher(t), clk.Now, params, slog.New(slog.NewTextHandler(io.Discard, nil)))
		for range 3 {
			if _, err := svc.Login(context.Background(), "nobody@x.com", "pw"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatal(err)
			}
		}
		clk.Set(base.Add(60 * 24 * time.Hour))
		if _, err := svc.Login(context.Background(), "nobody@x.com", "pw"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatal(err)
		}
		clk.Set(base.Add(90*24*time.Hour + time.Second))
		n, err := svc.Cleanup(context.Background(), 2)
		if err != nil || n != 3 {
			t.Errorf("Cleanup = %d, %v; want the 3 events older than 90 days", n, err)
		}
		left, err := svc.SecurityEvents(context.Background(), auth.EventQuery{})
		if err != nil || len(left) != 1 {
			t.Errorf("events left: %d, %v; want 1", len(left), err)
		}
	})
}

// A user sees and ends only their own live sessions.
func TestListAndEndSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		r := newRig(t, st, testKeys(t), &clock{now: base}, 10*time.Second)
		r.createUser(t, "me@x.com")
		r.createUser(t, "you@x.com")
		first, err := r.svc.Login(as(victim), "me@x.com", "pw-12345")
		if err != nil {
			t.Fatal(err)
		}
		r.clock.Set(base.Add(10 * time.Second))
		phone, _ := r.login(t, "me@x.com")
		yours, _ := r.login(t, "you@x.com")
		r.clock.Set(base.Add(20 * time.Second))
		if _, err := r.svc.Rotate(as(thief), first.Refresh); err != nil {
			t.Fatal(err)
		}
		me, err := r.svc.Authenticate(as(victim), phone.Access)
		if err != nil {
			t.Fatal(err)
		}
		list, err := r.svc.ListSessions(as(victim), me)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListSessions = %d sessions, %v; want 2", len(list), err)
		}
		if list[0].ID != me.SessionID || list[1].ID != sessionOf(t, r, first) {
			t.Errorf("sessions not newest first: %s, %s", list[0].ID, list[1].ID)
		}
		if s := list[1]; s.CreatedBy.Address != victim.Address || s.CreatedBy.UserAgent != victim.UserAgent ||
			s.RefreshedAt == nil || !s.RefreshedAt.Equal(base.Add(20*time.Second)) || s.RefreshedBy.Address != thief.Address || s.RefreshedBy.UserAgent != thief.UserAgent {
			t.Errorf("session with its clients: %+v", s)
		}
		if err := r.svc.EndSession(as(victim), me, sessionOf(t, r, yours)); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("ending another user's session: %v, want ErrSessionNotFound", err)
		}
		wantLive(t, r, sessionOf(t, r, yours))
		if err := r.svc.EndSession(as(victim), me, "no-such-session"); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("ending a missing session: %v", err)
		}
		if err := r.svc.EndSession(as(victim), me, sessionOf(t, r, first)); err != nil {
			t.Fatal(err)
		}
		wantRevoked(t, r, sessionOf(t, r, first), auth.ReasonEnded, r.clock.Now())
		if err := r.svc.EndSession(as(victim), me, sessionOf(t, r, first)); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("ending an ended session: %v", err)
		}
		if list, _ := r.svc.ListSessions(as(victim), me); len(list) != 1 || list[0].ID != me.SessionID {
			t.Errorf("after ending one: %+v", list)
		}
	})
}

func equalKinds(a, b []auth.EventKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sessionOf(t *testing.T, r *rig, p auth.Pair) string {
	t.Helper()
	claims, err := r.keys.Parse(p.Refresh, r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return claims.SessionID
}

func mustUserHash(t *testing.T, st store.DB, id int64) string {
	t.Helper()
	u, err := st.UserByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordHash
}
