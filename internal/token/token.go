// Package token mints and verifies the service's JWTs. The claims are those
// SimpleJWT writes and its verifiers read (token_type, exp, iat, jti, user_id),
// plus sid, the session the token belongs to, and on access tokens the
// user's roles and staff flag where they have any (SimpleJWT ignores claims
// it does not know, so its verifiers are unaffected). Verification accepts only the
// configured algorithm and only configured keys: nothing in a token's header
// (kid, jku, jwk, x5u) ever makes it fetch or trust another key.
package token

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalid is returned (wrapped) for every token that does not verify:
// malformed, badly signed, expired, of the wrong type or signed by a key the
// service does not hold.
var ErrInvalid = errors.New("token: invalid or expired")

// Type is the value of the token_type claim.
type Type string

// The two token types, as SimpleJWT names them.
const (
	Access  Type = "access"
	Refresh Type = "refresh"
)

// Claims are the claims of every token the service mints.
type Claims struct {
	TokenType Type   `json:"token_type"`
	UserID    int64  `json:"user_id"`
	SessionID string `json:"sid,omitempty"`
	// Roles and IsStaff are omitted when empty and false.
	Roles   []string `json:"roles,omitempty"`
	IsStaff bool     `json:"is_staff,omitempty"`
	jwt.RegisteredClaims
}

// Authz is what an access token tells downstream services about the user's
// rights: their roles and whether they are staff.
type Authz struct {
	Roles   []string
	IsStaff bool
}

// Issued is a freshly signed token with its claims.
type Issued struct {
	Token  string
	Claims Claims
}

// Mint signs a new token of type typ for a user's session, valid for ttl
// from now, carrying authz's claims.
func (k *Keys) Mint(typ Type, userID int64, sessionID string, now time.Time, ttl time.Duration, authz Authz) (Issued, error) {
	claims := Claims{
		TokenType: typ,
		UserID:    userID,
		SessionID: sessionID,
		Roles:     authz.Roles,
		IsStaff:   authz.IsStaff,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        rand.Text(),
		},
	}
	t := jwt.NewWithClaims(k.method, claims)
	if k.signKID != "" {
		t.Header["kid"] = k.signKID
	}
	signed, err := t.SignedString(k.signKey)
	if err != nil {
		return Issued{}, fmt.Errorf("token: sign: %w", err)
	}
	return Issued{Token: signed, Claims: claims}, nil
}

// Parse verifies raw at time now and returns its claims. The token must be of
// one of the types in want (any type if want is empty). Every failure wraps
// ErrInvalid.
func (k *Keys) Parse(raw string, now time.Time, want ...Type) (Claims, error) {
	var claims Claims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{k.method.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if _, err := parser.ParseWithClaims(raw, &claims, k.verificationKey); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if claims.TokenType != Access && claims.TokenType != Refresh {
		return Claims{}, fmt.Errorf("%w: unknown token_type", ErrInvalid)
	}
	if len(want) > 0 && !typeIn(claims.TokenType, want) {
		return Claims{}, fmt.Errorf("%w: token_type is %q", ErrInvalid, claims.TokenType)
	}
	if claims.ID == "" || claims.UserID <= 0 {
		return Claims{}, fmt.Errorf("%w: missing jti or user_id", ErrInvalid)
	}
	return claims, nil
}

func typeIn(t Type, types []Type) bool {
	for _, w := range types {
		if t == w {
			return true
		}
	}
	return false
}
