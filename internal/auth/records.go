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
	// CreatedBy is the client (address and user agent) that logged in.
	CreatedBy Client
	// RefreshedAt is the time of the last rotation, nil before the first;
	// RefreshedBy the client that made it.
	RefreshedAt *time.Time
	RefreshedBy Client
	// TokenGeneration is the generation of the session's tokens: its tokens
	// of an earlier one are refused (a password change starts the next).
	TokenGeneration int
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
	// ReasonEnded marks a session its user ended from the list of sessions.
	ReasonEnded = "ended"
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
	// ExposedAt is when the token was first seen outside a plain rotation:
	// handed out a second time by a grace replay, or presented to verify or
	// as a bearer token. An exposed token has no grace interval (see
	// decideRotation).
	ExposedAt *time.Time
}

// SecurityEvent is one entry of the audit trail. It never holds a password,
// a token or key material.
type SecurityEvent struct {
	ID   int64
	At   time.Time
	Kind EventKind
	// UserID is the user concerned, 0 when there is none (an unknown email,
	// a key loaded).
	UserID    int64
	SessionID string
	// Client is who caused the event (empty for the service's own).
	Client Client
	// Email is the address as typed, on failed logins.
	Email  string
	Detail string
	// UserEmail is, in events read back, the user's address today.
	UserEmail string
}

// EventQuery selects events of the audit trail.
type EventQuery struct {
	// Email, when set, selects the events of the account that has this
	// address today and the failures typed with it (matched by EmailKey).
	Email string
	// Since is the earliest time of an event returned.
	Since time.Time
	// Limit is the most events returned, newest first.
	Limit int
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

// ThrottleCounter is one counter of the login throttle (throttle.go): the
// attempts counted for one key (an account and a client address, an
// account, or an address, hashed) and the lock they have led to. Zero times
// mean none.
type ThrottleCounter struct {
	Key []byte
	// Failures are the failed attempts counted in the window.
	Failures int
	// InFlight are the attempts admitted whose password is being checked;
	// they are forgotten at InFlightUntil, if they have not settled by then
	// (the replica checking them stopped).
	InFlight      int
	InFlightUntil time.Time
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

// RotationState is what a rotation decides on, read with its session
// locked (Tx.LockRotation).
type RotationState struct {
	Session Session
	User    User
	// Roles are the user's roles, sorted: the new access token carries them.
	Roles []string
	// Token is the presented refresh token as stored, or nil if no token has
	// its hash.
	Token *StoredRefreshToken
}

// RotationWrite is what a rotation writes (Tx.RecordRotation).
type RotationWrite struct {
	// OldHash is the token retired at At, which keeps Successor, the sealed
	// pair it was rotated into.
	OldHash   []byte
	Successor []byte
	// Next is the new refresh token; its session is extended to its expiry
	// and marked refreshed at At by By.
	Next StoredRefreshToken
	At   time.Time
	By   Client
}
