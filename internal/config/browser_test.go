package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ecommerce/auth-service/internal/config"
)

func TestLoadBrowserClients(t *testing.T) {
	c := load(t, map[string]string{})
	if c.RefreshCookie || c.CookieInsecure || c.CORSAllowedOrigins != nil {
		t.Errorf("defaults: cookie %t, insecure %t, origins %q; want all off", c.RefreshCookie, c.CookieInsecure, c.CORSAllowedOrigins)
	}
	c = load(t, map[string]string{
		"AUTH_REFRESH_COOKIE": "on",
		"AUTH_COOKIE_SECURE":  "false",
		// Written as people write them; kept as browsers send Origin.
		"AUTH_CORS_ALLOWED_ORIGINS": " https://Shop.Example.com:443 , http://localhost:3000,HTTP://127.0.0.1:80,https://[::1]:8443,",
	})
	want := []string{"https://shop.example.com", "http://localhost:3000", "http://127.0.0.1", "https://[::1]:8443"}
	if !c.RefreshCookie || !c.CookieInsecure || !reflect.DeepEqual(c.CORSAllowedOrigins, want) {
		t.Errorf("got cookie %t, insecure %t, origins %q; want true, true, %q", c.RefreshCookie, c.CookieInsecure, c.CORSAllowedOrigins, want)
	}
	for _, v := range []string{"off", "false", "0"} {
		if load(t, map[string]string{"AUTH_REFRESH_COOKIE": v}).RefreshCookie {
			t.Errorf("AUTH_REFRESH_COOKIE=%s turned it on", v)
		}
	}
}

func TestLoadRejectsBadOrigins(t *testing.T) {
	for _, v := range []string{
		"*", "https://*.example.com", "https://shop.example.com/", "https://shop.example.com/app",
		"shop.example.com", "ftp://shop.example.com", "https://user@shop.example.com", "https://shop.example.com?x=1",
		"https://shop.example.com#top", "https://shop.example.com:http", "https://", "null",
	} {
		_, err := config.Load(getenv(map[string]string{"AUTH_CORS_ALLOWED_ORIGINS": "http://localhost:3000," + v}))
		if err == nil || !strings.HasPrefix(err.Error(), "AUTH_CORS_ALLOWED_ORIGINS") {
			t.Errorf("AUTH_CORS_ALLOWED_ORIGINS=%q: error %v, want one naming the variable", v, err)
		}
	}
	if _, err := config.Load(getenv(map[string]string{"AUTH_CORS_ALLOWED_ORIGINS": "*"})); err == nil || !strings.Contains(err.Error(), "wildcard") {
		t.Errorf("a wildcard: %v, want an error that says wildcards are refused", err)
	}
	for _, name := range []string{"AUTH_REFRESH_COOKIE", "AUTH_COOKIE_SECURE"} {
		if _, err := config.Load(getenv(map[string]string{name: "yes please"})); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("%s=yes please: %v", name, err)
		}
	}
}

func TestLoadCookieNameAndSameSite(t *testing.T) {
	for _, tt := range []struct {
		env            map[string]string
		name, sameSite string
	}{
		{map[string]string{}, "__Host-refresh", "strict"},
		{map[string]string{"AUTH_COOKIE_SECURE": "false"}, "refresh", "strict"},
		{map[string]string{"AUTH_COOKIE_NAME": "__Host-shop_rt", "AUTH_COOKIE_SAMESITE": "Lax"}, "__Host-shop_rt", "lax"},
		{map[string]string{"AUTH_COOKIE_SECURE": "false", "AUTH_COOKIE_NAME": "dev_rt"}, "dev_rt", "strict"},
		{map[string]string{"AUTH_COOKIE_SAMESITE": "none"}, "__Host-refresh", "none"},
	} {
		c := load(t, tt.env)
		if c.CookieName != tt.name || c.CookieSameSite != tt.sameSite {
			t.Errorf("%v: cookie %q, SameSite %q; want %q, %q", tt.env, c.CookieName, c.CookieSameSite, tt.name, tt.sameSite)
		}
	}
	for _, env := range []map[string]string{
		{"AUTH_COOKIE_NAME": "bad name"},
		{"AUTH_COOKIE_NAME": "rt;path=/x"},
		{"AUTH_COOKIE_SECURE": "false", "AUTH_COOKIE_NAME": "__Host-refresh"},
		{"AUTH_COOKIE_SECURE": "false", "AUTH_COOKIE_NAME": "__Secure-refresh"},
		{"AUTH_COOKIE_SAMESITE": "sometimes"},
		{"AUTH_COOKIE_SECURE": "false", "AUTH_COOKIE_SAMESITE": "none"},
	} {
		var name string
		for k := range env {
			if k != "AUTH_COOKIE_SECURE" {
				name = k
			}
		}
		if _, err := config.Load(getenv(env)); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("%v: %v, want an error naming %s", env, err, name)
		}
	}
}
