package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/ecommerce/auth-service/internal/token"
)

// Login checks email and password and starts a session. Every failure a client
// can cause is ErrBadCredentials, and an unknown email still costs one
// password hash. Every attempt is a security event.
func (s *Service) Login(ctx context.Context, email, pw string) (Pair, error) {
	user, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		s.hasher.VerifyDummy(pw)
		s.recordLoginFailed(ctx, email, 0)
		return Pair{}, ErrBadCredentials
	}
	if err != nil {
		return Pair{}, fmt.Errorf("auth: login: %w", err)
	}
	ok, rehash := s.hasher.Verify(pw, user.PasswordHash)
	if !ok || !user.IsActive {
		s.recordLoginFailed(ctx, email, user.ID)
		return Pair{}, ErrBadCredentials
	}
	var fresh string
	if rehash {
		fresh = s.freshHash(ctx, user, pw)
	}
	return s.startSession(ctx, user, fresh, s.now())
}

// recordLoginFailed writes a login_failed event with the email as typed.
// Nothing else changed, so there is no transaction to join; a failure to
// record is logged and does not change the answer.
func (s *Service) recordLoginFailed(ctx context.Context, email string, userID int64) {
	e := s.event(ctx, EventLoginFailed, userID, "", "")
	e.Email = email
	if err := s.store.RecordEvent(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "security event not recorded", "kind", e.Kind, "error", err)
	}
}

// freshHash hashes pw with the current parameters, to replace a Django-format
// or outdated hash. A failure only delays the upgrade to the next login, so
// it is logged and gives "".
func (s *Service) freshHash(ctx context.Context, user User, pw string) string {
	fresh, err := s.hasher.Hash(pw)
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
	refresh, err := s.keys.Mint(token.Refresh, userID, sessionID, now, s.params.RefreshTTL, token.Authz{})
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
