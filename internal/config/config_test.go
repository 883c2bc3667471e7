package config_test

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/config"
	"github.com/ecommerce/auth-service/internal/password"
)

const (
	postgresURL = "postgres://auth@db:5432/auth?sslmode=disable"
	secret32    = "0123456789abcdef0123456789abcdef"
	secret31    = "0123456789abcdef0123456789abcde"
)

// getenv is a map-backed environment: unset variables read as "".
func getenv(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

// load runs Load on env and fails the test on error.
func load(tb testing.TB, env map[string]string) config.Config {
	tb.Helper()
	c, err := config.Load(getenv(env))
	if err != nil {
		tb.Fatalf("Load(%v): %v", env, err)
	}
	return c
}

func TestLoadDefaults(t *testing.T) {
	c := load(t, map[string]string{})
	want := config.Config{
		DatabaseURL:     "sqlite:auth-service.db",
		Embedded:        true,
		SecretKey:       []byte{},
		ListenAddr:      ":8000",
		AccessTTL:       5 * time.Minute,
		RefreshTTL:      24 * time.Hour,
		ReuseInterval:   10 * time.Second,
		LogLevel:        slog.LevelInfo,
		JWTAlgorithm:    "HS256",
		Password:        password.DefaultParams(),
		MigrateOnStart:  true,
		CleanupInterval: 10 * time.Minute,
		SessionCacheTTL: 0, // SQLite: see TestSessionCacheDefaults
		ShutdownTimeout: 15 * time.Second,
		// Accounts: sign-up closed, events only logged.
		EmailTokenTTL:     30 * time.Minute,
		PasswordMinLength: 12,
		JWTLeeway:         30 * time.Second,
		AuditRetention:    90 * 24 * time.Hour,
		JWKSMaxAge:        5 * time.Minute,
		CookieName:        "__Host-refresh",
		CookieSameSite:    "strict",

		Throttle: auth.ThrottleParams{
			MaxFailures: 5, AccountMaxFailures: 100, AddressMaxFailures: 50,
			Window: 15 * time.Minute, MaxBackoff: 15 * time.Minute,
		},
		HashMemoryMiB:      64,
		HashMaxWait:        2 * time.Second,
		DBMaxConns:         10,
		DBStatementTimeout: 5 * time.Second,
		RequestTimeout:     10 * time.Second,
		ShutdownDrain:      5 * time.Second,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load(empty env) =\n%+v\nwant\n%+v", c, want)
	}
	if config.DefaultSQLitePath != "auth-service.db" {
		t.Errorf("DefaultSQLitePath = %q; want auth-service.db", config.DefaultSQLitePath)
	}
	if got := c.SQLitePath(); got != "auth-service.db" {
		t.Errorf("SQLitePath() = %q; want %q", got, "auth-service.db")
	}
}

func TestLoadValues(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c config.Config)
	}{
		{"postgres: no migration on start by default", map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret32},
			func(t *testing.T, c config.Config) {
				if c.DatabaseURL != postgresURL || c.Embedded || c.MigrateOnStart || c.SQLitePath() != "" {
					t.Errorf("got URL %q, embedded %v, migrate %v, sqlite path %q; want postgres, false, false, \"\"",
						c.DatabaseURL, c.Embedded, c.MigrateOnStart, c.SQLitePath())
				}
				if string(c.SecretKey) != secret32 {
					t.Errorf("SecretKey = %q; want %q", c.SecretKey, secret32)
				}
			}},
		{"metrics address", map[string]string{"AUTH_METRICS_ADDR": ":9100"},
			func(t *testing.T, c config.Config) {
				if c.MetricsAddr != ":9100" {
					t.Errorf("MetricsAddr = %q; want :9100", c.MetricsAddr)
				}
			}},
		{"postgresql:// scheme", map[string]string{"AUTH_DATABASE_URL": "postgresql://db/auth", "AUTH_SECRET_KEY": secret32},
			func(t *testing.T, c config.Config) {
				if c.DatabaseURL != "postgresql://db/auth" || c.MigrateOnStart {
					t.Errorf("got URL %q, migrate %v", c.DatabaseURL, c.MigrateOnStart)
				}
			}},
		{"postgres: AUTH_MIGRATE_ON_START=true", map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret32, "AUTH_MIGRATE_ON_START": "true"},
			func(t *testing.T, c config.Config) {
				if !c.MigrateOnStart {
					t.Error("MigrateOnStart = false; want true")
				}
			}},
		{"sqlite: AUTH_MIGRATE_ON_START=false", map[string]string{"AUTH_MIGRATE_ON_START": "false"},
			func(t *testing.T, c config.Config) {
				if c.MigrateOnStart {
					t.Error("MigrateOnStart = true; want false")
				}
			}},
		{"explicit sqlite path", map[string]string{"AUTH_DATABASE_URL": "sqlite:/var/lib/auth/auth.db", "AUTH_SECRET_KEY": secret32},
			func(t *testing.T, c config.Config) {
				if c.SQLitePath() != "/var/lib/auth/auth.db" || c.Embedded || !c.MigrateOnStart {
					t.Errorf("got path %q, embedded %v, migrate %v; want the path, false, true",
						c.SQLitePath(), c.Embedded, c.MigrateOnStart)
				}
			}},
		{"durations and listen address", map[string]string{
			"AUTH_LISTEN_ADDR": "127.0.0.1:9000", "AUTH_ACCESS_TOKEN_TTL": "90s", "AUTH_REFRESH_TOKEN_TTL": "168h",
			"AUTH_REFRESH_REUSE_INTERVAL": "0s", "AUTH_CLEANUP_INTERVAL": "1h",
		}, func(t *testing.T, c config.Config) {
			if c.ListenAddr != "127.0.0.1:9000" || c.AccessTTL != 90*time.Second || c.RefreshTTL != 168*time.Hour ||
				c.ReuseInterval != 0 || c.CleanupInterval != time.Hour {
				t.Errorf("got listen %q, access %s, refresh %s, reuse %s, cleanup %s",
					c.ListenAddr, c.AccessTTL, c.RefreshTTL, c.ReuseInterval, c.CleanupInterval)
			}
		}},
		{"access TTL equal to refresh TTL", map[string]string{"AUTH_ACCESS_TOKEN_TTL": "1h", "AUTH_REFRESH_TOKEN_TTL": "1h"},
			func(t *testing.T, c config.Config) {
				if c.AccessTTL != time.Hour || c.RefreshTTL != time.Hour {
					t.Errorf("got access %s, refresh %s; want 1h, 1h", c.AccessTTL, c.RefreshTTL)
				}
			}},
		{"log level", map[string]string{"AUTH_LOG_LEVEL": "debug"},
			func(t *testing.T, c config.Config) {
				if c.LogLevel != slog.LevelDebug {
					t.Errorf("LogLevel = %v; want DEBUG", c.LogLevel)
				}
			}},
		{"log level upper case", map[string]string{"AUTH_LOG_LEVEL": "WARN"},
			func(t *testing.T, c config.Config) {
				if c.LogLevel != slog.LevelWarn {
					t.Errorf("LogLevel = %v; want WARN", c.LogLevel)
				}
			}},
		{"argon2 parameters", map[string]string{"AUTH_ARGON2_MEMORY_KIB": "65536", "AUTH_ARGON2_ITERATIONS": "3", "AUTH_ARGON2_PARALLELISM": "4"},
			func(t *testing.T, c config.Config) {
				if want := (password.Params{MemoryKiB: 65536, Iterations: 3, Parallelism: 4}); c.Password != want {
					t.Errorf("Password = %+v; want %+v", c.Password, want)
				}
			}},
		{"argon2 minimum memory", map[string]string{"AUTH_ARGON2_MEMORY_KIB": "16", "AUTH_ARGON2_PARALLELISM": "2"},
			func(t *testing.T, c config.Config) {
				if c.Password.MemoryKiB != 16 || c.Password.Parallelism != 2 {
					t.Errorf("Password = %+v; want m=16, p=2", c.Password)
				}
			}},
		{"ES256 with keys needs no secret", map[string]string{
			"AUTH_DATABASE_URL": postgresURL, "AUTH_JWT_ALGORITHM": "ES256", "AUTH_JWT_PRIVATE_KEYS": " new.pem, old.pem ,,",
		}, func(t *testing.T, c config.Config) {
			if c.JWTAlgorithm != "ES256" || !reflect.DeepEqual(c.JWTKeyFiles, []string{"new.pem", "old.pem"}) {
				t.Errorf("got alg %q, key files %q; want ES256, [new.pem old.pem]", c.JWTAlgorithm, c.JWTKeyFiles)
			}
		}},
		{"EdDSA with a key", map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_JWT_ALGORITHM": "EdDSA", "AUTH_JWT_PRIVATE_KEYS": "ed.pem"},
			func(t *testing.T, c config.Config) {
				if c.JWTAlgorithm != "EdDSA" || !reflect.DeepEqual(c.JWTKeyFiles, []string{"ed.pem"}) {
					t.Errorf("got alg %q, key files %q", c.JWTAlgorithm, c.JWTKeyFiles)
				}
			}},
		{"RS256 with a key, sqlite", map[string]string{"AUTH_JWT_ALGORITHM": "RS256", "AUTH_JWT_PRIVATE_KEYS": "rsa.pem"},
			func(t *testing.T, c config.Config) {
				if c.JWTAlgorithm != "RS256" || !reflect.DeepEqual(c.JWTKeyFiles, []string{"rsa.pem"}) {
					t.Errorf("got alg %q, key files %q", c.JWTAlgorithm, c.JWTKeyFiles)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, load(t, tt.env))
		})
	}
}

func TestLoadSecrets(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // the variable the error must start with; "" for success
	}{
		{"postgres without secret", map[string]string{"AUTH_DATABASE_URL": postgresURL}, "AUTH_SECRET_KEY"},
		{"postgres, 31-byte secret", map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret31}, "AUTH_SECRET_KEY"},
		{"postgres, 32-byte secret", map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret32}, ""},
		{"embedded sqlite, 31-byte secret", map[string]string{"AUTH_SECRET_KEY": secret31}, "AUTH_SECRET_KEY"},
		{"explicit sqlite, 31-byte secret", map[string]string{"AUTH_DATABASE_URL": "sqlite:a.db", "AUTH_SECRET_KEY": secret31}, "AUTH_SECRET_KEY"},
		{"embedded sqlite, 1-byte secret", map[string]string{"AUTH_SECRET_KEY": "x"}, "AUTH_SECRET_KEY"},
		{"embedded sqlite, 32-byte secret", map[string]string{"AUTH_SECRET_KEY": secret32}, ""},
		// serve generates one and keeps it beside the database file.
		{"embedded sqlite without secret", map[string]string{}, ""},
		// Only the embedded default (AUTH_DATABASE_URL unset) may generate it.
		{"explicit sqlite without secret", map[string]string{"AUTH_DATABASE_URL": "sqlite:a.db"}, "AUTH_SECRET_KEY"},
		{"ES256 without keys", map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret32, "AUTH_JWT_ALGORITHM": "ES256"}, "AUTH_JWT_PRIVATE_KEYS"},
		{"ES256, keys only separators", map[string]string{"AUTH_JWT_ALGORITHM": "ES256", "AUTH_JWT_PRIVATE_KEYS": " , ,"}, "AUTH_JWT_PRIVATE_KEYS"},
		{"EdDSA without keys", map[string]string{"AUTH_JWT_ALGORITHM": "EdDSA"}, "AUTH_JWT_PRIVATE_KEYS"},
		{"RS256 without keys", map[string]string{"AUTH_JWT_ALGORITHM": "RS256"}, "AUTH_JWT_PRIVATE_KEYS"},
		{"ES256 with keys, postgres, no secret", map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_JWT_ALGORITHM": "ES256", "AUTH_JWT_PRIVATE_KEYS": "k.pem"}, ""},
		{"HS256 with keys", map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret32, "AUTH_JWT_PRIVATE_KEYS": "k.pem"}, "AUTH_JWT_PRIVATE_KEYS"},
		{"explicit HS256 with keys", map[string]string{"AUTH_JWT_ALGORITHM": "HS256", "AUTH_JWT_PRIVATE_KEYS": "k.pem"}, "AUTH_JWT_PRIVATE_KEYS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(getenv(tt.env))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if want := tt.env["AUTH_SECRET_KEY"]; string(c.SecretKey) != want {
					t.Errorf("SecretKey = %q; want %q", c.SecretKey, want)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Load error = %v; want one naming %s", err, tt.wantErr)
			}
			if s := tt.env["AUTH_SECRET_KEY"]; s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("error %q echoes the secret", err)
			}
		})
	}
}

func TestLoadRejectsBadValues(t *testing.T) {
	tests := []struct {
		name, variable, value string
		extra                 map[string]string
		wantErr               string // defaults to variable
	}{
		{name: "access TTL not a duration", variable: "AUTH_ACCESS_TOKEN_TTL", value: "abc"},
		{name: "access TTL without unit", variable: "AUTH_ACCESS_TOKEN_TTL", value: "300"},
		{name: "access TTL negative", variable: "AUTH_ACCESS_TOKEN_TTL", value: "-5m"},
		{name: "access TTL zero", variable: "AUTH_ACCESS_TOKEN_TTL", value: "0"},
		{name: "access TTL 0s", variable: "AUTH_ACCESS_TOKEN_TTL", value: "0s"},
		{name: "refresh TTL not a duration", variable: "AUTH_REFRESH_TOKEN_TTL", value: "abc"},
		{name: "refresh TTL negative", variable: "AUTH_REFRESH_TOKEN_TTL", value: "-24h"},
		{name: "refresh TTL zero", variable: "AUTH_REFRESH_TOKEN_TTL", value: "0s"},
		{name: "reuse interval not a duration", variable: "AUTH_REFRESH_REUSE_INTERVAL", value: "abc"},
		{name: "reuse interval negative", variable: "AUTH_REFRESH_REUSE_INTERVAL", value: "-1s"},
		{name: "cleanup interval zero", variable: "AUTH_CLEANUP_INTERVAL", value: "0s"},
		{name: "log level", variable: "AUTH_LOG_LEVEL", value: "loud"},
		{name: "database URL mysql", variable: "AUTH_DATABASE_URL", value: "mysql://x"},
		{name: "database URL a bare path", variable: "AUTH_DATABASE_URL", value: "auth.db"},
		{name: "database URL sqlite without path", variable: "AUTH_DATABASE_URL", value: "sqlite:"},
		{name: "algorithm HS512", variable: "AUTH_JWT_ALGORITHM", value: "HS512"},
		{name: "algorithm none", variable: "AUTH_JWT_ALGORITHM", value: "none"},
		{name: "algorithm lower case", variable: "AUTH_JWT_ALGORITHM", value: "es256", extra: map[string]string{"AUTH_JWT_PRIVATE_KEYS": "k.pem"}},
		{name: "argon2 memory not a number", variable: "AUTH_ARGON2_MEMORY_KIB", value: "abc"},
		{name: "argon2 memory 7", variable: "AUTH_ARGON2_MEMORY_KIB", value: "7"},
		{name: "argon2 memory above 4 GiB", variable: "AUTH_ARGON2_MEMORY_KIB", value: "4194305"},
		{name: "argon2 memory below 8 per lane", variable: "AUTH_ARGON2_MEMORY_KIB", value: "15", extra: map[string]string{"AUTH_ARGON2_PARALLELISM": "2"}},
		{name: "argon2 iterations 0", variable: "AUTH_ARGON2_ITERATIONS", value: "0"},
		{name: "argon2 iterations 101", variable: "AUTH_ARGON2_ITERATIONS", value: "101"},
		{name: "argon2 parallelism 0", variable: "AUTH_ARGON2_PARALLELISM", value: "0"},
		{name: "argon2 parallelism 65", variable: "AUTH_ARGON2_PARALLELISM", value: "65"},
		{name: "argon2 parallelism 256 (wraps in uint8)", variable: "AUTH_ARGON2_PARALLELISM", value: "256"},
		{name: "migrate on start", variable: "AUTH_MIGRATE_ON_START", value: "maybe"},
		{name: "access TTL above refresh TTL", variable: "AUTH_ACCESS_TOKEN_TTL", value: "2h", extra: map[string]string{"AUTH_REFRESH_TOKEN_TTL": "1h"}},
		{name: "default access TTL above refresh TTL", variable: "AUTH_REFRESH_TOKEN_TTL", value: "1m", wantErr: "AUTH_ACCESS_TOKEN_TTL"},
		{name: "signup yes", variable: "AUTH_SIGNUP", value: "yes"},
		{name: "email token TTL zero", variable: "AUTH_EMAIL_TOKEN_TTL", value: "0s"},
		{name: "password minimum below NIST's 8", variable: "AUTH_PASSWORD_MIN_LENGTH", value: "7"},
		{name: "password minimum above the maximum", variable: "AUTH_PASSWORD_MIN_LENGTH", value: "129"},
		{name: "webhook URL not http", variable: "AUTH_EVENTS_WEBHOOK_URL", value: "ftp://notify/x", extra: map[string]string{"AUTH_EVENTS_WEBHOOK_SECRET": secret32}},
		{name: "webhook URL relative", variable: "AUTH_EVENTS_WEBHOOK_URL", value: "/hooks", extra: map[string]string{"AUTH_EVENTS_WEBHOOK_SECRET": secret32}},
		{name: "webhook URL without secret", variable: "AUTH_EVENTS_WEBHOOK_URL", value: "http://notify/hooks", wantErr: "AUTH_EVENTS_WEBHOOK_SECRET"},
		{name: "webhook secret short", variable: "AUTH_EVENTS_WEBHOOK_SECRET", value: "0123456789abcde", extra: map[string]string{"AUTH_EVENTS_WEBHOOK_URL": "http://notify/hooks"}},
		{name: "webhook whsec_ secret not base64", variable: "AUTH_EVENTS_WEBHOOK_SECRET", value: "whsec_!!!!", extra: map[string]string{"AUTH_EVENTS_WEBHOOK_URL": "http://notify/hooks"}},
		{name: "webhook whsec_ secret short", variable: "AUTH_EVENTS_WEBHOOK_SECRET", value: "whsec_MDEyMzQ1Njc4OWFiY2Rl", extra: map[string]string{"AUTH_EVENTS_WEBHOOK_URL": "http://notify/hooks"}},
		{name: "webhook secret without URL", variable: "AUTH_EVENTS_WEBHOOK_SECRET", value: secret32},
		{name: "session cache over a second", variable: "AUTH_SESSION_CACHE_TTL", value: "2s"},
		{name: "JWKS max-age zero", variable: "AUTH_JWKS_MAX_AGE", value: "0s"},
		{name: "metrics address without port", variable: "AUTH_METRICS_ADDR", value: "localhost"},
		{name: "metrics address bad port", variable: "AUTH_METRICS_ADDR", value: ":99999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{tt.variable: tt.value}
			for k, v := range tt.extra {
				env[k] = v
			}
			want := tt.wantErr
			if want == "" {
				want = tt.variable
			}
			_, err := config.Load(getenv(env))
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Load(%v) error = %v; want one starting with %s", env, err, want)
			}
		})
	}
}

func TestLoadAccounts(t *testing.T) {
	c := load(t, map[string]string{
		"AUTH_SIGNUP": "open", "AUTH_EMAIL_TOKEN_TTL": "15m", "AUTH_PASSWORD_MIN_LENGTH": "16",
		"AUTH_EVENTS_WEBHOOK_URL": "https://notify.internal/hooks/auth", "AUTH_EVENTS_WEBHOOK_SECRET": secret32,
		"AUTH_USER_PASSWORD": "a password",
	})
	if !c.SignupOpen || c.EmailTokenTTL != 15*time.Minute || c.PasswordMinLength != 16 ||
		c.WebhookURL != "https://notify.internal/hooks/auth" || string(c.WebhookKey) != secret32 || c.UserPassword != "a password" {
		t.Errorf("accounts settings = %+v", c)
	}
	// A Standard Webhooks secret: the key is what follows whsec_, decoded.
	c = load(t, map[string]string{
		"AUTH_EVENTS_WEBHOOK_URL": "http://notify/hooks", "AUTH_EVENTS_WEBHOOK_SECRET": "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	})
	if string(c.WebhookKey) != secret32 {
		t.Errorf("whsec_ key = %q, want %q", c.WebhookKey, secret32)
	}
	// The shortest keys accepted: 16 bytes, and a Svix-style secret of 24.
	for secret, want := range map[string]string{
		"0123456789abcdef":                       "0123456789abcdef",
		"whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3": "0123456789abcdef01234567",
	} {
		c = load(t, map[string]string{"AUTH_EVENTS_WEBHOOK_URL": "http://notify/hooks", "AUTH_EVENTS_WEBHOOK_SECRET": secret})
		if string(c.WebhookKey) != want {
			t.Errorf("AUTH_EVENTS_WEBHOOK_SECRET=%s: key %q, want %q", secret, c.WebhookKey, want)
		}
	}
	if c := load(t, map[string]string{"AUTH_SIGNUP": "closed"}); c.SignupOpen {
		t.Error("AUTH_SIGNUP=closed opened sign-up")
	}
}

// The session cache is on by default only where every writer's change
// reaches it: PostgreSQL (LISTEN/NOTIFY), not SQLite, where `users
// deactivate` run beside the server could not tell it.
func TestSessionCacheDefaults(t *testing.T) {
	for url, want := range map[string]time.Duration{
		"":                               0,
		"sqlite:/tmp/auth.db":            0,
		"postgres://localhost/auth_test": time.Second,
	} {
		if got := load(t, map[string]string{"AUTH_DATABASE_URL": url, "AUTH_SECRET_KEY": secret32}).SessionCacheTTL; got != want {
			t.Errorf("AUTH_DATABASE_URL=%q: session cache %s, want %s", url, got, want)
		}
	}
	env := map[string]string{"AUTH_DATABASE_URL": "sqlite:/tmp/auth.db", "AUTH_SECRET_KEY": secret32, "AUTH_SESSION_CACHE_TTL": "500ms"}
	if got := load(t, env).SessionCacheTTL; got != 500*time.Millisecond {
		t.Errorf("set on SQLite: %s, want 500ms", got)
	}
}
