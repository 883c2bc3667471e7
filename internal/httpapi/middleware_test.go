package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
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

// The client is the TCP peer, or behind trusted proxies the right-most
// X-Forwarded-For entry that is not one: nothing a client writes further
// left, or sends to an untrusted peer, is believed.
func TestClientAddress(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		peer, forwarded, want string
	}{
		{"192.0.2.7:5000", "", "192.0.2.7"},
		{"192.0.2.7:5000", "198.51.100.1", "192.0.2.7"},             // untrusted peer: ignored
		{"10.0.0.2:5000", "", "10.0.0.2"},                           // a proxy with nothing to say
		{"10.0.0.2:5000", "198.51.100.1", "198.51.100.1"},           // the gateway's view
		{"10.0.0.2:5000", "6.6.6.6, 198.51.100.1", "198.51.100.1"},  // the client's own claim, left
		{"10.0.0.2:5000", "198.51.100.1, 10.9.9.9", "198.51.100.1"}, // two proxies
		{"10.0.0.2:5000", "10.1.1.1, 10.9.9.9", "10.1.1.1"},         // all trusted: the left-most
		{"10.0.0.2:5000", "garbage, 10.9.9.9", "10.9.9.9"},          // stops at what no proxy wrote
		{"10.0.0.2:5000", "198.51.100.1:4711", "198.51.100.1"},      // with a port
		{"[::ffff:10.0.0.2]:5000", "198.51.100.1", "198.51.100.1"},  // an IPv4-mapped peer
		{"[::1]:5000", "2001:db8::1", "2001:db8::1"},                // IPv6
		{"10.0.0.2:5000", "[2001:db8::2]:443, ::ffff:198.51.100.3", "198.51.100.3"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "/auth/health/", nil)
		r.RemoteAddr = c.peer
		if c.forwarded != "" {
			r.Header.Set("X-Forwarded-For", c.forwarded)
		}
		if got := clientAddress(r, trusted); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %q, want %q", c.peer, c.forwarded, got, c.want)
		}
	}
}
