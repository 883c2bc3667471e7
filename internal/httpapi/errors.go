package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/ecommerce/auth-service/gen/oapi"
)

// Error codes of the Error schema. Where DRF or SimpleJWT has a code for the
// same failure, it is theirs, so that today's clients keep working.
const (
	codeInvalid              = "invalid"
	codeParseError           = "parse_error"
	codeUnsupportedMediaType = "unsupported_media_type"
	codePayloadTooLarge      = "payload_too_large"
	codeNotFound             = "not_found"
	codeMethodNotAllowed     = "method_not_allowed"
	codeNoActiveAccount      = "no_active_account"
	codeNotAuthenticated     = "not_authenticated"
	codeTokenNotValid        = "token_not_valid"
	codeTokenReused          = "token_reused"
	codeUserNotFound         = "user_not_found"
	codeUserInactive         = "user_inactive"
	codeInternal             = "internal_error"
)

// wwwAuthenticate is sent with every 401, as DRF does.
const wwwAuthenticate = `Bearer realm="api"`

// apiError is an error response: status and the Error body.
type apiError struct {
	status int
	body   oapi.Error
}

func newError(status int, code, detail string) apiError {
	return apiError{status: status, body: oapi.Error{Code: code, Detail: detail}}
}

func (e apiError) withFields(fields map[string][]string) apiError {
	e.body.Fields = &fields
	return e
}

// writeError writes any error response: the one place JSON errors are written.
func writeError(w http.ResponseWriter, e apiError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", wwwAuthenticate)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(e.body) // the client has gone if this fails
}

var (
	errInternal         = newError(http.StatusInternalServerError, codeInternal, "A server error occurred.")
	errNotFound         = newError(http.StatusNotFound, codeNotFound, "Not found.")
	errMethodNotAllowed = newError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "Method not allowed.")
	errParse            = newError(http.StatusBadRequest, codeParseError, "JSON parse error: the request body is not valid JSON.")
	errTooLarge         = newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "Request body is too large (limit 1 MiB).")
)
