package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/ecommerce/auth-service/internal/token"
)

// ChangePassword replaces the password of p's user, who confirms it with the
// current one. The session p belongs to goes on with a new pair, returned;
// every other session of the user is revoked, and so are pending password
// reset links. A password_changed event tells the owner.
//
// It fails with ErrWrongPassword if current is wrong (after
// recordFailedPassword), with a *PasswordRefusal if the policy refuses next,
// and with the session errors of Rotate if p's session has ended meanwhile.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) (Pair, error) {
	user := p.User
	// The current password is a guess like a login's: it goes through the
	// login throttle, and a wrong one counts.
	attempt, err := s.throttle.admit(ctx, user.Email)
	if err != nil {
		return Pair{}, err
	}
	ok, _, err := s.hasher.Verify(ctx, current, user.PasswordHash)
	if err != nil {
		s.throttle.giveBack(ctx, attempt)
		return Pair{}, hashFailure(err)
	}
	if !ok {
		s.throttle.failed(ctx, attempt)
		s.recordFailedPassword(ctx, p)
		return Pair{}, ErrWrongPassword
	}
	s.throttle.succeeded(ctx, attempt)
	if err := s.params.Policy.Check(next, user.Email); err != nil {
		return Pair{}, err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return Pair{}, hashFailure(err)
	}
	authz, err := s.authzOf(ctx, user)
	if err != nil {
		return Pair{}, fmt.Errorf("auth: change password: %w", err)
	}
	now := s.now()
	var pair Pair
	err = s.store.InTx(ctx, func(tx Tx) error {
		pair, err = s.changePasswordIn(ctx, tx, p, hash, authz, now)
		return err
	})
	if err != nil {
		return Pair{}, err
	}
	s.eventsCommitted()
	s.log.InfoContext(ctx, "password changed", "user_id", user.ID, "session_id", p.SessionID)
	return pair, nil
}

// changePasswordIn applies ChangePassword's writes inside tx and returns the
// session's new pair. The session is locked first, so that a rotation of it
// cannot interleave. It goes on in its next token generation, so that its
// tokens from before the change are refused here (owner); its live refresh
// token is replaced by the new pair's (the retired ones stay, for reuse
// detection).
func (s *Service) changePasswordIn(ctx context.Context, tx Tx, p Principal, hash string, authz token.Authz, now time.Time) (Pair, error) {
	sess, err := tx.LockSession(ctx, p.SessionID)
	if err != nil {
		return Pair{}, fmt.Errorf("auth: change password: %w", err)
	}
	if err := checkSession(sess); err != nil {
		return Pair{}, err
	}
	if authz.Generation, err = tx.BumpSessionGeneration(ctx, p.SessionID); err != nil {
		return Pair{}, err
	}
	pair, first, err := s.mintPair(p.User.ID, p.SessionID, now, authz)
	if err != nil {
		return Pair{}, err
	}
	if err := tx.SetPasswordHash(ctx, p.User.ID, hash); err != nil {
		return Pair{}, err
	}
	if _, err := tx.RevokeOtherUserSessions(ctx, p.User.ID, p.SessionID, ReasonPasswordChanged, now); err != nil {
		return Pair{}, err
	}
	if _, err := tx.DeleteLiveRefreshTokens(ctx, p.SessionID); err != nil {
		return Pair{}, err
	}
	if err := tx.InsertRefreshToken(ctx, first); err != nil {
		return Pair{}, err
	}
	if err := tx.ExtendSession(ctx, p.SessionID, first.ExpiresAt, now, ClientOf(ctx)); err != nil {
		return Pair{}, err
	}
	if _, err := tx.DeleteUserOneTimeTokens(ctx, p.User.ID, PurposeResetPassword); err != nil {
		return Pair{}, err
	}
	if err := tx.RecordEvent(ctx, s.event(ctx, EventPasswordChanged, p.User.ID, p.SessionID, ChangedByUser)); err != nil {
		return Pair{}, err
	}
	return pair, s.enqueue(ctx, tx, NotifyPasswordChanged, EventData{Email: p.User.Email, UserID: p.User.ID, Reason: ChangedByUser}, now)
}

// recordFailedPassword records a password change refused because the
// current password was wrong: a guess at the password, like a failed login.
// Nothing changed, so there is no transaction to join; a failure to record is
// logged and does not change the answer.
func (s *Service) recordFailedPassword(ctx context.Context, p Principal) {
	if err := s.store.RecordEvent(ctx, s.event(ctx, EventPasswordChangeFailed, p.User.ID, p.SessionID, "")); err != nil {
		s.log.ErrorContext(ctx, "security event not recorded", "kind", EventPasswordChangeFailed, "error", err)
	}
}
