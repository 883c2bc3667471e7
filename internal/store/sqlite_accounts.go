package store

import (
	"context"
	"time"

	"github.com/ecommerce/auth-service/gen/sqlitedb"
	"github.com/ecommerce/auth-service/internal/auth"
)

// The SQLite queries of accounts: user administration, roles, one-time
// tokens and the outbox.

func (a sqliteTx) ListUsers(ctx context.Context) ([]auth.User, error) {
	rows, err := a.q.ListUsers(ctx)
	if err != nil {
		return nil, sqliteError(err)
	}
	users := make([]auth.User, len(rows))
	for i, r := range rows {
		users[i], _ = sqliteUser(r, nil)
	}
	return users, nil
}

func (a sqliteTx) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	return sqliteError(a.q.SetPasswordHash(ctx, sqlitedb.SetPasswordHashParams{ID: userID, PasswordHash: hash}))
}

func (a sqliteTx) ActivateUser(ctx context.Context, userID int64, at time.Time) error {
	return sqliteError(a.q.ActivateUser(ctx, sqlitedb.ActivateUserParams{ID: userID, VerifiedAt: micros(at)}))
}

func (a sqliteTx) DeactivateUser(ctx context.Context, userID int64, at time.Time) error {
	return sqliteError(a.q.DeactivateUser(ctx, sqlitedb.DeactivateUserParams{ID: userID, At: micros(at)}))
}

func (a sqliteTx) UserRoles(ctx context.Context, userID int64) ([]string, error) {
	roles, err := a.q.ListUserRoles(ctx, userID)
	return roles, sqliteError(err)
}

func (a sqliteTx) AllUserRoles(ctx context.Context) (map[int64][]string, error) {
	rows, err := a.q.ListAllUserRoles(ctx)
	if err != nil {
		return nil, sqliteError(err)
	}
	roles := map[int64][]string{}
	for _, r := range rows {
		roles[r.UserID] = append(roles[r.UserID], r.Role)
	}
	return roles, nil
}

func (a sqliteTx) AddUserRole(ctx context.Context, userID int64, role string, at time.Time) (bool, error) {
	n, err := a.q.AddUserRole(ctx, sqlitedb.AddUserRoleParams{UserID: userID, Role: role, GrantedAt: micros(at)})
	return n > 0, sqliteError(err)
}

func (a sqliteTx) RemoveUserRole(ctx context.Context, userID int64, role string) (bool, error) {
	n, err := a.q.RemoveUserRole(ctx, sqlitedb.RemoveUserRoleParams{UserID: userID, Role: role})
	return n > 0, sqliteError(err)
}

func (a sqliteTx) RevokeOtherUserSessions(ctx context.Context, userID int64, keepID, reason string, at time.Time) (int64, error) {
	n, err := a.q.RevokeOtherUserSessions(ctx, sqlitedb.RevokeOtherUserSessionsParams{UserID: userID, KeepID: keepID, Reason: reason, RevokedAt: micros(at)})
	return n, sqliteError(err)
}

func (a sqliteTx) CountLiveUserSessions(ctx context.Context, userID int64, now time.Time) (int64, error) {
	n, err := a.q.CountLiveUserSessions(ctx, sqlitedb.CountLiveUserSessionsParams{UserID: userID, Now: micros(now)})
	return n, sqliteError(err)
}

func (a sqliteTx) DeleteLiveRefreshTokens(ctx context.Context, sessionID string) (int64, error) {
	n, err := a.q.DeleteLiveRefreshTokens(ctx, sessionID)
	return n, sqliteError(err)
}

func sqliteOneTimeToken(t sqlitedb.OneTimeToken, err error) (auth.OneTimeToken, error) {
	if err != nil {
		return auth.OneTimeToken{}, sqliteError(err)
	}
	return auth.OneTimeToken{
		Hash: t.TokenHash, UserID: t.UserID, Purpose: t.Purpose, CreatedAt: fromMicros(t.CreatedAt), ExpiresAt: fromMicros(t.ExpiresAt),
	}, nil
}

func (a sqliteTx) InsertOneTimeToken(ctx context.Context, t auth.OneTimeToken) error {
	return sqliteError(a.q.InsertOneTimeToken(ctx, sqlitedb.InsertOneTimeTokenParams{
		TokenHash: t.Hash, UserID: t.UserID, Purpose: t.Purpose, CreatedAt: micros(t.CreatedAt), ExpiresAt: micros(t.ExpiresAt),
	}))
}

func (a sqliteTx) OneTimeToken(ctx context.Context, hash []byte, purpose string) (auth.OneTimeToken, error) {
	return sqliteOneTimeToken(a.q.GetOneTimeToken(ctx, sqlitedb.GetOneTimeTokenParams{TokenHash: hash, Purpose: purpose}))
}

func (a sqliteTx) ConsumeOneTimeToken(ctx context.Context, hash []byte, purpose string) (auth.OneTimeToken, error) {
	return sqliteOneTimeToken(a.q.ConsumeOneTimeToken(ctx, sqlitedb.ConsumeOneTimeTokenParams{TokenHash: hash, Purpose: purpose}))
}

func (a sqliteTx) DeleteUserOneTimeTokens(ctx context.Context, userID int64, purpose string) (int64, error) {
	n, err := a.q.DeleteUserOneTimeTokens(ctx, sqlitedb.DeleteUserOneTimeTokensParams{UserID: userID, Purpose: purpose})
	return n, sqliteError(err)
}

func (a sqliteTx) DeleteExpiredOneTimeTokens(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredOneTimeTokens(ctx, sqlitedb.DeleteExpiredOneTimeTokensParams{Before: micros(before), BatchSize: int64(batch)})
	return n, sqliteError(err)
}

func (a sqliteTx) InsertOutboxEvent(ctx context.Context, e auth.OutboxEvent) error {
	return sqliteError(a.q.InsertOutboxEvent(ctx, sqlitedb.InsertOutboxEventParams{
		ID: e.ID, Type: e.Type, Payload: e.Payload, CreatedAt: micros(e.CreatedAt), NextAttemptAt: micros(e.NextAttemptAt),
	}))
}

func (a sqliteTx) ClaimOutboxEvents(ctx context.Context, now, until time.Time, batch int) ([]auth.OutboxEvent, error) {
	rows, err := a.q.ClaimOutboxEvents(ctx, sqlitedb.ClaimOutboxEventsParams{Now: micros(now), LockedUntil: micros(until), BatchSize: int64(batch)})
	if err != nil {
		return nil, sqliteError(err)
	}
	events := make([]auth.OutboxEvent, len(rows))
	for i, r := range rows {
		events[i] = auth.OutboxEvent{
			ID: r.ID, Type: r.Type, Payload: r.Payload, CreatedAt: fromMicros(r.CreatedAt), Attempts: int(r.Attempts),
			NextAttemptAt: fromMicros(r.NextAttemptAt), LockedUntil: optFromMicros(r.LockedUntil), LastError: deref(r.LastError),
		}
	}
	return events, nil
}

func (a sqliteTx) DeleteOutboxEvent(ctx context.Context, id string) error {
	return sqliteError(a.q.DeleteOutboxEvent(ctx, id))
}

func (a sqliteTx) RescheduleOutboxEvent(ctx context.Context, id string, next time.Time, lastError string) error {
	return sqliteError(a.q.RescheduleOutboxEvent(ctx, sqlitedb.RescheduleOutboxEventParams{ID: id, NextAttemptAt: micros(next), LastError: &lastError}))
}
