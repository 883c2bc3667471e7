package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

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
