package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/hashlimit"
	"github.com/ecommerce/auth-service/internal/httpapi"
	"github.com/ecommerce/auth-service/internal/token"
)

// loginFrom posts a login with the given X-Forwarded-For ("" for none).
func (e *apiEnv) loginFrom(forwardedFor, email, pw string) response {
	e.t.Helper()
	var h map[string]string
	if forwardedFor != "" {
		h = map[string]string{"X-Forwarded-For": forwardedFor}
	}
	return e.request(http.MethodPost, "/auth/token/", "application/json", jsonBody(map[string]string{"email": email, "password": pw}), h)
}

// After five failures for one account from one address the login answers
// 429 throttled with Retry-After, right password or not, and an unknown
// email gets byte for byte the same answers.
func TestLoginIsThrottled(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("known@example.com", "right-password")
		var answers [2][]string
		for i, email := range []string{"known@example.com", "unknown@example.com"} {
			for range 5 {
				expectError(t, e.loginFrom("", email, "wrong"), http.StatusUnauthorized, "no_active_account")
			}
			for range 2 {
				resp := e.loginFrom("", email, "right-password")
				expectError(t, resp, http.StatusTooManyRequests, "throttled")
				if ra := resp.header.Get("Retry-After"); ra != "30" {
					t.Errorf("Retry-After = %q, want 30", ra)
				}
				answers[i] = append(answers[i], resp.header.Get("Retry-After")+" "+string(resp.body))
			}
		}
		if strings.Join(answers[0], "|") != strings.Join(answers[1], "|") {
			t.Errorf("known and unknown emails answered differently:\n%q\n%q", answers[0], answers[1])
		}
		if !strings.Contains(answers[0][0], "Expected available in 30 seconds.") {
			t.Errorf("429 body %s", answers[0][0])
		}
	}, withThrottle())
}

// Behind a trusted proxy the client is the right-most untrusted address of
// X-Forwarded-For; from anyone else, X-Forwarded-For is ignored.
func TestThrottleUsesTheClientBehindTrustedProxies(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("known@example.com", "right-password")
		for range 5 {
			// The left-most entry is the client's own claim: ignored.
			expectError(t, e.loginFrom("198.51.100.1, 203.0.113.1", "known@example.com", "wrong"), http.StatusUnauthorized, "no_active_account")
		}
		expectError(t, e.loginFrom("10.9.9.9, 203.0.113.1", "known@example.com", "right-password"), http.StatusTooManyRequests, "throttled")
		if r := e.loginFrom("203.0.113.2", "known@example.com", "right-password"); r.status != http.StatusOK {
			t.Errorf("another client behind the proxy: %d %s", r.status, r.body)
		}
		if !strings.Contains(e.logs.String(), `"client":"203.0.113.1"`) {
			t.Error("the access log does not name the client behind the proxy")
		}
	}, withThrottle(), withHTTP(func(o *httpapi.Options) { o.TrustedProxies = loopback }))

	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("known@example.com", "right-password")
		for i := range 5 {
			// Spoofed addresses from an untrusted peer all count as the peer.
			expectError(t, e.loginFrom("203.0.113."+itoa(int64(i)), "known@example.com", "wrong"), http.StatusUnauthorized, "no_active_account")
		}
		expectError(t, e.loginFrom("203.0.113.99", "known@example.com", "right-password"), http.StatusTooManyRequests, "throttled")
	}, withThrottle())
}

// When password hashing is saturated a login is refused at once with 503
// overloaded and Retry-After, and the attempt is not counted.
func TestLoginOverloaded(t *testing.T) {
	lim := hashlimit.New(int64(cheapParams.MemoryKiB), 1, 50*time.Millisecond, 10)
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("known@example.com", "right-password")
		hold, err := lim.Acquire(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		for range 6 {
			start := time.Now()
			resp := e.loginFrom("", "known@example.com", "right-password")
			expectError(t, resp, http.StatusServiceUnavailable, "overloaded")
			if resp.header.Get("Retry-After") != "1" {
				t.Errorf("Retry-After = %q, want 1", resp.header.Get("Retry-After"))
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("503 after %s", d)
			}
		}
		hold()
		if r := e.loginFrom("", "known@example.com", "right-password"); r.status != http.StatusOK {
			t.Errorf("after the overload: %d %s (overloaded attempts must not be counted)", r.status, r.body)
		}
	}, withThrottle(), withLimiter(lim))
}

// Readiness: 200 while the database answers, 503 not_ready once draining,
// and every response then carries Connection: close.
func TestReadyAndDrain(t *testing.T) {
	drain := &httpapi.Drain{}
	eachStore(t, func(t *testing.T, e *apiEnv) {
		resp := e.get("/auth/ready/", "")
		if resp.status != http.StatusOK || string(bytes.TrimSpace(resp.body)) != `{"status":"ready"}` {
			t.Fatalf("ready = %d %s", resp.status, resp.body)
		}
		if resp.closed {
			t.Error("Connection: close before draining")
		}
		drain.Start()
		defer func() { *drain = httpapi.Drain{} }()
		expectError(t, e.get("/auth/ready/", ""), http.StatusServiceUnavailable, "not_ready")
		for _, path := range []string{"/auth/health/", "/auth/me/"} {
			if resp := e.get(path, ""); !resp.closed {
				t.Errorf("GET %s while draining: no Connection: close", path)
			}
		}
		if resp := e.get("/auth/health/", ""); resp.status != http.StatusOK {
			t.Errorf("liveness while draining: %d, want 200 (the process is alive)", resp.status)
		}
	}, withHTTP(func(o *httpapi.Options) { o.Drain = drain }))
}

// HEAD answers every GET operation like GET, without a body.
func TestHEAD(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("me@example.com", "pw-12345")
		p := e.login("me@example.com", "pw-12345")
		for _, c := range []struct {
			path, token string
		}{
			{"/auth/health/", ""}, {"/auth/ready/", ""}, {"/auth/me/", p.Access}, {"/auth/me/", ""},
			{"/auth/.well-known/jwks.json", ""}, {"/auth/openapi.json", ""}, {"/auth/docs/", ""},
		} {
			h := map[string]string{}
			if c.token != "" {
				h["Authorization"] = "Bearer " + c.token
			}
			get := e.request(http.MethodGet, c.path, "", "", h)
			head := e.request(http.MethodHead, c.path, "", "", h)
			if head.status != get.status || head.header.Get("Content-Type") != get.header.Get("Content-Type") ||
				head.header.Get("WWW-Authenticate") != get.header.Get("WWW-Authenticate") {
				t.Errorf("HEAD %s = %d %q, GET = %d %q", c.path, head.status, head.header.Get("Content-Type"), get.status, get.header.Get("Content-Type"))
			}
		}
		resp := e.request(http.MethodHead, "/auth/token/", "", "", nil)
		if resp.status != http.StatusMethodNotAllowed || resp.header.Get("Allow") != "POST" {
			t.Errorf("HEAD /auth/token/ = %d, Allow %q; want 405, POST", resp.status, resp.header.Get("Allow"))
		}
	})
}

// Headers beyond 16 KiB get a JSON 431, not net/http's plain text.
func TestHeadersTooLarge(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		resp := e.request(http.MethodGet, "/auth/health/", "", "", map[string]string{"X-Padding": strings.Repeat("a", 17<<10)})
		expectError(t, resp, http.StatusRequestHeaderFieldsTooLarge, "request_header_fields_too_large")
		resp = e.request(http.MethodGet, "/auth/health/", "", "", map[string]string{"X-Padding": strings.Repeat("a", 15<<10)})
		if resp.status != http.StatusOK {
			t.Errorf("15 KiB of headers: %d, want 200", resp.status)
		}
	})
}

// No string field may hold a control character: 400 with the field's
// error, before the database sees it (NUL made PostgreSQL fail with 500),
// and nothing logged as an error.
func TestControlCharactersAreRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		cases := []struct {
			path, body, field, message string
		}{
			{"/auth/token/", `{"email":"a\u0000b@example.com","password":"x"}`, "email", "Null characters are not allowed."},
			{"/auth/token/", `{"email":"user@example.com\u0000","password":"x"}`, "email", "Null characters are not allowed."},
			{"/auth/token/", `{"email":"\tuser@example.com","password":"x"}`, "email", "Control characters are not allowed."},
			{"/auth/token/", `{"email":"user@example.com","password":"pass\u0001word"}`, "password", "Control characters are not allowed."},
			{"/auth/token/", `{"email":"user@example.com","password":"pass` + "\x7f" + `word"}`, "password", "Control characters are not allowed."},
			{"/auth/token/refresh/", `{"refresh":"abc\u0000"}`, "refresh", "Null characters are not allowed."},
			{"/auth/token/verify/", `{"token":"abc\n"}`, "token", "Control characters are not allowed."},
			{"/auth/logout/", `{"refresh":"\u001f"}`, "refresh", "Control characters are not allowed."},
		}
		for _, c := range cases {
			got := expectError(t, e.postJSON(c.path, c.body), http.StatusBadRequest, "invalid")
			if got.Fields == nil || strings.Join((*got.Fields)[c.field], "|") != c.message {
				t.Errorf("%s %s: fields %v, want %s: %s", c.path, c.body, got.Fields, c.field, c.message)
			}
		}
		// Other fields' errors are still reported alongside.
		got := expectError(t, e.postJSON("/auth/token/", `{"email":"a\u0000@b"}`), http.StatusBadRequest, "invalid")
		if got.Fields == nil || len((*got.Fields)["password"]) == 0 {
			t.Errorf("missing password not reported with the control character: %v", got.Fields)
		}
		if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
			t.Errorf("an error was logged:\n%s", e.logs)
		}
	})
}

// A request that runs out of time answers 503 unavailable, not 500.
func TestRequestDeadline(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		resp := e.postJSON("/auth/token/verify/", `{"token":"`+e.mint(t)+`"}`)
		expectError(t, resp, http.StatusServiceUnavailable, "unavailable")
		if resp.header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After = %q, want 1", resp.header.Get("Retry-After"))
		}
		if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
			t.Errorf("a timeout was logged as an error:\n%s", e.logs)
		}
	}, withHTTP(func(o *httpapi.Options) { o.RequestTimeout = time.Nanosecond }))
}

// mint returns a valid access token of a session that need not exist.
func (e *apiEnv) mint(t *testing.T) string {
	t.Helper()
	tok, err := e.keys.Mint("access", 1, "no-such-session", e.clock.Now(), time.Minute, token.Authz{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}
