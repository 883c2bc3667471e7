package auth

import "errors"

// Errors returned (wrapped) by the store. Driver errors are translated into
// these at the store boundary, so the domain never sees pgx or SQLite errors.
var (
	// ErrNotFound means the user, session or token does not exist.
	ErrNotFound = errors.New("auth: not found")
	// ErrConflict means a unique constraint was violated (an email or an id
	// already taken).
	ErrConflict = errors.New("auth: conflict")
)

// Errors returned (wrapped) by Service: the outcomes a caller branches on.
// internal/httpapi maps each to a status, in one table.
var (
	// ErrBadCredentials covers wrong password, unknown email and inactive
	// account alike, so that a caller cannot tell them apart.
	ErrBadCredentials = errors.New("auth: no active account found with the given credentials")
	// ErrTokenInvalid covers malformed, badly signed, expired, wrong-type,
	// unknown and revoked tokens.
	ErrTokenInvalid = errors.New("auth: token is invalid or expired")
	// ErrTokenReused means a retired refresh token was replayed: its session is revoked.
	ErrTokenReused = errors.New("auth: refresh token reused; session revoked")
	// ErrUserNotFound means the token's user no longer exists.
	ErrUserNotFound = errors.New("auth: user not found")
	// ErrUserInactive means the token's user has been deactivated.
	ErrUserInactive = errors.New("auth: user is inactive")
	// ErrSessionNotFound means no live session of the caller has that id:
	// another user's session is not found either.
	ErrSessionNotFound = errors.New("auth: session not found")
	// ErrInvalidUser is returned for a user record the rules refuse: an email
	// that is not valid (ValidEmail) or an empty password.
	ErrInvalidUser = errors.New("auth: invalid user")
)
