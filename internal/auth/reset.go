package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RequestPasswordReset sends a password-reset link to the owner of email,
// without revealing whether the address has an account: it succeeds the same
// way, doing the same work (a token made, one event queued), whatever the
// address. An account that can reset (active, or signed up and never
// verified) gets a password_reset event with a one-time token, superseding
// earlier ones; any other address a password_reset_unavailable event.
// It returns ErrInvalidUser for an invalid email.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	if !ValidEmail(email) {
		return ErrInvalidUser
	}
	raw := newOneTimeToken()
	now := s.now()
	err := s.store.InTx(ctx, func(tx Tx) error {
		user, err := tx.UserByEmail(ctx, email)
		switch {
		case errors.Is(err, ErrNotFound):
			return s.enqueue(ctx, tx, NotifyPasswordResetUnavailable, EventData{Email: TrimEmail(email)}, now)
		case err != nil:
			return err
		case !user.IsActive && user.EmailVerifiedAt != nil:
			// Deactivated by an administrator: a reset must not undo that.
			return s.enqueue(ctx, tx, NotifyPasswordResetUnavailable, EventData{Email: user.Email}, now)
		}
		expires, err := s.issueOneTimeToken(ctx, tx, user.ID, PurposeResetPassword, raw, now)
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, NotifyPasswordReset, EventData{Email: user.Email, UserID: user.ID, Token: raw, ExpiresAt: &expires}, now)
	})
	if err != nil {
		return fmt.Errorf("auth: request password reset: %w", err)
	}
	s.eventsCommitted()
	return nil
}

// ResetPassword uses a reset token to set a new password: every session of
// the user is revoked, and an account never verified becomes active (the
// token proves the mailbox as a verification token would). The token is used
// only if the policy accepts the password, so that the owner can try again.
// A password_changed event tells the owner.
//
// It fails with ErrOneTimeTokenInvalid for an unknown, used, superseded or
// expired token, and with a *PasswordRefusal if the policy refuses next.
func (s *Service) ResetPassword(ctx context.Context, raw, next string) error {
	now := s.now()
	t, err := liveOneTimeToken(ctx, s.store, raw, PurposeResetPassword, now)
	if err != nil {
		return err
	}
	user, err := s.store.UserByID(ctx, t.UserID)
	if err != nil {
		return fmt.Errorf("auth: reset password: %w", err)
	}
	if err := s.params.Policy.Check(next, user.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return hashFailure(err)
	}
	var revoked int64
	err = s.store.InTx(ctx, func(tx Tx) error {
		revoked, err = s.resetPasswordIn(ctx, tx, raw, hash, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("auth: reset password: %w", err)
	}
	s.throttle.clearAccount(ctx, user.Email)
	s.eventsCommitted()
	s.log.InfoContext(ctx, "password reset", "user_id", user.ID, "sessions_revoked", revoked)
	return nil
}

// resetPasswordIn applies ResetPassword's writes inside tx, using the token
// now (a concurrent reset with the same token finds it gone).
func (s *Service) resetPasswordIn(ctx context.Context, tx Tx, raw, hash string, now time.Time) (int64, error) {
	t, err := consumeOneTimeToken(ctx, tx, raw, PurposeResetPassword, now)
	if err != nil {
		return 0, err
	}
	user, err := tx.UserByID(ctx, t.UserID)
	if err != nil {
		return 0, err
	}
	if err := tx.SetPasswordHash(ctx, user.ID, hash); err != nil {
		return 0, err
	}
	if !user.IsActive && user.EmailVerifiedAt == nil {
		if err := tx.ActivateUser(ctx, user.ID, now); err != nil {
			return 0, err
		}
	}
	revoked, err := tx.RevokeUserSessions(ctx, user.ID, ReasonPasswordChanged, now)
	if err != nil {
		return 0, err
	}
	if err := s.recordIn(ctx, tx, EventPasswordChanged, user.ID, ChangedByReset); err != nil {
		return 0, err
	}
	return revoked, s.enqueue(ctx, tx, NotifyPasswordChanged, EventData{Email: user.Email, UserID: user.ID, Reason: ChangedByReset}, now)
}
