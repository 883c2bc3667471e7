// Command baseline is the bare baseline of `make bench`: a plain net/http
// server with no database that does only the JSON and HS256 work of the
// service's health, /me and refresh endpoints, and sets the same response
// headers, so that the service's figures can be read as ratios to it. It is
// not a service: /me answers for any user id the token names, and refresh
// keeps no state, so it rotates nothing and detects no reuse.
//
//	AUTH_SECRET_KEY=... baseline -listen 127.0.0.1:8001
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down.
func run(ctx context.Context, args []string, getenv func(string) string) error {
	flags := flag.NewFlagSet("baseline", flag.ContinueOnError)
	listen := flags.String("listen", "127.0.0.1:8001", "listen address")
	secretEnv := flags.String("secret-env", "AUTH_SECRET_KEY", "environment variable holding the HS256 secret (the service's)")
	accessTTL := flags.Duration("access-ttl", 5*time.Minute, "lifetime of minted access tokens")
	refreshTTL := flags.Duration("refresh-ttl", 24*time.Hour, "lifetime of minted refresh tokens")
	if err := flags.Parse(args); err != nil {
		return err
	}
	secret := getenv(*secretEnv)
	if len(secret) < 32 {
		return fmt.Errorf("%s must hold the HS256 secret, at least 32 bytes", *secretEnv)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	// The service's timeouts, so that the servers differ only in handlers.
	srv := &http.Server{
		Handler:           newHandler([]byte(secret), *accessTTL, *refreshTTL),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(os.Stderr, "baseline: ", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// claims has the shape of the service's tokens (SimpleJWT's claims plus sub
// and sid).
type claims struct {
	TokenType string `json:"token_type"`
	UserID    int64  `json:"user_id"`
	SessionID string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

type server struct {
	secret                []byte
	accessTTL, refreshTTL time.Duration
	parser                *jwt.Parser
}

func newHandler(secret []byte, accessTTL, refreshTTL time.Duration) http.Handler {
	s := &server{secret: secret, accessTTL: accessTTL, refreshTTL: refreshTTL,
		parser: jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth/health/", s.health)
	mux.HandleFunc("GET /auth/me/", s.me)
	mux.HandleFunc("POST /auth/token/refresh/", s.refresh)
	return mux
}

// headers sets what the service sets on every response: the request id (the
// caller's, if sane, or a new one) and the no-store, no-sniff headers.
func headers(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	id := r.Header.Get("X-Request-ID")
	if !saneRequestID(id) {
		id = rand.Text()
	}
	h.Set("X-Request-ID", id)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "application/json")
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:-", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client has gone if this fails
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": detail, "code": "token_not_valid"})
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	headers(w, r)
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"auth-service-up"})
}

func (s *server) me(w http.ResponseWriter, r *http.Request) {
	headers(w, r)
	scheme, tok, found := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		unauthorized(w, "Authentication credentials were not provided.")
		return
	}
	c, err := s.verify(strings.TrimSpace(tok), "access")
	if err != nil {
		unauthorized(w, "Given token not valid for any token type")
		return
	}
	// No database: the email is made up from the id.
	writeJSON(w, http.StatusOK, struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	}{c.UserID, "user" + strconv.FormatInt(c.UserID, 10) + "@example.com"})
}

func (s *server) refresh(w http.ResponseWriter, r *http.Request) {
	headers(w, r)
	var body struct {
		Refresh string `json:"refresh"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil || body.Refresh == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "Invalid input.", "code": "invalid"})
		return
	}
	c, err := s.verify(body.Refresh, "refresh")
	if err != nil {
		unauthorized(w, "Token is invalid or expired")
		return
	}
	now := time.Now()
	access, err1 := s.mint("access", c.UserID, c.SessionID, now, s.accessTTL)
	refresh, err2 := s.mint("refresh", c.UserID, c.SessionID, now, s.refreshTTL)
	if err := errors.Join(err1, err2); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"detail": "A server error occurred.", "code": "error"})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Access  string `json:"access"`
		Refresh string `json:"refresh"`
	}{access, refresh})
}

// verify checks an HS256 token as the service's verifiers must: algorithm
// pinned, exp required, and the expected token_type.
func (s *server) verify(raw, typ string) (claims, error) {
	var c claims
	if _, err := s.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return s.secret, nil }); err != nil {
		return claims{}, err
	}
	if c.TokenType != typ || c.UserID <= 0 || c.ID == "" {
		return claims{}, errors.New("wrong token type or missing claims")
	}
	return c, nil
}

func (s *server) mint(typ string, userID int64, sid string, now time.Time, ttl time.Duration) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims{
		TokenType: typ,
		UserID:    userID,
		SessionID: sid,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        rand.Text(),
		},
	}).SignedString(s.secret)
}
