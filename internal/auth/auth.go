// Package auth holds the service's rules: logging in, rotating refresh tokens
// within sessions, authenticating access tokens, and logging out. It knows
// nothing of HTTP or SQL; it speaks to storage through store.Store.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/token"
)

// Errors returned (wrapped) by Service. The HTTP layer maps each to a status.
var (
	// ErrBadCredentials covers wrong password, unknown email and inactive
	// account alike, so that a caller cannot tell them apart.
	ErrBadCredentials = errors.New("auth: no active account found with the given credentials")
	// ErrTokenInvalid covers malformed, badly signed, expired, wrong-type,
	// unknown and revoked tokens.
	ErrTokenInvalid = errors.New("auth: token is invalid or expired")
	// ErrTokenReused means a retired refresh token was replayed: its session is revoked.
	ErrTokenReused = errors.New("auth: refresh token reused; session revoked")
	// ErrUserNotFound means the token's user no longer exists.
	ErrUserNotFound = errors.New("auth: user not found")
	// ErrUserInactive means the token's user has been deactivated.
	ErrUserInactive = errors.New("auth: user is inactive")
	// ErrInvalidUser is returned by CreateUser for an unusable email or password.
	ErrInvalidUser = errors.New("auth: invalid user")
)

// Params are the tunable rules of the service.
type Params struct {
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// ReuseInterval is the grace interval in which a just-retired refresh token
	// still yields a working pair of its session; zero means strict rotation.
	ReuseInterval time.Duration
}

// Pair is an access token and a refresh token of one session.
type Pair struct {
	Access  string
	Refresh string
}

// Hasher hashes and verifies passwords; *password.Hasher is the real one.
type Hasher interface {
	Hash(pw string) (string, error)
	Verify(pw, encoded string) (ok, rehash bool)
	// VerifyDummy costs what Verify costs, for a login without a user.
	VerifyDummy(pw string)
}

var _ Hasher = (*password.Hasher)(nil)

// Service implements the rules over a store, keys and a password hasher.
type Service struct {
	store  store.Store
	keys   *token.Keys
	hasher Hasher
	now    func() time.Time
	params Params
	log    *slog.Logger
}

// New returns a Service. now is the clock (time.Now in production).
func New(s store.Store, keys *token.Keys, hasher Hasher, now func() time.Time, p Params, log *slog.Logger) *Service {
	return &Service{store: s, keys: keys, hasher: hasher, now: now, params: p, log: log}
}

// NormalizeEmail trims surrounding spaces; matching ignores case in the store.
func NormalizeEmail(email string) string { return strings.TrimSpace(email) }

// Login checks email and password and starts a session. Every failure a client
// can cause is ErrBadCredentials, and an unknown email still costs one
// password hash.
func (s *Service) Login(ctx context.Context, email, pw string) (Pair, error) {
	user, err := s.store.UserByEmail(ctx, NormalizeEmail(email))
	if errors.Is(err, store.ErrNotFound) {
		s.hasher.VerifyDummy(pw)
		return Pair{}, ErrBadCredentials
	}
	if err != nil {
		return Pair{}, fmt.Errorf("auth: login: %w", err)
	}
	ok, rehash := s.hasher.Verify(pw, user.PasswordHash)
	if !ok || !user.IsActive {
		return Pair{}, ErrBadCredentials
	}
	if rehash {
		s.upgradeHash(ctx, user, pw)
	}
	return s.startSession(ctx, user.ID, s.now())
}

// upgradeHash replaces a Django-format or outdated hash with a fresh argon2id
// one. A failure only delays the upgrade to the next login, so it is logged,
// not returned.
func (s *Service) upgradeHash(ctx context.Context, user store.User, pw string) {
	fresh, err := s.hasher.Hash(pw)
	if err == nil {
		err = s.store.ReplacePasswordHash(ctx, user.ID, user.PasswordHash, fresh)
	}
	if err != nil {
		s.log.WarnContext(ctx, "password hash upgrade failed", "user_id", user.ID, "error", err)
		return
	}
	s.log.InfoContext(ctx, "password hash upgraded", "user_id", user.ID)
}

func (s *Service) startSession(ctx context.Context, userID int64, now time.Time) (Pair, error) {
	sess := store.Session{ID: rand.Text(), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.params.RefreshTTL)}
	pair, refresh, err := s.mintPair(userID, sess.ID, now)
	if err != nil {
		return Pair{}, err
	}
	if err := s.store.CreateSession(ctx, sess, refresh); err != nil {
		return Pair{}, fmt.Errorf("auth: create session: %w", err)
	}
	return pair, nil
}

// mintPair signs an access and a refresh token and returns the refresh token
// as it is stored (hashed).
func (s *Service) mintPair(userID int64, sessionID string, now time.Time) (Pair, store.RefreshToken, error) {
	access, err := s.keys.Mint(token.Access, userID, sessionID, now, s.params.AccessTTL)
	if err != nil {
		return Pair{}, store.RefreshToken{}, err
	}
	refresh, err := s.keys.Mint(token.Refresh, userID, sessionID, now, s.params.RefreshTTL)
	if err != nil {
		return Pair{}, store.RefreshToken{}, err
	}
	stored := store.RefreshToken{
		Hash: HashToken(refresh.Token), SessionID: sessionID, IssuedAt: now, ExpiresAt: refresh.Claims.ExpiresAt.Time,
	}
	return Pair{Access: access.Token, Refresh: refresh.Token}, stored, nil
}

// HashToken is how refresh tokens are stored: the SHA-256 of the token string.
func HashToken(raw string) []byte {
	sum := sha256.Sum256([]byte(raw))
	return sum[:]
}

// Refresh rotates a refresh token: it is retired and a new pair of the same
// session is returned. Within the grace interval a just-retired token yields
// the pair it was rotated into, again. Replaying a retired token after the
// grace interval revokes the session and returns ErrTokenReused.
func (s *Service) Refresh(ctx context.Context, raw string) (Pair, error) {
	now := s.now()
	claims, err := s.keys.Parse(raw, now, token.Refresh)
	if err != nil {
		return Pair{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	if _, err := s.activeUser(ctx, claims.UserID); err != nil {
		return Pair{}, err
	}
	pair, next, err := s.mintPair(claims.UserID, claims.SessionID, now)
	if err != nil {
		return Pair{}, err
	}
	sealed, err := sealSuccessor(s.keys.SealingSecret(), raw, pair)
	if err != nil {
		return Pair{}, fmt.Errorf("auth: refresh: %w", err)
	}
	replayed, err := s.store.RotateRefreshToken(ctx, store.Rotation{
		SessionID: claims.SessionID, OldHash: HashToken(raw), Next: next, Successor: sealed,
		Now: now, Grace: s.params.ReuseInterval,
	})
	switch {
	case errors.Is(err, store.ErrReuseDetected):
		s.log.WarnContext(ctx, "refresh token reuse detected; session revoked",
			"user_id", claims.UserID, "session_id", claims.SessionID, "jti", claims.ID)
		return Pair{}, ErrTokenReused
	case errors.Is(err, store.ErrTokenReused):
		return Pair{}, ErrTokenReused
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrSessionRevoked):
		return Pair{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	case err != nil:
		return Pair{}, fmt.Errorf("auth: refresh: %w", err)
	case replayed != nil:
		return s.currentSuccessor(ctx, raw, replayed)
	}
	return pair, nil
}

// maxReplaySteps bounds how far currentSuccessor follows a session's chain.
const maxReplaySteps = 8

// currentSuccessor opens the pair a just-retired token was rotated into and,
// if that pair's refresh token has itself been rotated meanwhile, follows the
// chain to the live pair, so that a slow tab lands where a fast one went.
func (s *Service) currentSuccessor(ctx context.Context, raw string, sealed []byte) (Pair, error) {
	for range maxReplaySteps {
		pair, err := openSuccessor(s.keys.SealingSecret(), raw, sealed)
		if err != nil {
			// Sealed under a signing key that has since been rolled.
			return Pair{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
		}
		stored, err := s.store.RefreshToken(ctx, HashToken(pair.Refresh))
		switch {
		case errors.Is(err, store.ErrNotFound):
			return Pair{}, fmt.Errorf("%w: successor expired", ErrTokenInvalid)
		case err != nil:
			return Pair{}, fmt.Errorf("auth: refresh replay: %w", err)
		case stored.RetiredAt == nil:
			return pair, nil
		}
		raw, sealed = pair.Refresh, stored.Successor
	}
	return Pair{}, fmt.Errorf("%w: session moved on", ErrTokenInvalid)
}

// activeUser loads a token's user and fails with ErrUserNotFound or ErrUserInactive.
func (s *Service) activeUser(ctx context.Context, id int64) (store.User, error) {
	user, err := s.store.UserByID(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, ErrUserNotFound
	case err != nil:
		return store.User{}, fmt.Errorf("auth: load user: %w", err)
	case !user.IsActive:
		return store.User{}, ErrUserInactive
	}
	return user, nil
}

// checkSession fails with ErrTokenInvalid or ErrTokenReused unless sess is live.
func checkSession(sess store.Session) error {
	switch {
	case sess.RevokedAt == nil:
		return nil
	case sess.RevokedReason == store.ReasonReuse:
		return ErrTokenReused
	}
	return fmt.Errorf("%w: session revoked", ErrTokenInvalid)
}

// owner loads the session and user a verified token names, in one round
// trip, and fails unless the user exists and is active and the session is
// live. Only when the session is gone does it look further, to tell a
// deleted user from an expired session.
func (s *Service) owner(ctx context.Context, claims token.Claims) (store.User, error) {
	sess, user, err := s.store.SessionUser(ctx, claims.SessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if _, err := s.activeUser(ctx, claims.UserID); err != nil {
			return store.User{}, err
		}
		return store.User{}, fmt.Errorf("%w: unknown session", ErrTokenInvalid)
	case err != nil:
		return store.User{}, fmt.Errorf("auth: load session: %w", err)
	case user.ID != claims.UserID:
		return store.User{}, fmt.Errorf("%w: session of another user", ErrTokenInvalid)
	case !user.IsActive:
		return store.User{}, ErrUserInactive
	}
	return user, checkSession(sess)
}

// Authenticate verifies an access token and returns its user, who must exist
// and be active, and whose session must be live.
func (s *Service) Authenticate(ctx context.Context, raw string) (store.User, token.Claims, error) {
	claims, err := s.keys.Parse(raw, s.now(), token.Access)
	if err != nil {
		return store.User{}, token.Claims{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	user, err := s.owner(ctx, claims)
	if err != nil {
		return store.User{}, token.Claims{}, err
	}
	return user, claims, nil
}

// Verify checks a token of either type: signature, expiry, user, session, and
// for a refresh token that it has not been retired.
func (s *Service) Verify(ctx context.Context, raw string) error {
	claims, err := s.keys.Parse(raw, s.now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	if _, err := s.owner(ctx, claims); err != nil {
		return err
	}
	if claims.TokenType != token.Refresh {
		return nil
	}
	stored, err := s.store.RefreshToken(ctx, HashToken(raw))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: unknown refresh token", ErrTokenInvalid)
	case err != nil:
		return fmt.Errorf("auth: verify: %w", err)
	case stored.RetiredAt != nil:
		return fmt.Errorf("%w: refresh token already used", ErrTokenInvalid)
	}
	return nil
}

// Logout revokes the session of a refresh token. It is idempotent: logging
// out of a revoked session succeeds. The token must still verify.
func (s *Service) Logout(ctx context.Context, raw string) error {
	claims, err := s.keys.Parse(raw, s.now(), token.Refresh)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	stored, err := s.store.RefreshToken(ctx, HashToken(raw))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: unknown refresh token", ErrTokenInvalid)
	} else if err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	if stored.RetiredAt != nil {
		// Logging out still ends the session, but a retired token in use is
		// worth knowing about.
		s.log.WarnContext(ctx, "logout with a retired refresh token",
			"user_id", claims.UserID, "session_id", claims.SessionID, "jti", claims.ID)
	}
	if err := s.store.RevokeSession(ctx, claims.SessionID, store.ReasonLogout, s.now()); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// LogoutAll revokes every session of a user.
func (s *Service) LogoutAll(ctx context.Context, userID int64) error {
	n, err := s.store.RevokeUserSessions(ctx, userID, store.ReasonLogoutAll, s.now())
	if err != nil {
		return fmt.Errorf("auth: logout all: %w", err)
	}
	s.log.InfoContext(ctx, "all sessions revoked", "user_id", userID, "sessions", n)
	return nil
}

// CreateUser adds a user with a hashed password (used by createsuperuser).
// It returns ErrInvalidUser for an empty email or password and
// store.ErrConflict when the email is taken.
func (s *Service) CreateUser(ctx context.Context, email, pw string, staff, superuser bool) (store.User, error) {
	email = NormalizeEmail(email)
	if !strings.Contains(email, "@") || strings.ContainsAny(email, " \t\r\n") || pw == "" {
		return store.User{}, ErrInvalidUser
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return store.User{}, err
	}
	return s.store.CreateUser(ctx, store.NewUser{
		Email: email, PasswordHash: hash, IsActive: true, IsStaff: staff, IsSuperuser: superuser, DateJoined: s.now(),
	})
}

// Cleanup deletes expired sessions and refresh tokens in batches of at most
// batch rows, until none are left or ctx ends, and returns how many went.
func (s *Service) Cleanup(ctx context.Context, batch int) (int64, error) {
	var total int64
	for ctx.Err() == nil {
		n, err := s.store.DeleteExpired(ctx, s.now(), batch)
		total += n
		if err != nil {
			return total, err
		}
		if n < int64(batch) {
			break
		}
	}
	return total, nil
}
