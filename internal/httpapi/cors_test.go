package httpapi_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ecommerce/auth-service/api"
	"github.com/ecommerce/auth-service/internal/httpapi"
)

// preflight sends a CORS preflight as a browser does before a cross-origin
// POST with a JSON body and the given request headers. Preflights are
// answered before routing, so there is no operation to validate against.
func (e *apiEnv) preflight(path, origin, requestHeaders string) response {
	e.t.Helper()
	return e.preflightFor(http.MethodPost, path, origin, requestHeaders)
}

// preflightFor is preflight for a request of another method.
func (e *apiEnv) preflightFor(method, path, origin, requestHeaders string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodOptions, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", requestHeaders)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// varies reports whether the response's Vary lists name.
func varies(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), name) {
				return true
			}
		}
	}
	return false
}

func listed(header, name string) bool {
	return slices.ContainsFunc(strings.Split(header, ","), func(f string) bool {
		return strings.EqualFold(strings.TrimSpace(f), name)
	})
}

func TestCORSPreflight(t *testing.T) {
	eachStoreWith(t, cookieOptions, func(t *testing.T, e *apiEnv) {
		for _, path := range []string{"/auth/token/refresh/", "/auth/me/", "/auth/nope/"} {
			resp := e.preflight(path, shopOrigin, "content-type,x-token-transport")
			h := resp.header
			if resp.status != http.StatusNoContent || len(resp.body) != 0 {
				t.Fatalf("preflight %s from an allowed origin: %d %q, want 204 without a body", path, resp.status, resp.body)
			}
			if h.Get("Access-Control-Allow-Origin") != shopOrigin || h.Get("Access-Control-Allow-Credentials") != "true" ||
				h.Get("Access-Control-Max-Age") == "" || !varies(h, "Origin") {
				t.Errorf("preflight %s: headers %v", path, h)
			}
			if m := h.Get("Access-Control-Allow-Methods"); !listed(m, "POST") || !listed(m, "GET") || !listed(m, "DELETE") {
				t.Errorf("Access-Control-Allow-Methods %q, want GET, POST and DELETE", m)
			}
			for _, name := range []string{"Authorization", "Content-Type", "X-Token-Transport", "X-Request-ID"} {
				if !listed(h.Get("Access-Control-Allow-Headers"), name) {
					t.Errorf("Access-Control-Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), name)
				}
			}
		}

		// An origin not allowed: a JSON 403 and no CORS header, so the browser refuses.
		for _, origin := range []string{"https://evil.example", "http://shop.example", "null"} {
			resp := e.preflight("/auth/token/refresh/", origin, "content-type")
			expectError(t, resp, http.StatusForbidden, "origin_not_allowed")
			for name := range resp.header {
				if strings.HasPrefix(name, "Access-Control-") {
					t.Errorf("preflight from %s: %s: %q", origin, name, resp.header.Get(name))
				}
			}
			if !varies(resp.header, "Origin") {
				t.Errorf("preflight from %s: no Vary: Origin", origin)
			}
		}

		// OPTIONS that is not a preflight is still a method the API lacks.
		expectError(t, e.request(http.MethodOptions, "/auth/health/", "", "", map[string]string{"Origin": shopOrigin}),
			http.StatusMethodNotAllowed, "method_not_allowed")
	})
}

func TestCORSActualResponses(t *testing.T) {
	eachStoreWith(t, cookieOptions, func(t *testing.T, e *apiEnv) {
		e.createUser("cors@example.com", "pw-12345")
		ok := e.request(http.MethodGet, "/auth/health/", "", "", map[string]string{"Origin": shopOrigin})
		// Errors too must be readable, or the app cannot tell a 401 from a network failure.
		unauthorized := e.request(http.MethodGet, "/auth/me/", "", "", map[string]string{"Origin": shopOrigin})
		// Also the answers of the middleware before the handler: 431 and 413.
		tooBig := e.request(http.MethodGet, "/auth/health/", "", "", map[string]string{"Origin": shopOrigin, "X-Big": strings.Repeat("a", 20<<10)})
		tooLarge := e.request(http.MethodPost, "/auth/token/", "application/json", `{"email":"`+strings.Repeat("a", 2<<20)+`"}`, map[string]string{"Origin": shopOrigin})
		if tooBig.status != http.StatusRequestHeaderFieldsTooLarge || tooLarge.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized requests: %d, %d; want 431, 413", tooBig.status, tooLarge.status)
		}
		for _, resp := range []response{ok, unauthorized, tooBig, tooLarge} {
			h := resp.header
			if h.Get("Access-Control-Allow-Origin") != shopOrigin || h.Get("Access-Control-Allow-Credentials") != "true" ||
				!varies(h, "Origin") || !listed(h.Get("Access-Control-Expose-Headers"), "X-Request-ID") ||
				!listed(h.Get("Access-Control-Expose-Headers"), "Retry-After") {
				t.Errorf("%d to an allowed origin: headers %v", resp.status, h)
			}
		}
		other := e.request(http.MethodGet, "/auth/health/", "", "", map[string]string{"Origin": "https://evil.example"})
		none := e.request(http.MethodGet, "/auth/health/", "", "", nil)
		for _, resp := range []response{other, none} {
			if resp.status != http.StatusOK || resp.header.Get("Access-Control-Allow-Origin") != "" ||
				resp.header.Get("Access-Control-Allow-Credentials") != "" || !varies(resp.header, "Origin") {
				t.Errorf("response to another or no origin: %d %v", resp.status, resp.header)
			}
		}
	})
}

// Without the cookie transport, cross-origin calls carry no credentials:
// bearer tokens travel in Authorization, which CORS allows without them.
// Without origins, there is no cross-origin access at all.
func TestCORSWithoutCookieOrOrigins(t *testing.T) {
	eachStoreWith(t, httpapi.Options{CORSAllowedOrigins: []string{shopOrigin}}, func(t *testing.T, e *apiEnv) {
		resp := e.preflight("/auth/me/", shopOrigin, "authorization")
		if resp.status != http.StatusNoContent || resp.header.Get("Access-Control-Allow-Origin") != shopOrigin ||
			resp.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight without the cookie transport: %d %v", resp.status, resp.header)
		}
	})
	eachStore(t, func(t *testing.T, e *apiEnv) {
		expectError(t, e.preflight("/auth/me/", shopOrigin, "authorization"), http.StatusForbidden, "origin_not_allowed")
		resp := e.request(http.MethodGet, "/auth/health/", "", "", map[string]string{"Origin": shopOrigin})
		if resp.header.Get("Access-Control-Allow-Origin") != "" || varies(resp.header, "Origin") {
			t.Errorf("no origins configured, yet: %v", resp.header)
		}
	})
}

// A browser app may call every operation of the spec cross-origin: the
// preflight allows each method the spec uses (DELETE /auth/sessions/{id}/).
func TestCORSAllowsEveryMethodOfTheSpec(t *testing.T) {
	doc, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	eachStoreWith(t, cookieOptions, func(t *testing.T, e *apiEnv) {
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				resp := e.preflightFor(method, strings.ReplaceAll(path, "{id}", "abc"), shopOrigin, "authorization")
				if resp.status != http.StatusNoContent || !listed(resp.header.Get("Access-Control-Allow-Methods"), method) {
					t.Errorf("preflight for %s %s: %d, Access-Control-Allow-Methods %q", method, path, resp.status, resp.header.Get("Access-Control-Allow-Methods"))
				}
			}
		}
	})
}
