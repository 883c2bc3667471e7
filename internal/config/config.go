// Package config reads the service's configuration from the environment, in
// one place. Load validates every variable and names the one at fault, so that
// a bad value stops start-up with a clear message.
package config

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/passwordpolicy"
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

	// Accounts: sign-up, one-time tokens, the password policy, events.

	// SignupOpen is AUTH_SIGNUP=open: self-service sign-up is enabled.
	SignupOpen bool
	// EmailTokenTTL is how long verification and reset tokens are valid.
	EmailTokenTTL time.Duration
	// PasswordMinLength is the password policy's minimum length.
	PasswordMinLength int
	// WebhookURL is where events are POSTed; empty means they are only
	// logged (development).
	WebhookURL string
	// WebhookKey is the HMAC-SHA256 key of AUTH_EVENTS_WEBHOOK_SECRET: the
	// bytes of the value, or for a Standard Webhooks "whsec_<base64>" secret
	// the decoded bytes.
	WebhookKey []byte
	// UserPassword is the password of `users create` and `users
	// set-password` when not prompted for.
	UserPassword string
	// MetricsAddr is where Prometheus metrics are served; "" means off.
	MetricsAddr string
	// SessionCacheTTL is how long a replica may answer an authenticated
	// request from its memory of the session (at most 1s; 0 turns it off;
	// off by default on SQLite).
	SessionCacheTTL time.Duration

	// Session security: token claims, key rollover, limits, the audit trail.

	// JWTLeeway is the clock skew allowed for exp, nbf and iat.
	JWTLeeway time.Duration
	// JWTIssuer and JWTAudience, when set, are minted into every token and
	// required of every token verified.
	JWTIssuer   string
	JWTAudience string
	// JWTSigningKeyID is the kid of the key that signs, among JWTKeyFiles;
	// empty for the first.
	JWTSigningKeyID string
	// PreviousSecretKeys are HS256 secrets that only verify.
	PreviousSecretKeys [][]byte
	// AllowLongTTL lifts the caps on token lifetimes.
	AllowLongTTL bool
	// AuditRetention is how long security events are kept.
	AuditRetention time.Duration
	// JWKSMaxAge is how long verifiers may cache the key set.
	JWKSMaxAge time.Duration

	// Browser clients (issue 12). RefreshCookie (AUTH_REFRESH_COOKIE) lets a
	// request choose the cookie transport of the refresh token;
	// CookieInsecure (AUTH_COOKIE_SECURE=false) drops Secure and the __Host-
	// prefix for development over plain HTTP; CORSAllowedOrigins
	// (AUTH_CORS_ALLOWED_ORIGINS) are the exact origins, normalised, that
	// browsers may call the API from. All off by default.
	RefreshCookie      bool
	CookieInsecure     bool
	CORSAllowedOrigins []string
	// CookieName (AUTH_COOKIE_NAME) is the refresh cookie's name:
	// __Host-refresh by default, refresh without Secure. CookieSameSite
	// (AUTH_COOKIE_SAMESITE) is strict (the default), lax or none.
	CookieName     string
	CookieSameSite string

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
	// HashConcurrency (AUTH_HASH_CONCURRENCY) is how many password hashes
	// may run at once; 0: all CPUs but one (at least one).
	HashConcurrency int
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

// minWebhookKeyLen is the shortest webhook signing key accepted, in bytes:
// 128 bits, the HMAC key strength NIST SP 800-107 asks for, and below the
// 24 random bytes of a Standard Webhooks (Svix) whsec_ secret.
const minWebhookKeyLen = 16

// Limits on the session settings: beyond them a setting is refused as weak.
const (
	// MaxReuseInterval caps AUTH_REFRESH_REUSE_INTERVAL: the grace interval
	// is for requests racing each other, not for clients replaying old tokens.
	MaxReuseInterval = time.Minute
	// MaxLeeway caps AUTH_JWT_LEEWAY: clock skew, not extra lifetime.
	MaxLeeway = 5 * time.Minute
)

// SQLitePath returns the embedded store's file, or "" for PostgreSQL.
func (c Config) SQLitePath() string {
	if path, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:"); ok {
		return path
	}
	return ""
}

// defaultSessionCacheTTL is on (1s) for PostgreSQL, whose triggers tell
// every replica of any writer's revocation, and off for SQLite, where a
// command run beside the server (users deactivate, revoke-sessions) has no
// way to tell it: its change must be seen by the very next request.
func (c Config) defaultSessionCacheTTL() time.Duration {
	if c.SQLitePath() != "" {
		return 0
	}
	return time.Second
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
		MetricsAddr:       getenv("AUTH_METRICS_ADDR"),
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL, c.Embedded = "sqlite:"+DefaultSQLitePath, true
	}
	r := reader{getenv: getenv}
	c.AccessTTL = r.duration("AUTH_ACCESS_TOKEN_TTL", 5*time.Minute, false)
	c.RefreshTTL = r.duration("AUTH_REFRESH_TOKEN_TTL", 24*time.Hour, false)
	c.ReuseInterval = r.duration("AUTH_REFRESH_REUSE_INTERVAL", 10*time.Second, true)
	c.CleanupInterval = r.duration("AUTH_CLEANUP_INTERVAL", 10*time.Minute, false)
	c.SessionCacheTTL = r.duration("AUTH_SESSION_CACHE_TTL", c.defaultSessionCacheTTL(), true)
	c.MigrateOnStart = r.boolean("AUTH_MIGRATE_ON_START", c.SQLitePath() != "")
	c.Password.MemoryKiB = uint32(r.integer("AUTH_ARGON2_MEMORY_KIB", int(c.Password.MemoryKiB), 8, 4*1024*1024))
	c.Password.Iterations = uint32(r.integer("AUTH_ARGON2_ITERATIONS", int(c.Password.Iterations), 1, 100))
	c.Password.Parallelism = uint8(r.integer("AUTH_ARGON2_PARALLELISM", int(c.Password.Parallelism), 1, 64))
	c.LogLevel = r.logLevel("AUTH_LOG_LEVEL")
	c.readAccounts(&r)
	// Browser clients: the refresh cookie and CORS.
	c.RefreshCookie = r.boolean("AUTH_REFRESH_COOKIE", false)
	c.CookieInsecure = !r.boolean("AUTH_COOKIE_SECURE", true)
	c.CookieName, c.CookieSameSite = r.cookie(!c.CookieInsecure)
	c.CORSAllowedOrigins = r.origins("AUTH_CORS_ALLOWED_ORIGINS")
	c.readAbuse(&r)
	if files := getenv("AUTH_JWT_PRIVATE_KEYS"); files != "" {
		for _, f := range strings.Split(files, ",") {
			if f = strings.TrimSpace(f); f != "" {
				c.JWTKeyFiles = append(c.JWTKeyFiles, f)
			}
		}
	}
	c.loadSessionSecurity(&r)
	if r.err != nil {
		return Config{}, r.err
	}
	return c, c.validate()
}

// readAccounts reads the variables of accounts: sign-up, one-time tokens,
// the password policy and event delivery.
func (c *Config) readAccounts(r *reader) {
	switch v := r.getenv("AUTH_SIGNUP"); v {
	case "", "closed":
	case "open":
		c.SignupOpen = true
	default:
		r.fail("AUTH_SIGNUP", "want open or closed, got %q", v)
	}
	c.EmailTokenTTL = r.duration("AUTH_EMAIL_TOKEN_TTL", 30*time.Minute, false)
	c.PasswordMinLength = r.integer("AUTH_PASSWORD_MIN_LENGTH", passwordpolicy.DefaultMinLength,
		passwordpolicy.FloorMinLength, passwordpolicy.MaxLength)
	c.UserPassword = r.getenv("AUTH_USER_PASSWORD")
	c.WebhookURL = r.getenv("AUTH_EVENTS_WEBHOOK_URL")
	secret := r.getenv("AUTH_EVENTS_WEBHOOK_SECRET")
	if c.WebhookURL == "" {
		if secret != "" {
			r.fail("AUTH_EVENTS_WEBHOOK_SECRET", "is set but AUTH_EVENTS_WEBHOOK_URL is not")
		}
		return
	}
	if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail("AUTH_EVENTS_WEBHOOK_URL", "want an absolute http:// or https:// URL, got %q", c.WebhookURL)
		return
	}
	key := []byte(secret)
	if b64, ok := strings.CutPrefix(secret, "whsec_"); ok {
		var err error
		if key, err = base64.StdEncoding.DecodeString(b64); err != nil {
			r.fail("AUTH_EVENTS_WEBHOOK_SECRET", "a whsec_ secret must be base64 after the prefix")
			return
		}
	}
	if len(key) < minWebhookKeyLen {
		r.fail("AUTH_EVENTS_WEBHOOK_SECRET", "is required with AUTH_EVENTS_WEBHOOK_URL and must hold at least %d bytes "+
			"(for example `openssl rand -base64 48`, or whsec_ and the base64 of 24 or more random bytes)", minWebhookKeyLen)
		return
	}
	c.WebhookKey = key
}

// loadSessionSecurity reads the variables of token claims, key rollover and
// the audit trail.
func (c *Config) loadSessionSecurity(r *reader) {
	c.JWTLeeway = r.duration("AUTH_JWT_LEEWAY", 30*time.Second, true)
	c.JWTIssuer = strings.TrimSpace(r.getenv("AUTH_JWT_ISSUER"))
	c.JWTAudience = strings.TrimSpace(r.getenv("AUTH_JWT_AUDIENCE"))
	c.JWTSigningKeyID = strings.TrimSpace(r.getenv("AUTH_JWT_SIGNING_KEY_ID"))
	for _, s := range strings.Split(r.getenv("AUTH_SECRET_KEY_PREVIOUS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.PreviousSecretKeys = append(c.PreviousSecretKeys, []byte(s))
		}
	}
	c.AllowLongTTL = r.boolean("AUTH_ALLOW_LONG_TTL", false)
	c.AuditRetention = r.duration("AUTH_AUDIT_RETENTION", 90*24*time.Hour, false)
	c.JWKSMaxAge = r.duration("AUTH_JWKS_MAX_AGE", 5*time.Minute, false)
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
	case c.SessionCacheTTL > time.Second:
		return fmt.Errorf("AUTH_SESSION_CACHE_TTL: at most 1s (a revocation missed by a replica must not outlive it), got %s", c.SessionCacheTTL)
	case c.MetricsAddr != "" && !validAddr(c.MetricsAddr):
		return fmt.Errorf("AUTH_METRICS_ADDR: want host:port, such as :9100, got %q", c.MetricsAddr)
	case c.Password.MemoryKiB < 8*uint32(c.Password.Parallelism):
		return fmt.Errorf("AUTH_ARGON2_MEMORY_KIB must be at least 8 × AUTH_ARGON2_PARALLELISM")
	case int64(c.HashMemoryMiB)<<10 < int64(c.Password.MemoryKiB):
		return fmt.Errorf("AUTH_HASH_MEMORY_MIB (%d MiB) must hold at least one hash of AUTH_ARGON2_MEMORY_KIB (%d KiB)",
			c.HashMemoryMiB, c.Password.MemoryKiB)
	}
	if err := c.validateSessionSecurity(); err != nil {
		return err
	}
	switch c.JWTAlgorithm {
	case token.HS256:
		if len(c.JWTKeyFiles) > 0 {
			return fmt.Errorf("AUTH_JWT_PRIVATE_KEYS is for ES256, EdDSA and RS256; HS256 signs with AUTH_SECRET_KEY")
		}
		if c.JWTSigningKeyID != "" {
			return fmt.Errorf("AUTH_JWT_SIGNING_KEY_ID is for ES256, EdDSA and RS256; HS256 signs with AUTH_SECRET_KEY")
		}
		return c.validateSecret()
	case token.ES256, token.EdDSA, token.RS256:
		if len(c.JWTKeyFiles) == 0 {
			return fmt.Errorf("AUTH_JWT_PRIVATE_KEYS: %s needs at least one PEM key file (make one with `auth-service keygen --alg %s`)", c.JWTAlgorithm, c.JWTAlgorithm)
		}
		if len(c.PreviousSecretKeys) > 0 {
			return fmt.Errorf("AUTH_SECRET_KEY_PREVIOUS is for HS256; %s keys roll through AUTH_JWT_PRIVATE_KEYS and AUTH_JWT_SIGNING_KEY_ID", c.JWTAlgorithm)
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
	case len(c.SecretKey) == 0 && len(c.PreviousSecretKeys) > 0:
		return fmt.Errorf("AUTH_SECRET_KEY_PREVIOUS needs AUTH_SECRET_KEY: previous secrets only verify")
	case len(c.SecretKey) == 0 && c.Embedded:
		return nil // serve generates and keeps one beside the database file
	case len(c.SecretKey) == 0:
		return fmt.Errorf("AUTH_SECRET_KEY is required (at least %d bytes; for example `openssl rand -base64 48`); "+
			"only the embedded default, with AUTH_DATABASE_URL unset, generates one", token.MinSecretLen)
	}
	if err := checkSecret("AUTH_SECRET_KEY", c.SecretKey); err != nil {
		return err
	}
	// A previous secret still verifies tokens: a weak one would let anyone
	// mint them, so it is refused like a weak signing secret.
	for i, s := range c.PreviousSecretKeys {
		if err := checkSecret(fmt.Sprintf("AUTH_SECRET_KEY_PREVIOUS (secret %d)", i+1), s); err != nil {
			return err
		}
		if string(s) == string(c.SecretKey) {
			return fmt.Errorf("AUTH_SECRET_KEY_PREVIOUS (secret %d) is AUTH_SECRET_KEY itself", i+1)
		}
	}
	return nil
}

// validateSessionSecurity refuses settings that would weaken sessions: a
// grace interval long enough to replay old tokens, lifetimes beyond the
// caps (unless AUTH_ALLOW_LONG_TTL), a leeway that is extra lifetime.
func (c Config) validateSessionSecurity() error {
	const allow = "; set AUTH_ALLOW_LONG_TTL=true to allow it"
	switch {
	case c.ReuseInterval > MaxReuseInterval:
		return fmt.Errorf("AUTH_REFRESH_REUSE_INTERVAL is %s, at most %s allowed: the grace interval is for concurrent refreshes (use 0s for strict rotation)", c.ReuseInterval, MaxReuseInterval)
	case c.JWTLeeway > MaxLeeway:
		return fmt.Errorf("AUTH_JWT_LEEWAY is %s, at most %s allowed: it absorbs clock skew, not expiry", c.JWTLeeway, MaxLeeway)
	case c.AccessTTL > token.MaxAccessLifetime && !c.AllowLongTTL:
		return fmt.Errorf("AUTH_ACCESS_TOKEN_TTL is %s, longer than %s%s", c.AccessTTL, token.MaxAccessLifetime, allow)
	case c.RefreshTTL > token.MaxRefreshLifetime && !c.AllowLongTTL:
		return fmt.Errorf("AUTH_REFRESH_TOKEN_TTL is %s, longer than %s (90d)%s", c.RefreshTTL, token.MaxRefreshLifetime, allow)
	}
	return nil
}

// validAddr reports whether addr is a listen address: [host]:port.
func validAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
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
	c.HashConcurrency = r.integer("AUTH_HASH_CONCURRENCY", 0, 0, 1024)
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
	d, err := ParseDuration(v)
	if err != nil {
		r.fail(name, "%q is not a duration (use Go syntax such as 5m, 24h, 10s, or whole days such as 90d)", v)
		return 0
	}
	if d < 0 || (d == 0 && !zeroOK) {
		r.fail(name, "must be positive, got %s", v)
	}
	return d
}

// ParseDuration is time.ParseDuration, plus whole days ("90d"): the syntax of
// every duration variable.
func ParseDuration(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("bad number of days %q", days)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
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
