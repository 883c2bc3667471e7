package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/routers"
)

// routeError is the error for a request that matches no operation:
// errMethodNotAllowed (with Allow) for a known path, errMoved (with
// Location) for a known path missing its trailing slash, as Django's
// APPEND_SLASH does, and errNotFound otherwise. It sets those headers on w.
func (v *validator) routeError(w http.ResponseWriter, r *http.Request, err error) error {
	if errors.Is(err, routers.ErrMethodNotAllowed) {
		w.Header().Set("Allow", strings.Join(v.allowed(r), ", "))
		return errMethodNotAllowed
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		slashed := r.Clone(r.Context())
		slashed.URL.Path += "/"
		if _, _, err := v.router.FindRoute(slashed); err == nil || errors.Is(err, routers.ErrMethodNotAllowed) {
			target := slashed.URL.Path
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			w.Header().Set("Location", target)
			return withDetail(errMoved, "This resource is at "+target)
		}
	}
	return errNotFound
}

// allowed lists the methods the request's path does support: HEAD wherever
// GET is.
func (v *validator) allowed(r *http.Request) []string {
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := v.router.FindRoute(probe); err == nil {
			methods = append(methods, m)
			if m == http.MethodGet {
				methods = append(methods, http.MethodHead)
			}
		}
	}
	return methods
}
