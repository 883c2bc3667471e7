package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
)

const (
	strongPassword = "correct horse battery staple"
	newerPassword  = "tr0ub4dor&3-zebra-crossing"
)

// events takes the queued events out of the outbox, as a dispatcher would.
func (e *apiEnv) events() []auth.Event {
	e.t.Helper()
	later := e.clock.Now().Add(time.Hour)
	claimed, err := e.store.ClaimOutboxEvents(e.t.Context(), later, later.Add(time.Hour), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	slices.SortFunc(claimed, func(a, b auth.OutboxEvent) int { return a.CreatedAt.Compare(b.CreatedAt) })
	out := make([]auth.Event, len(claimed))
	for i, c := range claimed {
		if err := json.Unmarshal(c.Payload, &out[i]); err != nil {
			e.t.Fatal(err)
		}
		if err := e.store.DeleteOutboxEvent(e.t.Context(), c.ID); err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

// token takes the queued events and returns the token of the newest of type typ.
func (e *apiEnv) token(typ string) string {
	e.t.Helper()
	tok := ""
	for _, ev := range e.events() {
		if ev.Type == typ && ev.Data.Token != "" {
			tok = ev.Data.Token
		}
	}
	if tok == "" {
		e.t.Fatalf("no %s event with a token", typ)
	}
	return tok
}

func (e *apiEnv) postBearer(path, access string, body any) response {
	e.t.Helper()
	return e.request(http.MethodPost, path, "application/json", jsonBody(body), map[string]string{"Authorization": "Bearer " + access})
}

// expectFieldError checks a 400 with code and a message on field.
func expectFieldError(t *testing.T, resp response, code, field string) {
	t.Helper()
	body := expectError(t, resp, http.StatusBadRequest, code)
	if body.Fields == nil || len((*body.Fields)[field]) == 0 {
		t.Errorf("400 %s without a message on %s: %s", code, field, resp.body)
	}
}

// The frontend's flow: sign up, verify with the mailed token, log in.
func TestSignupVerifyLogin(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		creds := map[string]string{"email": "Shopper@Example.com", "password": strongPassword}
		resp := e.postJSON("/auth/register/", jsonBody(creds))
		if resp.status != http.StatusAccepted {
			t.Fatalf("register: %d %s", resp.status, resp.body)
		}
		// Inactive until verified: login answers as for a wrong password.
		expectError(t, e.postJSON("/auth/token/", jsonBody(creds)), http.StatusUnauthorized, "no_active_account")

		// A taken address: the same answer, byte for byte.
		e.clock.Advance(time.Second)
		again := e.postJSON("/auth/register/", jsonBody(map[string]string{"email": "shopper@example.com", "password": newerPassword}))
		if again.status != resp.status || string(again.body) != string(resp.body) {
			t.Errorf("a taken address answered %d %s, a new one %d %s", again.status, again.body, resp.status, resp.body)
		}
		evs := e.events()
		if len(evs) != 2 || evs[0].Type != auth.NotifyEmailVerification || evs[1].Type != auth.NotifyAccountExists {
			t.Fatalf("events %+v, want email_verification, then account_exists for the second sign-up", evs)
		}
		tok := evs[0].Data.Token
		if r := e.postJSON("/auth/register/verify/", jsonBody(map[string]string{"token": tok})); r.status != http.StatusNoContent {
			t.Fatalf("verify: %d %s", r.status, r.body)
		}
		expectError(t, e.postJSON("/auth/register/verify/", jsonBody(map[string]string{"token": tok})), http.StatusBadRequest, "one_time_token_invalid")
		expectError(t, e.postJSON("/auth/register/verify/", `{}`), http.StatusBadRequest, "invalid")

		// The second sign-up changed nothing: the first password is the one.
		expectError(t, e.postJSON("/auth/token/", jsonBody(map[string]string{"email": "shopper@example.com", "password": newerPassword})),
			http.StatusUnauthorized, "no_active_account")
		p := e.login("shopper@example.com", strongPassword)
		me := e.get("/auth/me/", p.Access)
		if roles, ok := me.json(t)["roles"].([]any); me.status != http.StatusOK || !ok || len(roles) != 0 {
			t.Errorf("/auth/me/: %d %s, want roles []", me.status, me.body)
		}

		// Now verified and active: a sign-up tells the owner, and changes nothing.
		if r := e.postJSON("/auth/register/", jsonBody(creds)); r.status != http.StatusAccepted {
			t.Fatalf("register of an active address: %d", r.status)
		}
		if evs := e.events(); len(evs) != 1 || evs[0].Type != auth.NotifyAccountExists {
			t.Errorf("events %+v, want account_exists", evs)
		}
		e.login("shopper@example.com", strongPassword)
	})
}

func TestSignupClosed(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		resp := e.postJSON("/auth/register/", jsonBody(map[string]string{"email": "a@example.com", "password": strongPassword}))
		expectError(t, resp, http.StatusForbidden, "signup_closed")
	}, func(s *envSettings) { s.params.SignupOpen = false })
}

func TestPasswordPolicyAnswers(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		for pw, code := range map[string]string{
			"short-pw":                 "password_too_short",
			"password12345678":         "password_too_common",
			"lucy.smith-loves-bananas": "password_too_similar",
			strings.Repeat("x7-q", 33): "password_too_long",
		} {
			resp := e.postJSON("/auth/register/", jsonBody(map[string]string{"email": "Lucy.Smith@example.com", "password": pw}))
			expectFieldError(t, resp, code, "password")
		}
		expectFieldError(t, e.postJSON("/auth/register/", `{"email": "lucy@example.com"}`), "invalid", "password")
		expectFieldError(t, e.postJSON("/auth/register/", jsonBody(map[string]string{"email": "not-an-email", "password": strongPassword})), "invalid", "email")
		if evs := e.events(); len(evs) != 0 {
			t.Errorf("refused sign-ups queued %d events", len(evs))
		}
	})
}

func TestChangePasswordOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("mover@example.com", strongPassword)
		here := e.login("mover@example.com", strongPassword)
		there := e.login("mover@example.com", strongPassword)

		expectError(t, e.request(http.MethodPost, "/auth/password/change/", "application/json",
			jsonBody(map[string]string{"current_password": strongPassword, "new_password": newerPassword}), nil),
			http.StatusUnauthorized, "not_authenticated")
		expectFieldError(t, e.postBearer("/auth/password/change/", here.Access,
			map[string]string{"current_password": "not my password", "new_password": newerPassword}), "wrong_password", "current_password")
		expectFieldError(t, e.postBearer("/auth/password/change/", here.Access,
			map[string]string{"current_password": strongPassword, "new_password": "qwertyuiop123456"}), "password_too_common", "new_password")

		// In the very second of the login: tokens carry no finer time, so
		// it is the session's token generation that tells them apart.
		resp := e.postBearer("/auth/password/change/", here.Access, map[string]string{"current_password": strongPassword, "new_password": newerPassword})
		if resp.status != http.StatusOK {
			t.Fatalf("change: %d %s", resp.status, resp.body)
		}
		fresh := decodePair(t, resp)
		if r := e.get("/auth/me/", fresh.Access); r.status != http.StatusOK {
			t.Errorf("/me with the new pair: %d", r.status)
		}
		// The session goes on, with the new pair only: its access token from
		// before the change is refused here at once.
		expectError(t, e.get("/auth/me/", here.Access), http.StatusUnauthorized, "token_not_valid")
		if claims := decodeClaims(t, fresh.Access); claims["sid"] != decodeClaims(t, here.Access)["sid"] {
			t.Errorf("the new pair is of session %v, want the current %v", claims["sid"], decodeClaims(t, here.Access)["sid"])
		}
		expectError(t, e.get("/auth/me/", there.Access), http.StatusUnauthorized, "token_not_valid")
		expectError(t, e.refresh(there.Refresh), http.StatusUnauthorized, "token_not_valid")
		expectError(t, e.refresh(here.Refresh), http.StatusUnauthorized, "token_not_valid")
		if r := e.refresh(fresh.Refresh); r.status != http.StatusOK {
			t.Errorf("refresh with the new pair: %d %s", r.status, r.body)
		}
		expectError(t, e.postJSON("/auth/token/", jsonBody(map[string]string{"email": "mover@example.com", "password": strongPassword})),
			http.StatusUnauthorized, "no_active_account")
		e.login("mover@example.com", newerPassword)
		if evs := e.events(); len(evs) != 1 || evs[0].Type != auth.NotifyPasswordChanged || evs[0].Data.Reason != "change" {
			t.Errorf("events %+v, want one password_changed", evs)
		}
	})
}

func TestPasswordResetOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("lost@example.com", strongPassword)
		before := e.login("lost@example.com", strongPassword)

		known := e.postJSON("/auth/password/reset/", jsonBody(map[string]string{"email": "lost@example.com"}))
		unknown := e.postJSON("/auth/password/reset/", jsonBody(map[string]string{"email": "nobody@example.com"}))
		if known.status != http.StatusAccepted || unknown.status != known.status || string(unknown.body) != string(known.body) {
			t.Fatalf("reset: known %d %s, unknown %d %s; want the same 202", known.status, known.body, unknown.status, unknown.body)
		}
		tok := e.token(auth.NotifyPasswordReset)
		expectError(t, e.postJSON("/auth/password/reset/confirm/", jsonBody(map[string]string{"token": "bogus", "new_password": newerPassword})),
			http.StatusBadRequest, "one_time_token_invalid")
		expectFieldError(t, e.postJSON("/auth/password/reset/confirm/", jsonBody(map[string]string{"token": tok, "new_password": "too-short"})),
			"password_too_short", "new_password")
		if r := e.postJSON("/auth/password/reset/confirm/", jsonBody(map[string]string{"token": tok, "new_password": newerPassword})); r.status != http.StatusNoContent {
			t.Fatalf("confirm: %d %s", r.status, r.body)
		}
		expectError(t, e.postJSON("/auth/password/reset/confirm/", jsonBody(map[string]string{"token": tok, "new_password": newerPassword})),
			http.StatusBadRequest, "one_time_token_invalid")
		expectError(t, e.get("/auth/me/", before.Access), http.StatusUnauthorized, "token_not_valid")
		e.login("lost@example.com", newerPassword)
		expectFieldError(t, e.postJSON("/auth/password/reset/", `{"email": "no at sign"}`), "invalid", "email")
	})
}

func TestMeShowsRoles(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		u := e.createUser("staffer@example.com", strongPassword)
		if _, err := e.svc.GrantRole(t.Context(), u.Email, "orders:refund"); err != nil {
			t.Fatal(err)
		}
		p := e.login(u.Email, strongPassword)
		me := e.get("/auth/me/", p.Access).json(t)
		if roles, _ := me["roles"].([]any); len(roles) != 1 || roles[0] != "orders:refund" {
			t.Errorf("/auth/me/ = %v, want roles [orders:refund]", me)
		}
	})
}
