// Package auth is the service's domain: the records it keeps (users,
// sessions, stored refresh tokens), the errors callers branch on, and the
// rules: logging in, rotating refresh tokens within sessions, authenticating
// access tokens, logging out, creating and importing users. It knows nothing
// of HTTP or SQL. It declares what it needs from persistence (Store, with a
// transaction) and internal/store implements that, never the reverse.
package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/passwordpolicy"
	"github.com/ecommerce/auth-service/internal/token"
)

// Params are the tunable rules of the service.
type Params struct {
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// ReuseInterval is the grace interval in which a just-retired refresh token
	// still yields a working pair of its session; zero means strict rotation.
	ReuseInterval time.Duration
	// SignupOpen enables self-service sign-up (AUTH_SIGNUP=open).
	SignupOpen bool
	// EmailTokenTTL is how long a verification or reset token sent by email
	// is valid.
	EmailTokenTTL time.Duration
	// Policy is what a new password must satisfy.
	Policy passwordpolicy.Policy
	// AuditRetention is how long security events are kept; zero keeps them.
	AuditRetention time.Duration
	// Throttle configures the login throttle (throttle.go); zero turns it off.
	Throttle ThrottleParams
	// Observer, if set, is told how logins and refreshes end and which
	// sessions are revoked (metrics).
	Observer Observer
}

// Pair is an access token and a refresh token of one session.
type Pair struct {
	Access  string
	Refresh string
}

// Hasher hashes and verifies passwords; *password.Hasher is the real one.
// Hashing is bounded (internal/hashlimit): every method fails without
// hashing with an error wrapping hashlimit.ErrOverloaded when the hash cannot
// start in time, or with ctx's error when the caller has gone; and Verify of
// a stored hash that alone exceeds the memory budget checks the dummy
// instead and fails with a *hashlimit.TooCostlyError.
type Hasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, pw, encoded string) (ok, rehash bool, err error)
	// VerifyDummy costs what Verify costs, for a login without a user.
	VerifyDummy(ctx context.Context, pw string) error
	// Reserve takes a place for the next Verify or VerifyDummy made with the
	// returned context, or fails at once when hashing is saturated, before
	// the caller asks the database anything; done gives the place up.
	Reserve(ctx context.Context) (_ context.Context, done func(), _ error)
}

var _ Hasher = (*password.Hasher)(nil)

// Service applies the rules over a store, signing keys and a password hasher.
type Service struct {
	store  Store
	keys   *token.Keys
	hasher Hasher
	now    func() time.Time
	params Params
	log    *slog.Logger
	// eventsQueued wakes this process's event dispatcher when a use case has
	// committed an event, so that delivery does not wait for the next poll.
	eventsQueued chan struct{}
	// throttle limits login attempts (throttle.go).
	throttle *throttle
}

// New returns a Service. now is the clock (time.Now in production). keys may
// be nil for a service that only manages users (the commands).
func New(st Store, keys *token.Keys, hasher Hasher, now func() time.Time, p Params, log *slog.Logger) *Service {
	if p.Observer == nil {
		p.Observer = nobody{}
	} else {
		st = newObservedStore(st, p.Observer)
	}
	return &Service{store: st, keys: keys, hasher: hasher, now: now, params: p, log: log, eventsQueued: make(chan struct{}, 1),
		throttle: &throttle{store: st, params: p.Throttle, now: now, log: log}}
}

// Ready reports whether the service can answer requests that need the
// database: whether the database answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// PublicKeys returns the public keys that verify the service's tokens, the
// signing key first; none in HS256 mode, whose secret is never published.
func (s *Service) PublicKeys() []token.JWK { return s.keys.JWKS() }
