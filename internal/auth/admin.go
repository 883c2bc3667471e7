package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The administration of accounts, for the `auth-service users` commands. Each
// action is one method, so that each is one place to audit.

// userByEmail loads the user with this email, or fails with ErrNotFound
// naming the address.
func userByEmail(ctx context.Context, tx Tx, email string) (User, error) {
	user, err := tx.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("%w: no user with email %q", ErrNotFound, TrimEmail(email))
	}
	return user, err
}

// ListUsers returns every user with their roles, by id.
func (s *Service) ListUsers(ctx context.Context) ([]UserRecord, error) {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	roles, err := s.store.AllUserRoles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]UserRecord, len(users))
	for i, u := range users {
		out[i] = UserRecord{User: u, Roles: roles[u.ID]}
	}
	return out, nil
}

// ShowUser returns the user with this email, with their roles and how many
// live sessions they have; ErrNotFound if there is none.
func (s *Service) ShowUser(ctx context.Context, email string) (UserRecord, error) {
	user, err := userByEmail(ctx, s.store, email)
	if err != nil {
		return UserRecord{}, err
	}
	roles, err := s.store.UserRoles(ctx, user.ID)
	if err != nil {
		return UserRecord{}, err
	}
	live, err := s.store.CountLiveUserSessions(ctx, user.ID, s.now())
	if err != nil {
		return UserRecord{}, err
	}
	return UserRecord{User: user, Roles: roles, LiveSessions: live}, nil
}

// NewAccount is an account an administrator creates.
type NewAccount struct {
	Email            string
	Password         string
	Staff, Superuser bool
	Roles            []string
	// SkipPolicy creates the account even with a password the policy refuses
	// (`--force-weak`, for tests and fixtures).
	SkipPolicy bool
}

// CreateAccount creates an active, verified account with its roles, in one
// transaction. It fails with ErrInvalidUser (email or empty password),
// ErrInvalidRole, a *PasswordRefusal, or ErrConflict if the email is taken.
func (s *Service) CreateAccount(ctx context.Context, a NewAccount) (User, error) {
	if !ValidEmail(a.Email) || a.Password == "" {
		return User{}, ErrInvalidUser
	}
	for _, r := range a.Roles {
		if !ValidRole(r) {
			return User{}, fmt.Errorf("%w: %q", ErrInvalidRole, r)
		}
	}
	if !a.SkipPolicy {
		if err := s.params.Policy.Check(a.Password, a.Email); err != nil {
			return User{}, err
		}
	}
	hash, err := s.hasher.Hash(ctx, a.Password)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	var user User
	err = s.store.InTx(ctx, func(tx Tx) error {
		user, err = tx.CreateUser(ctx, User{
			Email: TrimEmail(a.Email), PasswordHash: hash, IsActive: true, IsStaff: a.Staff, IsSuperuser: a.Superuser,
			DateJoined: now, EmailVerifiedAt: &now,
		})
		if err != nil {
			return err
		}
		roles := slices.Compact(slices.Sorted(slices.Values(a.Roles)))
		for _, r := range roles {
			if _, err := tx.AddUserRole(ctx, user.ID, r, now); err != nil {
				return err
			}
		}
		return s.recordIn(ctx, tx, EventAccountCreated, user.ID, byAdmin+withRoles(roles))
	})
	return user, err
}

// DeactivateUser deactivates the user with this email: they can no longer
// log in, every session of theirs is revoked, pending verification and reset
// links stop working, and neither a sign-up nor a reset reactivates them. It
// returns how many sessions it revoked.
func (s *Service) DeactivateUser(ctx context.Context, email string) (revoked int64, err error) {
	now := s.now()
	err = s.store.InTx(ctx, func(tx Tx) error {
		user, err := userByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		if err := tx.DeactivateUser(ctx, user.ID, now); err != nil {
			return err
		}
		for _, purpose := range []string{PurposeVerifyEmail, PurposeResetPassword} {
			if _, err := tx.DeleteUserOneTimeTokens(ctx, user.ID, purpose); err != nil {
				return err
			}
		}
		if revoked, err = tx.RevokeUserSessions(ctx, user.ID, ReasonDeactivated, now); err != nil {
			return err
		}
		return s.recordIn(ctx, tx, EventUserDeactivated, user.ID, fmt.Sprintf("%s; %d sessions revoked", byAdmin, revoked))
	})
	return revoked, err
}

// ActivateUser activates the user with this email (and marks an unverified
// address verified: the administrator vouches for it).
func (s *Service) ActivateUser(ctx context.Context, email string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		user, err := userByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		if err := tx.ActivateUser(ctx, user.ID, s.now()); err != nil {
			return err
		}
		return s.recordIn(ctx, tx, EventUserActivated, user.ID, byAdmin)
	})
}

// SetPassword sets the password of the user with this email, revoking every
// session of theirs and pending reset links; a password_changed event tells
// the owner. The policy applies unless skipPolicy. It returns how many
// sessions it revoked.
func (s *Service) SetPassword(ctx context.Context, email, pw string, skipPolicy bool) (revoked int64, err error) {
	user, err := userByEmail(ctx, s.store, email)
	if err != nil {
		return 0, err
	}
	if pw == "" {
		return 0, ErrInvalidUser
	}
	if !skipPolicy {
		if err := s.params.Policy.Check(pw, user.Email); err != nil {
			return 0, err
		}
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return 0, err
	}
	now := s.now()
	err = s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.SetPasswordHash(ctx, user.ID, hash); err != nil {
			return err
		}
		if _, err := tx.DeleteUserOneTimeTokens(ctx, user.ID, PurposeResetPassword); err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserSessions(ctx, user.ID, ReasonPasswordChanged, now); err != nil {
			return err
		}
		if err := s.recordIn(ctx, tx, EventPasswordChanged, user.ID, ChangedByAdmin); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, NotifyPasswordChanged, EventData{Email: user.Email, UserID: user.ID, Reason: ChangedByAdmin}, now)
	})
	return revoked, err
}

// RevokeSessions revokes every session of the user with this email and
// returns how many.
func (s *Service) RevokeSessions(ctx context.Context, email string) (revoked int64, err error) {
	err = s.store.InTx(ctx, func(tx Tx) error {
		user, err := userByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		if revoked, err = tx.RevokeUserSessions(ctx, user.ID, ReasonAdmin, s.now()); err != nil {
			return err
		}
		return s.recordIn(ctx, tx, EventSessionsRevoked, user.ID, fmt.Sprintf("%s; %d sessions", byAdmin, revoked))
	})
	return revoked, err
}

// withRoles is the roles part of an event's detail.
func withRoles(roles []string) string {
	if len(roles) == 0 {
		return ""
	}
	return "; roles " + strings.Join(roles, ",")
}
