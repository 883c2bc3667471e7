package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/auth"
)

// The errors of requests that never reach the domain, raised by the
// validator, the router and the middleware.
var (
	// errNoCredentials: a protected operation without a bearer token.
	errNoCredentials = errors.New("no bearer token")
	// errInvalid: a body or parameter the schema refuses (fieldErrors).
	errInvalid = errors.New("invalid request")
	// errParse and errUnreadable: a body that is not JSON, or not readable.
	errParse      = errors.New("malformed JSON body")
	errUnreadable = errors.New("unreadable body")
	// errUnsupportedMediaType, errTooLarge, errHeadersTooLarge: a request
	// the service does not take whatever it says.
	errUnsupportedMediaType = errors.New("unsupported media type")
	errTooLarge             = errors.New("body too large")
	errHeadersTooLarge      = errors.New("request headers too large")
	// errNotFound, errMethodNotAllowed, errMoved: no operation matched
	// (routing.go).
	errNotFound         = errors.New("no such path")
	errMethodNotAllowed = errors.New("method not allowed")
	errMoved            = errors.New("moved permanently")
	// errNotReady: readiness, while the database does not answer or the
	// process drains.
	errNotReady = errors.New("not ready")
	// errInternal: anything unexpected, a panic included.
	errInternal = errors.New("internal error")
)

// errorTable is the one map from errors to responses: every error response
// of the service, whatever raised it (validator, router, strict server,
// handler, panic), is one of these rows. Where DRF or SimpleJWT has a code
// for the same failure it is theirs, so that today's clients keep working.
// Every code is documented in api/openapi.yaml's Error schema (tested).
var errorTable = []errorRow{
	// Try again later: the login throttle, load, outages.
	{auth.ErrThrottled, http.StatusTooManyRequests, "throttled", "Request was throttled."},
	{auth.ErrOverloaded, http.StatusServiceUnavailable, "overloaded", "The service is busy; try again shortly."},
	{auth.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "The service is temporarily unavailable; try again shortly."},
	{errNotReady, http.StatusServiceUnavailable, "not_ready", "The service is not ready."},
	{errHeadersTooLarge, http.StatusRequestHeaderFieldsTooLarge, "request_header_fields_too_large", "Request headers are too large (limit 16 KiB)."},
	// Credentials and tokens: DRF's and SimpleJWT's codes.
	{auth.ErrBadCredentials, http.StatusUnauthorized, "no_active_account", "No active account found with the given credentials"},
	{errNoCredentials, http.StatusUnauthorized, "not_authenticated", "Authentication credentials were not provided."},
	{auth.ErrTokenReused, http.StatusUnauthorized, "token_reused", "Token has been reused; the session is revoked."},
	{auth.ErrTokenInvalid, http.StatusUnauthorized, "token_not_valid", "Token is invalid or expired"},
	{auth.ErrUserNotFound, http.StatusUnauthorized, "user_not_found", "User not found"},
	{auth.ErrUserInactive, http.StatusUnauthorized, "user_inactive", "User is inactive"},
	// Accounts and sessions: sign-up, one-time tokens, the password policy.
	{auth.ErrSignupClosed, http.StatusForbidden, "signup_closed", "Sign-up is closed."},
	{auth.ErrOneTimeTokenInvalid, http.StatusBadRequest, "one_time_token_invalid", "The link is invalid or has expired."},
	{auth.ErrWrongPassword, http.StatusBadRequest, "wrong_password", "The current password is wrong."},
	{auth.ErrPasswordTooShort, http.StatusBadRequest, "password_too_short", "This password is too short."},
	{auth.ErrPasswordTooLong, http.StatusBadRequest, "password_too_long", "This password is too long."},
	{auth.ErrPasswordTooCommon, http.StatusBadRequest, "password_too_common", "This password is too common."},
	{auth.ErrPasswordTooSimilar, http.StatusBadRequest, "password_too_similar", "This password contains the name part of the email address."},
	{auth.ErrInvalidUser, http.StatusBadRequest, "invalid", "Invalid input."},
	{auth.ErrSessionNotFound, http.StatusNotFound, "not_found", "Not found."},
	// Requests the validator, the router or the middleware refuse.
	{errInvalid, http.StatusBadRequest, "invalid", "Invalid input."},
	{errParse, http.StatusBadRequest, "parse_error", "JSON parse error: the request body is not valid JSON."},
	{errUnreadable, http.StatusBadRequest, "parse_error", "The request body could not be read."},
	{errUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type", "Unsupported media type in request; use application/json."},
	{errTooLarge, http.StatusRequestEntityTooLarge, "payload_too_large", "Request body is too large (limit 1 MiB)."},
	{errCSRF, http.StatusForbidden, "csrf_failed", "The request may not use the refresh cookie."},
	{errOriginNotAllowed, http.StatusForbidden, "origin_not_allowed", "This origin may not call the API; see AUTH_CORS_ALLOWED_ORIGINS."},
	{errNotFound, http.StatusNotFound, "not_found", "Not found."},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed."},
	{errMoved, http.StatusPermanentRedirect, "moved", "This resource is at another path."},
	// The last row answers every error not above it.
	{errInternal, http.StatusInternalServerError, "internal_error", "A server error occurred."},
}

// errorRow is an error's response: status, code and default detail.
type errorRow struct {
	err    error
	status int
	code   string
	detail string
}

// retryAfter is the Retry-After of the errors a client should simply repeat
// a moment later; a *auth.ThrottledError carries its own.
var retryAfter = map[error]time.Duration{
	auth.ErrOverloaded:  time.Second,
	auth.ErrUnavailable: time.Second,
}

// wwwAuthenticate is sent with every 401, as DRF does.
const wwwAuthenticate = `Bearer realm="api"`

// detailed gives an error of the table a more specific detail for the client.
type detailed struct {
	error
	detail string
}

func (d detailed) Unwrap() error { return d.error }

// withDetail returns err, answered with detail instead of its row's.
func withDetail(err error, detail string) error { return detailed{err, detail} }

// clearingCookie answers a 401 with a Set-Cookie that clears the refresh
// cookie whose token failed (other statuses leave it: the token may still
// work once the database is back).
type clearingCookie struct {
	error
	setCookie string
}

func (c clearingCookie) Unwrap() error { return c.error }

// fieldErrors is an invalid request with the messages of each faulty field
// (DRF's shape); it answers as errInvalid.
type fieldErrors map[string][]string

func (fieldErrors) Error() string        { return errInvalid.Error() }
func (fieldErrors) Is(target error) bool { return target == errInvalid }

// fieldError is a domain error about one field of the request: it answers
// by the error's row, with the field's message in fields (and as detail).
type fieldError struct {
	error
	field   string
	message string // the row's detail if empty
}

func (f fieldError) Unwrap() error { return f.error }

// onField ties err to a request field when it is about one: a password the
// policy refused (with the policy's reason) or a wrong current password.
// Other errors are returned as they are.
func onField(field string, err error) error {
	var refusal *auth.PasswordRefusal
	switch {
	case errors.As(err, &refusal):
		return fieldError{err, field, refusal.Message}
	case errors.Is(err, auth.ErrWrongPassword):
		return fieldError{err, field, ""}
	}
	return err
}

// known reports whether err has a row in errorTable: an error a client caused.
func known(err error) bool {
	return errors.Is(err, rowOf(err).err)
}

// writeError writes err's response: its row of errorTable (the last row, a
// generic 500, for an error not in the table), in the Error schema. It is
// the one place error responses are written.
func writeError(w http.ResponseWriter, err error) {
	row := rowOf(err)
	body := oapi.Error{Code: row.code, Detail: row.detail}
	var d detailed
	if errors.As(err, &d) {
		body.Detail = d.detail
	}
	var fields fieldErrors
	if errors.As(err, &fields) {
		body.Fields = (*map[string][]string)(&fields)
	}
	var fe fieldError
	if errors.As(err, &fe) {
		if fe.message != "" {
			body.Detail = fe.message
		}
		body.Fields = &map[string][]string{fe.field: {body.Detail}}
	}
	if row.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", wwwAuthenticate)
		var cc clearingCookie
		if errors.As(err, &cc) {
			w.Header().Add("Set-Cookie", cc.setCookie)
		}
	}
	wait := retryAfter[row.err]
	var throttled *auth.ThrottledError
	if errors.As(err, &throttled) {
		// DRF's words for its own throttle.
		wait = throttled.RetryAfter
		body.Detail = fmt.Sprintf("Request was throttled. Expected available in %d seconds.", seconds(wait))
	}
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(row.status)
	_ = json.NewEncoder(w).Encode(body) // the client has gone if this fails
}

// rowOf is err's row of errorTable: the first it matches, or the last.
func rowOf(err error) errorRow {
	for _, r := range errorTable {
		if errors.Is(err, r.err) {
			return r
		}
	}
	return errorTable[len(errorTable)-1]
}

// seconds is d in whole seconds, rounded up, at least 1: a client told 0
// would retry at once.
func seconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}
