package config_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/config"
)

func TestLoadAbuseValues(t *testing.T) {
	c := load(t, map[string]string{
		"AUTH_LOGIN_MAX_FAILURES":   "3",
		"AUTH_ACCOUNT_MAX_FAILURES": "0",
		"AUTH_IP_MAX_FAILURES":      "20",
		"AUTH_LOGIN_FAILURE_WINDOW": "1h",
		"AUTH_LOGIN_MAX_BACKOFF":    "5m",
		"AUTH_TRUSTED_PROXIES":      " 172.28.0.0/16, 10.1.2.3 ,::1,192.168.1.77/24",
		"AUTH_HASH_MEMORY_MIB":      "256",
		"AUTH_HASH_MAX_WAIT":        "0s",
		"AUTH_MEMORY_LIMIT_MIB":     "400",
		"AUTH_DB_MAX_CONNS":         "25",
		"AUTH_DB_STATEMENT_TIMEOUT": "2s",
		"AUTH_REQUEST_TIMEOUT":      "30s",
		"AUTH_SHUTDOWN_DRAIN":       "0s",
	})
	want := auth.ThrottleParams{MaxFailures: 3, AccountMaxFailures: 0, AddressMaxFailures: 20, Window: time.Hour, MaxBackoff: 5 * time.Minute}
	if c.Throttle != want {
		t.Errorf("Throttle = %+v, want %+v", c.Throttle, want)
	}
	proxies := []netip.Prefix{
		netip.MustParsePrefix("172.28.0.0/16"), netip.MustParsePrefix("10.1.2.3/32"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("192.168.1.0/24"),
	}
	if !reflect.DeepEqual(c.TrustedProxies, proxies) {
		t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, proxies)
	}
	if c.HashMemoryMiB != 256 || c.HashMaxWait != 0 || c.MemoryLimitMiB != 400 || c.DBMaxConns != 25 ||
		c.DBStatementTimeout != 2*time.Second || c.RequestTimeout != 30*time.Second || c.ShutdownDrain != 0 {
		t.Errorf("config = %+v", c)
	}
}

func TestLoadAbuseRejectsBadValues(t *testing.T) {
	tests := []struct {
		variable, value string
		extra           map[string]string
		wantErr         string
	}{
		{variable: "AUTH_LOGIN_MAX_FAILURES", value: "-1"},
		{variable: "AUTH_LOGIN_MAX_FAILURES", value: "five"},
		{variable: "AUTH_ACCOUNT_MAX_FAILURES", value: "1e3"},
		{variable: "AUTH_IP_MAX_FAILURES", value: "-5"},
		{variable: "AUTH_LOGIN_FAILURE_WINDOW", value: "0s"},
		{variable: "AUTH_LOGIN_MAX_BACKOFF", value: "soon"},
		{variable: "AUTH_TRUSTED_PROXIES", value: "10.0.0.0/8,gateway"},
		{variable: "AUTH_TRUSTED_PROXIES", value: "10.0.0.0/33"},
		{variable: "AUTH_HASH_MEMORY_MIB", value: "0"},
		{variable: "AUTH_HASH_MEMORY_MIB", value: "18"}, // less than one default argon2id hash (19 MiB)
		{variable: "AUTH_ARGON2_MEMORY_KIB", value: "131072", wantErr: "AUTH_HASH_MEMORY_MIB"},
		{variable: "AUTH_HASH_MAX_WAIT", value: "-1s"},
		{variable: "AUTH_MEMORY_LIMIT_MIB", value: "-1"},
		{variable: "AUTH_DB_MAX_CONNS", value: "0"},
		{variable: "AUTH_DB_STATEMENT_TIMEOUT", value: "0s"},
		{variable: "AUTH_REQUEST_TIMEOUT", value: "-1s"},
		{variable: "AUTH_SHUTDOWN_DRAIN", value: "a while"},
	}
	for _, tt := range tests {
		want := tt.wantErr
		if want == "" {
			want = tt.variable
		}
		env := map[string]string{tt.variable: tt.value}
		for k, v := range tt.extra {
			env[k] = v
		}
		if _, err := config.Load(getenv(env)); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s=%q: err = %v, want one naming %s", tt.variable, tt.value, err, want)
		}
	}
}
