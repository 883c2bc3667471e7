//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/gen/oapiclient"
	"github.com/ecommerce/auth-service/internal/pgtest"
)

// shopOrigin is the browser app's origin in TestGatewayCookieAndCORS.
const shopOrigin = "https://shop.example"

// withHeader sets one header of a generated-client request.
func withHeader(name, value string) oapiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set(name, value)
		return nil
	}
}

// refreshCookieOf returns the __Host-refresh cookie a response sets,
// failing unless it has the cookie transport's attributes.
func refreshCookieOf(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name != "__Host-refresh" {
			continue
		}
		if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
			t.Fatalf("Set-Cookie %q: want HttpOnly, Secure, SameSite=Strict, Path=/, no Domain", resp.Header.Get("Set-Cookie"))
		}
		return c
	}
	t.Fatalf("no __Host-refresh cookie set; Set-Cookie %q", resp.Header.Values("Set-Cookie"))
	return nil
}

// TestGatewayCookieAndCORS drives the cookie transport and CORS through the
// nginx gateway in front of two replicas, as a browser app on another origin
// would: the gateway passes the preflight to the service and the CORS and
// cookie headers back untouched. Subtests share state and run in order.
func TestGatewayCookieAndCORS(t *testing.T) {
	db := pgtest.NewDatabase(t)
	const email, password = "cookie@example.com", "cookie-password-1"
	createUser(t, db, email, password)
	env := []string{"AUTH_REFRESH_COOKIE=on", "AUTH_CORS_ALLOWED_ORIGINS=" + shopOrigin}
	a := startReplica(t, db, env)
	a.name = "A"
	b := startReplica(t, db, env)
	b.name = "B"
	replicas := []*replica{a, b}
	gw := startGateway(t, a, b)
	hc := newHTTPClient(t)
	api := newAPIClient(t, gw.url, hc)
	ctx := context.Background()
	cookie := oapiclient.TokenTransportCookie
	fromShop := withHeader("Origin", shopOrigin)

	preflight := func(t *testing.T, origin string) (*http.Response, *replica) {
		t.Helper()
		req, err := http.NewRequest(http.MethodOptions, gw.url+"/auth/token/refresh/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-token-transport")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp, servedBy(t, resp.Header.Get("X-Request-ID"), replicas...)
	}

	t.Run("preflight", func(t *testing.T) {
		resp, by := preflight(t, shopOrigin)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != shopOrigin ||
			h.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Token-Transport") ||
			!strings.Contains(h.Get("Vary"), "Origin") {
			t.Fatalf("preflight from %s through the gateway: %s %v", shopOrigin, resp.Status, h)
		}
		if by == nil {
			t.Fatal("no replica logged the preflight: nginx answered it itself")
		}
		t.Logf("OPTIONS /auth/token/refresh/ from %s -> 204 (answered by %v): Allow-Origin %s, Allow-Methods %q, Allow-Headers %q, Allow-Credentials %s, Max-Age %s",
			shopOrigin, by, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Methods"),
			h.Get("Access-Control-Allow-Headers"), h.Get("Access-Control-Allow-Credentials"), h.Get("Access-Control-Max-Age"))

		resp, by = preflight(t, "https://evil.example")
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" || by == nil {
			t.Fatalf("preflight from another origin: %s %v (served by %v), want 403 without CORS headers from a replica", resp.Status, resp.Header, by)
		}
		t.Logf("OPTIONS from https://evil.example -> 403 without Access-Control-* (answered by %v)", by)
	})

	var refresh *http.Cookie
	t.Run("login-sets-cookie", func(t *testing.T) {
		resp, err := api.ObtainTokenWithResponse(ctx, &oapiclient.ObtainTokenParams{XTokenTransport: &cookie},
			oapiclient.LoginRequest{Email: email, Password: password}, fromShop)
		if err != nil || resp.JSON200 == nil {
			t.Fatalf("login with X-Token-Transport: cookie: %v %s %s", err, statusOf(resp), bodyOf(resp))
		}
		if pairOf(resp.JSON200) != nil || bytes.Contains(resp.Body, []byte(`"refresh"`)) {
			t.Fatalf("the body carries the refresh token: %s", truncate(resp.Body, 200))
		}
		access, err := resp.JSON200.AsAccessToken()
		if err != nil || claims(t, access.Access)["token_type"] != "access" {
			t.Fatalf("body %s: %v", truncate(resp.Body, 200), err)
		}
		refresh = refreshCookieOf(t, resp.HTTPResponse)
		h := resp.HTTPResponse.Header
		if h.Get("Access-Control-Allow-Origin") != shopOrigin || h.Get("Access-Control-Allow-Credentials") != "true" ||
			!strings.Contains(h.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
			t.Errorf("login response to %s lacks its CORS headers: %v", shopOrigin, h)
		}
		t.Logf("POST /auth/token/ (cookie) -> 200 {access}, Set-Cookie __Host-refresh (HttpOnly, Secure, SameSite=Strict, Path=/, Max-Age %d), Allow-Origin %s",
			refresh.MaxAge, h.Get("Access-Control-Allow-Origin"))
	})

	t.Run("refresh-with-cookie-only", func(t *testing.T) {
		for i := range 3 {
			resp, err := api.RefreshTokenWithResponse(ctx, &oapiclient.RefreshTokenParams{XTokenTransport: &cookie, RefreshCookie: &refresh.Value},
				oapiclient.RefreshRequest{}, fromShop)
			if err != nil || resp.JSON200 == nil {
				t.Fatalf("refresh %d with the cookie only: %v %s %s", i+1, err, statusOf(resp), bodyOf(resp))
			}
			next := refreshCookieOf(t, resp.HTTPResponse)
			if next.Value == refresh.Value || sid(t, next.Value) != sid(t, refresh.Value) {
				t.Fatal("the cookie refresh did not rotate within the session")
			}
			refresh = next
			t.Logf("refresh %d: POST /auth/token/refresh/ with {} and the cookie -> 200 {access}, rotated cookie (served by %v)",
				i+1, servedBy(t, resp.HTTPResponse.Header.Get("X-Request-ID"), replicas...))
		}
	})

	t.Run("cross-site-refused", func(t *testing.T) {
		cases := []struct {
			name   string
			params *oapiclient.RefreshTokenParams
			origin string
		}{
			{"another site's Origin", &oapiclient.RefreshTokenParams{XTokenTransport: &cookie, RefreshCookie: &refresh.Value}, "https://evil.example"},
			{"no X-Token-Transport (a cross-site form)", &oapiclient.RefreshTokenParams{RefreshCookie: &refresh.Value}, shopOrigin},
		}
		for _, c := range cases {
			resp, err := api.RefreshTokenWithResponse(ctx, c.params, oapiclient.RefreshRequest{}, withHeader("Origin", c.origin))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode() != http.StatusForbidden || errorBody(t, resp.Body).Code != "csrf_failed" || resp.HTTPResponse.Header.Get("Set-Cookie") != "" {
				t.Fatalf("%s: %s %s, want 403 csrf_failed", c.name, resp.Status(), truncate(resp.Body, 200))
			}
			t.Logf("%s -> 403 %s", c.name, bytes.TrimSpace(resp.Body))
		}
	})

	t.Run("logout-clears-cookie", func(t *testing.T) {
		resp, err := api.LogoutWithResponse(ctx, &oapiclient.LogoutParams{XTokenTransport: &cookie, RefreshCookie: &refresh.Value},
			oapiclient.LogoutRequest{}, fromShop)
		if err != nil || resp.StatusCode() != http.StatusNoContent {
			t.Fatalf("logout with the cookie: %v %s %s", err, statusOf(resp), bodyOf(resp))
		}
		cleared := resp.HTTPResponse.Cookies()
		if len(cleared) != 1 || cleared[0].Name != "__Host-refresh" || cleared[0].Value != "" || cleared[0].MaxAge >= 0 {
			t.Fatalf("logout Set-Cookie %q, want __Host-refresh cleared (Max-Age=0)", resp.HTTPResponse.Header.Values("Set-Cookie"))
		}
		again, err := api.RefreshTokenWithResponse(ctx, &oapiclient.RefreshTokenParams{XTokenTransport: &cookie, RefreshCookie: &refresh.Value},
			oapiclient.RefreshRequest{}, fromShop)
		if err != nil || again.StatusCode() != http.StatusUnauthorized {
			t.Fatalf("refresh after logout: %v %s %s, want 401", err, statusOf(again), bodyOf(again))
		}
		t.Logf("POST /auth/logout/ (cookie) -> 204, Set-Cookie %q; the old cookie then -> 401 %s",
			resp.HTTPResponse.Header.Get("Set-Cookie"), errorCode(again.Body))
	})
}

// TestTypeScriptSession runs the TypeScript session helper's tests
// (`npm test` in clients/ts: under Node.js and in Chromium, each against the
// binary this package built, on SQLite).
func TestTypeScriptSession(t *testing.T) {
	start := time.Now()
	out := runNPMWithin(t, 6*time.Minute, []string{"AUTH_SERVICE_BIN=" + binPath}, "test")
	// The tests' own summary lines: what each scenario did.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "# ") && !strings.HasPrefix(line, "# Subtest") {
			t.Log(strings.TrimPrefix(line, "# "))
		}
	}
	t.Logf("npm test passed in %s", time.Since(start).Round(time.Second))
}
