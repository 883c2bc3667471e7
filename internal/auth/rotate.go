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
// interval a just-retired token yields the pair it was rotated into, again,
// as long as that pair is unused and the token was never exposed (see
// decideRotation). Any other presentation of a retired token revokes the
// session and returns ErrTokenReused.
func (s *Service) Rotate(ctx context.Context, raw string) (_ Pair, err error) {
	var out rotation
	defer func() { s.params.Observer.RefreshDone(refreshResult(out.step, err)) }()
	now := s.now()
	claims, err := s.keys.Parse(raw, now, token.Refresh)
	if err != nil {
		return Pair{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		out, err = s.rotateIn(ctx, tx, raw, claims, now)
		return err
	})
	switch {
	case errors.Is(err, errSessionGone):
		return Pair{}, s.sessionGone(ctx, claims)
	case err != nil:
		return Pair{}, err
	case out.step == stepRevoke:
		s.logReuse(ctx, claims, out.why)
		return Pair{}, ErrTokenReused
	case out.step == stepReplay:
		s.log.InfoContext(ctx, "refresh token replayed within the grace interval",
			"user_id", claims.UserID, "session_id", claims.SessionID, "jti", claims.ID)
	}
	return out.pair, nil
}

// rotationStep is what a rotation does, decided by decideRotation.
type rotationStep int

const (
	stepRetireAndAdd rotationStep = iota // the normal case
	stepReplay                           // retired within the grace interval: hand out its successor again
	stepRevoke                           // reuse: revoke the session
)

// rotation is what rotateIn did: the step, the pair to answer with (the new
// one, or for a replay the one handed out again), and for a revocation why.
type rotation struct {
	step rotationStep
	pair Pair
	why  string
}

// rotateIn applies one rotation inside tx. It locks the session, so that
// rotations of one session run one at a time across processes, and reads
// with it everything the decision needs (LockRotation: one round trip);
// decides; and writes, the security event included (RecordRotation: one
// statement). The new pair is minted under the lock, with the user's roles
// as they are now. For stepRevoke it revokes the session, and the
// transaction must still commit.
func (s *Service) rotateIn(ctx context.Context, tx Tx, raw string, claims token.Claims, now time.Time) (rotation, error) {
	state, err := lockRotation(ctx, tx, claims, HashToken(raw))
	if err != nil {
		return rotation{}, err
	}
	tok := *state.Token
	var (
		successor     Pair
		successorHash []byte
	)
	successorUsed := func() (bool, error) {
		p, err := openSuccessor(s.keys.SealingSecret(), raw, tok.Successor)
		if err != nil {
			// Sealed under a signing key that has been changed since: fail
			// closed, without revoking (the holder may be the legitimate one).
			return false, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
		}
		stored, err := tx.StoredRefreshToken(ctx, HashToken(p.Refresh))
		if errors.Is(err, ErrNotFound) {
			return false, fmt.Errorf("%w: successor gone", ErrTokenInvalid)
		} else if err != nil {
			return false, fmt.Errorf("auth: refresh: %w", err)
		}
		successor, successorHash = p, stored.Hash
		return stored.RetiredAt != nil, nil
	}
	step, why, err := decideRotation(claims.SessionID, state.Session, tok, now, s.params.ReuseInterval, successorUsed)
	if err != nil {
		return rotation{}, err
	}
	switch step {
	case stepReplay:
		// The successor now has two holders: it loses its own grace interval.
		if err := tx.ExposeRefreshToken(ctx, successorHash, now); err != nil {
			return rotation{}, err
		}
		detail := fmt.Sprintf("retired %s earlier; its successor handed out again", now.Sub(*tok.RetiredAt))
		if err := tx.RecordEvent(ctx, s.event(ctx, EventGraceReplay, claims.UserID, claims.SessionID, detail)); err != nil {
			return rotation{}, err
		}
		return rotation{step: step, pair: successor}, nil
	case stepRevoke:
		return rotation{step: step, why: why}, s.revokeForReuse(ctx, tx, claims, why, now)
	}
	authz := token.Authz{Roles: state.Roles, IsStaff: state.User.IsStaff, Generation: state.Session.TokenGeneration}
	pair, next, err := s.mintPair(claims.UserID, claims.SessionID, now, authz)
	if err != nil {
		return rotation{}, err
	}
	sealed, err := sealSuccessor(s.keys.SealingSecret(), raw, pair)
	if err != nil {
		return rotation{}, fmt.Errorf("auth: refresh: %w", err)
	}
	err = tx.RecordRotation(ctx, RotationWrite{OldHash: tok.Hash, Successor: sealed, Next: next, At: now, By: ClientOf(ctx)})
	return rotation{step: step, pair: pair}, err
}

// errSessionGone is lockRotation's answer for a session that does not
// exist; the caller asks sessionGone why, outside the transaction.
var errSessionGone = errors.New("auth: session gone")

// lockRotation locks a token's session and reads it with its user, the
// user's roles and the stored token (see rotateIn). It fails with
// ErrUserInactive for a deactivated user, ErrTokenInvalid when the token is
// unknown or the session is another user's or the token another session's,
// and errSessionGone when there is no such session.
func lockRotation(ctx context.Context, tx Tx, claims token.Claims, hash []byte) (RotationState, error) {
	state, err := tx.LockRotation(ctx, claims.SessionID, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return RotationState{}, errSessionGone
	case err != nil:
		return RotationState{}, fmt.Errorf("auth: lock session: %w", err)
	case state.User.ID != claims.UserID:
		return RotationState{}, fmt.Errorf("%w: session of another user", ErrTokenInvalid)
	case !state.User.IsActive:
		return RotationState{}, ErrUserInactive
	case state.Token == nil:
		return RotationState{}, fmt.Errorf("%w: unknown refresh token", ErrTokenInvalid)
	case state.Token.SessionID != state.Session.ID:
		return RotationState{}, fmt.Errorf("%w: token of another session", ErrTokenInvalid)
	}
	return state, nil
}

// sessionGone tells why a token's session does not exist: its user was
// deleted (ErrUserNotFound) or deactivated, or the session expired and was
// deleted (ErrTokenInvalid).
func (s *Service) sessionGone(ctx context.Context, claims token.Claims) error {
	if _, err := s.activeUser(ctx, claims.UserID); err != nil {
		return err
	}
	return fmt.Errorf("%w: unknown session", ErrTokenInvalid)
}

// revokeForReuse revokes a session because one of its retired refresh
// tokens was presented again, and records it.
func (s *Service) revokeForReuse(ctx context.Context, tx Tx, claims token.Claims, why string, now time.Time) error {
	if err := tx.RevokeSession(ctx, claims.SessionID, ReasonReuse, now); err != nil {
		return err
	}
	return tx.RecordEvent(ctx, s.event(ctx, EventRefreshReuse, claims.UserID, claims.SessionID, why))
}

// logReuse logs a session revoked by revokeForReuse, once it has committed.
func (s *Service) logReuse(ctx context.Context, claims token.Claims, why string) {
	s.log.WarnContext(ctx, "refresh token reuse detected; session revoked",
		"user_id", claims.UserID, "session_id", claims.SessionID, "jti", claims.ID, "why", why)
}

// pastGrace reports whether the retired token tok, presented at now, is
// beyond the grace interval: reuse, wherever it is presented.
func pastGrace(tok StoredRefreshToken, now time.Time, grace time.Duration) bool {
	return grace <= 0 || now.After(tok.RetiredAt.Add(grace))
}

// decideRotation holds the rotation rules, applied to the locked live
// session sess and the stored token tok of that session, presented at now:
//   - an unretired token is retired and its successor stored;
//   - a retired token yields the pair it was rotated into, the same pair
//     again, only while all of these hold: it was retired no longer than
//     grace ago; it was never exposed (handed out twice, or presented to
//     verify or as a bearer token); and that pair's refresh token is still
//     unused (successorUsed, asked only then). Concurrent refreshes (two
//     tabs, a retried request) all arrive before the successor is used, so
//     they neither log the user out nor fork the session;
//   - any other retired token is reuse, and the session is revoked.
//
// Why that closes shadowing: a thief who replays a token gets a pair the
// victim holds too, and marked exposed. Whoever rotates it first, the other
// can only present a retired, exposed token, which revokes the session; and
// a replay after the victim has moved on finds the successor used. So
// within one rotation of the victim after a thief's first use, either the
// session is revoked or the thief holds nothing that works. The price: a
// client that keeps racing itself with a token it got from a replay is
// logged out on the second race; clients should coordinate their tabs.
//
// It returns the step and, for stepRevoke, why.
func decideRotation(sessionID string, sess Session, tok StoredRefreshToken, now time.Time, grace time.Duration,
	successorUsed func() (bool, error)) (rotationStep, string, error) {
	if tok.SessionID != sess.ID || sess.ID != sessionID {
		return 0, "", fmt.Errorf("%w: token of another session", ErrTokenInvalid)
	}
	if err := checkSession(sess); err != nil {
		return 0, "", err
	}
	switch {
	case tok.RetiredAt == nil:
		return stepRetireAndAdd, "", nil
	case pastGrace(tok, now, grace):
		return stepRevoke, fmt.Sprintf("retired %s earlier, beyond the grace interval of %s", now.Sub(*tok.RetiredAt), grace), nil
	case tok.ExposedAt != nil:
		return stepRevoke, "retired, and exposed before (handed out twice, or presented to verify or as a bearer token)", nil
	case len(tok.Successor) == 0:
		return stepRevoke, "retired without a successor to hand out", nil
	}
	used, err := successorUsed()
	switch {
	case err != nil:
		return 0, "", err
	case used:
		return stepRevoke, "retired, and the pair it was rotated into has been used since", nil
	}
	return stepReplay, "", nil
}
