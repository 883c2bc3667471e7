package interop_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

const (
	issuer   = "https://auth.shop.example"
	audience = "shop-services"
)

// policy is what serve configures with AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE
// and the default leeway and lifetimes.
func policy() token.Policy {
	return token.Policy{
		Leeway: 30 * time.Second, Issuer: issuer, Audience: audience,
		MaxLifetime: map[token.Type]time.Duration{token.Access: 5 * time.Minute, token.Refresh: 24 * time.Hour},
	}
}

// With an issuer and an audience configured, SimpleJWT with ISSUER,
// AUDIENCE and LEEWAY set accepts the service's access tokens, and refuses
// another audience or issuer; a future iat is refused by both sides.
func TestSimpleJWTWithIssuerAudienceAndLeeway(t *testing.T) {
	t.Parallel()
	requirePython(t)
	secret := rand.Text() + rand.Text()
	plain, err := token.NewHS256([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	keys := plain.WithPolicy(policy())
	verify := func(t *testing.T, tok string, env ...string) pyResult {
		t.Helper()
		return runScript(t, append([]string{"SECRET=" + secret}, env...), "simplejwt_verify.py", tok)
	}
	settings := []string{"ISSUER=" + issuer, "AUDIENCE=" + audience, "LEEWAY=30"}
	storetest.Each(t, func(t *testing.T, st store.DB) {
		a := startAPI(t, st, keys, cheapHasher(t))
		u, err := a.svc.CreateUser(context.Background(), "iss@example.com", "issuer-password", false, false)
		if err != nil {
			t.Fatal(err)
		}
		p := a.login(t, "iss@example.com", "issuer-password")
		res := verify(t, p.Access, settings...)
		if res.code != 0 || res.out["user_id"] != integer(u.ID) {
			t.Fatalf("SimpleJWT with ISSUER and AUDIENCE rejected the token: %s", res.raw)
		}
		if got := nested(res.out, "claims", "iss"); got != issuer {
			t.Errorf("SimpleJWT saw iss %v", got)
		}
		for name, env := range map[string][]string{
			"another audience": {"ISSUER=" + issuer, "AUDIENCE=other-service"},
			"another issuer":   {"ISSUER=https://elsewhere.example", "AUDIENCE=" + audience},
		} {
			if res := verify(t, p.Access, env...); res.code != 1 {
				t.Errorf("%s: SimpleJWT accepted the token: %s", name, res.raw)
			}
		}
	})
	// iat an hour ahead: PyJWT under SimpleJWT refuses it, and so does the
	// service; within the leeway, both accept.
	ahead, err := keys.Mint(token.Access, 7, "sid", time.Now().Add(time.Hour), 5*time.Minute, token.Authz{})
	if err != nil {
		t.Fatal(err)
	}
	if res := verify(t, ahead.Token, settings...); res.code != 1 {
		t.Errorf("SimpleJWT accepted a token issued an hour ahead: %s", res.raw)
	}
	if _, err := keys.Parse(ahead.Token, time.Now()); err == nil {
		t.Error("the service accepted a token issued an hour ahead")
	}
	slightly, err := keys.Mint(token.Access, 7, "sid", time.Now().Add(10*time.Second), 5*time.Minute, token.Authz{})
	if err != nil {
		t.Fatal(err)
	}
	if res := verify(t, slightly.Token, settings...); res.code != 0 {
		t.Errorf("SimpleJWT with LEEWAY=30 rejected a token issued 10s ahead: %s", res.raw)
	}
	if _, err := keys.Parse(slightly.Token, time.Now()); err != nil {
		t.Errorf("the service rejected a token issued 10s ahead: %v", err)
	}
}

// PyJWT, through the published key set and with audience and issuer
// required, accepts the service's tokens, and refuses another audience.
func TestPyJWTWithIssuerAndAudience(t *testing.T) {
	t.Parallel()
	requirePython(t)
	pem, err := token.GenerateKey(token.ES256)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := token.NewAsymmetric(token.ES256, [][]byte{pem}, "")
	if err != nil {
		t.Fatal(err)
	}
	keys := plain.WithPolicy(policy())
	storetest.Each(t, func(t *testing.T, st store.DB) {
		a := startAPI(t, st, keys, cheapHasher(t))
		if _, err := a.svc.CreateUser(context.Background(), "aud@example.com", "audience-password", false, false); err != nil {
			t.Fatal(err)
		}
		p := a.login(t, "aud@example.com", "audience-password")
		jwks, _ := fetchJWKS(t, a)
		res := runScript(t, []string{"ISSUER=" + issuer, "AUDIENCE=" + audience}, "pyjwt_jwks_verify.py", jwks, p.Access)
		if res.code != 0 {
			t.Fatalf("PyJWT with audience and issuer rejected the token: %s", res.raw)
		}
		if res := runScript(t, []string{"ISSUER=" + issuer, "AUDIENCE=other"}, "pyjwt_jwks_verify.py", jwks, p.Access); res.code != 1 {
			t.Errorf("PyJWT accepted the token for another audience: %s", res.raw)
		}
	})
}
