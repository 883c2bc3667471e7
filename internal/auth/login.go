package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/ecommerce/auth-service/internal/hashlimit"
	"github.com/ecommerce/auth-service/internal/token"
)

// Login checks email and password and starts a session. Every failure a
// client can cause is ErrBadCredentials, and an unknown email still costs one
// password hash. A login first takes its place in the hash queue, and is
// refused at once with ErrOverloaded when hashing is saturated, before it
// costs the database anything; then it goes through the login throttle,
// which may refuse it (ErrThrottled) before any hash.
func (s *Service) Login(ctx context.Context, email, pw string) (Pair, error) {
	ctx, done, err := s.hasher.Reserve(ctx)
	if err != nil {
		return Pair{}, hashFailure(err)
	}
	defer done()
	attempt, err := s.throttle.admit(ctx, email)
	if err != nil {
		return Pair{}, err
	}
	user, err := s.checkPassword(ctx, email, pw)
	switch {
	case errors.Is(err, ErrBadCredentials):
		return Pair{}, err // counted on admission
	case err != nil:
		s.throttle.giveBack(ctx, attempt) // the password was never checked
		return Pair{}, err
	}
	s.throttle.succeeded(ctx, attempt)
	return s.startSession(ctx, user.ID, s.now())
}

// checkPassword returns the active user whose email and password these are.
// Every failure a client can cause is ErrBadCredentials, and costs one
// password hash whether or not the email exists.
func (s *Service) checkPassword(ctx context.Context, email, pw string) (User, error) {
	user, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
			return User{}, hashFailure(err)
		}
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: login: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, pw, user.PasswordHash)
	var tooCostly *hashlimit.TooCostlyError
	switch {
	case errors.As(err, &tooCostly):
		// Its cost, never the hash: an imported hash the budget cannot hold
		// locks its user out until an administrator resets the password.
		s.log.WarnContext(ctx, "stored password hash exceeds the hash memory budget: login refused",
			"user_id", user.ID, "hash_kib", tooCostly.KiB, "budget_kib", tooCostly.BudgetKiB)
		return User{}, ErrBadCredentials
	case err != nil:
		return User{}, hashFailure(err)
	case !ok || !user.IsActive:
		return User{}, ErrBadCredentials
	}
	if rehash {
		s.upgradeHash(ctx, user, pw)
	}
	return user, nil
}

// hashFailure is the error of a password hash that did not run:
// ErrOverloaded when it could not start in time (the hash wait bound or the
// request's deadline), the cause otherwise (the caller has gone).
func hashFailure(err error) error {
	if errors.Is(err, hashlimit.ErrOverloaded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrOverloaded, err)
	}
	return fmt.Errorf("auth: password hash: %w", err)
}

// upgradeHash replaces a Django-format or outdated hash with a fresh argon2id
// one. A failure only delays the upgrade to the next login, so it is logged,
// not returned.
func (s *Service) upgradeHash(ctx context.Context, user User, pw string) {
	fresh, err := s.hasher.Hash(ctx, pw)
	if err == nil {
		err = s.store.ReplacePasswordHash(ctx, user.ID, user.PasswordHash, fresh)
	}
	if err != nil {
		s.log.WarnContext(ctx, "password hash upgrade failed", "user_id", user.ID, "error", err)
		return
	}
	s.log.InfoContext(ctx, "password hash upgraded", "user_id", user.ID)
}

// startSession stores a new session, its first refresh token and the login
// time together: a login happens whole or not at all.
func (s *Service) startSession(ctx context.Context, userID int64, now time.Time) (Pair, error) {
	sess := Session{ID: rand.Text(), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.params.RefreshTTL)}
	pair, first, err := s.mintPair(userID, sess.ID, now)
	if err != nil {
		return Pair{}, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.InsertRefreshToken(ctx, first); err != nil {
			return err
		}
		return tx.RecordLogin(ctx, userID, now)
	})
	if err != nil {
		return Pair{}, fmt.Errorf("auth: create session: %w", err)
	}
	return pair, nil
}

// mintPair signs an access and a refresh token and returns the refresh token
// as it is stored (hashed).
func (s *Service) mintPair(userID int64, sessionID string, now time.Time) (Pair, StoredRefreshToken, error) {
	access, err := s.keys.Mint(token.Access, userID, sessionID, now, s.params.AccessTTL)
	if err != nil {
		return Pair{}, StoredRefreshToken{}, err
	}
	refresh, err := s.keys.Mint(token.Refresh, userID, sessionID, now, s.params.RefreshTTL)
	if err != nil {
		return Pair{}, StoredRefreshToken{}, err
	}
	stored := StoredRefreshToken{
		Hash: HashToken(refresh.Token), SessionID: sessionID, IssuedAt: now, ExpiresAt: refresh.Claims.ExpiresAt.Time,
	}
	return Pair{Access: access.Token, Refresh: refresh.Token}, stored, nil
}

// HashToken is how refresh tokens are stored: the SHA-256 of the token string.
func HashToken(raw string) []byte {
	sum := sha256.Sum256([]byte(raw))
	return sum[:]
}
