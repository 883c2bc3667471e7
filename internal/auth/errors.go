package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/ecommerce/auth-service/internal/passwordpolicy"
)

// Errors returned (wrapped) by the store. Driver errors are translated into
// these at the store boundary, so the domain never sees pgx or SQLite errors.
var (
	// ErrNotFound means the user, session or token does not exist.
	ErrNotFound = errors.New("auth: not found")
	// ErrConflict means a unique constraint was violated (an email or an id
	// already taken).
	ErrConflict = errors.New("auth: conflict")
	// ErrUnavailable means the database did not answer: it refused or dropped
	// the connection, or the statement or request timed out. Nothing the
	// caller did is wrong; the same request may succeed a moment later.
	ErrUnavailable = errors.New("auth: database unavailable")
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
	// ErrSignupClosed means self-service sign-up is switched off (AUTH_SIGNUP=closed).
	ErrSignupClosed = errors.New("auth: sign-up is closed")
	// ErrOneTimeTokenInvalid covers unknown, used, superseded and expired
	// verification and reset tokens alike.
	ErrOneTimeTokenInvalid = errors.New("auth: one-time token is invalid or expired")
	// ErrWrongPassword means the current password given to confirm a
	// password change is wrong.
	ErrWrongPassword = errors.New("auth: current password is wrong")
	// ErrInvalidRole is returned for a role name that is not ValidRole.
	ErrInvalidRole = errors.New("auth: invalid role name")
	// ErrThrottled means too many logins failed recently for the account,
	// the client address or both: the attempt was refused without checking
	// the password. It is returned as a *ThrottledError, which says when to
	// come back.
	ErrThrottled = errors.New("auth: too many failed logins")
	// ErrOverloaded means the password hash could not start within the hash
	// wait bound: the attempt was refused without checking the password, and
	// is not counted against the account.
	ErrOverloaded = errors.New("auth: too many password hashes waiting")
)

// The password policy's refusals (returned wrapped in a *PasswordRefusal,
// whose Message says why to the person who chose the password).
var (
	ErrPasswordTooShort   = passwordpolicy.ErrTooShort
	ErrPasswordTooLong    = passwordpolicy.ErrTooLong
	ErrPasswordTooCommon  = passwordpolicy.ErrTooCommon
	ErrPasswordTooSimilar = passwordpolicy.ErrTooSimilar
)

// PasswordRefusal is why the password policy refused a password.
type PasswordRefusal = passwordpolicy.Refusal

// ThrottledError is ErrThrottled with the time until the throttle ends.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %s", ErrThrottled, e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }
