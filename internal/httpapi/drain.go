package httpapi

import (
	"net/http"
	"sync/atomic"
)

// Drain is the shutdown state the server and the handler share. Once Start
// is called, readiness fails, so that load balancers stop sending new
// requests, and every response carries Connection: close, so that clients
// with keep-alive connections leave them after their current request
// instead of finding them closed under them when the server stops. The
// server keeps answering meanwhile (serve's AUTH_SHUTDOWN_DRAIN).
type Drain struct {
	draining atomic.Bool
}

// Start begins the drain; it cannot be undone.
func (d *Drain) Start() { d.draining.Store(true) }

// Draining reports whether Start has been called (false for a nil Drain).
func (d *Drain) Draining() bool { return d != nil && d.draining.Load() }

// closeWhenDraining sets Connection: close on every response once d drains:
// net/http then closes the connection right after the response is written,
// and the client opens a new one, to another replica, for its next request.
func closeWhenDraining(d *Drain) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if d.Draining() {
				w.Header().Set("Connection", "close")
			}
			next.ServeHTTP(w, r)
		})
	}
}
