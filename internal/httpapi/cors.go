package httpapi

import (
	"errors"
	"net/http"
)

// errOriginNotAllowed answers a CORS preflight from an origin not in
// AUTH_CORS_ALLOWED_ORIGINS: a JSON 403 without CORS headers, so that the
// browser refuses the request and its developer reads why in the network
// panel.
var errOriginNotAllowed = errors.New("origin not allowed")

// What a preflight from an allowed origin is told. The methods are the API's
// (TestCORSAllowsEveryMethodOfTheSpec keeps them so); the headers are those its clients send (Content-Type is only needed for
// JSON, which is not a "simple" content type).
const (
	corsAllowMethods  = "GET, POST, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type, X-Token-Transport, X-Request-ID"
	corsExposeHeaders = "X-Request-ID, Retry-After"
	// corsMaxAge lets a browser reuse a preflight for 10 minutes (Chromium
	// caps it at 2 hours): a new origin list takes effect within that.
	corsMaxAge = "600"
)

// corsPolicy lets browser apps on the allowed origins call the API (the
// Fetch standard's CORS protocol). Origins are exact: a wildcard is refused
// at configuration, since responses allow credentials.
type corsPolicy struct {
	origins map[string]bool
	// credentials lets the browser send and receive the refresh cookie
	// cross-origin: only where the cookie transport is on.
	credentials bool
}

// middleware answers preflights itself, before the request validator (which
// knows no OPTIONS operation), and marks the responses to allowed origins
// readable. A request from an origin not allowed is served as usual but
// without CORS headers, so the browser does not let the page read it; the
// cookie transport's own checks (cookie.go) refuse the ones that matter.
func (p corsPolicy) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		if len(p.origins) > 0 {
			// The answer depends on Origin: caches must keep one per origin.
			h.Add("Vary", "Origin")
		}
		allowed := origin != "" && p.origins[origin]
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			if !allowed {
				writeError(w, errOriginNotAllowed)
				return
			}
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			if p.credentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			if p.credentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
		}
		next.ServeHTTP(w, r)
	})
}
