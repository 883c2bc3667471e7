package httpapi

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
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

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string { return auth.ClientOf(ctx).RequestID }

// maxUserAgent bounds the User-Agent kept for logs and the domain.
const maxUserAgent = 256

// withClient identifies the request: it takes the gateway's X-Request-ID, or
// makes one, and echoes it, and puts the caller (auth.Client) in the
// request's context for the domain and the logs.
func withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !validRequestID.MatchString(id) {
			id = rand.Text()
		}
		w.Header().Set(requestIDHeader, id)
		address, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			address = r.RemoteAddr
		}
		c := auth.Client{Address: address, UserAgent: printable(r.UserAgent(), maxUserAgent), RequestID: id}
		next.ServeHTTP(w, r.WithContext(auth.WithClient(r.Context(), c)))
	})
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

// logRequests writes one access-log line per request. It logs the path, never
// the query string or headers, which may carry credentials.
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			attrs := []slog.Attr{
				slog.String("request_id", RequestID(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Int("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("remote", r.RemoteAddr),
			}
			// Behind the gateway, RemoteAddr is the gateway; the client is here.
			if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" && len(fwd) <= 256 {
				attrs = append(attrs, slog.String("forwarded_for", fwd))
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
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
					log.ErrorContext(r.Context(), "panic", "request_id", RequestID(r.Context()),
						"path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
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
