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
	SessionStore
	RefreshTokenStore
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
	// ReplacePasswordHash swaps oldHash for newHash; it does nothing if the
	// hash has changed meanwhile.
	ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error
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
	// ExtendSession moves a session's expiry to until, never earlier.
	ExtendSession(ctx context.Context, id string, until time.Time) error
	// RevokeSession revokes one session; revoking a revoked session is a no-op.
	RevokeSession(ctx context.Context, id, reason string, at time.Time) error
	// RevokeUserSessions revokes every live session of a user and returns how many.
	RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error)
	// DeleteExpiredSessions deletes at most batch sessions (and their tokens)
	// that expired before before, and returns how many.
	DeleteExpiredSessions(ctx context.Context, before time.Time, batch int) (int64, error)
}

// RefreshTokenStore keeps refresh tokens, by hash.
type RefreshTokenStore interface {
	InsertRefreshToken(ctx context.Context, t StoredRefreshToken) error
	StoredRefreshToken(ctx context.Context, hash []byte) (StoredRefreshToken, error)
	// RetireRefreshToken marks a token used at at, keeping the sealed pair it
	// was rotated into.
	RetireRefreshToken(ctx context.Context, hash []byte, at time.Time, successor []byte) error
	// DeleteExpiredRefreshTokens deletes at most batch tokens that expired
	// before before, and returns how many.
	DeleteExpiredRefreshTokens(ctx context.Context, before time.Time, batch int) (int64, error)
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
