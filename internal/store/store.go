// Package store keeps users, sessions and refresh tokens. It has two adapters
// with the same behaviour: PostgreSQL (the production store) and an embedded
// SQLite file (the zero-setup default). Driver errors are translated here into
// the sentinel errors below, so no other package sees pgx or SQLite errors.
package store

import (
	"context"
	"errors"
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
}

// Rotation asks to retire the refresh token OldHash and record Next in the
// same session.
type Rotation struct {
	SessionID string
	OldHash   []byte
	Next      RefreshToken
	Now       time.Time
	// Grace is how long after its retirement a refresh token may still be
	// rotated (two tabs refreshing at once). Zero means strict.
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
	RecordLogin(ctx context.Context, userID int64, at time.Time) error
	// ReplacePasswordHash swaps oldHash for newHash; it does nothing if the hash
	// has changed meanwhile.
	ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error
	SetUserActive(ctx context.Context, userID int64, active bool) error
	DeleteUser(ctx context.Context, userID int64) error
	// ImportUsers inserts users keeping their ids, in one transaction. A user
	// whose id exists with the same email is left unchanged; any other clash
	// fails the whole import with ErrConflict.
	ImportUsers(ctx context.Context, users []NewUser) (ImportResult, error)

	// CreateSession stores a new session and its first refresh token together.
	CreateSession(ctx context.Context, s Session, first RefreshToken) error
	Session(ctx context.Context, id string) (Session, error)
	RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	// RotateRefreshToken applies r atomically; see Rotate for the rules. On
	// reuse it revokes the session before returning ErrTokenReused.
	RotateRefreshToken(ctx context.Context, r Rotation) error
	// RevokeSession revokes one session; revoking a revoked session is a no-op.
	RevokeSession(ctx context.Context, id, reason string, at time.Time) error
	// RevokeUserSessions revokes every live session of a user and returns how many.
	RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error)
	// DeleteExpired removes at most batch expired sessions and at most batch
	// expired refresh tokens, returning how many rows went.
	DeleteExpired(ctx context.Context, before time.Time, batch int) (int64, error)

	// Migrate brings the schema up to date; it is idempotent.
	Migrate(ctx context.Context) error
	Ping(ctx context.Context) error
	Close() error
}

// rotationStep is what a rotation does to the database, decided by decideRotation.
type rotationStep int

const (
	stepRetireAndAdd rotationStep = iota // the normal case
	stepAddSibling                       // retired within the grace interval
	stepRevoke                           // reuse: revoke the session
)

// decideRotation holds the rotation rules that both adapters apply inside
// their transaction, after locking the session:
//   - the token must belong to the session it claims, and the session must be live;
//   - an unretired token is retired and Next becomes its successor;
//   - a token retired no longer than Grace ago still yields a working token of
//     the same session, so that concurrent refreshes do not log the user out;
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
	if r.Grace > 0 && !r.Now.After(tok.RetiredAt.Add(r.Grace)) {
		return stepAddSibling, nil
	}
	return stepRevoke, nil
}

// sameEmail reports whether two addresses are the same account's, ignoring case.
func sameEmail(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
