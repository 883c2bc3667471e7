package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecommerce/auth-service/internal/token"
)

// Principal is who an access token speaks for: a live user and the session
// the token belongs to.
type Principal struct {
	User      User
	SessionID string
	// Roles are the roles the access token carries: the user's roles, since
	// a change of roles revokes the sessions whose tokens carry the old ones.
	Roles []string
}

// Authenticate verifies an access token and returns its principal: the user
// must exist and be active, and the session must be live. A refresh token
// is refused, after inspectRefresh has dealt with it.
func (s *Service) Authenticate(ctx context.Context, raw string) (Principal, error) {
	claims, err := s.keys.Parse(raw, s.now())
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	if claims.TokenType == token.Refresh {
		if err := s.inspectRefresh(ctx, raw, claims, "as a bearer token"); err != nil {
			return Principal{}, err
		}
		return Principal{}, fmt.Errorf("%w: a refresh token is not an access token", ErrTokenInvalid)
	}
	user, err := s.owner(ctx, claims)
	if err != nil {
		return Principal{}, err
	}
	return Principal{User: user, SessionID: claims.SessionID, Roles: claims.Roles}, nil
}

// Verify checks a token of either type: signature, claims, user and
// session; a refresh token also goes through inspectRefresh, so that a
// retired one counts as reuse.
func (s *Service) Verify(ctx context.Context, raw string) error {
	claims, err := s.keys.Parse(raw, s.now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	if _, err := s.owner(ctx, claims); err != nil {
		return err
	}
	if claims.TokenType != token.Refresh {
		return nil
	}
	return s.inspectRefresh(ctx, raw, claims, "to verify")
}

// inspectRefresh handles a verified refresh token presented where it is
// only looked at (verify, a bearer header; where says which). Such a look
// must not tell a thief when the victim has rotated: a retired token counts
// as reuse, as at a refresh after the grace interval, and revokes the
// session (ErrTokenReused); a live one is marked exposed, which takes its
// grace interval away (see decideRotation). Unknown tokens and dead
// sessions fail as at a refresh.
func (s *Service) inspectRefresh(ctx context.Context, raw string, claims token.Claims, where string) error {
	now := s.now()
	reused := false
	err := s.store.InTx(ctx, func(tx Tx) error {
		state, err := lockRotation(ctx, tx, claims, HashToken(raw))
		if err != nil {
			return err
		}
		if err := checkSession(state.Session); err != nil {
			return err
		}
		tok := state.Token
		if tok.RetiredAt != nil {
			reused = true
			return s.revokeForReuse(ctx, tx, claims, "retired, and presented "+where, now)
		}
		if tok.ExposedAt != nil {
			return nil
		}
		if err := tx.ExposeRefreshToken(ctx, tok.Hash, now); err != nil {
			return err
		}
		return tx.RecordEvent(ctx, s.event(ctx, EventRefreshExposed, claims.UserID, claims.SessionID, "presented "+where))
	})
	if errors.Is(err, errSessionGone) {
		return s.sessionGone(ctx, claims)
	} else if err != nil {
		return err
	}
	if reused {
		s.logReuse(ctx, claims, "retired, and presented "+where)
		return ErrTokenReused
	}
	return nil
}

// checkSession fails unless sess is live: with ErrTokenReused for a session
// revoked because a token was reused, with ErrTokenInvalid otherwise.
func checkSession(sess Session) error {
	switch {
	case sess.RevokedAt == nil:
		return nil
	case sess.RevokedReason == ReasonReuse:
		return ErrTokenReused
	}
	return fmt.Errorf("%w: session revoked", ErrTokenInvalid)
}

// activeUser loads a token's user and fails with ErrUserNotFound or ErrUserInactive.
func (s *Service) activeUser(ctx context.Context, id int64) (User, error) {
	user, err := s.store.UserByID(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, ErrUserNotFound
	case err != nil:
		return User{}, fmt.Errorf("auth: load user: %w", err)
	case !user.IsActive:
		return User{}, ErrUserInactive
	}
	return user, nil
}

// owner loads the session and user a verified token names, in one round
// trip, and fails unless the user exists and is active and the session is
// live. Only when the session is gone does it look further, to tell a
// deleted user from an expired session.
func (s *Service) owner(ctx context.Context, claims token.Claims) (User, error) {
	sess, user, err := s.store.SessionUser(ctx, claims.SessionID)
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, s.sessionGone(ctx, claims)
	case err != nil:
		return User{}, fmt.Errorf("auth: load session: %w", err)
	case user.ID != claims.UserID:
		return User{}, fmt.Errorf("%w: session of another user", ErrTokenInvalid)
	case !user.IsActive:
		return User{}, ErrUserInactive
	case claims.Generation < sess.TokenGeneration:
		return User{}, fmt.Errorf("%w: a token of the session from before its password change", ErrTokenInvalid)
	}
	return user, checkSession(sess)
}
