package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/token"
)

// bearerRequest sends a request with a bearer token and a User-Agent.
func (e *apiEnv) bearerRequest(method, path, access, userAgent string) response {
	e.t.Helper()
	return e.request(method, path, "", "", map[string]string{"Authorization": "Bearer " + access, "User-Agent": userAgent})
}

func (e *apiEnv) sessions(access string) []oapi.SessionInfo {
	e.t.Helper()
	resp := e.bearerRequest(http.MethodGet, "/auth/sessions/", access, "lister/1")
	if resp.status != http.StatusOK {
		e.t.Fatalf("GET /auth/sessions/: %d %s", resp.status, resp.body)
	}
	var list oapi.SessionList
	if err := json.Unmarshal(resp.body, &list); err != nil {
		e.t.Fatal(err)
	}
	return list.Sessions
}

func TestListAndEndSessions(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("me@example.com", "pw-12345")
		e.createUser("you@example.com", "pw-12345")
		loginAs := func(email, ua string) pair {
			t.Helper()
			resp := e.request(http.MethodPost, "/auth/token/", "application/json",
				jsonBody(map[string]string{"email": email, "password": "pw-12345"}), map[string]string{"User-Agent": ua})
			return decodePair(t, resp)
		}
		laptop := loginAs("me@example.com", "Laptop/1.0")
		e.clock.Advance(time.Minute)
		phone := loginAs("me@example.com", "Phone/2.0")
		yours := loginAs("you@example.com", "Yours/3.0")
		e.clock.Advance(time.Minute)
		resp := e.request(http.MethodPost, "/auth/token/refresh/", "application/json",
			jsonBody(map[string]string{"refresh": laptop.Refresh}), map[string]string{"User-Agent": "Laptop/1.1"})
		laptop = decodePair(t, resp)

		list := e.sessions(phone.Access)
		if len(list) != 2 {
			t.Fatalf("%d sessions listed, want 2: %+v", len(list), list)
		}
		p, l := list[0], list[1]
		if p.Id != sidOf(t, phone) || !p.Current || p.CreatedUserAgent != "Phone/2.0" || p.CreatedAddress != "127.0.0.1" ||
			p.LastRefreshedAt != nil || p.LastAddress != nil || p.LastUserAgent != nil {
			t.Errorf("the phone's session (current, never refreshed): %+v", p)
		}
		if l.Id != sidOf(t, laptop) || l.Current || l.CreatedUserAgent != "Laptop/1.0" || l.LastRefreshedAt == nil ||
			!l.LastRefreshedAt.Equal(e.clock.Now()) || *l.LastUserAgent != "Laptop/1.1" || *l.LastAddress != "127.0.0.1" {
			t.Errorf("the laptop's session (refreshed): %+v", l)
		}
		if !l.ExpiresAt.After(e.clock.Now()) {
			t.Errorf("expires_at %v", l.ExpiresAt)
		}
		if list := e.sessions(laptop.Access); !list[1].Current || list[0].Current {
			t.Errorf("current is the asking token's session: %+v", list)
		}
		expectError(t, e.get("/auth/sessions/", ""), http.StatusUnauthorized, "not_authenticated")
		expectError(t, e.bearerRequest(http.MethodGet, "/auth/sessions/", "garbage", "x"), http.StatusUnauthorized, "token_not_valid")

		// Another user's session answers exactly as one that does not exist.
		theirs := e.bearerRequest(http.MethodDelete, "/auth/sessions/"+sidOf(t, yours)+"/", phone.Access, "x")
		missing := e.bearerRequest(http.MethodDelete, "/auth/sessions/NOSUCHSESSION0000000000000/", phone.Access, "x")
		expectError(t, theirs, http.StatusNotFound, "not_found")
		expectError(t, missing, http.StatusNotFound, "not_found")
		if string(theirs.body) != string(missing.body) || !sameHeaders(theirs.header, missing.header) {
			t.Errorf("another user's session answers\n%v %s\na missing one\n%v %s", theirs.header, theirs.body, missing.header, missing.body)
		}
		if r := e.get("/auth/me/", yours.Access); r.status != http.StatusOK {
			t.Errorf("the other user's session was ended: %d", r.status)
		}
		expectError(t, e.bearerRequest(http.MethodDelete, "/auth/sessions/"+strings.Repeat("A", 129)+"/", phone.Access, "x"), http.StatusBadRequest, "invalid")
		// Bytes no session id holds, which PostgreSQL refuses in a text
		// column: a field error on id, not a 500.
		for _, id := range []string{"%00", "A%01B", "%7F", "%FF%FE"} {
			got := expectError(t, e.bearerRequest(http.MethodDelete, "/auth/sessions/"+id+"/", phone.Access, "x"), http.StatusBadRequest, "invalid")
			if got.Fields == nil || len((*got.Fields)["id"]) != 1 {
				t.Errorf("DELETE /auth/sessions/%s/: fields %v, want a message on id", id, got.Fields)
			}
		}
		expectError(t, e.request(http.MethodDelete, "/auth/sessions/"+sidOf(t, laptop)+"/", "", "", nil), http.StatusUnauthorized, "not_authenticated")

		// Ending the laptop's session from the phone: its tokens stop working.
		if r := e.bearerRequest(http.MethodDelete, "/auth/sessions/"+sidOf(t, laptop)+"/", phone.Access, "x"); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("DELETE the laptop's session: %d %s", r.status, r.body)
		}
		expectError(t, e.get("/auth/me/", laptop.Access), http.StatusUnauthorized, "token_not_valid")
		expectError(t, e.refresh(laptop.Refresh), http.StatusUnauthorized, "token_not_valid")
		expectError(t, e.bearerRequest(http.MethodDelete, "/auth/sessions/"+sidOf(t, laptop)+"/", phone.Access, "x"), http.StatusNotFound, "not_found")
		if list := e.sessions(phone.Access); len(list) != 1 || list[0].Id != sidOf(t, phone) {
			t.Errorf("after ending the laptop: %+v", list)
		}
		events, err := e.svc.SecurityEvents(context.Background(), auth.EventQuery{Email: "me@example.com"})
		if err != nil || len(events) == 0 || events[0].Kind != auth.EventSessionRevoked || events[0].SessionID != sidOf(t, laptop) {
			t.Errorf("the ended session is not the latest event: %+v, %v", events, err)
		}

		// A user may end the session they are asking from.
		if r := e.bearerRequest(http.MethodDelete, "/auth/sessions/"+sidOf(t, phone)+"/", phone.Access, "x"); r.status != http.StatusNoContent {
			t.Fatalf("DELETE the current session: %d %s", r.status, r.body)
		}
		expectError(t, e.get("/auth/me/", phone.Access), http.StatusUnauthorized, "token_not_valid")
	})
}

// sameHeaders compares responses' headers but for the request id.
func sameHeaders(a, b http.Header) bool {
	a, b = a.Clone(), b.Clone()
	for _, h := range []http.Header{a, b} {
		h.Del("X-Request-ID")
		h.Del("Date")
	}
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, ",") != strings.Join(b[k], ",") {
			return false
		}
	}
	return true
}

func sidOf(t *testing.T, p pair) string {
	t.Helper()
	return decodeClaims(t, p.Refresh)["sid"].(string)
}

// The claims policy holds at every endpoint that takes a token: times the
// service never issues are refused even with a valid signature.
func TestImpossibleTimesAreRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		u := e.createUser("times@example.com", "pw-12345")
		p := e.login("times@example.com", "pw-12345")
		sid := sidOf(t, p)
		now := e.clock.Now()
		// Anyone holding the HS256 secret can mint these.
		holder, err := token.NewHS256([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		minted := func(typ token.Type, iat time.Time, ttl time.Duration) string {
			t.Helper()
			tok, err := holder.Mint(typ, u.ID, sid, iat, ttl, token.Authz{})
			if err != nil {
				t.Fatal(err)
			}
			return tok.Token
		}
		refused := map[string]string{
			"access, iat in ten years, exp in twenty": minted(token.Access, now.AddDate(10, 0, 0), 10*365*24*time.Hour),
			"access, iat a minute ahead":              minted(token.Access, now.Add(time.Minute), 5*time.Minute),
			"access, valid for a day":                 minted(token.Access, now, 24*time.Hour),
			"access, 5m + leeway + 1s":                minted(token.Access, now, 5*time.Minute+31*time.Second),
		}
		for name, tok := range refused {
			t.Run(name, func(t *testing.T) {
				expectError(t, e.get("/auth/me/", tok), http.StatusUnauthorized, "token_not_valid")
				expectError(t, e.postJSON("/auth/token/verify/", jsonBody(map[string]string{"token": tok})), http.StatusUnauthorized, "token_not_valid")
			})
		}
		longRefresh := minted(token.Refresh, now, 48*time.Hour)
		expectError(t, e.refresh(longRefresh), http.StatusUnauthorized, "token_not_valid")
		expectError(t, e.postJSON("/auth/logout/", jsonBody(map[string]string{"refresh": longRefresh})), http.StatusUnauthorized, "token_not_valid")
		// Within the leeway, a clock running a little ahead is tolerated.
		if r := e.get("/auth/me/", minted(token.Access, now.Add(20*time.Second), 5*time.Minute)); r.status != http.StatusOK {
			t.Errorf("iat 20s ahead (leeway 30s): %d %s", r.status, r.body)
		}
	})
}

// With an issuer and an audience configured, every token carries them and
// tokens without them are refused.
func TestIssuerAndAudienceAreRequired(t *testing.T) {
	const iss, aud = "https://auth.shop.example", "shop-services"
	eachStore(t, func(t *testing.T, e *apiEnv) {
		u := e.createUser("aud@example.com", "pw-12345")
		p := e.login("aud@example.com", "pw-12345")
		for _, tok := range []string{p.Access, p.Refresh} {
			c := decodeClaims(t, tok)
			if c["iss"] != iss || len(c["aud"].([]any)) != 1 || c["aud"].([]any)[0] != aud {
				t.Errorf("claims %v lack iss %q or aud %q", c, iss, aud)
			}
		}
		if r := e.get("/auth/me/", p.Access); r.status != http.StatusOK {
			t.Fatalf("me: %d", r.status)
		}
		plain, err := token.NewHS256([]byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		for name, pol := range map[string]token.Policy{"no iss or aud": {}, "other aud": {Issuer: iss, Audience: "other"}, "other iss": {Issuer: "x", Audience: aud}} {
			pol.MaxLifetime = map[token.Type]time.Duration{token.Access: time.Hour}
			tok, err := plain.WithPolicy(pol).Mint(token.Access, u.ID, sidOf(t, p), e.clock.Now(), time.Minute, token.Authz{})
			if err != nil {
				t.Fatal(err)
			}
			if r := e.get("/auth/me/", tok.Token); r.status != http.StatusUnauthorized {
				t.Errorf("%s: %d, want 401", name, r.status)
			}
		}
	}, withPolicy(func(p *token.Policy) { p.Issuer, p.Audience = iss, aud }))
}
