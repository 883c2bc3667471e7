package auth

import (
	"context"
	"fmt"
)

// maxListedSessions bounds the sessions ListSessions returns: the newest.
// Older ones still end with LogoutAll.
const maxListedSessions = 100

// ListSessions returns the principal's user's live sessions, newest first,
// at most maxListedSessions.
func (s *Service) ListSessions(ctx context.Context, p Principal) ([]Session, error) {
	sessions, err := s.store.ListUserSessions(ctx, p.User.ID, s.now(), maxListedSessions)
	if err != nil {
		return nil, fmt.Errorf("auth: list sessions: %w", err)
	}
	return sessions, nil
}

// EndSession revokes one of the principal's user's live sessions, its own
// included, and records it. Any other id, another user's session among
// them, is ErrSessionNotFound: the answer does not tell them apart.
func (s *Service) EndSession(ctx context.Context, p Principal, id string) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		ended, err := tx.RevokeUserSession(ctx, p.User.ID, id, ReasonEnded, s.now())
		if err != nil {
			return fmt.Errorf("auth: end session: %w", err)
		}
		if !ended {
			return ErrSessionNotFound
		}
		return tx.RecordEvent(ctx, s.event(ctx, EventSessionRevoked, p.User.ID, id, "ended by its user from session "+p.SessionID))
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "session ended by its user", "user_id", p.User.ID, "session_id", id)
	return nil
}
