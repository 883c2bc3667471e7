package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/passwordpolicy"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

const (
	goodPassword  = "correct horse battery staple"
	otherPassword = "tr0ub4dor&3-zebra-crossing"
	tokenTTL      = 30 * time.Minute
)

// accounts is a service with sign-up open over st, on a clock the test sets,
// counting the password hashes it computes.
type accounts struct {
	svc    *auth.Service
	st     store.DB
	keys   *token.Keys
	clock  *clock
	hasher *countingHasher
}

func newAccounts(t *testing.T, st store.DB) *accounts {
	t.Helper()
	clk := &clock{now: base}
	hasher := &countingHasher{Hasher: cheapHasher(t)}
	keys := testKeys(t)
	params := auth.Params{
		AccessTTL: time.Minute, RefreshTTL: refreshTTL, ReuseInterval: 10 * time.Second,
		SignupOpen: true, EmailTokenTTL: tokenTTL, Policy: passwordpolicy.Policy{MinLength: 12},
	}
	svc := auth.New(st, keys, hasher, clk.Now, params, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &accounts{svc: svc, st: st, keys: keys, clock: clk, hasher: hasher}
}

// events takes every event due by now+1h out of the outbox, oldest first,
// as a dispatcher would claim them.
func (a *accounts) events(t *testing.T) []auth.Event {
	t.Helper()
	now := a.clock.Now().Add(time.Hour)
	claimed, err := a.st.ClaimOutboxEvents(t.Context(), now, now.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(claimed, func(x, y auth.OutboxEvent) int { return x.CreatedAt.Compare(y.CreatedAt) })
	var out []auth.Event
	for _, c := range claimed {
		var ev auth.Event
		if err := json.Unmarshal(c.Payload, &ev); err != nil {
			t.Fatalf("event %s: %v", c.ID, err)
		}
		if ev.ID != c.ID || ev.Type != c.Type {
			t.Errorf("event row %s/%s holds %s/%s", c.ID, c.Type, ev.ID, ev.Type)
		}
		if err := a.st.DeleteOutboxEvent(t.Context(), c.ID); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// oneEvent takes the events and fails unless there is exactly one, of type typ.
func (a *accounts) oneEvent(t *testing.T, typ string) auth.Event {
	t.Helper()
	evs := a.events(t)
	if len(evs) != 1 || evs[0].Type != typ {
		t.Fatalf("events %+v, want one %s", evs, typ)
	}
	return evs[0]
}

func (a *accounts) user(t *testing.T, email string) auth.User {
	t.Helper()
	u, err := a.st.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatalf("UserByEmail(%s): %v", email, err)
	}
	return u
}

// signUp registers and verifies email with pw, returning the active user.
func (a *accounts) signUp(t *testing.T, email, pw string) auth.User {
	t.Helper()
	if err := a.svc.Register(t.Context(), email, pw); err != nil {
		t.Fatalf("Register: %v", err)
	}
	ev := a.oneEvent(t, auth.NotifyEmailVerification)
	if err := a.svc.VerifyEmail(t.Context(), ev.Data.Token); err != nil {
		t.Fatalf("VerifyEmail: %v", err)
	}
	return a.user(t, email)
}

func TestRegisterAndVerify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		if err := a.svc.Register(ctx, " New@Example.com ", goodPassword); err != nil {
			t.Fatal(err)
		}
		u := a.user(t, "new@example.com")
		if u.IsActive || u.EmailVerifiedAt != nil || u.Email != "New@Example.com" {
			t.Fatalf("signed-up user %+v: want inactive, unverified, email as typed", u)
		}
		ev := a.oneEvent(t, auth.NotifyEmailVerification)
		if ev.Data.Email != "New@Example.com" || ev.Data.UserID != u.ID || len(ev.Data.Token) < 26 ||
			ev.Data.ExpiresAt == nil || !ev.Data.ExpiresAt.Equal(base.Add(tokenTTL)) {
			t.Fatalf("verification event %+v", ev)
		}
		if _, err := a.svc.Login(ctx, "new@example.com", goodPassword); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("login before verification: %v, want ErrBadCredentials", err)
		}
		if err := a.svc.VerifyEmail(ctx, ev.Data.Token); err != nil {
			t.Fatal(err)
		}
		if u := a.user(t, "new@example.com"); !u.IsActive || u.EmailVerifiedAt == nil {
			t.Fatalf("verified user %+v: want active and verified", u)
		}
		if _, err := a.svc.Login(ctx, "new@example.com", goodPassword); err != nil {
			t.Fatalf("login after verification: %v", err)
		}
		if err := a.svc.VerifyEmail(ctx, ev.Data.Token); !errors.Is(err, auth.ErrOneTimeTokenInvalid) {
			t.Errorf("second use of the token: %v, want ErrOneTimeTokenInvalid", err)
		}
		if err := a.svc.VerifyEmail(ctx, "no-such-token"); !errors.Is(err, auth.ErrOneTimeTokenInvalid) {
			t.Errorf("unknown token: %v", err)
		}
	})
}

// A taken address answers like a new one, at the cost of one hash too, and
// tells its owner; the account is untouched.
func TestRegisterTakenAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		owner := a.signUp(t, "owner@example.com", goodPassword)
		for _, email := range []string{"fresh@example.com", "OWNER@example.com"} {
			a.hasher.verifies = 0
			hashesBefore := a.hasher.hashes
			if err := a.svc.Register(ctx, email, otherPassword); err != nil {
				t.Fatalf("Register(%s): %v", email, err)
			}
			if n := a.hasher.hashes - hashesBefore; n != 1 || a.hasher.verifies != 0 {
				t.Errorf("Register(%s) computed %d hashes and %d verifies, want exactly 1 hash", email, n, a.hasher.verifies)
			}
		}
		evs := a.events(t)
		if len(evs) != 2 || evs[0].Type != auth.NotifyEmailVerification || evs[1].Type != auth.NotifyAccountExists {
			t.Fatalf("events %+v, want email_verification then account_exists", evs)
		}
		if evs[1].Data.Token != "" || evs[1].Data.UserID != owner.ID || evs[1].Data.Email != "owner@example.com" {
			t.Errorf("account_exists event %+v", evs[1])
		}
		if _, err := a.svc.Login(ctx, "owner@example.com", goodPassword); err != nil {
			t.Errorf("the owner's password changed: %v", err)
		}
	})
}

// Signing up again for an address never verified tells its owner and
// changes nothing: the first link still works, with the first password. A
// second sign-up that replaced the password would let a stranger choose the
// password the owner then activates by clicking the newest link.
func TestRegisterAgainBeforeVerifying(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		if err := a.svc.Register(ctx, "again@example.com", goodPassword); err != nil {
			t.Fatal(err)
		}
		first := a.oneEvent(t, auth.NotifyEmailVerification)
		if err := a.svc.Register(ctx, "again@example.com", otherPassword); err != nil {
			t.Fatal(err)
		}
		if ev := a.oneEvent(t, auth.NotifyAccountExists); ev.Data.Token != "" || ev.Data.Email != "again@example.com" {
			t.Errorf("account_exists event %+v", ev)
		}
		if err := a.svc.VerifyEmail(ctx, first.Data.Token); err != nil {
			t.Fatalf("the first link after a second sign-up: %v", err)
		}
		if _, err := a.svc.Login(ctx, "again@example.com", goodPassword); err != nil {
			t.Errorf("login with the first password: %v", err)
		}
		if _, err := a.svc.Login(ctx, "again@example.com", otherPassword); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("login with the second sign-up's password: %v, want ErrBadCredentials", err)
		}
	})
}

func TestRegisterRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		for pw, want := range map[string]error{
			"short":                    auth.ErrPasswordTooShort,
			"password1234":             auth.ErrPasswordTooCommon,
			"refused-person-rides-bus": auth.ErrPasswordTooSimilar,
		} {
			err := a.svc.Register(ctx, "refused-person@example.com", pw)
			var refusal *auth.PasswordRefusal
			if !errors.Is(err, want) || !errors.As(err, &refusal) || refusal.Message == "" {
				t.Errorf("Register with %q: %v, want %v with a message", pw, err, want)
			}
		}
		if err := a.svc.Register(ctx, "not an email", goodPassword); !errors.Is(err, auth.ErrInvalidUser) {
			t.Errorf("invalid email: %v", err)
		}
		if evs := a.events(t); len(evs) != 0 {
			t.Errorf("refused sign-ups queued events: %+v", evs)
		}
		if _, err := st.UserByEmail(ctx, "refused-person@example.com"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("a refused sign-up created the account: %v", err)
		}
		closed := auth.New(st, a.keys, cheapHasher(t), a.clock.Now, auth.Params{EmailTokenTTL: tokenTTL}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := closed.Register(ctx, "someone@example.com", goodPassword); !errors.Is(err, auth.ErrSignupClosed) {
			t.Errorf("sign-up closed: %v, want ErrSignupClosed", err)
		}
	})
}

func TestOneTimeTokensExpire(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		if err := a.svc.Register(ctx, "late@example.com", goodPassword); err != nil {
			t.Fatal(err)
		}
		ev := a.oneEvent(t, auth.NotifyEmailVerification)
		a.clock.Set(base.Add(tokenTTL))
		if err := a.svc.VerifyEmail(ctx, ev.Data.Token); !errors.Is(err, auth.ErrOneTimeTokenInvalid) {
			t.Errorf("token at its expiry: %v, want ErrOneTimeTokenInvalid", err)
		}
		// The cleanup deletes it.
		a.clock.Set(base.Add(tokenTTL + time.Second))
		if _, err := a.svc.Cleanup(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if _, err := st.OneTimeToken(ctx, auth.HashToken(ev.Data.Token), auth.PurposeVerifyEmail); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("expired token after cleanup: %v, want ErrNotFound", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		u := a.signUp(t, "changer@example.com", goodPassword)
		here, err := a.svc.Login(ctx, u.Email, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		elsewhere, err := a.svc.Login(ctx, u.Email, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.svc.RequestPasswordReset(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		reset := a.oneEvent(t, auth.NotifyPasswordReset)
		p, err := a.svc.Authenticate(ctx, here.Access)
		if err != nil {
			t.Fatal(err)
		}

		a.hasher.verifies = 0
		if _, err := a.svc.ChangePassword(ctx, p, "wrong password!", otherPassword); !errors.Is(err, auth.ErrWrongPassword) {
			t.Fatalf("wrong current password: %v, want ErrWrongPassword", err)
		}
		if a.hasher.verifies != 1 {
			t.Errorf("wrong current password cost %d verifies, want 1", a.hasher.verifies)
		}
		if _, err := a.svc.ChangePassword(ctx, p, goodPassword, "short"); !errors.Is(err, auth.ErrPasswordTooShort) {
			t.Fatalf("weak new password: %v", err)
		}
		if _, err := a.svc.Login(ctx, u.Email, goodPassword); err != nil {
			t.Fatalf("a refused change changed the password: %v", err)
		}
		a.events(t)

		pair, err := a.svc.ChangePassword(ctx, p, goodPassword, otherPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Authenticate(ctx, here.Access); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Errorf("the session's access token from before the change: %v, want ErrTokenInvalid", err)
		}
		claims, _ := a.keys.Parse(pair.Refresh, a.clock.Now())
		if claims.SessionID != p.SessionID {
			t.Errorf("the new pair is of session %s, want the current %s", claims.SessionID, p.SessionID)
		}
		if _, err := a.svc.Authenticate(ctx, pair.Access); err != nil {
			t.Errorf("new access token: %v", err)
		}
		if _, err := a.svc.Rotate(ctx, here.Refresh); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Errorf("the session's previous refresh token: %v, want ErrTokenInvalid", err)
		}
		if _, err := a.svc.Rotate(ctx, pair.Refresh); err != nil {
			t.Errorf("the new refresh token (the session must survive the old one's refusal): %v", err)
		}
		if _, err := a.svc.Authenticate(ctx, elsewhere.Access); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Errorf("another session after the change: %v, want ErrTokenInvalid", err)
		}
		if _, err := a.svc.Login(ctx, u.Email, goodPassword); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("login with the old password: %v", err)
		}
		if _, err := a.svc.Login(ctx, u.Email, otherPassword); err != nil {
			t.Errorf("login with the new password: %v", err)
		}
		if err := a.svc.ResetPassword(ctx, reset.Data.Token, "yet another passphrase 9"); !errors.Is(err, auth.ErrOneTimeTokenInvalid) {
			t.Errorf("a reset link from before the change: %v, want ErrOneTimeTokenInvalid", err)
		}
		ev := a.oneEvent(t, auth.NotifyPasswordChanged)
		if ev.Data.Reason != auth.ChangedByUser || ev.Data.UserID != u.ID || ev.Data.Token != "" {
			t.Errorf("password_changed event %+v", ev)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		u := a.signUp(t, "forgetful@example.com", goodPassword)
		session, err := a.svc.Login(ctx, u.Email, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.svc.RequestPasswordReset(ctx, "nobody@example.com"); err != nil {
			t.Fatal(err)
		}
		if ev := a.oneEvent(t, auth.NotifyPasswordResetUnavailable); ev.Data.Email != "nobody@example.com" || ev.Data.Token != "" {
			t.Errorf("unknown address: %+v", ev)
		}
		if err := a.svc.RequestPasswordReset(ctx, "FORGETFUL@example.com"); err != nil {
			t.Fatal(err)
		}
		first := a.oneEvent(t, auth.NotifyPasswordReset)
		if err := a.svc.RequestPasswordReset(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		ev := a.oneEvent(t, auth.NotifyPasswordReset)
		if ev.Data.UserID != u.ID || ev.Data.Email != u.Email || ev.Data.Token == "" || ev.Data.Token == first.Data.Token {
			t.Fatalf("reset event %+v", ev)
		}
		if err := a.svc.ResetPassword(ctx, first.Data.Token, otherPassword); !errors.Is(err, auth.ErrOneTimeTokenInvalid) {
			t.Errorf("superseded reset token: %v", err)
		}
		// A refused password keeps the token, for another try.
		if err := a.svc.ResetPassword(ctx, ev.Data.Token, "forgetful-again-2024"); !errors.Is(err, auth.ErrPasswordTooSimilar) {
			t.Fatalf("weak password: %v", err)
		}
		if err := a.svc.ResetPassword(ctx, ev.Data.Token, otherPassword); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.ResetPassword(ctx, ev.Data.Token, otherPassword); !errors.Is(err, auth.ErrOneTimeTokenInvalid) {
			t.Errorf("second use: %v", err)
		}
		if _, err := a.svc.Authenticate(ctx, session.Access); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Errorf("a session from before the reset: %v, want ErrTokenInvalid", err)
		}
		if _, err := a.svc.Login(ctx, u.Email, otherPassword); err != nil {
			t.Errorf("login with the new password: %v", err)
		}
		if ev := a.oneEvent(t, auth.NotifyPasswordChanged); ev.Data.Reason != auth.ChangedByReset {
			t.Errorf("event %+v, want password_changed by reset", ev)
		}
	})
}

// A reset proves the mailbox as verification does: it activates a sign-up
// never verified. An account an administrator deactivated stays so.
func TestPasswordResetAndInactiveAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		if err := a.svc.Register(ctx, "unverified@example.com", goodPassword); err != nil {
			t.Fatal(err)
		}
		a.events(t)
		if err := a.svc.RequestPasswordReset(ctx, "unverified@example.com"); err != nil {
			t.Fatal(err)
		}
		ev := a.oneEvent(t, auth.NotifyPasswordReset)
		if err := a.svc.ResetPassword(ctx, ev.Data.Token, otherPassword); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Login(ctx, "unverified@example.com", otherPassword); err != nil {
			t.Errorf("login after a reset of a never-verified account: %v", err)
		}
		a.events(t)

		banned := a.signUp(t, "banned@example.com", goodPassword)
		if _, err := a.svc.DeactivateUser(ctx, banned.Email); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.RequestPasswordReset(ctx, banned.Email); err != nil {
			t.Fatal(err)
		}
		a.oneEvent(t, auth.NotifyPasswordResetUnavailable)
		if err := a.svc.Register(ctx, banned.Email, otherPassword); err != nil {
			t.Fatal(err)
		}
		a.oneEvent(t, auth.NotifyAccountExists)
		if u := a.user(t, banned.Email); u.IsActive {
			t.Error("a deactivated account was reactivated")
		}
	})
}

func TestRolesInTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		u, err := a.svc.CreateAccount(ctx, auth.NewAccount{Email: "clerk@example.com", Password: goodPassword, Staff: true, Roles: []string{"support", "catalog:write", "support"}})
		if err != nil {
			t.Fatal(err)
		}
		pair, err := a.svc.Login(ctx, u.Email, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		claims, _ := a.keys.Parse(pair.Access, a.clock.Now())
		if !slices.Equal(claims.Roles, []string{"catalog:write", "support"}) || !claims.IsStaff {
			t.Fatalf("access claims %+v, want roles [catalog:write support] and is_staff", claims)
		}
		if refresh, _ := a.keys.Parse(pair.Refresh, a.clock.Now()); refresh.Roles != nil {
			t.Errorf("the refresh token carries roles %v", refresh.Roles)
		}
		p, err := a.svc.Authenticate(ctx, pair.Access)
		if err != nil || !slices.Equal(p.Roles, claims.Roles) {
			t.Errorf("principal roles %v, %v", p.Roles, err)
		}
		// A change of roles revokes the sessions; an unchanged grant does not.
		if changed, err := a.svc.GrantRole(ctx, u.Email, "support"); err != nil || changed {
			t.Fatalf("granting a role held: %v, %v", changed, err)
		}
		if _, err := a.svc.Authenticate(ctx, pair.Access); err != nil {
			t.Fatalf("an unchanged grant revoked the session: %v", err)
		}
		if changed, err := a.svc.RevokeRole(ctx, u.Email, "support"); err != nil || !changed {
			t.Fatalf("RevokeRole: %v, %v", changed, err)
		}
		if _, err := a.svc.Authenticate(ctx, pair.Access); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Errorf("a session after a role change: %v, want ErrTokenInvalid", err)
		}
		pair, _ = a.svc.Login(ctx, u.Email, goodPassword)
		if claims, _ := a.keys.Parse(pair.Access, a.clock.Now()); !slices.Equal(claims.Roles, []string{"catalog:write"}) {
			t.Errorf("roles after the revocation %v", claims.Roles)
		}
		if _, err := a.svc.GrantRole(ctx, u.Email, "Not A Role"); !errors.Is(err, auth.ErrInvalidRole) {
			t.Errorf("invalid role: %v", err)
		}
		if _, err := a.svc.GrantRole(ctx, "ghost@example.com", "support"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
		// A user without roles gets tokens without the claim.
		plain, _ := a.svc.CreateUser(ctx, "plain@example.com", goodPassword, false, false)
		pair, _ = a.svc.Login(ctx, plain.Email, goodPassword)
		if claims, _ := a.keys.Parse(pair.Access, a.clock.Now()); claims.Roles != nil || claims.IsStaff {
			t.Errorf("claims of a plain user %+v", claims)
		}
	})
}

func TestAdminUseCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		if _, err := a.svc.CreateAccount(ctx, auth.NewAccount{Email: "weak@example.com", Password: "pw-12345"}); !errors.Is(err, auth.ErrPasswordTooShort) {
			t.Fatalf("weak password: %v", err)
		}
		u, err := a.svc.CreateAccount(ctx, auth.NewAccount{Email: "weak@example.com", Password: "pw-12345", SkipPolicy: true, Roles: []string{"ops"}})
		if err != nil || !u.IsActive || u.EmailVerifiedAt == nil {
			t.Fatalf("CreateAccount with SkipPolicy: %+v, %v", u, err)
		}
		pair, _ := a.svc.Login(ctx, u.Email, "pw-12345")
		rec, err := a.svc.ShowUser(ctx, "WEAK@example.com")
		if err != nil || rec.ID != u.ID || !slices.Equal(rec.Roles, []string{"ops"}) || rec.LiveSessions != 1 {
			t.Fatalf("ShowUser = %+v, %v", rec, err)
		}
		if n, err := a.svc.RevokeSessions(ctx, u.Email); err != nil || n != 1 {
			t.Errorf("RevokeSessions = %d, %v", n, err)
		}
		if _, err := a.svc.Authenticate(ctx, pair.Access); !errors.Is(err, auth.ErrTokenInvalid) {
			t.Errorf("session after RevokeSessions: %v", err)
		}
		pair, _ = a.svc.Login(ctx, u.Email, "pw-12345")
		if _, err := a.svc.SetPassword(ctx, u.Email, "short", false); !errors.Is(err, auth.ErrPasswordTooShort) {
			t.Errorf("SetPassword weak: %v", err)
		}
		if n, err := a.svc.SetPassword(ctx, u.Email, goodPassword, false); err != nil || n != 1 {
			t.Errorf("SetPassword = %d, %v", n, err)
		}
		if ev := a.oneEvent(t, auth.NotifyPasswordChanged); ev.Data.Reason != auth.ChangedByAdmin {
			t.Errorf("event %+v", ev)
		}
		pair, _ = a.svc.Login(ctx, u.Email, goodPassword)
		if n, err := a.svc.DeactivateUser(ctx, u.Email); err != nil || n != 1 {
			t.Errorf("DeactivateUser = %d, %v", n, err)
		}
		if _, err := a.svc.Authenticate(ctx, pair.Access); !errors.Is(err, auth.ErrUserInactive) && !errors.Is(err, auth.ErrTokenInvalid) {
			t.Errorf("session after deactivation: %v", err)
		}
		if _, err := a.svc.Login(ctx, u.Email, goodPassword); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("login when deactivated: %v", err)
		}
		if err := a.svc.ActivateUser(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Login(ctx, u.Email, goodPassword); err != nil {
			t.Errorf("login after activation: %v", err)
		}
		list, err := a.svc.ListUsers(ctx)
		if err != nil || len(list) != 1 || list[0].Email != u.Email || !slices.Equal(list[0].Roles, []string{"ops"}) {
			t.Errorf("ListUsers = %+v, %v", list, err)
		}
		for name, err := range map[string]error{
			"show":       func() error { _, err := a.svc.ShowUser(ctx, "ghost@example.com"); return err }(),
			"deactivate": func() error { _, err := a.svc.DeactivateUser(ctx, "ghost@example.com"); return err }(),
			"activate":   a.svc.ActivateUser(ctx, "ghost@example.com"),
		} {
			if !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("%s of an unknown user: %v, want ErrNotFound", name, err)
			}
		}
	})
}

// Every event goes out in the transaction of its change: a failed change
// (here a refused password) queues nothing, a committed one exactly one.
func TestEventsAreWrittenWithTheirChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := context.Background()
		a := newAccounts(t, st)
		_ = a.svc.Register(ctx, "atomic@example.com", "short")
		if evs := a.events(t); len(evs) != 0 {
			t.Fatalf("events of a refused sign-up: %+v", evs)
		}
		_ = a.svc.Register(ctx, "atomic@example.com", goodPassword)
		if evs := a.events(t); len(evs) != 1 {
			t.Fatalf("events of a sign-up: %+v", evs)
		}
	})
}

// Every change to an account is on the audit trail, with who did it: the
// user (sign-up, verification, change, reset) or an administrator.
func TestAccountChangesAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := t.Context()
		a := newAccounts(t, st)
		trail := func() []string {
			t.Helper()
			events, err := a.svc.SecurityEvents(ctx, auth.EventQuery{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range slices.Backward(events) { // oldest first
				switch e.Kind {
				case auth.EventLoginSucceeded, auth.EventLoginFailed:
					continue
				}
				out = append(out, string(e.Kind)+" "+e.Detail)
			}
			return out
		}
		u := a.signUp(t, "trail@example.com", goodPassword)
		pair, err := a.svc.Login(ctx, u.Email, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.svc.Authenticate(ctx, pair.Access)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.ChangePassword(ctx, p, "not my password!", otherPassword); !errors.Is(err, auth.ErrWrongPassword) {
			t.Fatalf("wrong current password: %v", err)
		}
		if _, err := a.svc.ChangePassword(ctx, p, goodPassword, otherPassword); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.RequestPasswordReset(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		a.events(t) // the sign-up's and the change's
		if err := a.svc.RequestPasswordReset(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.ResetPassword(ctx, a.oneEvent(t, auth.NotifyPasswordReset).Data.Token, goodPassword); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.GrantRole(ctx, u.Email, "support"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.RevokeRole(ctx, u.Email, "support"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.SetPassword(ctx, u.Email, otherPassword, false); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.RevokeSessions(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.DeactivateUser(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.ActivateUser(ctx, u.Email); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.CreateAccount(ctx, auth.NewAccount{Email: "staff@example.com", Password: goodPassword, Roles: []string{"ops", "catalog:write"}}); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"account_created signup",
			"email_verified ",
			"password_change_failed ",
			"password_changed change",
			"password_changed reset",
			"role_granted admin; support; 0 sessions revoked",
			"role_revoked admin; support; 0 sessions revoked",
			"password_changed admin",
			"sessions_revoked admin; 0 sessions",
			"user_deactivated admin; 0 sessions revoked",
			"user_activated admin",
			"account_created admin; roles catalog:write,ops",
		}
		if got := trail(); !slices.Equal(got, want) {
			t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
