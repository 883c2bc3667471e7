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
// which may refuse it (ErrThrottled) before any hash. Every attempt the
// throttle lets through, and every one it refuses, is a security event.
func (s *Service) Login(ctx context.Context, email, pw string) (_ Pair, err error) {
	defer func() { s.params.Observer.LoginDone(loginResult(err)) }()
	ctx, done, err := s.hasher.Reserve(ctx)
	if err != nil {
		return Pair{}, hashFailure(err)
	}
	defer done()
	attempt, err := s.throttle.admit(ctx, email)
	if errors.Is(err, ErrThrottled) {
		s.recordLoginRefused(ctx, EventLoginThrottled, email, 0)
		return Pair{}, err
	} else if err != nil {
		return Pair{}, err
	}
	user, rehash, err := s.checkPassword(ctx, email, pw)
	switch {
	case errors.Is(err, ErrBadCredentials):
		s.throttle.failed(ctx, attempt)
		s.recordLoginRefused(ctx, EventLoginFailed, email, user.ID)
		return Pair{}, err
	case err != nil:
		s.throttle.giveBack(ctx, attempt) // the password was never checked
		return Pair{}, err
	}
	s.throttle.succeeded(ctx, attempt)
	var fresh string
	if rehash {
		fresh = s.freshHash(ctx, user, pw)
	}
	return s.startSession(ctx, user, fresh, s.now())
}

// checkPassword returns the active user whose email and password these are,
// and whether their stored hash should be upgraded. Every failure a client
// can cause is ErrBadCredentials, and costs one password hash whether or not
// the email exists; the user is returned with it when the account exists.
func (s *Service) checkPassword(ctx context.Context, email, pw string) (User, bool, error) {
	user, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		if err := s.hasher.VerifyDummy(ctx, pw); err != nil {
			return User{}, false, hashFailure(err)
		}
		return User{}, false, ErrBadCredentials
	}
	if err != nil {
		return User{}, false, fmt.Errorf("auth: login: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, pw, user.PasswordHash)
	var tooCostly *hashlimit.TooCostlyError
	switch {
	case errors.As(err, &tooCostly):
		// Its cost, never the hash: an imported hash the budget cannot hold
		// locks its user out until an administrator resets the password.
		s.log.WarnContext(ctx, "stored password hash exceeds the hash memory budget: login refused",
			"user_id", user.ID, "hash_kib", tooCostly.KiB, "budget_kib", tooCostly.BudgetKiB)
		return user, false, ErrBadCredentials
	case err != nil:
		return User{}, false, hashFailure(err)
	case !ok || !user.IsActive:
		return user, false, ErrBadCredentials
	}
	return user, rehash, nil
}

// recordLoginRefused writes a login_failed or login_throttled event with the
// email as typed. Nothing else changed, so there is no transaction to join;
// a failure to record is logged and does not change the answer.
func (s *Service) recordLoginRefused(ctx context.Context, kind EventKind, email string, userID int64) {
	e := s.event(ctx, kind, userID, "", "")
	e.Email = email
	if err := s.store.RecordEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "security event not recorded", "kind", e.Kind, "error", err)
	}
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

// freshHash hashes pw with the current parameters, to replace a Django-format
// or outdated hash. A failure only delays the upgrade to the next login, so
// it is logged and gives "".
func (s *Service) freshHash(ctx context.Context, user User, pw string) string {
	fresh, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		s.log.WarnContext(ctx, "password hash upgrade failed", "user_id", user.ID, "error", err)
		return ""
	}
	return fresh
}

// startSession stores a new session, its first refresh token, the login
// time, the upgraded password hash if there is one, and the events, together:
// a login happens whole or not at all.
func (s *Service) startSession(ctx context.Context, user User, freshHash string, now time.Time) (Pair, error) {
	authz, err := s.authzOf(ctx, user)
	if err != nil {
		return Pair{}, fmt.Errorf("auth: login: %w", err)
	}
	sess := Session{ID: rand.Text(), UserID: user.ID, CreatedAt: now, ExpiresAt: now.Add(s.params.RefreshTTL), CreatedBy: ClientOf(ctx)}
	pair, first, err := s.mintPair(user.ID, sess.ID, now, authz)
	if err != nil {
		return Pair{}, err
	}
	upgraded := false
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.InsertRefreshToken(ctx, first); err != nil {
			return err
		}
		if err := tx.RecordLogin(ctx, user.ID, now); err != nil {
			return err
		}
		if freshHash != "" {
			var err error
			if upgraded, err = tx.ReplacePasswordHash(ctx, user.ID, user.PasswordHash, freshHash); err != nil {
				return err
			}
			if upgraded {
				if err := tx.RecordEvent(ctx, s.event(ctx, EventPasswordHashUpgraded, user.ID, sess.ID, "")); err != nil {
					return err
				}
			}
		}
		return tx.RecordEvent(ctx, s.event(ctx, EventLoginSucceeded, user.ID, sess.ID, ""))
	})
	if err != nil {
		return Pair{}, fmt.Errorf("auth: create session: %w", err)
	}
	if upgraded {
		s.log.InfoContext(ctx, "password hash upgraded", "user_id", user.ID)
	}
	return pair, nil
}

// mintPair signs an access token carrying authz and a refresh token, and
// returns the refresh token as it is stored (hashed).
func (s *Service) mintPair(userID int64, sessionID string, now time.Time, authz token.Authz) (Pair, StoredRefreshToken, error) {
	access, err := s.keys.Mint(token.Access, userID, sessionID, now, s.params.AccessTTL, authz)
	if err != nil {
		return Pair{}, StoredRefreshToken{}, err
	}
	refresh, err := s.keys.Mint(token.Refresh, userID, sessionID, now, s.params.RefreshTTL, token.Authz{Generation: authz.Generation})
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
