package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

func TestHealth(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		resp := e.get("/auth/health/", "")
		if resp.status != http.StatusOK || string(bytes.TrimSpace(resp.body)) != `{"status":"auth-service-up"}` {
			t.Fatalf("health = %d %s", resp.status, resp.body)
		}
		if resp.header.Get("X-Request-ID") == "" {
			t.Error("no X-Request-ID in the response")
		}
	})
}

func TestHealthWithoutSlashRedirects(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		resp := e.get("/auth/health", "")
		if resp.status != http.StatusPermanentRedirect || resp.header.Get("Location") != "/auth/health/" {
			t.Fatalf("got %d Location %q, want 308 to /auth/health/", resp.status, resp.header.Get("Location"))
		}
	})
}

func TestRequestIDIsEchoed(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		resp := e.request(http.MethodGet, "/auth/health/", "", "", map[string]string{"X-Request-ID": "gw-1234", "X-Forwarded-For": "203.0.113.7"})
		if got := resp.header.Get("X-Request-ID"); got != "gw-1234" {
			t.Errorf("X-Request-ID = %q, want the client's gw-1234", got)
		}
		if !strings.Contains(e.logs.String(), `"request_id":"gw-1234"`) {
			t.Error("the access log does not carry the request id")
		}
		if !strings.Contains(e.logs.String(), `"forwarded_for":"203.0.113.7"`) {
			t.Error("the access log does not carry the gateway's X-Forwarded-For")
		}
		resp = e.request(http.MethodGet, "/auth/health/", "", "", map[string]string{"X-Request-ID": "bad id\twith spaces"})
		if got := resp.header.Get("X-Request-ID"); got == "" || strings.Contains(got, " ") {
			t.Errorf("an unsafe request id was echoed: %q", got)
		}
	})
}

func TestLoginIssuesSimpleJWTCompatibleTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		u := e.createUser("user@example.com", "correct horse")
		p := e.login("user@example.com", "correct horse")

		access := decodeClaims(t, p.Access)
		refresh := decodeClaims(t, p.Refresh)
		if access["token_type"] != "access" || refresh["token_type"] != "refresh" {
			t.Errorf("token_type: access %v, refresh %v", access["token_type"], refresh["token_type"])
		}
		for name, c := range map[string]map[string]any{"access": access, "refresh": refresh} {
			if c["user_id"] != json.Number(itoa(u.ID)) {
				t.Errorf("%s user_id = %#v, want integer %d", name, c["user_id"], u.ID)
			}
			for _, claim := range []string{"exp", "iat", "jti", "sid"} {
				if c[claim] == nil || c[claim] == "" {
					t.Errorf("%s token lacks %s", name, claim)
				}
			}
		}
		if access["jti"] == refresh["jti"] {
			t.Error("access and refresh tokens share a jti")
		}
		if access["sid"] != refresh["sid"] {
			t.Error("access and refresh tokens of one login carry different sessions")
		}
		if got := num(t, access["exp"]) - num(t, access["iat"]); got != 300 {
			t.Errorf("access lifetime = %ds, want 300", got)
		}
		if got := num(t, refresh["exp"]) - num(t, refresh["iat"]); got != 86400 {
			t.Errorf("refresh lifetime = %ds, want 86400", got)
		}
		if header := decodeSegment(t, p.Access, 0); header["alg"] != "HS256" {
			t.Errorf("alg = %v, want HS256", header["alg"])
		}

		stored, err := e.store.UserByID(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.LastLogin == nil || !stored.LastLogin.Equal(e.clock.Now()) {
			t.Errorf("last_login = %v, want %v", stored.LastLogin, e.clock.Now())
		}
		if stored.PasswordHash == "correct horse" || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
			t.Errorf("password stored as %q, want an argon2id PHC string", stored.PasswordHash)
		}
		if strings.Contains(e.logs.String(), "correct horse") || strings.Contains(e.logs.String(), p.Access) {
			t.Error("a password or token reached the log")
		}
	})
}

func TestLoginMatchesEmailIgnoringCaseAndSpaces(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("Mixed.Case@Example.com", "pw-12345")
		e.login("  mixed.case@EXAMPLE.COM ", "pw-12345")
	})
}

func TestLoginFailuresAreIndistinguishable(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		u := e.createUser("active@example.com", "right-password")
		inactive := e.createUser("inactive@example.com", "right-password")
		storetest.SetUserActive(t, e.store, inactive.ID, false)
		_ = u
		attempts := map[string]string{
			"wrong password": `{"email":"active@example.com","password":"wrong"}`,
			"unknown email":  `{"email":"nobody@example.com","password":"right-password"}`,
			"inactive user":  `{"email":"inactive@example.com","password":"right-password"}`,
		}
		var first []byte
		for name, body := range attempts {
			resp := e.postJSON("/auth/token/", body)
			expectError(t, resp, http.StatusUnauthorized, "no_active_account")
			if first == nil {
				first = resp.body
			} else if !bytes.Equal(first, resp.body) {
				t.Errorf("%s: body %s differs from %s", name, resp.body, first)
			}
		}
	})
}

func TestBadRequests(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		cases := []struct {
			name, contentType, body string
			status                  int
			code                    string
			fields                  []string
		}{
			{"missing fields", "application/json", `{}`, 400, "invalid", []string{"email", "password"}},
			{"empty body", "application/json", ``, 400, "invalid", []string{"email", "password"}},
			{"missing password", "application/json", `{"email":"a@example.com"}`, 400, "invalid", []string{"password"}},
			{"blank email", "application/json", `{"email":"","password":"x"}`, 400, "invalid", []string{"email"}},
			{"spaces-only email", "application/json", `{"email":"   ","password":"x"}`, 400, "invalid", []string{"email"}},
			{"blank password", "application/json", `{"email":"a@example.com","password":""}`, 400, "invalid", []string{"password"}},
			{"spaces-only password", "application/json", `{"email":"a@example.com","password":"   "}`, 400, "invalid", []string{"password"}},
			{"not an email", "application/json", `{"email":"nope","password":"x"}`, 400, "invalid", []string{"email"}},
			{"wrong types", "application/json", `{"email":1,"password":true}`, 400, "invalid", []string{"email", "password"}},
			{"null field", "application/json", `{"email":null,"password":"x"}`, 400, "invalid", []string{"email"}},
			{"array body", "application/json", `[]`, 400, "invalid", []string{"non_field_errors"}},
			{"string body", "application/json", `"hello"`, 400, "invalid", []string{"non_field_errors"}},
			{"null body", "application/json", `null`, 400, "invalid", []string{"non_field_errors"}},
			{"malformed JSON", "application/json", `{"email":`, 400, "parse_error", nil},
			{"trailing data", "application/json", `{"email":"a@example.com","password":"x"} junk`, 400, "parse_error", nil},
			{"two objects", "application/json", `{"email":"a@example.com","password":"x"}{}`, 400, "parse_error", nil},
			{"form body", "application/x-www-form-urlencoded", `email=a&password=b`, 415, "unsupported_media_type", nil},
			{"text body", "text/plain", `{"email":"a@example.com","password":"x"}`, 415, "unsupported_media_type", nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				resp := e.request(http.MethodPost, "/auth/token/", c.contentType, c.body, nil)
				got := expectError(t, resp, c.status, c.code)
				for _, f := range c.fields {
					if got.Fields == nil || len((*got.Fields)[f]) == 0 {
						t.Errorf("fields lacks %q: %s", f, resp.body)
					}
				}
				if c.fields == nil && got.Fields != nil {
					t.Errorf("unexpected fields: %s", resp.body)
				}
			})
		}
	})
}

func TestKeysDifferingOnlyInCaseCannotBypassValidation(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("victim@example.com", "pw-12345")
		// encoding/json alone would let "EMAIL"/"Password" override the
		// validated "email"/"password" and log in.
		body := `{"email":"nobody@example.com","password":"wrong","EMAIL":"victim@example.com","Password":"pw-12345"}`
		expectError(t, e.postJSON("/auth/token/", body), http.StatusUnauthorized, "no_active_account")
		// And an unvalidated value cannot slip past the schema either.
		expectError(t, e.postJSON("/auth/token/", `{"Email":"victim@example.com","password":"pw-12345"}`), http.StatusBadRequest, "invalid")
		// Unknown properties are ignored, as DRF ignores them.
		e.login("victim@example.com", "pw-12345")
		if r := e.postJSON("/auth/token/", `{"email":"victim@example.com","password":"pw-12345","remember":true}`); r.status != http.StatusOK {
			t.Errorf("an extra property was refused: %d %s", r.status, r.body)
		}
	})
}

func TestFieldMessagesFollowDRF(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		resp := e.postJSON("/auth/token/", `{"email":""}`)
		got := expectError(t, resp, 400, "invalid")
		fields := *got.Fields
		if m := fields["email"]; len(m) != 1 || m[0] != "This field may not be blank." {
			t.Errorf("email messages = %q", m)
		}
		if m := fields["password"]; len(m) != 1 || m[0] != "This field is required." {
			t.Errorf("password messages = %q", m)
		}
	})
}

func TestRoutingErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		expectError(t, e.get("/auth/nope/", ""), http.StatusNotFound, "not_found")
		expectError(t, e.get("/elsewhere", ""), http.StatusNotFound, "not_found")
		resp := e.request(http.MethodDelete, "/auth/me/", "", "", nil)
		expectError(t, resp, http.StatusMethodNotAllowed, "method_not_allowed")
		if resp.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("Allow = %q, want GET, HEAD", resp.header.Get("Allow"))
		}
		expectError(t, e.get("/auth/token/", ""), http.StatusMethodNotAllowed, "method_not_allowed")
	})
}

func TestBodyOverOneMiBIsRejected(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		big := `{"email":"a@example.com","password":"` + strings.Repeat("x", 1<<20) + `"}`
		expectError(t, e.postJSON("/auth/token/", big), http.StatusRequestEntityTooLarge, "payload_too_large")

		// Without Content-Length the limit still holds while reading.
		req, err := http.NewRequest(http.MethodPost, e.url+"/auth/token/", struct{ *strings.Reader }{strings.NewReader(big)})
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked oversized body: status %d, want 413", resp.StatusCode)
		}

		// Also on an operation that takes no body.
		resp2 := e.request(http.MethodPost, "/auth/logout/all/", "application/json", big, nil)
		expectError(t, resp2, http.StatusRequestEntityTooLarge, "payload_too_large")
	})
}

func TestMe(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		u := e.createUser("me@example.com", "pw-12345")
		p := e.login("me@example.com", "pw-12345")
		resp := e.get("/auth/me/", p.Access)
		if resp.status != http.StatusOK {
			t.Fatalf("me: %d %s", resp.status, resp.body)
		}
		var me struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		}
		if err := json.Unmarshal(resp.body, &me); err != nil || me.ID != u.ID || me.Email != "me@example.com" {
			t.Errorf("me = %s, want id %d", resp.body, u.ID)
		}
	})
}

func TestRefreshIssuesFreshAccessToken(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("r@example.com", "pw-12345")
		p := e.login("r@example.com", "pw-12345")
		e.clock.Advance(90 * time.Second)
		resp := e.refresh(p.Refresh)
		if resp.status != http.StatusOK {
			t.Fatalf("refresh: %d %s", resp.status, resp.body)
		}
		next := decodePair(t, resp)
		before, after := decodeClaims(t, p.Access), decodeClaims(t, next.Access)
		if num(t, after["iat"]) != num(t, before["iat"])+90 {
			t.Errorf("refreshed access iat = %v, want %v + 90", after["iat"], before["iat"])
		}
		if after["jti"] == before["jti"] || after["sid"] != before["sid"] {
			t.Errorf("refreshed token: jti %v (old %v), sid %v (old %v)", after["jti"], before["jti"], after["sid"], before["sid"])
		}
		if r := e.get("/auth/me/", next.Access); r.status != http.StatusOK {
			t.Errorf("me with refreshed access: %d %s", r.status, r.body)
		}
	})
}

func TestRejectedTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		u := e.createUser("victim@example.com", "pw-12345")
		p := e.login("victim@example.com", "pw-12345")
		claims := decodeClaims(t, p.Access)

		otherKeys, err := token.NewHS256([]byte("another-secret-that-is-32-bytes-long!!"))
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := otherKeys.Mint(token.Access, u.ID, claims["sid"].(string), e.clock.Now(), time.Minute, token.Authz{})
		if err != nil {
			t.Fatal(err)
		}
		cases := map[string]string{
			"garbage":            "not-a-jwt",
			"other key":          foreign.Token,
			"alg none":           noneToken(t, p.Access),
			"tampered payload":   tamper(t, p.Access, func(c map[string]any) { c["user_id"] = u.ID + 1 }),
			"refresh as access":  p.Refresh,
			"HS512 same secret":  resign(t, p.Access, jwt.SigningMethodHS512, []byte(testSecret)),
			"empty bearer":       "",
			"truncated sig":      p.Access[:len(p.Access)-4],
			"extended lifetime":  tamper(t, p.Access, func(c map[string]any) { c["exp"] = num(t, c["exp"]) + 3600 }),
			"missing exp resign": resignClaims(t, p.Access, func(c map[string]any) { delete(c, "exp") }),
		}
		for name, tok := range cases {
			t.Run(name, func(t *testing.T) {
				resp := e.request(http.MethodGet, "/auth/me/", "", "", map[string]string{"Authorization": "Bearer " + tok})
				if resp.status != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401: %s", resp.status, resp.body)
				}
				expectError(t, resp, http.StatusUnauthorized, map[bool]string{true: "not_authenticated", false: "token_not_valid"}[tok == ""])
			})
		}
		t.Run("access as refresh", func(t *testing.T) {
			expectError(t, e.refresh(p.Access), http.StatusUnauthorized, "token_not_valid")
		})
		t.Run("no header", func(t *testing.T) {
			expectError(t, e.get("/auth/me/", ""), http.StatusUnauthorized, "not_authenticated")
		})
		t.Run("other scheme", func(t *testing.T) {
			resp := e.request(http.MethodGet, "/auth/me/", "", "", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"})
			expectError(t, resp, http.StatusUnauthorized, "not_authenticated")
		})
		t.Run("expired", func(t *testing.T) {
			e.clock.Advance(5*time.Minute + 31*time.Second) // beyond exp and the 30s leeway
			expectError(t, e.get("/auth/me/", p.Access), http.StatusUnauthorized, "token_not_valid")
			e.clock.Advance(24 * time.Hour)
			expectError(t, e.refresh(p.Refresh), http.StatusUnauthorized, "token_not_valid")
		})
	})
}

func TestTokensOfDisabledUsersAreRejected(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		inactive := e.createUser("gone-inactive@example.com", "pw-12345")
		p1 := e.login("gone-inactive@example.com", "pw-12345")
		deleted := e.createUser("gone-deleted@example.com", "pw-12345")
		p2 := e.login("gone-deleted@example.com", "pw-12345")
		storetest.SetUserActive(t, e.store, inactive.ID, false)
		storetest.DeleteUser(t, e.store, deleted.ID)
		expectError(t, e.get("/auth/me/", p1.Access), http.StatusUnauthorized, "user_inactive")
		expectError(t, e.refresh(p1.Refresh), http.StatusUnauthorized, "user_inactive")
		expectError(t, e.get("/auth/me/", p2.Access), http.StatusUnauthorized, "user_not_found")
		expectError(t, e.refresh(p2.Refresh), http.StatusUnauthorized, "user_not_found")
	})
}

func TestDocumentsAreServed(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		spec := e.get("/auth/openapi.json", "")
		if spec.status != http.StatusOK || spec.json(t)["openapi"] != "3.0.3" {
			t.Fatalf("openapi.json: %d %.200s", spec.status, spec.body)
		}
		docs := e.get("/auth/docs/", "")
		if docs.status != http.StatusOK || !strings.HasPrefix(docs.header.Get("Content-Type"), "text/html") {
			t.Fatalf("docs: %d %s", docs.status, docs.header.Get("Content-Type"))
		}
		// The page is Swagger UI, loaded from this service: no script or style from elsewhere.
		for _, ref := range []string{`src="swagger-ui-bundle.js"`, `src="swagger-initializer.js"`, `href="swagger-ui.css"`} {
			if !bytes.Contains(docs.body, []byte(ref)) {
				t.Errorf("docs page does not load %s", ref)
			}
		}
		if regexp.MustCompile(`(src|href)="(https?:)?//`).Match(docs.body) {
			t.Error("docs page loads something from another origin")
		}
		if csp := docs.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("docs Content-Security-Policy %q, want script-src 'self'", csp)
		}
		init := e.get("/auth/docs/swagger-initializer.js", "")
		if !bytes.Contains(init.body, []byte(`"../openapi.json"`)) || !bytes.Contains(init.body, []byte(`preauthorizeApiKey("bearerAuth"`)) {
			t.Errorf("swagger-initializer.js does not render ../openapi.json and fill in bearerAuth: %.300s", init.body)
		}
	})
}

func TestDocsAssets(t *testing.T) {
	// The files do not depend on the store: the embedded one will do.
	e := newAPIEnv(t, storetest.Open(t, "sqlite"))
	for file, want := range map[string]struct{ contentType, cache, starts string }{
		"swagger-ui-bundle.js":             {"text/javascript; charset=utf-8", "public, max-age=86400", "/*! For license information"},
		"swagger-initializer.js":           {"text/javascript; charset=utf-8", "no-cache", "//"},
		"swagger-ui.css":                   {"text/css; charset=utf-8", "public, max-age=86400", ".swagger-ui"},
		"favicon-32x32.png":                {"image/png", "public, max-age=86400", "\x89PNG"},
		"favicon-16x16.png":                {"image/png", "public, max-age=86400", "\x89PNG"},
		"LICENSE":                          {"text/plain; charset=utf-8", "public, max-age=86400", ""},
		"NOTICE":                           {"text/plain; charset=utf-8", "public, max-age=86400", "swagger-ui"},
		"swagger-ui-bundle.js.LICENSE.txt": {"text/plain; charset=utf-8", "public, max-age=86400", "/*!"},
	} {
		t.Run(file, func(t *testing.T) {
			resp := e.get("/auth/docs/"+file, "")
			if resp.status != http.StatusOK {
				t.Fatalf("status %d: %.200s", resp.status, resp.body)
			}
			if got := resp.header.Get("Content-Type"); got != want.contentType {
				t.Errorf("Content-Type %q, want %q", got, want.contentType)
			}
			if got := resp.header.Get("Cache-Control"); got != want.cache {
				t.Errorf("Cache-Control %q, want %q", got, want.cache)
			}
			if got := resp.header.Get("Content-Length"); got != strconv.Itoa(len(resp.body)) || len(resp.body) == 0 {
				t.Errorf("Content-Length %q for %d bytes", got, len(resp.body))
			}
			if !bytes.HasPrefix(bytes.TrimSpace(resp.body), []byte(want.starts)) {
				t.Errorf("body starts %q, want %q", resp.body[:min(len(resp.body), 40)], want.starts)
			}
		})
	}
	t.Run("the licence names Apache 2.0", func(t *testing.T) {
		if resp := e.get("/auth/docs/LICENSE", ""); !bytes.Contains(resp.body, []byte("Apache License")) {
			t.Errorf("LICENSE: %.100s", resp.body)
		}
	})
	for _, file := range []string{"nope.js", "index.html", "PROVENANCE.txt", "swagger-ui.js", "swagger-ui-bundle.js.map", ".env"} {
		t.Run("unknown "+file, func(t *testing.T) {
			resp := e.get("/auth/docs/"+file, "")
			if file == ".env" {
				// Not a file name the spec accepts: refused before it reaches the handler.
				expectError(t, resp, http.StatusBadRequest, "invalid")
				return
			}
			expectError(t, resp, http.StatusNotFound, "not_found")
		})
	}
	t.Run("no directories", func(t *testing.T) {
		expectError(t, e.get("/auth/docs/swagger-ui/swagger-ui.css", ""), http.StatusNotFound, "not_found")
		expectError(t, e.get("/auth/docs/..%2Fopenapi.json", ""), http.StatusBadRequest, "invalid")
	})
}

// decodeSegment decodes one part (0 header, 1 claims) of a JWT, keeping
// numbers as json.Number so that integers stay recognisable.
func decodeSegment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func decodeClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	return decodeSegment(t, tok, 1)
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			t.Fatalf("%v is not an integer", v)
		}
		return i
	case int64:
		return n
	}
	t.Fatalf("%#v is not a number", v)
	return 0
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(data)
}

// tamper changes the claims but keeps the original signature.
func tamper(t *testing.T, tok string, change func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	claims := decodeClaims(t, tok)
	change(claims)
	return parts[0] + "." + encodeSegment(t, claims) + "." + parts[2]
}

// noneToken re-issues tok's claims unsigned, with alg "none".
func noneToken(t *testing.T, tok string) string {
	t.Helper()
	return encodeSegment(t, map[string]string{"alg": "none", "typ": "JWT"}) + "." + strings.Split(tok, ".")[1] + "."
}

// resign signs tok's claims again with another method and key.
func resign(t *testing.T, tok string, method jwt.SigningMethod, key any) string {
	t.Helper()
	signed, err := jwt.NewWithClaims(method, jwt.MapClaims(decodeClaims(t, tok))).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// resignClaims changes the claims and signs them with the real secret.
func resignClaims(t *testing.T, tok string, change func(map[string]any)) string {
	t.Helper()
	claims := decodeClaims(t, tok)
	change(claims)
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return signed
}
