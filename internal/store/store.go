// Package store keeps users, sessions and refresh tokens. It has two adapters
// with the same behaviour: PostgreSQL (the production store) and an embedded
// SQLite file (the zero-setup default). Driver errors are translated here into
// the sentinel errors below, so no other package sees pgx or SQLite errors.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors returned (wrapped) by every adapter.
var (
	// ErrNotFound means the user, session or token does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a unique constraint was violated (an email already taken).
	ErrConflict = errors.New("store: conflict")
	// ErrSessionRevoked means the session was revoked by a logout.
	ErrSessionRevoked = errors.New("store: session revoked")
	// ErrTokenReused means a retired refresh token was presented after the grace
	// interval, or its session was already revoked for that reason.
	ErrTokenReused = errors.New("store: refresh token reused")
	// ErrReuseDetected is the ErrTokenReused of the rotation that detected the
	// reuse and revoked the session; later attempts get plain ErrTokenReused.
	ErrReuseDetected = fmt.Errorf("%w: session revoked now", ErrTokenReused)
)

// Reasons recorded when a session is revoked.
const (
	ReasonLogout    = "logout"
	ReasonLogoutAll = "logout_all"
	ReasonReuse     = "reuse"
)

// User is an account of the service's own users table.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	IsActive     bool
	IsStaff      bool
	IsSuperuser  bool
	DateJoined   time.Time
	LastLogin    *time.Time
}

// NewUser is what CreateUser stores. ID is used only by ImportUsers.
type NewUser struct {
	ID           int64
	Email        string
	PasswordHash string
	IsActive     bool
	IsStaff      bool
	IsSuperuser  bool
	DateJoined   time.Time
	LastLogin    *time.Time
}

// Session is a token family: the tokens minted by one login and its refreshes.
type Session struct {
	ID            string
	UserID        int64
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RevokedAt     *time.Time
	RevokedReason string
}

// RefreshToken is a refresh token as stored: the SHA-256 hash of the token
// string, never the token itself.
type RefreshToken struct {
	Hash      []byte
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
	RetiredAt *time.Time
	// Successor is, once the token is retired, the pair it was rotated into,
	// sealed with a key only the token itself yields (see auth).
	Successor []byte
}

// Rotation asks to retire the refresh token OldHash and record Next, whose
// sealed pair is Successor, in the same session.
type Rotation struct {
	SessionID string
	OldHash   []byte
	Next      RefreshToken
	Successor []byte
	Now       time.Time
	// Grace is how long after its retirement a refresh token still yields the
	// pair it was rotated into (two tabs refreshing at once). Zero is strict.
	Grace time.Duration
}

// ImportResult counts what ImportUsers did.
type ImportResult struct {
	Created   int
	Unchanged int
}

// Store is the whole persistence API of the service.
type Store interface {
	CreateUser(ctx context.Context, u NewUser) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	UserByID(ctx context.Context, id int64) (User, error)
	// ReplacePasswordHash swaps oldHash for newHash; it does nothing if the hash
	// has changed meanwhile.
	ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error
	SetUserActive(ctx context.Context, userID int64, active bool) error
	DeleteUser(ctx context.Context, userID int64) error
	// ImportUsers inserts users keeping their ids, in one transaction. A user
	// whose id exists with the same email is left unchanged; any other clash
	// fails the whole import with ErrConflict.
	ImportUsers(ctx context.Context, users []NewUser) (ImportResult, error)

	// CreateSession starts a session: it stores the session and its first
	// refresh token, and records the login (last_login = CreatedAt), together.
	CreateSession(ctx context.Context, s Session, first RefreshToken) error
	Session(ctx context.Context, id string) (Session, error)
	// SessionUser returns a session and its user in one round trip.
	SessionUser(ctx context.Context, sessionID string) (Session, User, error)
	RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	// RotateRefreshToken applies r atomically, by decideRotation's rules. It
	// returns nil after a normal rotation, and the sealed successor of a token
	// that was already retired within the grace interval, in which case
	// nothing is written. On reuse it revokes the session and returns
	// ErrReuseDetected.
	RotateRefreshToken(ctx context.Context, r Rotation) (replayed []byte, err error)
	// RevokeSession revokes one session; revoking a revoked session is a no-op.
	RevokeSession(ctx context.Context, id, reason string, at time.Time) error
	// RevokeUserSessions revokes every live session of a user and returns how many.
	RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error)
	// DeleteExpired removes at most batch expired sessions and at most batch
	// expired refresh tokens, returning how many rows went.
	DeleteExpired(ctx context.Context, before time.Time, batch int) (int64, error)

	// Migrate brings the schema up to date; it is idempotent.
	Migrate(ctx context.Context) error
	Close() error
}

// rotationStep is what a rotation does to the database, decided by decideRotation.
type rotationStep int

const (
	stepRetireAndAdd rotationStep = iota // the normal case
	stepReplay                           // retired within the grace interval
	stepRevoke                           // reuse: revoke the session
)

// decideRotation holds the rotation rules, applied inside a transaction
// after locking the session:
//   - the token must belong to the session it claims, and the session must be live;
//   - an unretired token is retired and Next becomes its successor;
//   - a token retired no longer than Grace ago yields the successor it was
//     rotated into, the same pair again, so that concurrent refreshes (two
//     tabs) neither log the user out nor fork the session;
//   - any other retired token is reuse, and the session is revoked.
func decideRotation(r Rotation, sess Session, tok RefreshToken) (rotationStep, error) {
	if tok.SessionID != sess.ID || sess.ID != r.SessionID {
		return 0, ErrNotFound
	}
	if sess.RevokedAt != nil {
		if sess.RevokedReason == ReasonReuse {
			return 0, ErrTokenReused
		}
		return 0, ErrSessionRevoked
	}
	if tok.RetiredAt == nil {
		return stepRetireAndAdd, nil
	}
	if r.Grace > 0 && !r.Now.After(tok.RetiredAt.Add(r.Grace)) && len(tok.Successor) > 0 {
		return stepReplay, nil
	}
	return stepRevoke, nil
}

// sameEmail reports whether two addresses are the same account's, ignoring case.
func sameEmail(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
