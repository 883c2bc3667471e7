package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/auth"
)

// The cookie transport of the refresh token. A browser app that asks for it
// (X-Token-Transport: cookie) gets the refresh token as an HttpOnly cookie,
// which no script, and so no XSS, can read, and only the access token in the
// body. The price is CSRF: the browser attaches the cookie by itself, so a
// request that presents it must show it was made by the app, not by a page on
// another site. The defences, in the order they are checked:
//
//   - SameSite=Strict: the browser does not attach the cookie to requests
//     started by another site at all.
//   - The custom header X-Token-Transport: cookie, required whenever the
//     cookie is used. A cross-site form cannot set a header, and a
//     cross-origin script can only after a CORS preflight, which only the
//     allowed origins pass (OWASP CSRF cheat sheet, "custom request headers").
//   - The Origin: it must be an allowed origin (AUTH_CORS_ALLOWED_ORIGINS)
//     or the service's own (its host equals the Host the request was sent
//     to). A refresh or logout with the cookie must send one: browsers send
//     Origin on every cross-origin and every same-origin POST, so only
//     something that is not a browser omits it, and the cookie is a
//     browser's. A login asking for the cookie is checked only when it has
//     an Origin (a cross-site Sec-Fetch-Site without one is refused): it
//     presents no cookie, so there is nothing to forge.
//
// A body token always wins over the cookie and needs none of this: a forger
// cannot know it.

const (
	// secureCookieName is the cookie's name in production: the __Host-
	// prefix makes browsers refuse it unless it is Secure, host-only and
	// Path=/, so that neither plain HTTP nor a sibling subdomain can plant
	// or overwrite it (RFC 6265bis).
	secureCookieName = "__Host-refresh"
	// insecureCookieName is its name without Secure (AUTH_COOKIE_SECURE=false,
	// development over HTTP), where browsers would refuse the prefix.
	insecureCookieName = "refresh"
)

var (
	// errCSRF is a cookie-transport request that a page on another site
	// could have forged.
	errCSRF = errors.New("cookie transport refused: possible cross-site request")
	// errCookieTransportOff answers X-Token-Transport: cookie where the
	// deployment has not enabled it (AUTH_REFRESH_COOKIE).
	errCookieTransportOff = withDetail(errInvalid, "X-Token-Transport: cookie is not enabled on this service.")
	// errRefreshRequired is a refresh or logout with no refresh token, where
	// the cookie transport is on: the body's field or the cookie is missing.
	errRefreshRequired = withDetail(fieldErrors{"refresh": {"This field is required."}},
		"Send the refresh token in the body, or the refresh cookie with X-Token-Transport: cookie.")
)

// RefreshCookie is the cookie transport's configuration.
type RefreshCookie struct {
	// Enabled lets a request choose the cookie transport (AUTH_REFRESH_COOKIE).
	Enabled bool
	// Insecure drops Secure and the __Host- prefix, for development without
	// HTTPS (AUTH_COOKIE_SECURE=false).
	Insecure bool
	// Name is the cookie's name (AUTH_COOKIE_NAME); "" is __Host-refresh,
	// or refresh when Insecure.
	Name string
	// SameSite is the cookie's SameSite attribute (AUTH_COOKIE_SAMESITE);
	// the zero value is Strict.
	SameSite http.SameSite
	// MaxAge is how long the browser keeps the cookie: the refresh token's
	// lifetime, renewed by every refresh.
	MaxAge time.Duration
}

// cookieTransport applies RefreshCookie to the token operations.
type cookieTransport struct {
	RefreshCookie
	name string
	// origins are the allowed origins, shared with the CORS policy.
	origins map[string]bool
}

func newCookieTransport(c RefreshCookie, origins map[string]bool) *cookieTransport {
	name := c.Name
	switch {
	case name != "":
	case c.Insecure:
		name = insecureCookieName
	default:
		name = secureCookieName
	}
	if c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode {
		c.SameSite = http.SameSiteStrictMode
	}
	return &cookieTransport{RefreshCookie: c, name: name, origins: origins}
}

// browser is what a request says about where it comes from, for the
// cookie transport's checks; readBrowser puts it in the request context.
type browser struct {
	origin    string // the Origin header, "" when absent
	fetchSite string // Sec-Fetch-Site, "" when absent
	host      string // the Host the request was sent to
	cookie    string // the refresh cookie, "" when absent or the transport is off
}

// readBrowser puts the request's browser facts in its context. The
// generated code reads the cookie only by its production name; this reads
// it by the configured one.
// Where the transport is off nothing reads them (chosen and refreshToken
// return first), so it is not in the chain at all.
func (c *cookieTransport) readBrowser(next http.Handler) http.Handler {
	if !c.Enabled {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := browser{origin: r.Header.Get("Origin"), fetchSite: r.Header.Get("Sec-Fetch-Site"), host: r.Host}
		if ck, err := r.Cookie(c.name); err == nil {
			b.cookie = ck.Value
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), browserKey, b)))
	})
}

func browserFrom(ctx context.Context) browser {
	b, _ := ctx.Value(browserKey).(browser)
	return b
}

// chosen reports whether a token request chose the cookie transport, and
// refuses it where it is off or where the request's origin may not use it.
func (c *cookieTransport) chosen(ctx context.Context, header *oapi.TokenTransport) (bool, error) {
	if header == nil || *header != oapi.TokenTransportCookie {
		return false, nil
	}
	if !c.Enabled {
		return false, errCookieTransportOff
	}
	return true, c.checkOrigin(browserFrom(ctx))
}

// presented is the refresh token of a refresh or logout.
type presented struct {
	raw string
	// cookie: the request chose the cookie transport (chosen's checks
	// passed), so the answer goes in the cookie.
	cookie bool
	// fromJar: the token is the cookie's, not the body's.
	fromJar bool
}

// refreshToken returns the refresh token a refresh or logout presents. The
// body's token (body may be nil) wins; else the cookie's, which needs the
// cookie transport chosen (the custom header is the CSRF defence) and an
// Origin, which checkOrigin has found allowed.
func (c *cookieTransport) refreshToken(ctx context.Context, header *oapi.TokenTransport, body *oapi.RefreshRequest) (presented, error) {
	cookie, err := c.chosen(ctx, header)
	switch b := browserFrom(ctx); {
	case err != nil:
		return presented{}, err
	case body != nil && body.Refresh != "":
		return presented{raw: body.Refresh, cookie: cookie}, nil
	case !c.Enabled:
		// As before the cookie transport existed: DRF's field error.
		return presented{}, fieldErrors{"refresh": {"This field is required."}}
	case b.cookie == "":
		return presented{}, errRefreshRequired
	case !cookie:
		return presented{}, withDetail(errCSRF, "The refresh cookie needs the X-Token-Transport: cookie header.")
	case b.origin == "":
		return presented{}, withDetail(errCSRF, "The refresh cookie needs an Origin header, which browsers send; see AUTH_CORS_ALLOWED_ORIGINS.")
	default:
		return presented{raw: b.cookie, cookie: true, fromJar: true}, nil
	}
}

// failed is err, the failure of a refresh or logout that presented p: when
// the token was the cookie's, a 401 also clears the cookie, so that the
// browser stops sending a token that will never work again.
func (c *cookieTransport) failed(p presented, err error) error {
	if !p.fromJar {
		return err
	}
	return clearingCookie{error: err, setCookie: *c.cleared()}
}

// checkOrigin refuses a request whose Origin is neither allowed nor the
// service's own, or that has no Origin but a cross-site Sec-Fetch-Site.
func (c *cookieTransport) checkOrigin(b browser) error {
	switch {
	case b.origin != "":
		if c.origins[b.origin] || sameHost(b.origin, b.host) {
			return nil
		}
		return withDetail(errCSRF, "The request's Origin may not use the refresh cookie; see AUTH_CORS_ALLOWED_ORIGINS.")
	case b.fetchSite == "cross-site":
		return withDetail(errCSRF, "A cross-site request without an allowed Origin may not use the refresh cookie.")
	}
	return nil
}

// sameHost reports whether origin names the host the request was sent to:
// a same-origin request. Schemes are not compared: behind a TLS-terminating
// proxy the service cannot know the client's, and a page of the same host
// over the other scheme is cross-origin to the browser, so it still needs
// the custom header, and so a preflight that only allowed origins pass.
func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// tokenResponse is a login's or a refresh's body and Set-Cookie header: the
// pair, or in the cookie transport the access token and the refresh token's
// cookie.
func (c *cookieTransport) tokenResponse(pair auth.Pair, cookie bool) (oapi.TokenResponse, *string, error) {
	var body oapi.TokenResponse
	if !cookie {
		return body, nil, body.FromTokenPair(oapi.TokenPair{Access: pair.Access, Refresh: pair.Refresh})
	}
	set := c.cookie(pair.Refresh, int(c.MaxAge/time.Second)).String()
	return body, &set, body.FromAccessToken(oapi.AccessToken{Access: pair.Access})
}

// cleared is the Set-Cookie header that removes the cookie (Max-Age=0).
func (c *cookieTransport) cleared() *string {
	set := c.cookie("", -1).String()
	return &set
}

func (c *cookieTransport) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: c.name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: !c.Insecure, SameSite: c.SameSite,
	}
}
