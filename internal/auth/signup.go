package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Register signs up a new account, without revealing whether the address
// is taken: it succeeds the same way, doing the same costly work (the policy
// check and one password hash), in both cases.
//   - A new address: the account is created inactive, and an
//     email_verification event carries a one-time token (VerifyEmail).
//   - A taken address, verified or not: an account_exists event tells its
//     owner, and nothing changes. Not even for an account never verified: if
//     a second sign-up replaced its password, the owner who clicked the
//     newest link would activate the account with a stranger's password
//     (account pre-hijacking). An owner who lost the first mail resets the
//     password instead, which proves the mailbox and activates the account.
//
// It returns ErrSignupClosed when sign-up is off, ErrInvalidUser for an
// invalid email, and a *PasswordRefusal for a password the policy refuses.
func (s *Service) Register(ctx context.Context, email, pw string) error {
	if !s.params.SignupOpen {
		return ErrSignupClosed
	}
	if !ValidEmail(email) {
		return ErrInvalidUser
	}
	if err := s.params.Policy.Check(pw, email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return hashFailure(err)
	}
	raw := newOneTimeToken()
	now := s.now()
	register := func(tx Tx) error { return s.registerIn(ctx, tx, email, hash, raw, now) }
	err = s.store.InTx(ctx, register)
	if errors.Is(err, ErrConflict) {
		// Two sign-ups for one new address at once: the other created the
		// account, and this one now finds it.
		err = s.store.InTx(ctx, register)
	}
	if err != nil {
		return fmt.Errorf("auth: register: %w", err)
	}
	s.eventsCommitted()
	return nil
}

// registerIn applies Register's rules inside tx.
func (s *Service) registerIn(ctx context.Context, tx Tx, email, hash, raw string, now time.Time) error {
	user, err := tx.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		user, err = tx.CreateUser(ctx, User{Email: TrimEmail(email), PasswordHash: hash, IsActive: false, DateJoined: now})
		if err != nil {
			return err
		}
		if err := s.recordIn(ctx, tx, EventAccountCreated, user.ID, "signup"); err != nil {
			return err
		}
		return s.sendVerification(ctx, tx, user, raw, now)
	case err != nil:
		return err
	}
	return s.enqueue(ctx, tx, NotifyAccountExists, EventData{Email: user.Email, UserID: user.ID}, now)
}

// sendVerification issues the user's verification token and queues the
// email_verification event that carries it.
func (s *Service) sendVerification(ctx context.Context, tx Tx, user User, raw string, now time.Time) error {
	expires, err := s.issueOneTimeToken(ctx, tx, user.ID, PurposeVerifyEmail, raw, now)
	if err != nil {
		return err
	}
	return s.enqueue(ctx, tx, NotifyEmailVerification, EventData{
		Email: user.Email, UserID: user.ID, Token: raw, ExpiresAt: &expires,
	}, now)
}

// VerifyEmail uses a verification token: the account it was issued for
// becomes active and its address verified. It fails with
// ErrOneTimeTokenInvalid for an unknown, used, superseded or expired token.
func (s *Service) VerifyEmail(ctx context.Context, raw string) error {
	now := s.now()
	err := s.store.InTx(ctx, func(tx Tx) error {
		t, err := consumeOneTimeToken(ctx, tx, raw, PurposeVerifyEmail, now)
		if err != nil {
			return err
		}
		if err := tx.ActivateUser(ctx, t.UserID, now); err != nil {
			return err
		}
		return s.recordIn(ctx, tx, EventEmailVerified, t.UserID, "")
	})
	if err != nil {
		return fmt.Errorf("auth: verify email: %w", err)
	}
	return nil
}
