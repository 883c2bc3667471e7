package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testSecret = "0123456789abcdef0123456789abcdef-test"

func do(t *testing.T, h http.Handler, method, path, auth, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHealthSetsTheServiceHeaders(t *testing.T) {
	rec := do(t, newHandler([]byte(testSecret), time.Minute, time.Hour), "GET", "/auth/health/", "", "")
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"auth-service-up"}` {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	for _, h := range []string{"X-Request-ID", "Cache-Control", "Content-Type"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}
}

func TestRefreshFollowsAChainAndMeAcceptsOnlyAccessTokens(t *testing.T) {
	h := newHandler([]byte(testSecret), time.Minute, time.Hour)
	s := &server{secret: []byte(testSecret)}
	refresh, err := s.mint("refresh", 7, "sess", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		rec := do(t, h, "POST", "/auth/token/refresh/", "", `{"refresh":"`+refresh+`"}`)
		if rec.Code != 200 {
			t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
		}
		var pair struct{ Access, Refresh string }
		if err := json.Unmarshal(rec.Body.Bytes(), &pair); err != nil {
			t.Fatal(err)
		}
		var c claims
		if _, err := jwt.ParseWithClaims(pair.Refresh, &c, func(*jwt.Token) (any, error) { return []byte(testSecret), nil }); err != nil {
			t.Fatal(err)
		}
		if c.SessionID != "sess" || c.UserID != 7 || c.Subject != "7" || c.ID == "" || c.TokenType != "refresh" {
			t.Fatalf("claims %+v", c)
		}
		if rec := do(t, h, "GET", "/auth/me/", "Bearer "+pair.Access, ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"id":7`) {
			t.Fatalf("me: %d %s", rec.Code, rec.Body)
		}
		if rec := do(t, h, "GET", "/auth/me/", "Bearer "+pair.Refresh, ""); rec.Code != 401 {
			t.Fatalf("me with a refresh token: %d", rec.Code)
		}
		if rec := do(t, h, "POST", "/auth/token/refresh/", "", `{"refresh":"`+pair.Access+`"}`); rec.Code != 401 {
			t.Fatalf("refresh with an access token: %d", rec.Code)
		}
		refresh = pair.Refresh
	}
}

func TestMeRejectsExpiredAndOtherAlgorithms(t *testing.T) {
	h := newHandler([]byte(testSecret), time.Minute, time.Hour)
	s := &server{secret: []byte(testSecret)}
	expired, err := s.mint("access", 7, "sess", time.Now().Add(-time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, claims{TokenType: "access", UserID: 7,
		RegisteredClaims: jwt.RegisteredClaims{ID: "x", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}).
		SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	noExp, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{TokenType: "access", UserID: 7,
		RegisteredClaims: jwt.RegisteredClaims{ID: "x"}}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"expired": expired, "HS512": hs512, "no exp": noExp} {
		if rec := do(t, h, "GET", "/auth/me/", "Bearer "+tok, ""); rec.Code != 401 {
			t.Errorf("%s: %d", name, rec.Code)
		}
	}
}
