package httpapi

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ecommerce/auth-service/internal/auth"
)

type ctxKey int

const (
	bearerKey ctxKey = iota
	browserKey
)

// requestIDHeader carries the request id from the gateway and back to the client.
const requestIDHeader = "X-Request-ID"

// validRequestID bounds what a client may choose as a request id, so that it
// is safe to log and to echo.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// traceparentRE is a W3C Trace Context traceparent header: version, trace id,
// parent id, flags (version ff is invalid).
var traceparentRE = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$`)

// traceID returns the trace id of a traceparent header, or "" for a missing
// or malformed one (an all-zero id is invalid too).
func traceID(traceparent string) string {
	m := traceparentRE.FindStringSubmatch(traceparent)
	if m == nil || m[1] == "ff" || (m[1] == "00" && m[4] != "") || m[2] == strings.Repeat("0", 32) || m[3] == strings.Repeat("0", 16) {
		return ""
	}
	return m[2]
}

// maxUserAgent bounds the User-Agent kept for logs and the domain.
const maxUserAgent = 256

// withClient identifies the request: it takes the gateway's X-Request-ID, or
// makes one, and echoes it, and puts the caller (auth.Client) in the
// request's context for the domain and the logs. The caller's address is
// the TCP peer's, or, from a trusted proxy, the one it reports
// (clientAddress).
func withClient(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(requestIDHeader)
			if !validRequestID.MatchString(id) {
				id = rand.Text()
			}
			w.Header().Set(requestIDHeader, id)
			c := auth.Client{Address: clientAddress(r, trusted), UserAgent: printable(r.UserAgent(), maxUserAgent), RequestID: id,
				TraceID: traceID(r.Header.Get("Traceparent"))}
			next.ServeHTTP(w, r.WithContext(auth.WithClient(r.Context(), c)))
		})
	}
}

// clientAddress is the address of the client a request comes from: the TCP
// peer, unless the peer is a trusted proxy; then, walking X-Forwarded-For
// from the right (each proxy appends the address it received the request
// from), the first address that is not a trusted proxy. Entries left of it
// were written by the client, and may be anything.
func clientAddress(r *http.Request, trusted []netip.Prefix) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(addr, trusted) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break // not written by a proxy we trust: the last trusted hop is all we know
		}
		addr = hop
		if !isTrusted(addr, trusted) {
			break
		}
	}
	return addr.String()
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if addr, err := netip.ParseAddr(s); err == nil {
		return addr.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	addr = addr.Unmap()
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// withDeadline bounds every request: the database calls and the hash wait
// of a request that has run out of time give up, and it is answered 503.
func withDeadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// printable returns s without control characters or invalid UTF-8, cut to
// at most max bytes: safe to log and to store.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	for len(s) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// statusRecorder remembers the status a handler wrote, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// RequestObserver is told of every request once it is answered, for metrics:
// the operationId of the route it matched ("unmatched" for none), the
// status and how long it took.
type RequestObserver interface {
	ObserveRequest(operation string, status int, elapsed time.Duration)
}

// unmatched is the operation of a request that matched no route.
const unmatched = "unmatched"

// quietPaths (liveness and readiness) are polled by orchestrators and
// load balancers every few seconds: their access log is at debug level, so
// that it does not drown the rest (or cost a write per probe).
var quietPaths = map[string]bool{"/auth/health/": true, "/auth/ready/": true}

// routeInfo is what the validator learns of a request, for the access log
// and metrics, which wrap it: the operation the request matched.
type routeInfo struct{ operation string }

type routeInfoKey struct{}

// setOperation records the operation r matched, if an observing middleware
// is listening.
func setOperation(r *http.Request, operation string) {
	if info, ok := r.Context().Value(routeInfoKey{}).(*routeInfo); ok {
		info.operation = operation
	}
}

// observeRequests writes one access-log line per request and reports it to
// observer (if any). It logs the path, never the query string or headers,
// which may carry credentials; the request id and trace id are added by the
// logger (internal/logging).
func observeRequests(log *slog.Logger, observer RequestObserver) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			info := &routeInfo{operation: unmatched}
			next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeInfoKey{}, info)))
			elapsed := time.Since(start)
			if observer != nil {
				observer.ObserveRequest(info.operation, rec.status, elapsed)
			}
			level := slog.LevelInfo
			if quietPaths[r.URL.Path] && rec.status < http.StatusInternalServerError {
				level = slog.LevelDebug
			}
			if !log.Enabled(r.Context(), level) {
				return
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("operation", info.operation),
				slog.Int("status", rec.status),
				slog.Int("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("remote", r.RemoteAddr),
			}
			// Behind the gateway, RemoteAddr is the gateway; the client is here,
			// and client is who the service took it for (AUTH_TRUSTED_PROXIES).
			if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" && len(fwd) <= 256 {
				attrs = append(attrs, slog.String("forwarded_for", fwd))
			}
			attrs = append(attrs, slog.String("client", auth.ClientOf(r.Context()).Address))
			log.LogAttrs(r.Context(), level, "request", attrs...)
		})
	}
}

// recoverPanics turns a panic into a logged, generic JSON 500.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.ErrorContext(r.Context(), "panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
					writeError(w, errInternal)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// secureHeaders marks every response as not to be sniffed or cached: token
// responses must not be stored (RFC 6749 §5.1). Handlers that may be cached
// (the key set, the documents) set their own Cache-Control.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// bearer is what the Authorization header held.
type bearer struct {
	token   string
	present bool
}

// parseBearer reads the Authorization header once and puts the bearer token,
// if any, in the request context for the handlers of protected operations.
// A header with another scheme counts as no credentials, as in DRF.
func parseBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bearer
		scheme, tok, found := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if found && strings.EqualFold(scheme, "Bearer") {
			b = bearer{token: strings.TrimSpace(tok), present: true}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bearerKey, b)))
	})
}

func bearerFrom(ctx context.Context) bearer {
	b, _ := ctx.Value(bearerKey).(bearer)
	return b
}
