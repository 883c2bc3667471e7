// Package httpapi is the HTTP face of the service: it implements the strict
// server interface generated from api/openapi.yaml, and wraps it in request
// validation, JSON errors, request ids and access logs. It is the only package
// that knows HTTP status codes.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/ecommerce/auth-service/api"
	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/token"
)

// Handler implements the generated strict-server interface.
type Handler struct {
	auth *auth.Service
	keys *token.Keys
	log  *slog.Logger
	// spec is the OpenAPI document as served at /auth/openapi.json: the
	// original api/openapi.yaml (the generator's embedded copy renames
	// operationIds).
	spec map[string]any
}

var _ oapi.StrictServerInterface = (*Handler)(nil)

// New returns the service's whole HTTP handler: middleware, request
// validation against the embedded OpenAPI document, and the operations.
func New(svc *auth.Service, keys *token.Keys, log *slog.Logger) (http.Handler, error) {
	doc, err := oapi.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("httpapi: load OpenAPI document: %w", err)
	}
	original, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("httpapi: load OpenAPI document: %w", err)
	}
	var spec map[string]any
	if data, err := json.Marshal(original); err != nil {
		return nil, fmt.Errorf("httpapi: encode OpenAPI document: %w", err)
	} else if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("httpapi: encode OpenAPI document: %w", err)
	}
	doc.SetStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	v, err := newValidator(doc)
	if err != nil {
		return nil, err
	}
	h := &Handler{auth: svc, keys: keys, log: log, spec: spec}

	r := chi.NewRouter()
	r.Use(withRequestID, logRequests(log), recoverPanics(log), secureHeaders, limitBody, v.middleware, parseBearer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { writeError(w, errNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { writeError(w, errMethodNotAllowed) })

	strict := oapi.NewStrictHandlerWithOptions(h, nil, oapi.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  h.requestError,
		ResponseErrorHandlerFunc: h.responseError,
	})
	return oapi.HandlerWithOptions(strict, oapi.ChiServerOptions{
		BaseRouter:       r,
		ErrorHandlerFunc: h.requestError,
	}), nil
}

// requestError answers a request the generated code could not decode. The
// validator has already checked it, so this is a last line of defence.
func (h *Handler) requestError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.InfoContext(r.Context(), "request not decoded", "request_id", RequestID(r.Context()), "error", err)
	writeError(w, newError(http.StatusBadRequest, codeInvalid, "Invalid input."))
}

// responseError answers a handler's unexpected error with a generic 500 and
// logs the cause, which never reaches the client.
func (h *Handler) responseError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()),
		"method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, errInternal)
}

// unauthorized maps the errors a client can cause with credentials to the 401
// response; ok is false for an unexpected error, which the caller returns.
func unauthorized(err error) (resp oapi.UnauthorizedJSONResponse, ok bool) {
	var body oapi.Error
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		body = oapi.Error{Code: codeNoActiveAccount, Detail: "No active account found with the given credentials"}
	case errors.Is(err, errNoCredentials):
		body = oapi.Error{Code: codeNotAuthenticated, Detail: "Authentication credentials were not provided."}
	case errors.Is(err, auth.ErrTokenReused):
		body = oapi.Error{Code: codeTokenReused, Detail: "Token has been reused; the session is revoked."}
	case errors.Is(err, auth.ErrTokenInvalid):
		body = oapi.Error{Code: codeTokenNotValid, Detail: "Token is invalid or expired"}
	case errors.Is(err, auth.ErrUserNotFound):
		body = oapi.Error{Code: codeUserNotFound, Detail: "User not found"}
	case errors.Is(err, auth.ErrUserInactive):
		body = oapi.Error{Code: codeUserInactive, Detail: "User is inactive"}
	default:
		return oapi.UnauthorizedJSONResponse{}, false
	}
	return oapi.UnauthorizedJSONResponse{Body: body, Headers: oapi.UnauthorizedResponseHeaders{WWWAuthenticate: wwwAuthenticate}}, true
}

// errNoCredentials means a protected operation got no bearer token.
var errNoCredentials = errors.New("no bearer token")
