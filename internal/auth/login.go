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
// password hash.
func (s *Service) Login(ctx context.Context, email, pw string) (Pair, error) {
	user, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
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
	return s.startSession(ctx, user, s.now())
}

// upgradeHash replaces a Django-format or outdated hash with a fresh argon2id
// one. A failure only delays the upgrade to the next login, so it is logged,
// not returned.
func (s *Service) upgradeHash(ctx context.Context, user User, pw string) {
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

// startSession stores a new session, its first refresh token and the login
// time together: a login happens whole or not at all.
func (s *Service) startSession(ctx context.Context, user User, now time.Time) (Pair, error) {
	userID := user.ID
	authz, err := s.authzOf(ctx, user)
	if err != nil {
		return Pair{}, fmt.Errorf("auth: login: %w", err)
	}
	sess := Session{ID: rand.Text(), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.params.RefreshTTL)}
	pair, first, err := s.mintPair(userID, sess.ID, now, authz)
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
