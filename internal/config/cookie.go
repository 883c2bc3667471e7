package config

import (
	"net/http"
	"strings"
)

// The refresh cookie's default names: with Secure, the __Host- prefix makes
// browsers refuse the cookie unless it is Secure, host-only and Path=/, so
// that neither plain HTTP nor a sibling subdomain can plant or overwrite it
// (RFC 6265bis); without Secure (development over HTTP) browsers would refuse
// the prefix itself.
const (
	secureCookieName   = "__Host-refresh"
	insecureCookieName = "refresh"
)

// cookie reads AUTH_COOKIE_NAME and AUTH_COOKIE_SAMESITE, given whether the
// cookie is Secure, and refuses what browsers would silently drop: a
// __Host- or __Secure- name, or SameSite=None, without Secure.
func (r *reader) cookie(secure bool) (name, sameSite string) {
	name = r.getenv("AUTH_COOKIE_NAME")
	switch {
	case name == "" && secure:
		name = secureCookieName
	case name == "":
		name = insecureCookieName
	case !validCookieName(name):
		r.fail("AUTH_COOKIE_NAME", "%q is not a cookie name (letters, digits and !#$%%&'*+-.^_`|~ only)", name)
	case !secure && (strings.HasPrefix(name, "__Host-") || strings.HasPrefix(name, "__Secure-")):
		r.fail("AUTH_COOKIE_NAME", "%q: browsers accept a __Host- or __Secure- cookie only when it is Secure, and AUTH_COOKIE_SECURE is false", name)
	}
	sameSite = strings.ToLower(r.getenv("AUTH_COOKIE_SAMESITE"))
	switch sameSite {
	case "":
		sameSite = "strict"
	case "strict", "lax":
	case "none":
		if !secure {
			r.fail("AUTH_COOKIE_SAMESITE", "none needs a Secure cookie (browsers drop SameSite=None without it), and AUTH_COOKIE_SECURE is false")
		}
	default:
		r.fail("AUTH_COOKIE_SAMESITE", "want strict, lax or none, got %q", sameSite)
	}
	return name, sameSite
}

// validCookieName reports whether name is an RFC 6265 cookie name, as
// net/http writes it.
func validCookieName(name string) bool {
	c := http.Cookie{Name: name, Value: "x"}
	return c.Valid() == nil
}
