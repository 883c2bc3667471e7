package auth

import (
	"context"
	"time"
)

// Store is what the domain needs from persistence: every question and write
// of Tx, outside any transaction, and InTx to run several as one.
// internal/store implements it over PostgreSQL and SQLite.
type Store interface {
	Tx
	// InTx runs fn in one transaction: its writes are committed together if
	// fn returns nil, and none of them otherwise. In a transaction,
	// LockSession holds the session until it ends.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// Tx is one question or one write per method. Missing rows are ErrNotFound
// and unique violations ErrConflict, wrapped; a database that does not
// answer (refused or dropped connections, timeouts) is ErrUnavailable,
// wrapped; times come back in UTC.
type Tx interface {
	UserStore
	RoleStore
	SessionStore
	RefreshTokenStore
	OneTimeTokenStore
	OutboxStore
	EventStore
	ThrottleStore
}

// UserStore keeps users. Emails are matched by EmailKey.
type UserStore interface {
	// CreateUser inserts u with a new id and returns it as stored.
	CreateUser(ctx context.Context, u User) (User, error)
	// ImportUser inserts u keeping u.ID.
	ImportUser(ctx context.Context, u User) error
	// SyncUserIDs moves the id generator past every id in use, after
	// imports; it never moves it back, so a deleted user's id is not reused.
	SyncUserIDs(ctx context.Context) error
	UserByEmail(ctx context.Context, email string) (User, error)
	UserByID(ctx context.Context, id int64) (User, error)
	RecordLogin(ctx context.Context, userID int64, at time.Time) error
	// ReplacePasswordHash swaps oldHash for newHash and reports whether it
	// did; it does nothing if the hash has changed meanwhile.
	ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) (bool, error)
	// ListUsers returns every user, by id.
	ListUsers(ctx context.Context) ([]User, error)
	SetPasswordHash(ctx context.Context, userID int64, hash string) error
	// ActivateUser makes a user active and, if their address is not verified
	// yet, marks it verified at at.
	ActivateUser(ctx context.Context, userID int64, at time.Time) error
	// DeactivateUser makes a user inactive and marks their address verified
	// (taken in hand), so that neither a sign-up nor a reset reactivates them.
	DeactivateUser(ctx context.Context, userID int64, at time.Time) error
}

// RoleStore keeps the roles of users.
type RoleStore interface {
	// UserRoles returns a user's roles, sorted.
	UserRoles(ctx context.Context, userID int64) ([]string, error)
	// AllUserRoles returns every user's roles, sorted, by user id.
	AllUserRoles(ctx context.Context) (map[int64][]string, error)
	// AddUserRole grants a role; added is false if the user had it already.
	AddUserRole(ctx context.Context, userID int64, role string, at time.Time) (added bool, err error)
	// RemoveUserRole takes a role away; removed is false if the user did not have it.
	RemoveUserRole(ctx context.Context, userID int64, role string) (removed bool, err error)
}

// SessionStore keeps sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	// SessionUser returns a session and its user in one round trip.
	SessionUser(ctx context.Context, id string) (Session, User, error)
	// LockSession reads a session and, in a transaction, holds it until the
	// transaction ends, so that rotations of one session run one at a time
	// across processes.
	LockSession(ctx context.Context, id string) (Session, error)
	// LockRotation locks a session as LockSession does and reads with it
	// its user, the user's roles (sorted) and the refresh token with hash
	// tokenHash, nil if there is none (it may be another session's): all a
	// rotation decides on, in one round trip. ErrNotFound: no such session.
	LockRotation(ctx context.Context, sessionID string, tokenHash []byte) (RotationState, error)
	// RecordRotation writes a rotation (RotationWrite), in one statement
	// where the database allows.
	RecordRotation(ctx context.Context, r RotationWrite) error
	// ExtendSession records a rotation at at by client by: it moves the
	// session's expiry to until, never earlier.
	ExtendSession(ctx context.Context, id string, until, at time.Time, by Client) error
	// BumpSessionGeneration starts the session's next token generation and
	// returns it: its tokens of earlier ones are refused from now on.
	BumpSessionGeneration(ctx context.Context, id string) (int, error)
	// ListUserSessions returns at most limit of a user's sessions that are
	// neither revoked nor expired at now, newest first.
	ListUserSessions(ctx context.Context, userID int64, now time.Time, limit int) ([]Session, error)
	// RevokeUserSession revokes session id if it is userID's and live at
	// at, and reports whether it did.
	RevokeUserSession(ctx context.Context, userID int64, id, reason string, at time.Time) (bool, error)
	// RevokeSession revokes one session; revoking a revoked session is a no-op.
	RevokeSession(ctx context.Context, id, reason string, at time.Time) error
	// RevokeUserSessions revokes every live session of a user and returns how many.
	RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error)
	// RevokeOtherUserSessions revokes every live session of a user but keepID
	// and returns how many.
	RevokeOtherUserSessions(ctx context.Context, userID int64, keepID, reason string, at time.Time) (int64, error)
	// CountLiveUserSessions counts a user's unrevoked sessions that expire after now.
	CountLiveUserSessions(ctx context.Context, userID int64, now time.Time) (int64, error)
	// DeleteExpiredSessions deletes at most batch sessions (and their tokens)
	// that expired before before, and returns how many.
	DeleteExpiredSessions(ctx context.Context, before time.Time, batch int) (int64, error)
}

// RefreshTokenStore keeps refresh tokens, by hash.
type RefreshTokenStore interface {
	InsertRefreshToken(ctx context.Context, t StoredRefreshToken) error
	StoredRefreshToken(ctx context.Context, hash []byte) (StoredRefreshToken, error)
	// ExposeRefreshToken sets a token's ExposedAt, unless it is set.
	ExposeRefreshToken(ctx context.Context, hash []byte, at time.Time) error
	// DeleteExpiredRefreshTokens deletes at most batch tokens that expired
	// before before, and returns how many.
	DeleteExpiredRefreshTokens(ctx context.Context, before time.Time, batch int) (int64, error)
	// DeleteLiveRefreshTokens deletes a session's unretired refresh tokens.
	DeleteLiveRefreshTokens(ctx context.Context, sessionID string) (int64, error)
}

// OneTimeTokenStore keeps the tokens sent by email, by hash and purpose.
type OneTimeTokenStore interface {
	InsertOneTimeToken(ctx context.Context, t OneTimeToken) error
	OneTimeToken(ctx context.Context, hash []byte, purpose string) (OneTimeToken, error)
	// ConsumeOneTimeToken deletes a token and returns it: of concurrent
	// callers with one token, only one gets it; the others get ErrNotFound.
	ConsumeOneTimeToken(ctx context.Context, hash []byte, purpose string) (OneTimeToken, error)
	// DeleteUserOneTimeTokens deletes a user's tokens of one purpose.
	DeleteUserOneTimeTokens(ctx context.Context, userID int64, purpose string) (int64, error)
	// DeleteExpiredOneTimeTokens deletes at most batch tokens that expired
	// before before, and returns how many.
	DeleteExpiredOneTimeTokens(ctx context.Context, before time.Time, batch int) (int64, error)
}

// OutboxStore keeps the events waiting for delivery.
type OutboxStore interface {
	InsertOutboxEvent(ctx context.Context, e OutboxEvent) error
	// ClaimOutboxEvents leases at most batch events due at now that no live
	// lease holds, until until, counting an attempt for each. Concurrent
	// claimers, in any process, never get the same event while its lease lasts.
	ClaimOutboxEvents(ctx context.Context, now, until time.Time, batch int) ([]OutboxEvent, error)
	// DeleteOutboxEvent removes a delivered event.
	DeleteOutboxEvent(ctx context.Context, id string) error
	// RescheduleOutboxEvent releases an event's lease and makes it due at next.
	RescheduleOutboxEvent(ctx context.Context, id string, next time.Time, lastError string) error
}

// EventStore keeps the security audit trail.
type EventStore interface {
	RecordEvent(ctx context.Context, e SecurityEvent) error
	// SecurityEvents returns the events q selects, newest first.
	SecurityEvents(ctx context.Context, q EventQuery) ([]SecurityEvent, error)
	// DeleteEventsBefore deletes at most batch events older than before,
	// and returns how many.
	DeleteEventsBefore(ctx context.Context, before time.Time, batch int) (int64, error)
}

// ThrottleStore keeps the login throttle's counters, by key, in the database
// every replica shares.
type ThrottleStore interface {
	// ThrottleCounters returns the counters of keys that exist, in no order.
	ThrottleCounters(ctx context.Context, keys [][]byte) ([]ThrottleCounter, error)
	// LockThrottleCounters returns the counters of keys, in no order, creating
	// the missing ones empty (no attempts, no lock, reset at resetAt), with one
	// atomic upsert; in a transaction it holds them until the transaction
	// ends, so that attempts counted by several processes at once are counted
	// one at a time.
	LockThrottleCounters(ctx context.Context, keys [][]byte, resetAt time.Time) ([]ThrottleCounter, error)
	// PutThrottleCounters writes counters, replacing those with their keys.
	PutThrottleCounters(ctx context.Context, counters []ThrottleCounter) error
	// DeleteExpiredThrottleCounters deletes at most batch counters whose
	// ResetAt is before before, and returns how many.
	DeleteExpiredThrottleCounters(ctx context.Context, before time.Time, batch int) (int64, error)
}
