package config_test

import (
	"strings"
	"testing"

	"github.com/ecommerce/auth-service/internal/config"
)

// variables are every variable Load reads.
var variables = []string{
	"AUTH_DATABASE_URL", "AUTH_SECRET_KEY", "AUTH_LISTEN_ADDR", "AUTH_ACCESS_TOKEN_TTL", "AUTH_REFRESH_TOKEN_TTL",
	"AUTH_REFRESH_REUSE_INTERVAL", "AUTH_JWT_ALGORITHM", "AUTH_JWT_PRIVATE_KEYS", "AUTH_LOG_LEVEL",
	"AUTH_MIGRATE_ON_START", "AUTH_ARGON2_MEMORY_KIB", "AUTH_ARGON2_ITERATIONS", "AUTH_ARGON2_PARALLELISM",
	"AUTH_CLEANUP_INTERVAL", "AUTH_SUPERUSER_PASSWORD",
	"AUTH_LOGIN_MAX_FAILURES", "AUTH_ACCOUNT_MAX_FAILURES", "AUTH_IP_MAX_FAILURES", "AUTH_LOGIN_FAILURE_WINDOW",
	"AUTH_LOGIN_MAX_BACKOFF", "AUTH_TRUSTED_PROXIES", "AUTH_HASH_MEMORY_MIB", "AUTH_HASH_MAX_WAIT",
	"AUTH_MEMORY_LIMIT_MIB", "AUTH_DB_MAX_CONNS", "AUTH_DB_STATEMENT_TIMEOUT", "AUTH_REQUEST_TIMEOUT",
	"AUTH_SHUTDOWN_DRAIN",
}

// FuzzLoad sets one variable to an arbitrary value: Load never panics, and
// either accepts a consistent configuration or fails with an error that
// names a variable.
func FuzzLoad(f *testing.F) {
	for i, v := range []string{"", "0", "-1", "5m", "sqlite:x.db", "ES256", "10.0.0.0/8,::1", "99999999999999999999", "true"} {
		f.Add(uint8(i), v)
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		name := variables[int(which)%len(variables)]
		env := map[string]string{name: value}
		c, err := config.Load(getenv(env))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "AUTH_") {
				t.Fatalf("%s=%q: error %q names no variable", name, value, err)
			}
			return
		}
		if c.HashMemoryMiB<<10 < int(c.Password.MemoryKiB) || c.AccessTTL > c.RefreshTTL || c.DBMaxConns < 1 {
			t.Fatalf("%s=%q: accepted an inconsistent configuration %+v", name, value, c)
		}
	})
}
