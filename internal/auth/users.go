package auth

import (
	"context"
	"errors"
	"fmt"
)

// CreateUser adds an active, verified user with a hashed password, without
// applying the password policy: the caller vouches for the password (tests,
// fixtures). Accounts people use are made by CreateAccount or Register. It
// returns ErrInvalidUser for an invalid email or an empty password, and
// ErrConflict when the email is taken.
func (s *Service) CreateUser(ctx context.Context, email, pw string, staff, superuser bool) (User, error) {
	if !ValidEmail(email) || pw == "" {
		return User{}, ErrInvalidUser
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return User{}, hashFailure(err)
	}
	now := s.now()
	return s.store.CreateUser(ctx, User{
		Email: TrimEmail(email), PasswordHash: hash, IsActive: true, IsStaff: staff, IsSuperuser: superuser,
		DateJoined: now, EmailVerifiedAt: &now,
	})
}

// ImportUsers adds users of the Django service keeping their ids and
// password hashes, in one transaction: all of them or none. A user whose id
// exists with the same email (by EmailKey) is left unchanged, so an import
// can be repeated; any other clash fails the whole import with ErrConflict,
// and an invalid email or an empty hash with ErrInvalidUser.
func (s *Service) ImportUsers(ctx context.Context, users []User) (ImportResult, error) {
	for _, u := range users {
		if u.ID <= 0 || !ValidEmail(u.Email) || u.PasswordHash == "" {
			return ImportResult{}, fmt.Errorf("%w: user %d", ErrInvalidUser, u.ID)
		}
	}
	var res ImportResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		for _, u := range users {
			existing, err := tx.UserByID(ctx, u.ID)
			switch {
			case err == nil:
				if EmailKey(existing.Email) != EmailKey(u.Email) {
					return fmt.Errorf("%w: user %d exists with another email", ErrConflict, u.ID)
				}
				res.Unchanged++
				continue
			case !errors.Is(err, ErrNotFound):
				return err
			}
			u.Email = TrimEmail(u.Email)
			// The Django service vouched for its users' addresses.
			joined := u.DateJoined
			u.EmailVerifiedAt = &joined
			if err := tx.ImportUser(ctx, u); err != nil {
				return fmt.Errorf("user %d: %w", u.ID, err)
			}
			res.Created++
		}
		return tx.SyncUserIDs(ctx)
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}
