package store

import (
	"context"
	"time"

	"github.com/ecommerce/auth-service/gen/pgdb"
	"github.com/ecommerce/auth-service/internal/auth"
)

// The PostgreSQL queries of accounts: user administration, roles, one-time
// tokens and the outbox.

func (a pgTx) ListUsers(ctx context.Context) ([]auth.User, error) {
	rows, err := a.q.ListUsers(ctx)
	if err != nil {
		return nil, pgError(err)
	}
	users := make([]auth.User, len(rows))
	for i, r := range rows {
		users[i], _ = pgUser(r, nil)
	}
	return users, nil
}

func (a pgTx) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	return pgError(a.later.SetPasswordHash(ctx, pgdb.SetPasswordHashParams{ID: userID, PasswordHash: hash}))
}

func (a pgTx) ActivateUser(ctx context.Context, userID int64, at time.Time) error {
	return pgError(a.q.ActivateUser(ctx, pgdb.ActivateUserParams{ID: userID, VerifiedAt: at}))
}

func (a pgTx) DeactivateUser(ctx context.Context, userID int64, at time.Time) error {
	return pgError(a.q.DeactivateUser(ctx, pgdb.DeactivateUserParams{ID: userID, At: at}))
}

func (a pgTx) UserRoles(ctx context.Context, userID int64) ([]string, error) {
	roles, err := a.q.ListUserRoles(ctx, userID)
	return roles, pgError(err)
}

func (a pgTx) AllUserRoles(ctx context.Context) (map[int64][]string, error) {
	rows, err := a.q.ListAllUserRoles(ctx)
	if err != nil {
		return nil, pgError(err)
	}
	roles := map[int64][]string{}
	for _, r := range rows {
		roles[r.UserID] = append(roles[r.UserID], r.Role)
	}
	return roles, nil
}

func (a pgTx) AddUserRole(ctx context.Context, userID int64, role string, at time.Time) (bool, error) {
	n, err := a.q.AddUserRole(ctx, pgdb.AddUserRoleParams{UserID: userID, Role: role, GrantedAt: at})
	return n > 0, pgError(err)
}

func (a pgTx) RemoveUserRole(ctx context.Context, userID int64, role string) (bool, error) {
	n, err := a.q.RemoveUserRole(ctx, pgdb.RemoveUserRoleParams{UserID: userID, Role: role})
	return n > 0, pgError(err)
}

func (a pgTx) RevokeOtherUserSessions(ctx context.Context, userID int64, keepID, reason string, at time.Time) (int64, error) {
	n, err := a.q.RevokeOtherUserSessions(ctx, pgdb.RevokeOtherUserSessionsParams{UserID: userID, KeepID: keepID, Reason: reason, RevokedAt: at})
	return n, pgError(err)
}

func (a pgTx) CountLiveUserSessions(ctx context.Context, userID int64, now time.Time) (int64, error) {
	n, err := a.q.CountLiveUserSessions(ctx, pgdb.CountLiveUserSessionsParams{UserID: userID, Now: now})
	return n, pgError(err)
}

func (a pgTx) DeleteLiveRefreshTokens(ctx context.Context, sessionID string) (int64, error) {
	n, err := a.q.DeleteLiveRefreshTokens(ctx, sessionID)
	return n, pgError(err)
}

func pgOneTimeToken(t pgdb.OneTimeToken, err error) (auth.OneTimeToken, error) {
	if err != nil {
		return auth.OneTimeToken{}, pgError(err)
	}
	return auth.OneTimeToken{
		Hash: t.TokenHash, UserID: t.UserID, Purpose: t.Purpose, CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(),
	}, nil
}

func (a pgTx) InsertOneTimeToken(ctx context.Context, t auth.OneTimeToken) error {
	return pgError(a.later.InsertOneTimeToken(ctx, pgdb.InsertOneTimeTokenParams{
		TokenHash: t.Hash, UserID: t.UserID, Purpose: t.Purpose, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
	}))
}

func (a pgTx) OneTimeToken(ctx context.Context, hash []byte, purpose string) (auth.OneTimeToken, error) {
	return pgOneTimeToken(a.q.GetOneTimeToken(ctx, pgdb.GetOneTimeTokenParams{TokenHash: hash, Purpose: purpose}))
}

func (a pgTx) ConsumeOneTimeToken(ctx context.Context, hash []byte, purpose string) (auth.OneTimeToken, error) {
	return pgOneTimeToken(a.q.ConsumeOneTimeToken(ctx, pgdb.ConsumeOneTimeTokenParams{TokenHash: hash, Purpose: purpose}))
}

func (a pgTx) DeleteUserOneTimeTokens(ctx context.Context, userID int64, purpose string) (int64, error) {
	n, err := a.q.DeleteUserOneTimeTokens(ctx, pgdb.DeleteUserOneTimeTokensParams{UserID: userID, Purpose: purpose})
	return n, pgError(err)
}

func (a pgTx) DeleteExpiredOneTimeTokens(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredOneTimeTokens(ctx, pgdb.DeleteExpiredOneTimeTokensParams{Before: before, BatchSize: int32(batch)})
	return n, pgError(err)
}

func (a pgTx) InsertOutboxEvent(ctx context.Context, e auth.OutboxEvent) error {
	return pgError(a.later.InsertOutboxEvent(ctx, pgdb.InsertOutboxEventParams{
		ID: e.ID, Type: e.Type, Payload: e.Payload, CreatedAt: e.CreatedAt, NextAttemptAt: e.NextAttemptAt,
	}))
}

func (a pgTx) ClaimOutboxEvents(ctx context.Context, now, until time.Time, batch int) ([]auth.OutboxEvent, error) {
	rows, err := a.q.ClaimOutboxEvents(ctx, pgdb.ClaimOutboxEventsParams{Now: now, LockedUntil: until, BatchSize: int32(batch)})
	if err != nil {
		return nil, pgError(err)
	}
	events := make([]auth.OutboxEvent, len(rows))
	for i, r := range rows {
		events[i] = auth.OutboxEvent{
			ID: r.ID, Type: r.Type, Payload: r.Payload, CreatedAt: r.CreatedAt.UTC(), Attempts: int(r.Attempts),
			NextAttemptAt: r.NextAttemptAt.UTC(), LockedUntil: optUTC(r.LockedUntil), LastError: deref(r.LastError),
		}
	}
	return events, nil
}

func (a pgTx) DeleteOutboxEvent(ctx context.Context, id string) error {
	return pgError(a.q.DeleteOutboxEvent(ctx, id))
}

func (a pgTx) RescheduleOutboxEvent(ctx context.Context, id string, next time.Time, lastError string) error {
	return pgError(a.q.RescheduleOutboxEvent(ctx, pgdb.RescheduleOutboxEventParams{ID: id, NextAttemptAt: next, LastError: &lastError}))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
