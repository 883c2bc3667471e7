package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/httpapi"
	"github.com/ecommerce/auth-service/internal/logging"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

// The benchmarks measure the service's own overhead (middleware, validation,
// routing, JSON) against a bare net/http handler writing the same body, in
// one run, so that the figure to read is the ratio, not the absolute time:
//
//	go test -run x -bench . -benchmem ./internal/httpapi/

func benchHandler(b *testing.B) (http.Handler, string) {
	h, pair := benchHandlerOn(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	return h, pair.Access
}

// benchHandlerOn is the service over the database at url, with one user
// logged in.
func benchHandlerOn(b *testing.B, url string) (http.Handler, auth.Pair) {
	b.Helper()
	st := storetest.OpenURL(b, url)
	keys, err := token.NewHS256([]byte(testSecret))
	if err != nil {
		b.Fatal(err)
	}
	hasher, err := password.New(cheapParams)
	if err != nil {
		b.Fatal(err)
	}
	log := logging.New(io.Discard, slog.LevelInfo)
	svc := auth.New(st, keys, hasher, time.Now, auth.Params{AccessTTL: time.Hour, RefreshTTL: 2 * time.Hour}, log)
	h, err := httpapi.New(svc, httpapi.Options{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateUser(b.Context(), "bench@example.com", "pw-12345", false, false); err != nil {
		b.Fatal(err)
	}
	pair, err := svc.Login(b.Context(), "bench@example.com", "pw-12345")
	if err != nil {
		b.Fatal(err)
	}
	return h, pair
}

func serve(b *testing.B, h http.Handler, req func() *http.Request) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req())
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkBareNetHTTPHealth(b *testing.B) {
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"auth-service-up"}`+"\n")
	})
	serve(b, bare, func() *http.Request { return httptest.NewRequest(http.MethodGet, "/auth/health/", nil) })
}

func BenchmarkHealth(b *testing.B) {
	h, _ := benchHandler(b)
	serve(b, h, func() *http.Request { return httptest.NewRequest(http.MethodGet, "/auth/health/", nil) })
}

// BenchmarkMe includes the token check and two SQLite reads (user, session).
func BenchmarkMe(b *testing.B) {
	h, access := benchHandler(b)
	serve(b, h, func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/auth/me/", nil)
		r.Header.Set("Authorization", "Bearer "+access)
		return r
	})
}

// BenchmarkRefreshPostgres follows one session's rotation chain, as a client
// does, on PostgreSQL: the service's share of a rotation (the database's
// shows in its own CPU).
func BenchmarkRefreshPostgres(b *testing.B) {
	h, pair := benchHandlerOn(b, pgtest.NewDatabase(b))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/auth/token/refresh/", strings.NewReader(`{"refresh":"`+pair.Refresh+`"}`))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var next struct{ Access, Refresh string }
		if err := json.Unmarshal(rec.Body.Bytes(), &next); err != nil {
			b.Fatal(err)
		}
		pair = auth.Pair{Access: next.Access, Refresh: next.Refresh}
	}
}
