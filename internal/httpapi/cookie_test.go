package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/httpapi"
)

// shopOrigin is the browser app's origin the cookie tests allow.
const shopOrigin = "https://shop.example"

// cookieOptions turn the cookie transport on, as AUTH_REFRESH_COOKIE=on
// with the default Secure cookie and shopOrigin allowed.
var cookieOptions = httpapi.Options{
	RefreshCookie:      httpapi.RefreshCookie{Enabled: true, MaxAge: 24 * time.Hour},
	CORSAllowedOrigins: []string{shopOrigin},
}

// cookieHeaders are a browser app's headers in the cookie transport, with
// the refresh cookie when refresh is not "".
func cookieHeaders(refresh string) map[string]string {
	h := map[string]string{"X-Token-Transport": "cookie", "Origin": shopOrigin}
	if refresh != "" {
		h["Cookie"] = "__Host-refresh=" + refresh
	}
	return h
}

// loginCookie logs in in the cookie transport and returns the access token
// of the body and the refresh token of the cookie.
func (e *apiEnv) loginCookie(email, pw string) (access, refresh string) {
	e.t.Helper()
	resp := e.request(http.MethodPost, "/auth/token/", "application/json",
		jsonBody(map[string]string{"email": email, "password": pw}), cookieHeaders(""))
	if resp.status != http.StatusOK {
		e.t.Fatalf("cookie login: %d %s", resp.status, resp.body)
	}
	return accessOnly(e.t, resp), refreshCookie(e.t, resp, "__Host-refresh", true)
}

// accessOnly decodes a cookie-transport body: {"access"} and nothing else.
func accessOnly(t *testing.T, resp response) string {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("body: %v: %s", err, resp.body)
	}
	access, _ := body["access"].(string)
	if len(body) != 1 || access == "" {
		t.Fatalf("cookie-transport body = %s, want {\"access\"} only: the refresh token must not reach scripts", resp.body)
	}
	return access
}

// refreshCookie checks the response's one Set-Cookie, the refresh token
// with the attributes of the cookie transport, and returns its value.
func refreshCookie(t *testing.T, resp response, name string, secure bool) string {
	t.Helper()
	return refreshCookieSameSite(t, resp, name, secure, http.SameSiteStrictMode)
}

// refreshCookieSameSite is refreshCookie for another SameSite attribute.
func refreshCookieSameSite(t *testing.T, resp response, name string, secure bool, sameSite http.SameSite) string {
	t.Helper()
	set := resp.header.Values("Set-Cookie")
	if len(set) != 1 {
		t.Fatalf("Set-Cookie = %q, want one cookie", set)
	}
	c, err := http.ParseSetCookie(set[0])
	if err != nil {
		t.Fatalf("Set-Cookie %q: %v", set[0], err)
	}
	if c.Name != name || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.Secure != secure ||
		c.SameSite != sameSite || c.MaxAge != 86400 {
		t.Fatalf("Set-Cookie %q: want %s, Path=/, no Domain, HttpOnly, Secure %t, SameSite %v, Max-Age=86400", set[0], name, secure, sameSite)
	}
	if decodeClaims(t, c.Value)["token_type"] != "refresh" {
		t.Fatalf("the cookie does not hold a refresh token")
	}
	return c.Value
}

func TestCookieTransportLoginRefreshLogout(t *testing.T) {
	eachStoreWith(t, cookieOptions, func(t *testing.T, e *apiEnv) {
		e.createUser("jar@example.com", "pw-12345")
		access, first := e.loginCookie("jar@example.com", "pw-12345")
		if r := e.get("/auth/me/", access); r.status != http.StatusOK {
			t.Fatalf("me with the cookie login's access token: %d %s", r.status, r.body)
		}

		// Refresh with the cookie only: no body at all.
		resp := e.request(http.MethodPost, "/auth/token/refresh/", "", "", cookieHeaders(first))
		if resp.status != http.StatusOK {
			t.Fatalf("refresh with the cookie: %d %s", resp.status, resp.body)
		}
		accessOnly(t, resp)
		second := refreshCookie(t, resp, "__Host-refresh", true)
		if second == first || decodeClaims(t, second)["sid"] != decodeClaims(t, first)["sid"] {
			t.Fatal("the cookie refresh did not rotate within the session")
		}
		// An empty JSON body is the same as none.
		resp = e.request(http.MethodPost, "/auth/token/refresh/", "application/json", `{}`, cookieHeaders(second))
		third := refreshCookie(t, resp, "__Host-refresh", true)

		// The cookie's rotation is the body's: the retired cookie is reuse.
		e.clock.Advance(11 * time.Second)
		expectError(t, e.request(http.MethodPost, "/auth/token/refresh/", "", "", cookieHeaders(first)),
			http.StatusUnauthorized, "token_reused")
		expectError(t, e.request(http.MethodPost, "/auth/token/refresh/", "", "", cookieHeaders(third)),
			http.StatusUnauthorized, "token_reused")

		// Logout with the cookie ends the session and clears the cookie.
		_, live := e.loginCookie("jar@example.com", "pw-12345")
		out := e.request(http.MethodPost, "/auth/logout/", "", "", cookieHeaders(live))
		if out.status != http.StatusNoContent {
			t.Fatalf("logout with the cookie: %d %s", out.status, out.body)
		}
		c, err := http.ParseSetCookie(out.header.Get("Set-Cookie"))
		if err != nil || c.Name != "__Host-refresh" || c.Value != "" || c.MaxAge != -1 || !strings.Contains(out.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Fatalf("logout Set-Cookie %q (%v), want __Host-refresh cleared with Max-Age=0", out.header.Get("Set-Cookie"), err)
		}
		expectError(t, e.request(http.MethodPost, "/auth/token/refresh/", "", "", cookieHeaders(live)),
			http.StatusUnauthorized, "token_not_valid")
	})
}

// Each defence of cookie.go refuses what it must and lets the app through;
// a refused request changes nothing.
func TestCookieTransportRefusesCrossSiteRequests(t *testing.T) {
	eachStoreWith(t, cookieOptions, func(t *testing.T, e *apiEnv) {
		e.createUser("csrf@example.com", "pw-12345")
		_, refresh := e.loginCookie("csrf@example.com", "pw-12345")
		ownOrigin := e.url // httptest's http://127.0.0.1:port: the Host of the requests
		refused := []struct {
			name   string
			header map[string]string
		}{
			{"cookie without X-Token-Transport (a cross-site form)", map[string]string{"Cookie": "__Host-refresh=" + refresh}},
			{"cookie with X-Token-Transport: body", map[string]string{"Cookie": "__Host-refresh=" + refresh, "X-Token-Transport": "body"}},
			{"Origin of another site", map[string]string{"Cookie": "__Host-refresh=" + refresh, "X-Token-Transport": "cookie", "Origin": "https://evil.example"}},
			{"Origin of the allowed host on another port", map[string]string{"Cookie": "__Host-refresh=" + refresh, "X-Token-Transport": "cookie", "Origin": shopOrigin + ":8443"}},
			{"opaque Origin null", map[string]string{"Cookie": "__Host-refresh=" + refresh, "X-Token-Transport": "cookie", "Origin": "null"}},
			{"no Origin, Sec-Fetch-Site: cross-site", map[string]string{"Cookie": "__Host-refresh=" + refresh, "X-Token-Transport": "cookie", "Sec-Fetch-Site": "cross-site"}},
			// The cookie is a browser's, and browsers send Origin on every POST.
			{"no Origin, Sec-Fetch-Site: same-origin", map[string]string{"Cookie": "__Host-refresh=" + refresh, "X-Token-Transport": "cookie", "Sec-Fetch-Site": "same-origin"}},
			{"no Origin at all", map[string]string{"Cookie": "__Host-refresh=" + refresh, "X-Token-Transport": "cookie"}},
		}
		for _, path := range []string{"/auth/token/refresh/", "/auth/logout/"} {
			for _, c := range refused {
				t.Run(path+" "+c.name, func(t *testing.T) {
					expectError(t, e.request(http.MethodPost, path, "", "", c.header), http.StatusForbidden, "csrf_failed")
				})
			}
		}
		// Login in the cookie transport sets the cookie: the origin check applies to it too.
		login := jsonBody(map[string]string{"email": "csrf@example.com", "password": "pw-12345"})
		resp := e.request(http.MethodPost, "/auth/token/", "application/json", login,
			map[string]string{"X-Token-Transport": "cookie", "Origin": "https://evil.example"})
		expectError(t, resp, http.StatusForbidden, "csrf_failed")
		if resp.header.Get("Set-Cookie") != "" {
			t.Error("a refused login set a cookie")
		}

		// None of them used the token: it still rotates, from each accepted kind of request.
		accepted := []struct {
			name   string
			header map[string]string
		}{
			{"allowed Origin", cookieHeaders("")},
			{"the service's own Origin", map[string]string{"X-Token-Transport": "cookie", "Origin": ownOrigin}},
		}
		for _, c := range accepted {
			c.header["Cookie"] = "__Host-refresh=" + refresh
			resp := e.request(http.MethodPost, "/auth/token/refresh/", "", "", c.header)
			if resp.status != http.StatusOK {
				t.Fatalf("%s: refresh %d %s, want 200", c.name, resp.status, resp.body)
			}
			refresh = refreshCookie(t, resp, "__Host-refresh", true)
		}
	})
}

func TestCookieTransportBodyWinsAndFieldErrors(t *testing.T) {
	eachStoreWith(t, cookieOptions, func(t *testing.T, e *apiEnv) {
		e.createUser("both@example.com", "pw-12345")
		body := e.login("both@example.com", "pw-12345")
		_, cookie := e.loginCookie("both@example.com", "pw-12345")

		// A body token needs no custom header, whatever cookie comes along,
		// and the body transport answers as always.
		resp := e.request(http.MethodPost, "/auth/token/refresh/", "application/json",
			jsonBody(map[string]string{"refresh": body.Refresh}), map[string]string{"Cookie": "__Host-refresh=" + cookie})
		next := decodePair(t, resp)
		if decodeClaims(t, next.Refresh)["sid"] != decodeClaims(t, body.Refresh)["sid"] || resp.header.Get("Set-Cookie") != "" {
			t.Fatalf("the body's token did not win over the cookie: %s, Set-Cookie %q", resp.body, resp.header.Get("Set-Cookie"))
		}
		// X-Token-Transport: body is the default, spelled out.
		resp = e.request(http.MethodPost, "/auth/token/refresh/", "application/json",
			jsonBody(map[string]string{"refresh": next.Refresh}), map[string]string{"X-Token-Transport": "body"})
		next = decodePair(t, resp)
		// A body token in the cookie transport moves the session into the cookie.
		resp = e.request(http.MethodPost, "/auth/token/refresh/", "application/json",
			jsonBody(map[string]string{"refresh": next.Refresh}), cookieHeaders(""))
		accessOnly(t, resp)
		refreshCookie(t, resp, "__Host-refresh", true)

		// Neither body nor cookie: DRF's field error, and a detail naming both ways.
		for _, path := range []string{"/auth/token/refresh/", "/auth/logout/"} {
			for _, req := range []struct{ contentType, body string }{{"", ""}, {"application/json", `{}`}} {
				resp := e.request(http.MethodPost, path, req.contentType, req.body, cookieHeaders(""))
				got := expectError(t, resp, http.StatusBadRequest, "invalid")
				if got.Fields == nil || len((*got.Fields)["refresh"]) != 1 || (*got.Fields)["refresh"][0] != "This field is required." ||
					!strings.Contains(got.Detail, "cookie") {
					t.Errorf("%s %q without token or cookie: %s", path, req.body, resp.body)
				}
			}
		}
		// A blank body token is still a blank field, not a cue to use the cookie.
		resp = e.request(http.MethodPost, "/auth/token/refresh/", "application/json", `{"refresh": ""}`, cookieHeaders(cookie))
		expectError(t, resp, http.StatusBadRequest, "invalid")
		expectError(t, e.request(http.MethodPost, "/auth/token/refresh/", "", "", map[string]string{"X-Token-Transport": "jar"}),
			http.StatusBadRequest, "invalid")
	})
}

// Where the deployment has not turned it on, the cookie transport does not
// exist: the header is refused and a cookie is never read.
func TestCookieTransportOffByDefault(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("off@example.com", "pw-12345")
		p := e.login("off@example.com", "pw-12345")
		login := jsonBody(map[string]string{"email": "off@example.com", "password": "pw-12345"})
		resp := e.request(http.MethodPost, "/auth/token/", "application/json", login, map[string]string{"X-Token-Transport": "cookie"})
		if got := expectError(t, resp, http.StatusBadRequest, "invalid"); !strings.Contains(got.Detail, "X-Token-Transport") {
			t.Errorf("detail %q does not say what is not enabled", got.Detail)
		}
		resp = e.request(http.MethodPost, "/auth/token/refresh/", "", "", map[string]string{"Cookie": "__Host-refresh=" + p.Refresh})
		got := expectError(t, resp, http.StatusBadRequest, "invalid")
		if got.Detail != "Invalid input." || got.Fields == nil || (*got.Fields)["refresh"][0] != "This field is required." {
			t.Errorf("refresh without a body token: %s, want the field error of old", resp.body)
		}
		if resp := e.refresh(p.Refresh); resp.status != http.StatusOK || resp.header.Get("Set-Cookie") != "" {
			t.Errorf("the body transport: %d %s, Set-Cookie %q", resp.status, resp.body, resp.header.Get("Set-Cookie"))
		}
	})
}

// Without HTTPS (AUTH_COOKIE_SECURE=false) the cookie is plain `refresh`,
// without Secure, and a __Host- cookie is not read.
func TestCookieTransportInsecureForDevelopment(t *testing.T) {
	opts := cookieOptions
	opts.RefreshCookie.Insecure = true
	eachStoreWith(t, opts, func(t *testing.T, e *apiEnv) {
		e.createUser("dev@example.com", "pw-12345")
		resp := e.request(http.MethodPost, "/auth/token/", "application/json",
			jsonBody(map[string]string{"email": "dev@example.com", "password": "pw-12345"}), cookieHeaders(""))
		refresh := refreshCookie(t, resp, "refresh", false)

		h := cookieHeaders("")
		h["Cookie"] = "__Host-refresh=" + refresh
		expectError(t, e.request(http.MethodPost, "/auth/token/refresh/", "", "", h), http.StatusBadRequest, "invalid")
		h["Cookie"] = "refresh=" + refresh
		resp = e.request(http.MethodPost, "/auth/token/refresh/", "", "", h)
		refreshCookie(t, resp, "refresh", false)
	})
}

// A cookie whose token fails for good (401) is cleared, so that the browser
// stops sending it; a refusal that is not about the token leaves it.
func TestCookieTransportClearsADeadCookie(t *testing.T) {
	eachStoreWith(t, cookieOptions, func(t *testing.T, e *apiEnv) {
		e.createUser("dead@example.com", "pw-12345")
		_, refresh := e.loginCookie("dead@example.com", "pw-12345")
		cleared := func(resp response) bool {
			c, err := http.ParseSetCookie(resp.header.Get("Set-Cookie"))
			return err == nil && c.Name == "__Host-refresh" && c.Value == "" && c.MaxAge == -1
		}
		for _, path := range []string{"/auth/token/refresh/", "/auth/logout/"} {
			resp := e.request(http.MethodPost, path, "", "", cookieHeaders("not-a-token"))
			expectError(t, resp, http.StatusUnauthorized, "token_not_valid")
			if !cleared(resp) {
				t.Errorf("%s with a dead cookie: Set-Cookie %q, want it cleared", path, resp.header.Get("Set-Cookie"))
			}
		}
		// A bad body token leaves the cookie alone: it may still work.
		resp := e.request(http.MethodPost, "/auth/token/refresh/", "application/json",
			jsonBody(map[string]string{"refresh": "not-a-token"}), cookieHeaders(refresh))
		expectError(t, resp, http.StatusUnauthorized, "token_not_valid")
		if resp.header.Get("Set-Cookie") != "" {
			t.Errorf("a failed body token touched the cookie: %q", resp.header.Get("Set-Cookie"))
		}
		// A CSRF refusal leaves it too.
		resp = e.request(http.MethodPost, "/auth/token/refresh/", "", "", map[string]string{"Cookie": "__Host-refresh=" + refresh, "X-Token-Transport": "cookie", "Origin": "https://evil.example"})
		expectError(t, resp, http.StatusForbidden, "csrf_failed")
		if resp.header.Get("Set-Cookie") != "" {
			t.Errorf("a refused request touched the cookie: %q", resp.header.Get("Set-Cookie"))
		}
		// The retired cookie, beyond the grace interval: reuse, and cleared.
		refreshCookie(t, e.request(http.MethodPost, "/auth/token/refresh/", "", "", cookieHeaders(refresh)), "__Host-refresh", true)
		e.clock.Advance(11 * time.Second)
		resp = e.request(http.MethodPost, "/auth/token/refresh/", "", "", cookieHeaders(refresh))
		expectError(t, resp, http.StatusUnauthorized, "token_reused")
		if !cleared(resp) {
			t.Errorf("reuse with the cookie: Set-Cookie %q, want it cleared", resp.header.Get("Set-Cookie"))
		}
	})
}

// The cookie's name and SameSite are the deployment's (AUTH_COOKIE_NAME,
// AUTH_COOKIE_SAMESITE), and only the configured name is read.
func TestCookieTransportNameAndSameSite(t *testing.T) {
	opts := cookieOptions
	opts.RefreshCookie.Name = "__Host-shop_rt"
	opts.RefreshCookie.SameSite = http.SameSiteLaxMode
	eachStoreWith(t, opts, func(t *testing.T, e *apiEnv) {
		e.createUser("named@example.com", "pw-12345")
		resp := e.request(http.MethodPost, "/auth/token/", "application/json",
			jsonBody(map[string]string{"email": "named@example.com", "password": "pw-12345"}), cookieHeaders(""))
		refresh := refreshCookieSameSite(t, resp, "__Host-shop_rt", true, http.SameSiteLaxMode)

		h := cookieHeaders(refresh) // the default name: not this deployment's cookie
		expectError(t, e.request(http.MethodPost, "/auth/token/refresh/", "", "", h), http.StatusBadRequest, "invalid")
		h["Cookie"] = "__Host-shop_rt=" + refresh
		resp = e.request(http.MethodPost, "/auth/token/refresh/", "", "", h)
		refreshCookieSameSite(t, resp, "__Host-shop_rt", true, http.SameSiteLaxMode)
	})
}
