// Package config reads the service's configuration from the environment, in
// one place. Load validates every variable and names the one at fault, so that
// a bad value stops start-up with a clear message.
package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
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

	// Abuse resistance and failure behaviour (README, "Abuse and failure
	// behaviour"); read by readAbuse.

	// Throttle is the login throttle: AUTH_LOGIN_MAX_FAILURES,
	// AUTH_ACCOUNT_MAX_FAILURES, AUTH_IP_MAX_FAILURES (0 turns one off),
	// AUTH_LOGIN_FAILURE_WINDOW, AUTH_LOGIN_MAX_BACKOFF.
	Throttle auth.ThrottleParams
	// TrustedProxies (AUTH_TRUSTED_PROXIES, CIDRs or addresses) are the
	// peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// HashMemoryMiB (AUTH_HASH_MEMORY_MIB) is the memory password hashes
	// may hold at once; HashMaxWait (AUTH_HASH_MAX_WAIT) how long a login
	// may wait for its share before it is refused (503 overloaded).
	HashMemoryMiB int
	HashMaxWait   time.Duration
	// MemoryLimitMiB (AUTH_MEMORY_LIMIT_MIB) is Go's soft memory limit;
	// 0: GOMEMLIMIT, else 90% of the container's limit, else a default.
	MemoryLimitMiB int
	// DBMaxConns (AUTH_DB_MAX_CONNS) bounds the PostgreSQL pool;
	// DBStatementTimeout (AUTH_DB_STATEMENT_TIMEOUT) every statement.
	DBMaxConns         int
	DBStatementTimeout time.Duration
	// RequestTimeout (AUTH_REQUEST_TIMEOUT) bounds every request.
	RequestTimeout time.Duration
	// ShutdownDrain (AUTH_SHUTDOWN_DRAIN) is how long the server keeps
	// answering, with Connection: close, after SIGTERM before it stops.
	ShutdownDrain time.Duration
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
	c.readAbuse(&r)
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
	case int64(c.HashMemoryMiB)<<10 < int64(c.Password.MemoryKiB):
		return fmt.Errorf("AUTH_HASH_MEMORY_MIB (%d MiB) must hold at least one hash of AUTH_ARGON2_MEMORY_KIB (%d KiB)",
			c.HashMemoryMiB, c.Password.MemoryKiB)
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

// readAbuse reads the abuse-resistance and failure-behaviour variables.
func (c *Config) readAbuse(r *reader) {
	c.Throttle = auth.ThrottleParams{
		MaxFailures:        r.integer("AUTH_LOGIN_MAX_FAILURES", 5, 0, 1000),
		AccountMaxFailures: r.integer("AUTH_ACCOUNT_MAX_FAILURES", 100, 0, 1_000_000),
		AddressMaxFailures: r.integer("AUTH_IP_MAX_FAILURES", 50, 0, 1_000_000),
		Window:             r.duration("AUTH_LOGIN_FAILURE_WINDOW", 15*time.Minute, false),
		MaxBackoff:         r.duration("AUTH_LOGIN_MAX_BACKOFF", 15*time.Minute, false),
	}
	c.TrustedProxies = r.prefixes("AUTH_TRUSTED_PROXIES")
	c.HashMemoryMiB = r.integer("AUTH_HASH_MEMORY_MIB", 64, 1, 1<<20)
	c.HashMaxWait = r.duration("AUTH_HASH_MAX_WAIT", 2*time.Second, true)
	c.MemoryLimitMiB = r.integer("AUTH_MEMORY_LIMIT_MIB", 0, 0, 1<<24)
	c.DBMaxConns = r.integer("AUTH_DB_MAX_CONNS", 10, 1, 10_000)
	c.DBStatementTimeout = r.duration("AUTH_DB_STATEMENT_TIMEOUT", 5*time.Second, false)
	c.RequestTimeout = r.duration("AUTH_REQUEST_TIMEOUT", 10*time.Second, false)
	c.ShutdownDrain = r.duration("AUTH_SHUTDOWN_DRAIN", 5*time.Second, true)
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

// prefixes reads a comma-separated list of CIDR prefixes or single
// addresses.
func (r *reader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, item := range strings.Split(r.getenv(name), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(item); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		} else {
			r.fail(name, "%q is neither a CIDR prefix (10.0.0.0/8) nor an address", item)
		}
	}
	return out
}

func (r *reader) boolean(name string, fallback bool) bool {
	v := r.getenv(name)
	if v == "" {
		return fallback
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "want true or false, got %q", v)
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
