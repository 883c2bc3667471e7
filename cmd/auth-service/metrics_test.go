package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/storetest"
)

// scrape returns the metrics page at addr.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	return string(body)
}

func TestMetricsOnTheirOwnListener(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			addr, metricsAddr := freeAddr(t), freeAddr(t)
			getenv := envMap("AUTH_DATABASE_URL", storetest.URL(t, kind), "AUTH_SECRET_KEY", testSecret,
				"AUTH_MIGRATE_ON_START", "true", "AUTH_LISTEN_ADDR", addr, "AUTH_METRICS_ADDR", metricsAddr)
			var out bytes.Buffer
			if err := run(context.Background(), []string{"createsuperuser", "--email", "m@example.com", "--noinput"},
				func(k string) string {
					if k == "AUTH_SUPERUSER_PASSWORD" {
						return "long-enough-pw"
					}
					return getenv(k)
				}, nil, &out, &out); err != nil {
				t.Fatalf("createsuperuser: %v\n%s", err, out.String())
			}
			startServe(t, getenv, addr)

			before := scrape(t, metricsAddr)
			resp, err := http.Post("http://"+addr+"/auth/token/", "application/json", strings.NewReader(`{"email":"m@example.com","password":"wrong"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			after := scrape(t, metricsAddr)
			want := `auth_http_requests_total{code="401",operation="obtainToken"} 1`
			if strings.Contains(before, want) || !strings.Contains(after, want) {
				t.Errorf("the login's 401 did not move auth_http_requests_total:\n%s", grep(after, "auth_http_requests_total"))
			}
			for _, name := range []string{`auth_http_request_duration_seconds_count{operation="obtainToken"} 1`, "go_goroutines", "process_resident_memory_bytes"} {
				if !strings.Contains(after, name) {
					t.Errorf("metrics lack %s", name)
				}
			}
			if kind == "postgres" && !strings.Contains(after, "auth_db_pool_acquires_total") {
				t.Error("PostgreSQL pool statistics are missing")
			}
			// The API listener, which the gateway routes to, does not serve them.
			resp, err = http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET /metrics on the API listener = %d, want 404", resp.StatusCode)
			}
		})
	}
}

func grep(text, substr string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// metricValue reads one sample of a scrape, such as
// `auth_logins_total{result="success"}`; 0 when it is absent.
func metricValue(t *testing.T, scraped, sample string) float64 {
	t.Helper()
	for _, line := range strings.Split(scraped, "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return 0
}

// Every domain counter moves when its outcome happens, on both stores:
// each login and refresh result, the sessions revoked and why, and the
// password hashes' queue.
func TestDomainMetricsMove(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			addr, metricsAddr := freeAddr(t), freeAddr(t)
			getenv := envMap("AUTH_DATABASE_URL", storetest.URL(t, kind), "AUTH_SECRET_KEY", testSecret,
				"AUTH_MIGRATE_ON_START", "true", "AUTH_LISTEN_ADDR", addr, "AUTH_METRICS_ADDR", metricsAddr,
				"AUTH_REFRESH_REUSE_INTERVAL", "1s", "AUTH_SUPERUSER_PASSWORD", "correct horse battery staple")
			if out, err := call(t, getenv, "createsuperuser", "--email", "counted@example.com", "--noinput"); err != nil {
				t.Fatalf("createsuperuser: %v\n%s", err, out)
			}
			startServe(t, getenv, addr)
			base := "http://" + addr
			login := func(pw string) map[string]any {
				t.Helper()
				status, body := postJSON(t, base+"/auth/token/", map[string]string{"email": "counted@example.com", "password": pw})
				if pw == "correct horse battery staple" && status != http.StatusOK {
					t.Fatalf("login: %d %v", status, body)
				}
				return body
			}
			refresh := func(tok any) (int, map[string]any) {
				t.Helper()
				return postJSON(t, base+"/auth/token/refresh/", map[string]string{"refresh": fmt.Sprint(tok)})
			}

			before := scrape(t, metricsAddr)
			// Every reason the server revokes for is there before it happens.
			for _, reason := range []string{"logout", "logout_all", "reuse", "ended", "password_changed"} {
				if !strings.Contains(before, `auth_sessions_revoked_total{reason="`+reason+`"} 0`) {
					t.Errorf("auth_sessions_revoked_total{reason=%q} is not exported at 0 from the start", reason)
				}
			}
			login("a wrong password")
			p := login("correct horse battery staple")
			if s, _ := refresh(p["refresh"]); s != http.StatusOK {
				t.Fatalf("refresh: %d", s)
			}
			if s, _ := refresh(p["refresh"]); s != http.StatusOK { // within the grace interval
				t.Fatalf("grace replay: %d", s)
			}
			time.Sleep(1100 * time.Millisecond)
			if s, _ := refresh(p["refresh"]); s != http.StatusUnauthorized { // reuse: the session is revoked
				t.Fatalf("reuse: %d", s)
			}
			if s, _ := refresh(p["refresh"]); s != http.StatusUnauthorized { // a session revoked before
				t.Fatalf("refresh in a revoked session: %d", s)
			}
			q := login("correct horse battery staple")
			if s, _ := postJSON(t, base+"/auth/logout/", map[string]string{"refresh": fmt.Sprint(q["refresh"])}); s != http.StatusNoContent {
				t.Fatalf("logout: %d", s)
			}
			for range 6 { // the logins since cleared the counter: 5 failures lock it, the 6th is refused
				login("a wrong password")
			}
			after := scrape(t, metricsAddr)

			for sample, want := range map[string]float64{
				`auth_logins_total{result="success"}`:          2,
				`auth_logins_total{result="bad_credentials"}`:  6,
				`auth_logins_total{result="throttled"}`:        1,
				`auth_refreshes_total{result="rotated"}`:       1,
				`auth_refreshes_total{result="grace_replay"}`:  1,
				`auth_refreshes_total{result="reuse_revoked"}`: 1,
				`auth_refreshes_total{result="invalid"}`:       1,
				`auth_sessions_revoked_total{reason="reuse"}`:  1,
				`auth_sessions_revoked_total{reason="logout"}`: 1,
				`auth_password_hash_wait_seconds_count`:        8, // every login the throttle let through
				`auth_logins_total{result="overloaded"}`:       0,
				`auth_refreshes_total{result="error"}`:         0,
				`auth_password_hash_memory_budget_bytes`:       64 << 20,
			} {
				if got := metricValue(t, after, sample) - metricValue(t, before, sample); got != want && !strings.HasSuffix(sample, "budget_bytes") {
					t.Errorf("%s moved by %v, want %v", sample, got, want)
				} else if strings.HasSuffix(sample, "budget_bytes") && metricValue(t, after, sample) != want {
					t.Errorf("%s = %v, want %v", sample, metricValue(t, after, sample), want)
				}
				if !strings.Contains(after, sample+" ") {
					t.Errorf("%s is not exported", sample)
				}
			}
			for _, name := range []string{"auth_password_hashes_in_flight ", "auth_password_hash_memory_bytes "} {
				if !strings.Contains(after, name) {
					t.Errorf("%sis not exported", name)
				}
			}
		})
	}
}
