package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/httpapi"
	"github.com/ecommerce/auth-service/internal/logging"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

// The benchmarks measure the service's own overhead (middleware, validation,
// routing, JSON) against a bare net/http handler writing the same body, in
// one run, so that the figure to read is the ratio, not the absolute time:
//
//	go test -run x -bench . -benchmem ./internal/httpapi/

func benchHandler(b *testing.B) (http.Handler, string) {
	b.Helper()
	st := storetest.OpenURL(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
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
	return h, pair.Access
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
