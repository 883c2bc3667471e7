// Package config reads the service's configuration from the environment, in
// one place. Load validates every variable and names the one at fault, so that
// a bad value stops start-up with a clear message.
package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/token"
)

// DefaultSQLitePath is the embedded store's file when AUTH_DATABASE_URL is unset.
const DefaultSQLitePath = "auth-service.db"

// Config is the whole configuration.
type Config struct {
	// DatabaseURL is postgres://… or sqlite:PATH.
	DatabaseURL string
	// Embedded is true when AUTH_DATABASE_URL was unset and the embedded
	// SQLite default is in use.
	Embedded bool
	// SecretKey is the HS256 secret; empty only where it may be generated (the
	// embedded default) or is not needed (asymmetric algorithms).
	SecretKey      []byte
	ListenAddr     string
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	ReuseInterval  time.Duration
	LogLevel       slog.Level
	JWTAlgorithm   string
	JWTKeyFiles    []string
	Password       password.Params
	MigrateOnStart bool
	// CleanupInterval is how often expired sessions and tokens are deleted.
	CleanupInterval time.Duration
	ShutdownTimeout time.Duration
	// SuperuserPassword is createsuperuser --noinput's password.
	SuperuserPassword string

	// Browser clients (issue 12). RefreshCookie (AUTH_REFRESH_COOKIE) lets a
	// request choose the cookie transport of the refresh token;
	// CookieInsecure (AUTH_COOKIE_SECURE=false) drops Secure and the __Host-
	// prefix for development over plain HTTP; CORSAllowedOrigins
	// (AUTH_CORS_ALLOWED_ORIGINS) are the exact origins, normalised, that
	// browsers may call the API from. All off by default.
	RefreshCookie      bool
	CookieInsecure     bool
	CORSAllowedOrigins []string
}

// SQLitePath returns the embedded store's file, or "" for PostgreSQL.
func (c Config) SQLitePath() string {
	if path, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok {
		return path
	}
	return ""
}

// Load reads the configuration through getenv (os.Getenv in production).
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:       getenv("AUTH_DATABASE_URL"),
		SecretKey:         []byte(getenv("AUTH_SECRET_KEY")),
		ListenAddr:        or(getenv("AUTH_LISTEN_ADDR"), ":8000"),
		JWTAlgorithm:      or(getenv("AUTH_JWT_ALGORITHM"), token.HS256),
		Password:          password.DefaultParams(),
		ShutdownTimeout:   15 * time.Second,
		SuperuserPassword: getenv("AUTH_SUPERUSER_PASSWORD"),
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL, c.Embedded = "sqlite:"+DefaultSQLitePath, true
	}
	r := reader{getenv: getenv}
	c.AccessTTL = r.duration("AUTH_ACCESS_TOKEN_TTL", 5*time.Minute, false)
	c.RefreshTTL = r.duration("AUTH_REFRESH_TOKEN_TTL", 24*time.Hour, false)
	c.ReuseInterval = r.duration("AUTH_REFRESH_REUSE_INTERVAL", 10*time.Second, true)
	c.CleanupInterval = r.duration("AUTH_CLEANUP_INTERVAL", 10*time.Minute, false)
	c.MigrateOnStart = r.boolean("AUTH_MIGRATE_ON_START", c.SQLitePath() != "")
	c.Password.MemoryKiB = uint32(r.integer("AUTH_ARGON2_MEMORY_KIB", int(c.Password.MemoryKiB), 8, 4*1024*1024))
	c.Password.Iterations = uint32(r.integer("AUTH_ARGON2_ITERATIONS", int(c.Password.Iterations), 1, 100))
	c.Password.Parallelism = uint8(r.integer("AUTH_ARGON2_PARALLELISM", int(c.Password.Parallelism), 1, 64))
	c.LogLevel = r.logLevel("AUTH_LOG_LEVEL")
	// Browser clients: the refresh cookie and CORS.
	c.RefreshCookie = r.boolean("AUTH_REFRESH_COOKIE", false)
	c.CookieInsecure = !r.boolean("AUTH_COOKIE_SECURE", true)
	c.CORSAllowedOrigins = r.origins("AUTH_CORS_ALLOWED_ORIGINS")
	if files := getenv("AUTH_JWT_PRIVATE_KEYS"); files != "" {
		for _, f := range strings.Split(files, ",") {
			if f = strings.TrimSpace(f); f != "" {
				c.JWTKeyFiles = append(c.JWTKeyFiles, f)
			}
		}
	}
	if r.err != nil {
		return Config{}, r.err
	}
	return c, c.validate()
}

func (c Config) validate() error {
	switch {
	case !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") &&
		!strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		return fmt.Errorf("AUTH_DATABASE_URL: want postgres://… or sqlite:PATH")
	case c.SQLitePath() == "" && strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		return fmt.Errorf("AUTH_DATABASE_URL: sqlite: needs a file path, as in sqlite:auth.db")
	case c.AccessTTL > c.RefreshTTL:
		return fmt.Errorf("AUTH_ACCESS_TOKEN_TTL (%s) must not exceed AUTH_REFRESH_TOKEN_TTL (%s)", c.AccessTTL, c.RefreshTTL)
	case c.Password.MemoryKiB < 8*uint32(c.Password.Parallelism):
		return fmt.Errorf("AUTH_ARGON2_MEMORY_KIB must be at least 8 × AUTH_ARGON2_PARALLELISM")
	}
	switch c.JWTAlgorithm {
	case token.HS256:
		if len(c.JWTKeyFiles) > 0 {
			return fmt.Errorf("AUTH_JWT_PRIVATE_KEYS is for ES256, EdDSA and RS256; HS256 signs with AUTH_SECRET_KEY")
		}
		return c.validateSecret()
	case token.ES256, token.EdDSA, token.RS256:
		if len(c.JWTKeyFiles) == 0 {
			return fmt.Errorf("AUTH_JWT_PRIVATE_KEYS: %s needs at least one PEM key file (make one with `auth-service keygen --alg %s`)", c.JWTAlgorithm, c.JWTAlgorithm)
		}
		return nil
	}
	return fmt.Errorf("AUTH_JWT_ALGORITHM: %q is not one of HS256, ES256, EdDSA, RS256", c.JWTAlgorithm)
}

// validateSecret fails closed: a short secret always stops start-up, and a
// missing one does too, except in the embedded default (AUTH_DATABASE_URL
// unset), where serve generates one for development.
func (c Config) validateSecret() error {
	switch {
	case len(c.SecretKey) == 0 && c.Embedded:
		return nil // serve generates and keeps one beside the database file
	case len(c.SecretKey) == 0:
		return fmt.Errorf("AUTH_SECRET_KEY is required (at least %d bytes; for example `openssl rand -base64 48`); "+
			"only the embedded default, with AUTH_DATABASE_URL unset, generates one", token.MinSecretLen)
	case len(c.SecretKey) < token.MinSecretLen:
		return fmt.Errorf("AUTH_SECRET_KEY is too short: %d bytes, at least %d required", len(c.SecretKey), token.MinSecretLen)
	}
	return nil
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

// reader parses variables, keeping the first error.
type reader struct {
	getenv func(string) string
	err    error
}

func (r *reader) fail(name, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: "+format, append([]any{name}, args...)...)
	}
}

func (r *reader) duration(name string, fallback time.Duration, zeroOK bool) time.Duration {
	v := r.getenv(name)
	if v == "" {
		return fallback
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, "%q is not a duration (use Go syntax such as 5m, 24h, 10s)", v)
		return 0
	}
	if d < 0 || (d == 0 && !zeroOK) {
		r.fail(name, "must be positive, got %s", v)
	}
	return d
}

func (r *reader) integer(name string, fallback, lo, hi int) int {
	v := r.getenv(name)
	if v == "" {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, "want an integer from %d to %d, got %q", lo, hi, v)
	}
	return n
}

func (r *reader) boolean(name string, fallback bool) bool {
	v := r.getenv(name)
	if v == "" {
		return fallback
	}
	switch strings.ToLower(v) {
	case "on":
		return true
	case "off":
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "want true or false (or on, off), got %q", v)
	}
	return b
}

func (r *reader) logLevel(name string) slog.Level {
	var level slog.Level
	if v := r.getenv(name); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			r.fail(name, "want debug, info, warn or error, got %q", v)
		}
	}
	return level
}
