package config_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/config"
)

// The secrets the repository's tests and examples use: each must pass the
// rules, or the test suites would stop starting the service.
var repositorySecrets = []string{
	secret32,
	"test-secret-that-is-at-least-32-bytes-long",      // internal/httpapi
	"a-test-secret-of-sixteen-distinct-bytes-or-more", // internal/auth, cmd/auth-service
	"e2e-test-secret-key-0123456789-abcdefghijklmnop", // internal/e2e
}

func TestWeakSecretsAreRefused(t *testing.T) {
	weak := map[string]string{
		"32 × a":                          strings.Repeat("a", 32),
		"15 distinct bytes":               "a-test-secret-of-at-least-thirty-two-bytes",
		"two bytes alternating":           strings.Repeat("ab", 24),
		"15 hex digits repeated":          strings.Repeat("0123456789abcde", 5),
		"changeme repeated":               strings.Repeat("changeme", 4),
		"your-secret-key repeated":        strings.Repeat("your-secret-key-", 3),
		"SECRET repeated with separators": strings.Repeat("Secret_", 6),
		"jwt.io's placeholder repeated":   strings.Repeat("your-256-bit-secret", 2),
		"change me, then anything":        "change-me-in-production-0123456789abcdefXYZ",
		"your secret key here":            "your-secret-key-here-0123456789-abcdefghijklm",
		"Django development key":          "django-insecure-x2!k8#q@_4)f0^w9c&v7b$n6m5l3j1h-z=p+o*i(u",
		"Django development key, upper":   "DJANGO-INSECURE-x2!k8#q@_4)f0^w9c&v7b$n6m5l3j1h-z=p+o*i(u",
	}
	for name, secret := range weak {
		t.Run(name, func(t *testing.T) {
			for _, env := range []map[string]string{
				{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret},
				{"AUTH_SECRET_KEY": secret},
				{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret32, "AUTH_SECRET_KEY_PREVIOUS": secret},
			} {
				_, err := config.Load(getenv(env))
				want := "AUTH_SECRET_KEY"
				if env["AUTH_SECRET_KEY_PREVIOUS"] != "" {
					want = "AUTH_SECRET_KEY_PREVIOUS"
				}
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("Load(%v) = %v; want an error naming %s", env, err, want)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error echoes the secret: %v", err)
				}
			}
		})
	}
	for _, secret := range repositorySecrets {
		load(t, map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret})
	}
	// `openssl rand -hex 32` draws from 16 digits and misses one of them
	// about one time in four: such a secret is random, not weak.
	missingF := "5e1d9c3b7a2e8d4c6b0a9e1d3c5b7a92" + "e4d6c8b0a1e3d5c7b9a0e2d4c6b8a0e1"
	if strings.ContainsRune(missingF, 'f') || len(missingF) != 64 {
		t.Fatal("the fixture is not 64 hex digits without f")
	}
	load(t, map[string]string{"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": missingF})
}

func TestSessionSecuritySettings(t *testing.T) {
	c := load(t, map[string]string{
		"AUTH_DATABASE_URL": postgresURL, "AUTH_SECRET_KEY": secret32,
		"AUTH_SECRET_KEY_PREVIOUS": " test-secret-that-is-at-least-32-bytes-long , e2e-test-secret-key-0123456789-abcdefghijklmnop,",
		"AUTH_JWT_LEEWAY":          "5s", "AUTH_JWT_ISSUER": " https://auth.shop.example ", "AUTH_JWT_AUDIENCE": "shop",
		"AUTH_AUDIT_RETENTION": "30d", "AUTH_JWKS_MAX_AGE": "1m", "AUTH_REFRESH_REUSE_INTERVAL": "60s",
		"AUTH_REFRESH_TOKEN_TTL": "90d", "AUTH_ACCESS_TOKEN_TTL": "1h",
	})
	want := [][]byte{[]byte("test-secret-that-is-at-least-32-bytes-long"), []byte("e2e-test-secret-key-0123456789-abcdefghijklmnop")}
	if !reflect.DeepEqual(c.PreviousSecretKeys, want) {
		t.Errorf("PreviousSecretKeys = %q", c.PreviousSecretKeys)
	}
	if c.JWTLeeway != 5*time.Second || c.JWTIssuer != "https://auth.shop.example" || c.JWTAudience != "shop" ||
		c.AuditRetention != 30*24*time.Hour || c.JWKSMaxAge != time.Minute || c.ReuseInterval != time.Minute ||
		c.RefreshTTL != 90*24*time.Hour || c.AccessTTL != time.Hour {
		t.Errorf("got %+v", c)
	}
	es := load(t, map[string]string{"AUTH_JWT_ALGORITHM": "ES256", "AUTH_JWT_PRIVATE_KEYS": "a.pem,b.pem", "AUTH_JWT_SIGNING_KEY_ID": " kid-b "})
	if es.JWTSigningKeyID != "kid-b" {
		t.Errorf("JWTSigningKeyID = %q", es.JWTSigningKeyID)
	}
	long := load(t, map[string]string{"AUTH_ALLOW_LONG_TTL": "true", "AUTH_ACCESS_TOKEN_TTL": "2h", "AUTH_REFRESH_TOKEN_TTL": "365d"})
	if !long.AllowLongTTL || long.AccessTTL != 2*time.Hour || long.RefreshTTL != 365*24*time.Hour {
		t.Errorf("with AUTH_ALLOW_LONG_TTL: %+v", long)
	}
}

func TestSessionSecurityRefusals(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"reuse interval 24h", map[string]string{"AUTH_REFRESH_REUSE_INTERVAL": "24h"}, "AUTH_REFRESH_REUSE_INTERVAL"},
		{"reuse interval 61s", map[string]string{"AUTH_REFRESH_REUSE_INTERVAL": "61s"}, "AUTH_REFRESH_REUSE_INTERVAL"},
		{"reuse interval 61s with long TTLs allowed", map[string]string{"AUTH_REFRESH_REUSE_INTERVAL": "61s", "AUTH_ALLOW_LONG_TTL": "true"}, "AUTH_REFRESH_REUSE_INTERVAL"},
		{"access TTL over 1h", map[string]string{"AUTH_ACCESS_TOKEN_TTL": "61m"}, "AUTH_ACCESS_TOKEN_TTL"},
		{"refresh TTL over 90d", map[string]string{"AUTH_REFRESH_TOKEN_TTL": "91d"}, "AUTH_REFRESH_TOKEN_TTL"},
		{"refresh TTL a year", map[string]string{"AUTH_REFRESH_TOKEN_TTL": "8760h"}, "AUTH_REFRESH_TOKEN_TTL"},
		{"leeway over 5m", map[string]string{"AUTH_JWT_LEEWAY": "6m"}, "AUTH_JWT_LEEWAY"},
		{"leeway negative", map[string]string{"AUTH_JWT_LEEWAY": "-1s"}, "AUTH_JWT_LEEWAY"},
		{"leeway not a duration", map[string]string{"AUTH_JWT_LEEWAY": "soon"}, "AUTH_JWT_LEEWAY"},
		{"long TTL flag not a boolean", map[string]string{"AUTH_ALLOW_LONG_TTL": "please"}, "AUTH_ALLOW_LONG_TTL"},
		{"audit retention zero", map[string]string{"AUTH_AUDIT_RETENTION": "0d"}, "AUTH_AUDIT_RETENTION"},
		{"audit retention in fractional days", map[string]string{"AUTH_AUDIT_RETENTION": "1.5d"}, "AUTH_AUDIT_RETENTION"},
		{"signing kid with HS256", map[string]string{"AUTH_JWT_SIGNING_KEY_ID": "kid"}, "AUTH_JWT_SIGNING_KEY_ID"},
		{"previous secrets with ES256", map[string]string{"AUTH_JWT_ALGORITHM": "ES256", "AUTH_JWT_PRIVATE_KEYS": "a.pem", "AUTH_SECRET_KEY_PREVIOUS": secret32}, "AUTH_SECRET_KEY_PREVIOUS"},
		{"previous secrets without a secret", map[string]string{"AUTH_SECRET_KEY_PREVIOUS": secret32}, "AUTH_SECRET_KEY_PREVIOUS"},
		{"previous secret equal to the secret", map[string]string{"AUTH_SECRET_KEY": secret32, "AUTH_SECRET_KEY_PREVIOUS": secret32}, "AUTH_SECRET_KEY_PREVIOUS"},
		{"previous secret too short", map[string]string{"AUTH_SECRET_KEY": secret32, "AUTH_SECRET_KEY_PREVIOUS": "short"}, "AUTH_SECRET_KEY_PREVIOUS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(getenv(tt.env))
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Load(%v) = %v; want an error starting with %s", tt.env, err, tt.wantErr)
			}
		})
	}
}
