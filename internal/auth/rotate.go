package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecommerce/auth-service/internal/token"
)

// Rotate exchanges a refresh token for a new pair of the same session: the
// token is retired and the pair's refresh token replaces it. Within the grace
// interval a just-retired token yields the pair it was rotated into, again.
// Presenting a retired token after the grace interval revokes the session and
// returns ErrTokenReused.
func (s *Service) Rotate(ctx context.Context, raw string) (Pair, error) {
	now := s.now()
	claims, err := s.keys.Parse(raw, now, token.Refresh)
	if err != nil {
		return Pair{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	user, err := s.activeUser(ctx, claims.UserID)
	if err != nil {
		return Pair{}, err
	}
	// The roles as they are now: a rotation after a role change picks it up.
	authz, err := s.authzOf(ctx, user)
	if err != nil {
		return Pair{}, fmt.Errorf("auth: refresh: %w", err)
	}
	pair, next, err := s.mintPair(claims.UserID, claims.SessionID, now, authz)
	if err != nil {
		return Pair{}, err
	}
	sealed, err := sealSuccessor(s.keys.SealingSecret(), raw, pair)
	if err != nil {
		return Pair{}, fmt.Errorf("auth: refresh: %w", err)
	}
	var (
		step     rotationStep
		replayed []byte
	)
	err = s.store.InTx(ctx, func(tx Tx) error {
		step, replayed, err = s.rotateIn(ctx, tx, claims.SessionID, HashToken(raw), next, sealed, now)
		return err
	})
	switch {
	case err != nil:
		return Pair{}, err
	case step == stepRevoke:
		s.log.WarnContext(ctx, "refresh token reuse detected; session revoked",
			"user_id", claims.UserID, "session_id", claims.SessionID, "jti", claims.ID)
		return Pair{}, ErrTokenReused
	case step == stepReplay:
		return s.currentSuccessor(ctx, raw, replayed)
	}
	return pair, nil
}

// rotationStep is what a rotation does, decided by decideRotation.
type rotationStep int

const (
	stepRetireAndAdd rotationStep = iota // the normal case
	stepReplay                           // retired within the grace interval
	stepRevoke                           // reuse: revoke the session
)

// rotateIn applies one rotation inside tx: it locks the session, so that
// rotations of one session run one at a time across processes, decides, and
// writes. For stepReplay it writes nothing and returns the sealed successor
// of the retired token; for stepRevoke it revokes the session, and the
// transaction must still commit.
func (s *Service) rotateIn(ctx context.Context, tx Tx, sessionID string, oldHash []byte, next StoredRefreshToken, sealed []byte, now time.Time) (rotationStep, []byte, error) {
	sess, err := tx.LockSession(ctx, sessionID)
	if errors.Is(err, ErrNotFound) {
		return 0, nil, fmt.Errorf("%w: unknown session", ErrTokenInvalid)
	} else if err != nil {
		return 0, nil, fmt.Errorf("auth: refresh: %w", err)
	}
	tok, err := tx.StoredRefreshToken(ctx, oldHash)
	if errors.Is(err, ErrNotFound) {
		return 0, nil, fmt.Errorf("%w: unknown refresh token", ErrTokenInvalid)
	} else if err != nil {
		return 0, nil, fmt.Errorf("auth: refresh: %w", err)
	}
	step, err := decideRotation(sessionID, sess, tok, now, s.params.ReuseInterval)
	if err != nil {
		return 0, nil, err
	}
	switch step {
	case stepReplay:
		return step, tok.Successor, nil
	case stepRevoke:
		return step, nil, tx.RevokeSession(ctx, sessionID, ReasonReuse, now)
	}
	if err := tx.RetireRefreshToken(ctx, oldHash, now, sealed); err != nil {
		return 0, nil, err
	}
	if err := tx.InsertRefreshToken(ctx, next); err != nil {
		return 0, nil, err
	}
	return step, nil, tx.ExtendSession(ctx, sessionID, next.ExpiresAt)
}

// decideRotation holds the rotation rules, applied to the locked session
// sess and the stored token tok presented for session sessionID at now:
//   - the token must belong to the session it claims, and the session must be live;
//   - an unretired token is retired and its successor stored;
//   - a token retired no longer than grace ago yields the successor it was
//     rotated into, the same pair again, so that concurrent refreshes (two
//     tabs) neither log the user out nor fork the session;
//   - any other retired token is reuse, and the session is revoked.
func decideRotation(sessionID string, sess Session, tok StoredRefreshToken, now time.Time, grace time.Duration) (rotationStep, error) {
	if tok.SessionID != sess.ID || sess.ID != sessionID {
		return 0, fmt.Errorf("%w: token of another session", ErrTokenInvalid)
	}
	if err := checkSession(sess); err != nil {
		return 0, err
	}
	if tok.RetiredAt == nil {
		return stepRetireAndAdd, nil
	}
	if grace > 0 && !now.After(tok.RetiredAt.Add(grace)) && len(tok.Successor) > 0 {
		return stepReplay, nil
	}
	return stepRevoke, nil
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
		stored, err := s.store.StoredRefreshToken(ctx, HashToken(pair.Refresh))
		switch {
		case errors.Is(err, ErrNotFound):
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
