package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/storetest"
)

// With the session cache production runs with, every revocation is refused
// at once on the replica that made it: no request in between sees the
// session alive.
func TestCachedSessionsSeeEveryRevocationAtOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		const pw = "correct horse battery staple"
		e.createUser("cache@example.com", pw)
		live := func(p pair) {
			t.Helper()
			if resp := e.get("/auth/me/", p.Access); resp.status != http.StatusOK {
				t.Fatalf("/auth/me/ before the revocation: %d %s", resp.status, resp.body)
			}
		}

		p := e.login("cache@example.com", pw)
		live(p)
		if resp := e.postJSON("/auth/logout/", jsonBody(map[string]string{"refresh": p.Refresh})); resp.status != http.StatusNoContent {
			t.Fatalf("logout: %d", resp.status)
		}
		expectError(t, e.get("/auth/me/", p.Access), http.StatusUnauthorized, "token_not_valid")

		p = e.login("cache@example.com", pw)
		live(p)
		if resp := e.request(http.MethodPost, "/auth/logout/all/", "", "", map[string]string{"Authorization": "Bearer " + p.Access}); resp.status != http.StatusNoContent {
			t.Fatalf("logout all: %d", resp.status)
		}
		expectError(t, e.get("/auth/me/", p.Access), http.StatusUnauthorized, "token_not_valid")

		p = e.login("cache@example.com", pw)
		live(p)
		if resp := e.bearerRequest(http.MethodDelete, "/auth/sessions/"+sidOf(t, p)+"/", p.Access, "x"); resp.status != http.StatusNoContent {
			t.Fatalf("end session: %d %s", resp.status, resp.body)
		}
		expectError(t, e.get("/auth/me/", p.Access), http.StatusUnauthorized, "token_not_valid")

		// Reuse: the session is revoked by a replayed token.
		p = e.login("cache@example.com", pw)
		next := decodePair(t, e.refresh(p.Refresh))
		live(next)
		e.clock.Advance(time.Minute) // past the grace interval
		expectError(t, e.refresh(p.Refresh), http.StatusUnauthorized, "token_reused")
		expectError(t, e.get("/auth/me/", next.Access), http.StatusUnauthorized, "token_reused")

		// A password change revokes the user's other sessions.
		here, there := e.login("cache@example.com", pw), e.login("cache@example.com", pw)
		live(there)
		body := jsonBody(map[string]string{"current_password": pw, "new_password": "a brand new passphrase"})
		if resp := e.request(http.MethodPost, "/auth/password/change/", "application/json", body, map[string]string{"Authorization": "Bearer " + here.Access}); resp.status != http.StatusOK {
			t.Fatalf("password change: %d %s", resp.status, resp.body)
		}
		expectError(t, e.get("/auth/me/", there.Access), http.StatusUnauthorized, "token_not_valid")

		// An administrator's deactivation, in this process.
		p = e.login("cache@example.com", "a brand new passphrase")
		live(p)
		if _, err := e.svc.DeactivateUser(t.Context(), "cache@example.com"); err != nil {
			t.Fatal(err)
		}
		expectError(t, e.get("/auth/me/", p.Access), http.StatusUnauthorized, "user_inactive")
	}, withSessionCache(time.Second))
}

// Two replicas on one PostgreSQL database, each with its cache: a logout on
// one is refused by the other within 100 ms.
func TestRevocationReachesOtherReplicas(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := newAPIEnv(t, storetest.OpenURL(t, url), withSessionCache(time.Second))
	b := newAPIEnv(t, storetest.OpenURL(t, url), withSessionCache(time.Second))
	a.createUser("replica@example.com", "correct horse battery staple")
	time.Sleep(200 * time.Millisecond) // the listeners connect and LISTEN

	for _, revoke := range []struct {
		name string
		do   func(p pair) response
		code string
	}{
		{"logout", func(p pair) response {
			return a.postJSON("/auth/logout/", jsonBody(map[string]string{"refresh": p.Refresh}))
		}, "token_not_valid"},
		{"logout all", func(p pair) response {
			return a.request(http.MethodPost, "/auth/logout/all/", "", "", map[string]string{"Authorization": "Bearer " + p.Access})
		}, "token_not_valid"},
	} {
		p := a.login("replica@example.com", "correct horse battery staple")
		if resp := b.get("/auth/me/", p.Access); resp.status != http.StatusOK {
			t.Fatalf("%s: /auth/me/ on replica B before: %d", revoke.name, resp.status)
		}
		if resp := revoke.do(p); resp.status != http.StatusNoContent {
			t.Fatalf("%s on replica A: %d %s", revoke.name, resp.status, resp.body)
		}
		start := time.Now()
		for {
			resp := b.get("/auth/me/", p.Access)
			if resp.status == http.StatusUnauthorized {
				expectError(t, resp, http.StatusUnauthorized, revoke.code)
				break
			}
			if time.Since(start) > 100*time.Millisecond {
				t.Fatalf("%s on replica A: replica B still answers /auth/me/ %d after %s", revoke.name, resp.status, time.Since(start))
			}
			time.Sleep(2 * time.Millisecond)
		}
		t.Logf("%s on replica A: refused by replica B after %s", revoke.name, time.Since(start))
	}
}
