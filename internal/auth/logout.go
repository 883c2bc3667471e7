package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecommerce/auth-service/internal/token"
)

// Logout revokes the session of a refresh token. It is idempotent: logging
// out of a revoked session succeeds. The token must still verify.
//
// A token retired beyond the grace interval, or retired and exposed, is
// reuse here as at a refresh: the session is revoked for reuse, so that the
// holder of the live pair learns of it (token_reused) at their next refresh,
// whoever asked for the logout. Within the grace interval a retired token is
// a tab that lost a race with its own refresh, and logs out as usual.
func (s *Service) Logout(ctx context.Context, raw string) error {
	claims, err := s.keys.Parse(raw, s.now(), token.Refresh)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	now := s.now()
	retired, reused := false, false
	err = s.store.InTx(ctx, func(tx Tx) error {
		stored, err := tx.StoredRefreshToken(ctx, HashToken(raw))
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: unknown refresh token", ErrTokenInvalid)
		} else if err != nil {
			return fmt.Errorf("auth: logout: %w", err)
		}
		retired = stored.RetiredAt != nil
		if retired && (stored.ExposedAt != nil || pastGrace(stored, now, s.params.ReuseInterval)) {
			reused = true
			return s.revokeForReuse(ctx, tx, claims, "retired, and presented to logout", now)
		}
		if err := tx.RevokeSession(ctx, claims.SessionID, ReasonLogout, now); err != nil {
			return fmt.Errorf("auth: logout: %w", err)
		}
		var detail string
		if retired {
			detail = "with a retired refresh token"
		}
		return tx.RecordEvent(ctx, s.event(ctx, EventLogout, claims.UserID, claims.SessionID, detail))
	})
	if err != nil {
		return err
	}
	switch {
	case reused:
		s.logReuse(ctx, claims, "retired, and presented to logout")
	case retired:
		// Logging out still ends the session, but a retired token in use is
		// worth knowing about.
		s.log.WarnContext(ctx, "logout with a retired refresh token",
			"user_id", claims.UserID, "session_id", claims.SessionID, "jti", claims.ID)
	}
	return nil
}

// LogoutAll revokes every session of the principal's user.
func (s *Service) LogoutAll(ctx context.Context, p Principal) error {
	var n int64
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		if n, err = tx.RevokeUserSessions(ctx, p.User.ID, ReasonLogoutAll, s.now()); err != nil {
			return err
		}
		return tx.RecordEvent(ctx, s.event(ctx, EventLogoutAll, p.User.ID, p.SessionID, fmt.Sprintf("%d sessions revoked", n)))
	})
	if err != nil {
		return fmt.Errorf("auth: logout all: %w", err)
	}
	s.log.InfoContext(ctx, "all sessions revoked", "user_id", p.User.ID, "sessions", n)
	return nil
}

// Cleanup deletes expired refresh tokens, sessions, one-time tokens and
// forgotten login throttle counters, and security events older than the
// audit retention, in batches of at most batch rows each, until none are
// left or ctx ends, and returns how many went. A revoked session is kept
// until it expires, so that a replayed token is still recognised as reuse
// until then.
func (s *Service) Cleanup(ctx context.Context, batch int) (int64, error) {
	var total int64
	for ctx.Err() == nil {
		n, err := s.deleteExpiredBatch(ctx, s.now(), batch)
		total += n
		if err != nil {
			return total, err
		}
		if n < int64(batch) {
			break
		}
	}
	return total, nil
}

// deleteExpiredBatch deletes one batch of expired refresh tokens, one of
// expired sessions (whose remaining tokens go with them), one of expired
// one-time tokens, one of forgotten login throttle counters and one of old
// security events.
func (s *Service) deleteExpiredBatch(ctx context.Context, before time.Time, batch int) (int64, error) {
	tokens, err := s.store.DeleteExpiredRefreshTokens(ctx, before, batch)
	if err != nil {
		return tokens, err
	}
	sessions, err := s.store.DeleteExpiredSessions(ctx, before, batch)
	if err != nil {
		return tokens + sessions, err
	}
	oneTime, err := s.store.DeleteExpiredOneTimeTokens(ctx, before, batch)
	if err != nil {
		return tokens + sessions + oneTime, err
	}
	counters, err := s.store.DeleteExpiredThrottleCounters(ctx, before, batch)
	if err != nil {
		return tokens + sessions + oneTime + counters, err
	}
	events, err := s.deleteOldEvents(ctx, before, batch)
	return tokens + sessions + oneTime + counters + events, err
}
