package auth

import (
	"context"
	"fmt"
	"regexp"

	"github.com/ecommerce/auth-service/internal/token"
)

// RolePattern is what a role name looks like: lower case, starting with a
// letter, with digits and _ : . - after it ("catalog:write", "support").
const RolePattern = `^[a-z][a-z0-9_:.-]{0,63}$`

var roleRE = regexp.MustCompile(RolePattern)

// ValidRole reports whether role is a valid role name.
func ValidRole(role string) bool { return roleRE.MatchString(role) }

// authzOf is what user's access tokens say of their rights: their roles as
// stored now, and their staff flag.
func (s *Service) authzOf(ctx context.Context, user User) (token.Authz, error) {
	roles, err := s.store.UserRoles(ctx, user.ID)
	if err != nil {
		return token.Authz{}, fmt.Errorf("load roles: %w", err)
	}
	return token.Authz{Roles: roles, IsStaff: user.IsStaff}, nil
}

// GrantRole gives the user with this email a role. If that changes their
// roles, every session of theirs is revoked: their access tokens carry the
// roles, and a fresh login carries the new ones. changed is false if they
// had it already. It fails with ErrInvalidRole or ErrNotFound.
func (s *Service) GrantRole(ctx context.Context, email, role string) (changed bool, err error) {
	return s.changeRole(ctx, email, role, EventRoleGranted, func(tx Tx, user User) (bool, error) {
		return tx.AddUserRole(ctx, user.ID, role, s.now())
	})
}

// RevokeRole takes a role away from the user with this email, revoking their
// sessions if they had it (see GrantRole). changed is false if they did not.
func (s *Service) RevokeRole(ctx context.Context, email, role string) (changed bool, err error) {
	return s.changeRole(ctx, email, role, EventRoleRevoked, func(tx Tx, user User) (bool, error) {
		return tx.RemoveUserRole(ctx, user.ID, role)
	})
}

// changeRole applies change to the user with this email and, if it changed
// anything, revokes their sessions and records kind, in one transaction.
func (s *Service) changeRole(ctx context.Context, email, role string, kind EventKind, change func(Tx, User) (bool, error)) (bool, error) {
	if !ValidRole(role) {
		return false, ErrInvalidRole
	}
	var changed bool
	err := s.store.InTx(ctx, func(tx Tx) error {
		user, err := userByEmail(ctx, tx, email)
		if err != nil {
			return err
		}
		if changed, err = change(tx, user); err != nil || !changed {
			return err
		}
		revoked, err := tx.RevokeUserSessions(ctx, user.ID, ReasonRolesChanged, s.now())
		if err != nil {
			return err
		}
		return s.recordIn(ctx, tx, kind, user.ID, fmt.Sprintf("%s; %s; %d sessions revoked", byAdmin, role, revoked))
	})
	return changed, err
}
