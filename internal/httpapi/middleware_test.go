package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ecommerce/auth-service/internal/auth"
)

// The caller reaches the domain through the context: address, a safe
// User-Agent, and the request id that is echoed.
func TestWithClient(t *testing.T) {
	var got auth.Client
	h := withClient(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = auth.ClientOf(r.Context()) }))
	req := httptest.NewRequest(http.MethodGet, "/auth/me/", nil)
	req.RemoteAddr = "192.0.2.7:51234"
	req.Header.Set("User-Agent", "tab\x00\x01 "+strings.Repeat("é", 200)+"\xff")
	req.Header.Set("X-Request-ID", "req-42")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if got.Address != "192.0.2.7" || got.RequestID != "req-42" || w.Header().Get("X-Request-ID") != "req-42" {
		t.Errorf("client = %+v, echoed id %q", got, w.Header().Get("X-Request-ID"))
	}
	if len(got.UserAgent) > maxUserAgent || strings.ContainsAny(got.UserAgent, "\x00\x01\xff") || !strings.HasPrefix(got.UserAgent, "tab é") {
		t.Errorf("User-Agent = %q (%d bytes), want printable, valid UTF-8, at most %d bytes", got.UserAgent, len(got.UserAgent), maxUserAgent)
	}
}
