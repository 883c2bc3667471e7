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
