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
	// Generation is the session's token generation (Authz.Generation),
	// omitted at 0.
	Generation int `json:"sgen,omitempty"`
	jwt.RegisteredClaims
}

// Authz is what an access token tells downstream services about the user's
// rights: their roles and whether they are staff.
type Authz struct {
	Roles   []string
	IsStaff bool
	// Generation is not a right but goes with them: the generation of the
	// session's tokens, which the service itself checks (a password change
	// starts a new one, and the tokens from before it stop working).
	Generation int
}

// Issued is a freshly signed token with its claims.
type Issued struct {
	Token  string
	Claims Claims
}

// The longest lifetimes the service issues unless AUTH_ALLOW_LONG_TTL says
// otherwise: what keys verify by default (DefaultPolicy).
const (
	MaxAccessLifetime  = time.Hour
	MaxRefreshLifetime = 90 * 24 * time.Hour
)

// Policy is what the keys demand of a token's claims beyond its signature,
// and what they mint into every token. RFC 8725: a verifier refuses times
// the issuer never produces, not only expired tokens.
type Policy struct {
	// Leeway is the clock skew allowed when exp, nbf and iat are checked.
	Leeway time.Duration
	// Issuer, when set, is minted as iss and required at verification.
	Issuer string
	// Audience, when set, is minted as aud and required at verification.
	Audience string
	// MaxLifetime is, per token type, the longest exp − iat accepted (plus
	// the leeway): the configured TTL of that type. A type without an entry
	// is refused.
	MaxLifetime map[Type]time.Duration
}

// DefaultPolicy is the policy of new keys until WithPolicy replaces it: no
// leeway, no issuer or audience, and lifetimes bounded by the longest the
// service issues without AUTH_ALLOW_LONG_TTL.
func DefaultPolicy() Policy {
	return Policy{MaxLifetime: map[Type]time.Duration{Access: MaxAccessLifetime, Refresh: MaxRefreshLifetime}}
}

// Mint signs a new token of type typ for a user's session, valid for ttl
// from now, carrying authz's claims and the policy's issuer and audience.
func (k *Keys) Mint(typ Type, userID int64, sessionID string, now time.Time, ttl time.Duration, authz Authz) (Issued, error) {
	claims := Claims{
		TokenType:  typ,
		UserID:     userID,
		SessionID:  sessionID,
		Roles:      authz.Roles,
		IsStaff:    authz.IsStaff,
		Generation: authz.Generation,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    k.policy.Issuer,
			Subject:   strconv.FormatInt(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        rand.Text(),
		},
	}
	if k.policy.Audience != "" {
		claims.Audience = jwt.ClaimStrings{k.policy.Audience}
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
// one of the types in want (any type if want is empty), and its claims must
// satisfy the keys' policy: exp required and, like nbf, checked with the
// leeway; iat required and at most the leeway in the future; exp − iat no
// longer than the type's lifetime plus the leeway; iss and aud as configured.
// Every failure wraps ErrInvalid.
func (k *Keys) Parse(raw string, now time.Time, want ...Type) (Claims, error) {
	var claims Claims
	p := k.policy
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{k.method.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(p.Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	}
	if p.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(p.Issuer))
	}
	if p.Audience != "" {
		opts = append(opts, jwt.WithAudience(p.Audience))
	}
	if _, err := jwt.NewParser(opts...).ParseWithClaims(raw, &claims, k.verificationKey); err != nil {
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
	if claims.IssuedAt == nil {
		return Claims{}, fmt.Errorf("%w: missing iat", ErrInvalid)
	}
	limit, ok := p.MaxLifetime[claims.TokenType]
	if lifetime := claims.ExpiresAt.Sub(claims.IssuedAt.Time); !ok || lifetime > limit+p.Leeway {
		return Claims{}, fmt.Errorf("%w: a %s token valid for %s, longer than the service issues", ErrInvalid, claims.TokenType, lifetime)
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
