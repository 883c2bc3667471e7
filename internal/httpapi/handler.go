// Package httpapi is the HTTP face of the service: it implements the strict
// server interface generated from api/openapi.yaml over the domain
// (internal/auth), and wraps it in request validation, JSON errors, request
// ids and access logs. It is the only package that knows HTTP status codes:
// handlers return the domain's errors, and errors.go's table turns each into
// its documented response.
package httpapi

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/ecommerce/auth-service/api"
	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/auth"
)

// Handler implements the generated strict-server interface.
type Handler struct {
	auth  *auth.Service
	log   *slog.Logger
	drain *Drain
	// jwksCacheControl is the key set's Cache-Control.
	jwksCacheControl string
	// cookies is the refresh token's cookie transport.
	cookies *cookieTransport
	// spec is the OpenAPI document as served at /auth/openapi.json.
	spec map[string]any
}

var _ oapi.StrictServerInterface = (*Handler)(nil)

// Options are the HTTP layer's settings.
type Options struct {
	// Log receives the access log and the errors no client may see.
	Log *slog.Logger
	// Observer, if set, is told of every request (metrics).
	Observer RequestObserver
	// JWKSMaxAge is how long verifiers may cache the key set (default 5
	// minutes). A rolled key is published at least this long before it signs.
	JWKSMaxAge time.Duration
	// RefreshCookie configures the refresh token's cookie transport; off
	// unless Enabled.
	RefreshCookie RefreshCookie
	// CORSAllowedOrigins are the origins, exactly as browsers send them in
	// Origin, that browser apps may call the API from; none by default.
	CORSAllowedOrigins []string
	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (AUTH_TRUSTED_PROXIES): the client address is then the right-most
	// address in it that is not a trusted proxy. Empty: the TCP peer.
	TrustedProxies []netip.Prefix
	// RequestTimeout bounds every request (AUTH_REQUEST_TIMEOUT); zero: none.
	RequestTimeout time.Duration
	// Drain, when started, fails readiness and closes connections after
	// each response; nil never drains.
	Drain *Drain
}

// New returns the service's whole HTTP handler: middleware, request
// validation against api/openapi.yaml, and the operations.
func New(svc *auth.Service, opts Options) (http.Handler, error) {
	log := opts.Log
	doc, err := api.Load()
	if err != nil {
		return nil, fmt.Errorf("httpapi: load OpenAPI document: %w", err)
	}
	// Served as written, so encoded before the validator changes doc.
	var spec map[string]any
	if data, err := json.Marshal(doc); err != nil {
		return nil, fmt.Errorf("httpapi: encode OpenAPI document: %w", err)
	} else if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("httpapi: encode OpenAPI document: %w", err)
	}
	doc.SetStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	v, err := newValidator(doc)
	if err != nil {
		return nil, err
	}
	maxAge := opts.JWKSMaxAge
	if maxAge <= 0 {
		maxAge = defaultJWKSMaxAge
	}
	origins := make(map[string]bool, len(opts.CORSAllowedOrigins))
	for _, o := range opts.CORSAllowedOrigins {
		origins[o] = true
	}
	cors := corsPolicy{origins: origins, credentials: opts.RefreshCookie.Enabled}
	h := &Handler{
		auth: svc, log: log, drain: opts.Drain, spec: spec,
		jwksCacheControl: fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds())),
		cookies:          newCookieTransport(opts.RefreshCookie, origins),
	}

	r := chi.NewRouter()
	// CORS comes before every middleware that may answer by itself (431,
	// 413, the validator's errors), so that a browser app on an allowed
	// origin can read those answers too.
	r.Use(withClient(opts.TrustedProxies), observeRequests(log, opts.Observer), recoverPanics(log), secureHeaders,
		cors.middleware, closeWhenDraining(opts.Drain), limitHeaders, withDeadline(opts.RequestTimeout), limitBody,
		v.middleware, parseBearer, h.cookies.readBrowser)
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
	h.log.InfoContext(r.Context(), "request not decoded", "error", err)
	writeError(w, errInvalid)
}

// responseError answers a handler's error: a client's error by its row of
// the error table; anything else with a generic 500, logging the cause,
// which never reaches the client.
func (h *Handler) responseError(w http.ResponseWriter, r *http.Request, err error) {
	clients := known(err)
	if !clients && r.Context().Err() != nil {
		// The client has gone or the request ran out of time: whatever failed
		// failed for that, not for a bug.
		h.log.InfoContext(r.Context(), "request abandoned",
			"method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, auth.ErrUnavailable)
		return
	}
	if !clients {
		h.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeError(w, err)
}
