package token_test

import (
	"bytes"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ecommerce/auth-service/internal/token"
)

// policy is what the service configures by default: 5-minute access and
// 24-hour refresh tokens, 30 seconds of leeway.
func policy() token.Policy {
	return token.Policy{
		Leeway:      30 * time.Second,
		MaxLifetime: map[token.Type]time.Duration{token.Access: 5 * time.Minute, token.Refresh: 24 * time.Hour},
	}
}

func claimsAt(typ token.Type, iat, exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{"token_type": string(typ), "user_id": 42, "jti": "j", "sub": "42", "iat": iat.Unix(), "exp": exp.Unix()}
}

// The times of a token are checked against what the service issues, for
// access and refresh tokens alike: anyone holding the HS256 secret can mint
// a token, and a verifier still refuses lifetimes the service never issues.
func TestParseChecksTimes(t *testing.T) {
	k := hsKeys(t).WithPolicy(policy())
	hs := jwt.SigningMethodHS256
	const leeway = 30 * time.Second
	tests := []struct {
		name   string
		claims jwt.MapClaims
		ok     bool
	}{
		{"access: issued now for 5m", claimsAt(token.Access, now, now.Add(5*time.Minute)), true},
		{"refresh: issued now for 24h", claimsAt(token.Refresh, now, now.Add(24*time.Hour)), true},
		// The report of issue 9: iat ten years ahead, exp twenty.
		{"access: iat in ten years, exp in twenty", claimsAt(token.Access, now.AddDate(10, 0, 0), now.AddDate(20, 0, 0)), false},
		{"access: iat just within the leeway ahead", claimsAt(token.Access, now.Add(leeway), now.Add(leeway+time.Minute)), true},
		{"access: iat a second beyond the leeway ahead", claimsAt(token.Access, now.Add(leeway+time.Second), now.Add(time.Minute)), false},
		{"refresh: iat beyond the leeway ahead", claimsAt(token.Refresh, now.Add(time.Hour), now.Add(2*time.Hour)), false},
		{"access: lifetime 5m + leeway", claimsAt(token.Access, now, now.Add(5*time.Minute+leeway)), true},
		{"access: lifetime 5m + leeway + 1s", claimsAt(token.Access, now, now.Add(5*time.Minute+leeway+time.Second)), false},
		{"access: issued long ago with a far exp", claimsAt(token.Access, now.Add(-24*time.Hour), now.Add(time.Minute)), false},
		{"refresh: lifetime 24h + leeway + 1s", claimsAt(token.Refresh, now, now.Add(24*time.Hour+leeway+time.Second)), false},
		{"refresh: a year", claimsAt(token.Refresh, now, now.AddDate(1, 0, 0)), false},
		{"access: expired within the leeway", claimsAt(token.Access, now.Add(-5*time.Minute), now.Add(-leeway+time.Second)), true},
		{"access: expired beyond the leeway", claimsAt(token.Access, now.Add(-5*time.Minute), now.Add(-leeway)), false},
		{"access: nbf within the leeway", with(claimsAt(token.Access, now, now.Add(time.Minute)), "nbf", now.Add(leeway).Unix()), true},
		{"access: nbf beyond the leeway", with(claimsAt(token.Access, now, now.Add(time.Minute)), "nbf", now.Add(leeway+time.Second).Unix()), false},
		{"access: no iat", without(claimsAt(token.Access, now, now.Add(time.Minute)), "iat"), false},
		{"access: iat not a number", with(claimsAt(token.Access, now, now.Add(time.Minute)), "iat", "now"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := k.Parse(craft(t, hs, secret, nil, tt.claims), now)
			if tt.ok {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			wantInvalid(t, claims, err)
		})
	}
	// A type the policy gives no lifetime is refused.
	accessOnly := hsKeys(t).WithPolicy(token.Policy{MaxLifetime: map[token.Type]time.Duration{token.Access: time.Hour}})
	claims, err := accessOnly.Parse(mint(t, hsKeys(t), token.Refresh, 42, "s", time.Minute).Token, now)
	wantInvalid(t, claims, err)
}

// Keys made without a policy still refuse lifetimes beyond what the service
// issues at most.
func TestDefaultPolicyBoundsLifetimes(t *testing.T) {
	k := hsKeys(t)
	for typ, limit := range map[token.Type]time.Duration{token.Access: token.MaxAccessLifetime, token.Refresh: token.MaxRefreshLifetime} {
		if _, err := k.Parse(mint(t, k, typ, 42, "s", limit).Token, now); err != nil {
			t.Errorf("%s for %s: %v", typ, limit, err)
		}
		claims, err := k.Parse(mint(t, k, typ, 42, "s", limit+time.Second).Token, now)
		wantInvalid(t, claims, err)
	}
}

func TestIssuerAndAudience(t *testing.T) {
	p := policy()
	p.Issuer, p.Audience = "https://auth.shop.example", "shop-services"
	k := hsKeys(t).WithPolicy(p)
	for _, typ := range []token.Type{token.Access, token.Refresh} {
		issued := mint(t, k, typ, 42, "s", time.Minute)
		payload := decodeSegment(t, issued.Token, 1)
		if payload["iss"] != p.Issuer {
			t.Errorf("%s: iss = %v, want %q", typ, payload["iss"], p.Issuer)
		}
		if aud, _ := payload["aud"].([]any); len(aud) != 1 || aud[0] != p.Audience {
			t.Errorf("%s: aud = %v, want [%q]", typ, payload["aud"], p.Audience)
		}
		if _, err := k.Parse(issued.Token, now); err != nil {
			t.Errorf("%s: Parse of own token: %v", typ, err)
		}
	}
	hs := jwt.SigningMethodHS256
	good := func() jwt.MapClaims {
		return with(with(claimsAt(token.Access, now, now.Add(time.Minute)), "iss", p.Issuer), "aud", p.Audience)
	}
	tests := map[string]jwt.MapClaims{
		"no iss":                without(good(), "iss"),
		"other iss":             with(good(), "iss", "https://evil.example"),
		"no aud":                without(good(), "aud"),
		"other aud":             with(good(), "aud", "other-service"),
		"aud list without ours": with(good(), "aud", []string{"a", "b"}),
	}
	if _, err := k.Parse(craft(t, hs, secret, nil, good()), now); err != nil {
		t.Fatalf("control: aud as a string, as SimpleJWT writes it: %v", err)
	}
	for name, c := range tests {
		claims, err := k.Parse(craft(t, hs, secret, nil, c), now)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		wantInvalid(t, claims, err)
	}
	// Without an issuer or audience configured, none is minted.
	plain := mint(t, hsKeys(t), token.Access, 42, "s", time.Minute)
	if payload := decodeSegment(t, plain.Token, 1); payload["iss"] != nil || payload["aud"] != nil {
		t.Errorf("iss/aud minted without being configured: %v", payload)
	}
}

// Previous HS256 secrets verify and never sign, so that the secret rotates
// without ending sessions.
func TestHS256PreviousSecrets(t *testing.T) {
	oldSecret := []byte("the-old-secret-0123456789-abcdefghij")
	newSecret := []byte("the-new-secret-9876543210-klmnopqrst")
	old, err := token.NewHS256(oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := token.NewHS256(newSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	oldToken := mint(t, old, token.Refresh, 42, "s", time.Hour).Token
	if _, err := rotated.Parse(oldToken, now, token.Refresh); err != nil {
		t.Errorf("a token of the previous secret: %v", err)
	}
	newToken := mint(t, rotated, token.Access, 42, "s", time.Minute).Token
	if _, err := jwt.Parse(newToken, func(*jwt.Token) (any, error) { return newSecret, nil }, jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now })); err != nil {
		t.Errorf("a new token is not signed with the new secret: %v", err)
	}
	claims, err := old.Parse(newToken, now)
	wantInvalid(t, claims, err)
	unrelated, _ := token.NewHS256([]byte("an-unrelated-secret-of-enough-bytes!"))
	claims, err = rotated.Parse(mint(t, unrelated, token.Access, 42, "s", time.Minute).Token, now)
	wantInvalid(t, claims, err)

	info := rotated.Loaded()
	if len(info) != 2 || !info[0].Signing || info[1].Signing || info[0].Kid == info[1].Kid ||
		!strings.HasPrefix(info[0].Kid, "hs256:") || info[0].Kid != old.Loaded()[0].Kid && info[1].Kid != old.Loaded()[0].Kid {
		t.Errorf("Loaded() = %+v", info)
	}
	for _, i := range info {
		if strings.Contains(i.Kid, string(oldSecret)) || strings.Contains(i.Kid, string(newSecret)) {
			t.Error("Loaded() shows a secret")
		}
	}
	if _, err := token.NewHS256(newSecret, []byte("short")); err == nil {
		t.Error("a short previous secret was accepted")
	}
	if _, err := token.NewHS256(newSecret, oldSecret, slices.Clone(newSecret)); err == nil {
		t.Error("the signing secret listed again as previous was accepted")
	}
}

// The signing key is chosen by kid among the loaded keys; every key is
// published, so that a new key is published before it signs.
func TestSigningKeyByKid(t *testing.T) {
	for _, alg := range asymmetricAlgs {
		t.Run(alg, func(t *testing.T) {
			oldPEM, newPEM := keyPEM(t, alg, 0), keyPEM(t, alg, 1)
			oldKid, newKid := asymKeys(t, alg, oldPEM).JWKS()[0].Kid, asymKeys(t, alg, newPEM).JWKS()[0].Kid

			// Step 1 of a roll: the new key is published, the old one signs.
			published, err := token.NewAsymmetric(alg, [][]byte{oldPEM, newPEM}, "")
			if err != nil {
				t.Fatal(err)
			}
			if kid := decodeSegment(t, mint(t, published, token.Access, 42, "s", time.Minute).Token, 0)["kid"]; kid != oldKid {
				t.Errorf("default signer kid %v, want the first key's %s", kid, oldKid)
			}
			// Step 3: the new key signs, chosen by kid; the old one, now only a
			// public key, still verifies.
			switched, err := token.NewAsymmetric(alg, [][]byte{publicPEM(t, oldPEM), newPEM}, newKid)
			if err != nil {
				t.Fatal(err)
			}
			tok := mint(t, switched, token.Access, 42, "s", time.Minute).Token
			if kid := decodeSegment(t, tok, 0)["kid"]; kid != newKid {
				t.Errorf("signer kid %v, want %s", kid, newKid)
			}
			if _, err := published.Parse(tok, now); err != nil {
				t.Errorf("keys of step 1 reject a token of step 3: %v", err)
			}
			if _, err := switched.Parse(mint(t, published, token.Access, 42, "s", time.Minute).Token, now); err != nil {
				t.Errorf("keys of step 3 reject a token of step 1: %v", err)
			}
			var kids []string
			for _, j := range switched.JWKS() {
				kids = append(kids, j.Kid)
			}
			if !slices.Equal(kids, []string{oldKid, newKid}) {
				t.Errorf("JWKS kids %v, want both %v", kids, []string{oldKid, newKid})
			}
			if info := switched.Loaded(); len(info) != 2 || info[0].Signing || !info[1].Signing || info[1].Kid != newKid {
				t.Errorf("Loaded() = %+v", info)
			}
			if bytes.Equal(published.SealingSecret(), switched.SealingSecret()) {
				t.Error("the sealing secret did not change with the signing key")
			}

			if _, err := token.NewAsymmetric(alg, [][]byte{oldPEM, newPEM}, "no-such-kid"); err == nil || !strings.Contains(err.Error(), oldKid) {
				t.Errorf("unknown signing kid: %v, want an error listing the kids", err)
			}
			if _, err := token.NewAsymmetric(alg, [][]byte{oldPEM, publicPEM(t, newPEM)}, newKid); err == nil {
				t.Error("a public key was accepted as the signer")
			}
		})
	}
}

// The sealing secret is derived, never the signing material itself, and is
// the same for the same key.
func TestSealingSecretIsDerived(t *testing.T) {
	k := hsKeys(t)
	if bytes.Equal(k.SealingSecret(), secret) || bytes.Contains(k.SealingSecret(), secret[:16]) || len(k.SealingSecret()) != 32 {
		t.Errorf("HS256 sealing secret is the signing secret or part of it")
	}
	if !bytes.Equal(k.SealingSecret(), hsKeys(t).SealingSecret()) {
		t.Error("the sealing secret differs for the same signing secret")
	}
	es := asymKeys(t, token.ES256, keyPEM(t, token.ES256, 0))
	block, _ := pem.Decode(keyPEM(t, token.ES256, 0))
	if len(es.SealingSecret()) != 32 || bytes.Contains(block.Bytes, es.SealingSecret()) {
		t.Error("ES256 sealing secret is not a derived 32-byte key")
	}
}
