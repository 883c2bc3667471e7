package token_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/token"
)

// FuzzParse hands arbitrary strings to Parse under HS256 and ES256 keys:
// it never panics, every failure wraps ErrInvalid, and whatever it accepts
// is a token of the service's: a known type, a user, a jti, and one it
// accepts again.
func FuzzParse(f *testing.F) {
	hs, err := token.NewHS256([]byte("fuzz-secret-that-is-at-least-32-bytes!"))
	if err != nil {
		f.Fatal(err)
	}
	pem, err := token.GenerateKey(token.ES256)
	if err != nil {
		f.Fatal(err)
	}
	es, err := token.NewAsymmetric(token.ES256, [][]byte{pem}, "")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	for _, k := range []*token.Keys{hs, es} {
		for _, typ := range []token.Type{token.Access, token.Refresh} {
			issued, err := k.Mint(typ, 42, "session", now, time.Hour, token.Authz{})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(issued.Token)
		}
	}
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.")
	f.Fuzz(func(t *testing.T, raw string) {
		for _, k := range []*token.Keys{hs, es} {
			claims, err := k.Parse(raw, now)
			if err != nil {
				if !errors.Is(err, token.ErrInvalid) {
					t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", raw, err)
				}
				continue
			}
			if (claims.TokenType != token.Access && claims.TokenType != token.Refresh) || claims.UserID <= 0 || claims.ID == "" {
				t.Fatalf("Parse(%q) accepted claims %+v", raw, claims)
			}
			if _, err := k.Parse(raw, now, claims.TokenType); err != nil {
				t.Fatalf("Parse(%q) accepted once, then %v", raw, err)
			}
		}
	})
}
