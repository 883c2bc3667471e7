package httpapi_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/token"
)

func TestRefreshRotatesTheToken(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("rot@example.com", "pw-12345")
		first := e.login("rot@example.com", "pw-12345")
		second := decodePair(t, e.refresh(first.Refresh))
		if second.Refresh == first.Refresh {
			t.Fatal("refresh returned the same refresh token")
		}
		third := decodePair(t, e.refresh(second.Refresh))
		for _, p := range []pair{second, third} {
			if decodeClaims(t, p.Refresh)["sid"] != decodeClaims(t, first.Refresh)["sid"] {
				t.Error("rotation moved the token to another session")
			}
		}
		// Refresh tokens are stored as hashes, never as presented.
		if _, err := e.store.StoredRefreshToken(context.Background(), auth.HashToken(third.Refresh)); err != nil {
			t.Fatalf("the latest refresh token is not stored by its hash: %v", err)
		}
		if _, err := e.store.StoredRefreshToken(context.Background(), []byte(third.Refresh)); err == nil {
			t.Fatal("a refresh token was stored as presented")
		}
	})
}

func TestRefreshTokenReuseRevokesTheSession(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("reuse@example.com", "pw-12345")
		stolen := e.login("reuse@example.com", "pw-12345")
		other := e.login("reuse@example.com", "pw-12345") // another device: another session
		legit := decodePair(t, e.refresh(stolen.Refresh))

		e.clock.Advance(11 * time.Second) // past the 10s grace interval
		expectError(t, e.refresh(stolen.Refresh), http.StatusUnauthorized, "token_reused")

		// Every token of the session now fails, including the legitimate successor.
		expectError(t, e.refresh(legit.Refresh), http.StatusUnauthorized, "token_reused")
		expectError(t, e.get("/auth/me/", legit.Access), http.StatusUnauthorized, "token_reused")
		expectError(t, e.get("/auth/me/", stolen.Access), http.StatusUnauthorized, "token_reused")
		verify := e.postJSON("/auth/token/verify/", jsonBody(map[string]string{"token": legit.Access}))
		expectError(t, verify, http.StatusUnauthorized, "token_reused")
		if !strings.Contains(e.logs.String(), "refresh token reuse detected") {
			t.Error("the reuse was not logged")
		}
		if strings.Contains(e.logs.String(), stolen.Refresh) {
			t.Error("the reused token itself reached the log")
		}

		// The user's other session is untouched.
		if r := e.get("/auth/me/", other.Access); r.status != http.StatusOK {
			t.Errorf("another session was revoked too: %d %s", r.status, r.body)
		}
	})
}

func TestConcurrentTabsWithinGraceStayLoggedIn(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("tabs@example.com", "pw-12345")
		p := e.login("tabs@example.com", "pw-12345")
		tabA := decodePair(t, e.refresh(p.Refresh))
		e.clock.Advance(3 * time.Second)
		resp := e.refresh(p.Refresh) // tab B, a moment later, with the same token
		if resp.status != http.StatusOK {
			t.Fatalf("second tab within the grace interval: %d %s", resp.status, resp.body)
		}
		// Tab B gets the very pair tab A got: the session does not fork.
		if tabB := decodePair(t, resp); tabB != tabA {
			t.Fatal("the second tab got a different pair: the session forked")
		}
		if r := e.get("/auth/me/", tabA.Access); r.status != http.StatusOK {
			t.Errorf("access after concurrent refreshes: %d", r.status)
		}

		// Tab A moves on. A slow tab that still presents the first token now
		// presents one whose successor is in use: exactly what a thief's
		// replay looks like, so it is reuse (see decideRotation).
		e.clock.Advance(2 * time.Second)
		decodePair(t, e.refresh(tabA.Refresh))
		e.clock.Advance(2 * time.Second)
		expectError(t, e.refresh(p.Refresh), http.StatusUnauthorized, "token_reused")
	})
}

func TestStrictRotationHasNoGrace(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("strict@example.com", "pw-12345")
		p := e.login("strict@example.com", "pw-12345")
		next := decodePair(t, e.refresh(p.Refresh))
		expectError(t, e.refresh(p.Refresh), http.StatusUnauthorized, "token_reused")
		expectError(t, e.get("/auth/me/", next.Access), http.StatusUnauthorized, "token_reused")
	}, withReuseInterval(0))
}

func TestLogout(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("bye@example.com", "pw-12345")
		p := e.login("bye@example.com", "pw-12345")
		kept := e.login("bye@example.com", "pw-12345")
		logout := func(refresh string) response {
			return e.postJSON("/auth/logout/", jsonBody(map[string]string{"refresh": refresh}))
		}
		if r := logout(p.Refresh); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("logout: %d %s", r.status, r.body)
		}
		if r := logout(p.Refresh); r.status != http.StatusNoContent {
			t.Errorf("second logout is not idempotent: %d %s", r.status, r.body)
		}
		expectError(t, e.refresh(p.Refresh), http.StatusUnauthorized, "token_not_valid")
		expectError(t, e.get("/auth/me/", p.Access), http.StatusUnauthorized, "token_not_valid")
		if r := e.get("/auth/me/", kept.Access); r.status != http.StatusOK {
			t.Errorf("logout ended another session: %d", r.status)
		}
		expectError(t, logout("garbage"), http.StatusUnauthorized, "token_not_valid")
		expectError(t, logout(kept.Access), http.StatusUnauthorized, "token_not_valid")
		expectError(t, e.postJSON("/auth/logout/", `{}`), http.StatusBadRequest, "invalid")
	})
}

func TestLogoutAll(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("all@example.com", "pw-12345")
		e.createUser("bystander@example.com", "pw-12345")
		a := e.login("all@example.com", "pw-12345")
		b := e.login("all@example.com", "pw-12345")
		c := e.login("bystander@example.com", "pw-12345")

		expectError(t, e.request(http.MethodPost, "/auth/logout/all/", "", "", nil), http.StatusUnauthorized, "not_authenticated")
		resp := e.request(http.MethodPost, "/auth/logout/all/", "", "", map[string]string{"Authorization": "Bearer " + a.Access})
		if resp.status != http.StatusNoContent {
			t.Fatalf("logout all: %d %s", resp.status, resp.body)
		}
		for _, p := range []pair{a, b} {
			expectError(t, e.get("/auth/me/", p.Access), http.StatusUnauthorized, "token_not_valid")
			expectError(t, e.refresh(p.Refresh), http.StatusUnauthorized, "token_not_valid")
		}
		if r := e.get("/auth/me/", c.Access); r.status != http.StatusOK {
			t.Errorf("another user's session was revoked: %d", r.status)
		}
	})
}

func TestVerify(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("verify@example.com", "pw-12345")
		p := e.login("verify@example.com", "pw-12345")
		verify := func(tok string) response {
			return e.postJSON("/auth/token/verify/", jsonBody(map[string]string{"token": tok}))
		}
		for name, tok := range map[string]string{"access": p.Access, "refresh": p.Refresh} {
			r := verify(tok)
			if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != "{}" {
				t.Errorf("verify %s: %d %s", name, r.status, r.body)
			}
		}
		next := decodePair(t, e.refresh(p.Refresh))
		expectError(t, verify("nope"), http.StatusUnauthorized, "token_not_valid")
		expectError(t, verify(tamper(t, next.Access, func(c map[string]any) { c["user_id"] = 999 })), http.StatusUnauthorized, "token_not_valid")
		e.postJSON("/auth/logout/", jsonBody(map[string]string{"refresh": next.Refresh}))
		expectError(t, verify(next.Access), http.StatusUnauthorized, "token_not_valid")
		expectError(t, e.postJSON("/auth/token/verify/", `{"token":""}`), http.StatusBadRequest, "invalid")

		// A retired refresh token presented to verify is reuse, as on a
		// refresh: verify must not tell a thief that the victim has rotated.
		q := e.login("verify@example.com", "pw-12345")
		qNext := decodePair(t, e.refresh(q.Refresh))
		expectError(t, verify(q.Refresh), http.StatusUnauthorized, "token_reused")
		expectError(t, e.refresh(qNext.Refresh), http.StatusUnauthorized, "token_reused")
	})
}

func TestJWKSInHS256ModeIsEmpty(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		r := e.get("/auth/.well-known/jwks.json", "")
		if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"keys":[]}` {
			t.Fatalf("jwks: %d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), testSecret) {
			t.Fatal("the HMAC secret was published")
		}
	})
}

func TestES256TokensCarryKidAndVerifyThroughJWKS(t *testing.T) {
	pemKey, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.NewAsymmetric(token.ES256, [][]byte{pemKey}, "")
	if err != nil {
		t.Fatal(err)
	}
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("es@example.com", "pw-12345")
		p := e.login("es@example.com", "pw-12345")
		header := decodeSegment(t, p.Access, 0)
		r := e.get("/auth/.well-known/jwks.json", "")
		if !strings.Contains(r.header.Get("Cache-Control"), "max-age=") {
			t.Errorf("jwks Cache-Control = %q", r.header.Get("Cache-Control"))
		}
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 1 {
			t.Fatalf("jwks: %s", r.body)
		}
		jwk := set.Keys[0]
		if header["alg"] != "ES256" || header["kid"] != jwk["kid"] || jwk["kty"] != "EC" || jwk["d"] != "" {
			t.Fatalf("header %v, jwk %v", header, jwk)
		}
		if r := e.get("/auth/me/", p.Access); r.status != http.StatusOK {
			t.Fatalf("me with ES256 token: %d", r.status)
		}
		// A token signed with the attacker's own key and pointing at it
		// through jwk/jku headers is refused: only configured keys count.
		attacker, err := token.GenerateKey(token.ES256)
		if err != nil {
			t.Fatal(err)
		}
		forged := forgeES256(t, attacker, p.Access, map[string]any{
			"kid": jwk["kid"], "jku": "http://127.0.0.1:1/jwks.json",
		})
		expectError(t, e.get("/auth/me/", forged), http.StatusUnauthorized, "token_not_valid")
		hmacWithPublicKey := resign(t, p.Access, jwt.SigningMethodHS256, []byte(jwk["x"]))
		expectError(t, e.get("/auth/me/", hmacWithPublicKey), http.StatusUnauthorized, "token_not_valid")
	}, withKeys(keys))
}

// forgeES256 signs claims of tok with the attacker's key and extra headers.
func forgeES256(t *testing.T, attackerPEM []byte, tok string, headers map[string]any) string {
	t.Helper()
	attackerKeys, err := token.NewAsymmetric(token.ES256, [][]byte{attackerPEM}, "")
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseECPrivateKeyFromPEM(attackerPEM)
	if err != nil {
		t.Fatal(err)
	}
	forged := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims(decodeClaims(t, tok)))
	for k, v := range headers {
		forged.Header[k] = v
	}
	forged.Header["jwk"] = attackerKeys.JWKS()[0]
	signed, err := forged.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestDjangoPBKDF2HashIsUpgradedOnLogin(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		u := e.createUser("legacy@example.com", "placeholder")
		django := djangoPBKDF2(t, "legacy-password", "somesalt", 1000)
		if _, err := e.store.ReplacePasswordHash(ctx, u.ID, mustUser(t, e, u.ID).PasswordHash, django); err != nil {
			t.Fatal(err)
		}
		expectError(t, e.postJSON("/auth/token/", `{"email":"legacy@example.com","password":"wrong"}`), http.StatusUnauthorized, "no_active_account")
		if got := mustUser(t, e, u.ID).PasswordHash; got != django {
			t.Fatalf("a failed login changed the hash to %q", got)
		}
		e.login("legacy@example.com", "legacy-password")
		upgraded := mustUser(t, e, u.ID).PasswordHash
		if !strings.HasPrefix(upgraded, "$argon2id$") {
			t.Fatalf("hash not upgraded: %q", upgraded)
		}
		e.login("legacy@example.com", "legacy-password")
		if mustUser(t, e, u.ID).PasswordHash != upgraded {
			t.Error("an up-to-date hash was rehashed again")
		}
	})
}

func mustUser(t *testing.T, e *apiEnv, id int64) (u struct{ PasswordHash string }) {
	t.Helper()
	stored, err := e.store.UserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = stored.PasswordHash
	return u
}

// djangoPBKDF2 builds a hash the way Django's PBKDF2PasswordHasher does.
func djangoPBKDF2(t *testing.T, pw, salt string, iterations int) string {
	t.Helper()
	key, err := pbkdf2.Key(sha256.New, pw, []byte(salt), iterations, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return "pbkdf2_sha256$" + itoa(int64(iterations)) + "$" + salt + "$" + base64.StdEncoding.EncodeToString(key)
}

func TestCleanupRemovesExpiredSessions(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("old@example.com", "pw-12345")
		p := e.login("old@example.com", "pw-12345")
		sid := decodeClaims(t, p.Refresh)["sid"].(string)
		e.clock.Advance(24*time.Hour + time.Minute)
		n, err := e.svc.Cleanup(context.Background(), 1)
		if err != nil || n < 2 {
			t.Fatalf("cleanup deleted %d rows, err %v; want the session and its token", n, err)
		}
		if _, _, err := e.store.SessionUser(context.Background(), sid); err == nil {
			t.Error("the expired session is still stored")
		}
	})
}
