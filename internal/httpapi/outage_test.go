package httpapi_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
)

// With PostgreSQL gone, every operation that needs it answers 503
// unavailable with Retry-After: 1, fast, and readiness fails while liveness
// holds; within a second of its return everything works again, without a
// restart.
func TestDatabaseOutage(t *testing.T) {
	url := storetest.URL(t, "postgres")
	storetest.OpenURL(t, url) // migrated
	proxy, viaProxy := pgtest.NewProxy(t, url)
	st, err := store.Open(context.Background(), viaProxy, store.WithStatementTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newAPIEnv(t, st, withThrottle())
	e.createUser("user@example.com", "pw-12345")
	p := e.login("user@example.com", "pw-12345")
	bearer := map[string]string{"Authorization": "Bearer " + p.Access}
	requests := map[string]func() response{
		"login": func() response {
			return e.postJSON("/auth/token/", `{"email":"user@example.com","password":"pw-12345"}`)
		},
		"refresh": func() response { return e.refresh(p.Refresh) },
		"verify": func() response {
			return e.postJSON("/auth/token/verify/", jsonBody(map[string]string{"token": p.Access}))
		},
		"logout":     func() response { return e.postJSON("/auth/logout/", jsonBody(map[string]string{"refresh": p.Refresh})) },
		"logout all": func() response { return e.request(http.MethodPost, "/auth/logout/all/", "", "", bearer) },
		"me":         func() response { return e.request(http.MethodGet, "/auth/me/", "", "", bearer) },
	}

	proxy.Cut()
	for name, do := range requests {
		start := time.Now()
		resp := do()
		expectError(t, resp, http.StatusServiceUnavailable, "unavailable")
		if resp.header.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q, want 1", name, resp.header.Get("Retry-After"))
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: answered after %s", name, d)
		}
	}
	expectError(t, e.get("/auth/ready/", ""), http.StatusServiceUnavailable, "not_ready")
	if r := e.get("/auth/health/", ""); r.status != http.StatusOK {
		t.Errorf("liveness during the outage: %d, want 200", r.status)
	}
	if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("the outage was logged as a server error:\n%s", e.logs)
	}

	proxy.Restore()
	back := time.Now()
	for e.get("/auth/ready/", "").status != http.StatusOK {
		if time.Since(back) > time.Second {
			t.Fatal("not ready within 1s of the database's return")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for name, do := range requests {
		if r := do(); r.status >= 500 {
			t.Errorf("%s after recovery: %d %s", name, r.status, r.body)
		}
	}
	t.Logf("ready again %s after the database's return", time.Since(back).Round(time.Millisecond))
}

// A SQLite database held by another writer past the statement timeout
// answers 503 unavailable, not 500.
func TestSQLiteBusyAnswers503(t *testing.T) {
	url := storetest.URL(t, "sqlite")
	storetest.OpenURL(t, url)
	st, err := store.Open(context.Background(), url, store.WithStatementTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newAPIEnv(t, st)
	e.createUser("user@example.com", "pw-12345")

	other, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(url, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	resp := e.postJSON("/auth/token/", `{"email":"user@example.com","password":"pw-12345"}`)
	expectError(t, resp, http.StatusServiceUnavailable, "unavailable")
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	e.login("user@example.com", "pw-12345")
}
