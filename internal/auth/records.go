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
	// EmailVerifiedAt is when the address was proven (a verification or
	// reset token used) or taken in hand by an administrator (who created,
	// imported, activated or deactivated the account); nil for a sign-up not
	// verified yet, which a new sign-up for the address may take over.
	EmailVerifiedAt *time.Time
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
	// ReasonPasswordChanged marks the other sessions of a user who changed
	// their password, and every session of one who reset it or had it set.
	ReasonPasswordChanged = "password_changed"
	// ReasonRolesChanged marks the sessions of a user whose roles changed:
	// their access tokens carry the old roles.
	ReasonRolesChanged = "roles_changed"
	// ReasonDeactivated marks the sessions of a deactivated user.
	ReasonDeactivated = "deactivated"
	// ReasonAdmin marks sessions an administrator revoked.
	ReasonAdmin = "admin"
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

// OneTimeToken is a token sent by email, as the store keeps it: the SHA-256
// hash of the token (HashToken), never the token itself.
type OneTimeToken struct {
	Hash      []byte
	UserID    int64
	Purpose   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// The purposes of one-time tokens.
const (
	PurposeVerifyEmail   = "verify_email"
	PurposeResetPassword = "reset_password"
)

// OutboxEvent is an event waiting in the outbox for delivery to the
// Notification service. Payload is the JSON document delivered (an Event).
type OutboxEvent struct {
	ID            string
	Type          string
	Payload       []byte
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	// LockedUntil is the lease of the replica delivering it, if any.
	LockedUntil *time.Time
	LastError   string
}

// UserRecord is a user with their roles, as the admin commands show them.
type UserRecord struct {
	User
	Roles []string
	// LiveSessions counts the user's unexpired, unrevoked sessions (UserByEmail only).
	LiveSessions int64
}
