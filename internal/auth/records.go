package auth

import "time"

// User is an account of the service's own users table.
type User struct {
	ID int64
	// Email is the address as it was given (trimmed); accounts are matched
	// by EmailKey(Email).
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

// Reasons recorded when a session is revoked.
const (
	ReasonLogout    = "logout"
	ReasonLogoutAll = "logout_all"
	// ReasonReuse marks a session revoked because a retired refresh token was
	// presented again: every later use of its tokens is reported as reuse.
	ReasonReuse = "reuse"
)

// StoredRefreshToken is a refresh token as the store keeps it: the SHA-256
// hash of the token string (HashToken), never the token itself.
type StoredRefreshToken struct {
	Hash      []byte
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
	RetiredAt *time.Time
	// Successor is, once the token is retired, the pair it was rotated into,
	// sealed with a key only the token itself yields (see successor.go).
	Successor []byte
}

// ImportResult counts what ImportUsers did.
type ImportResult struct {
	Created   int
	Unchanged int
}

// ThrottleCounter is one counter of the login throttle (throttle.go): the
// attempts counted for one key (an account and a client address, an
// account, or an address, hashed) and the lock they have led to. Zero times
// mean none.
type ThrottleCounter struct {
	Key      []byte
	Attempts int
	// LockedUntil ends the lock; attempts before it are refused uncounted.
	LockedUntil time.Time
	// FamiliarUntil, on an account-and-address counter, is until when the
	// address counts as one the account logs in from (after a successful
	// login), which the account's own lock does not apply to.
	FamiliarUntil time.Time
	// ResetAt is when the counter is forgotten: after it, it counts as
	// empty, and the cleanup deletes it.
	ResetAt time.Time
}
