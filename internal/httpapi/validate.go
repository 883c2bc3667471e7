package httpapi

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// validator checks every request against the OpenAPI document before it is
// routed: unknown paths, wrong methods, media types and bodies all get their
// JSON error here, so handlers only ever see valid requests.
type validator struct {
	router routers.Router
	// static holds the routes of paths without parameters, by method and
	// path: looked up in a map, not matched against every route's pattern,
	// which is most of what validating a request such as a health check costs.
	static  map[string]*routers.Route
	options *openapi3filter.Options
}

// newValidator prepares doc for request validation. It clears doc's servers:
// kin-openapi would otherwise match them against the Host header, and behind
// the gateway every request would be a 404.
func newValidator(doc *openapi3.T) (*validator, error) {
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("httpapi: build request router: %w", err)
	}
	static := map[string]*routers.Route{}
	for path, item := range doc.Paths.Map() {
		if strings.Contains(path, "{") {
			continue
		}
		for method := range item.Operations() {
			probe, err := http.NewRequest(method, path, nil)
			if err != nil {
				return nil, fmt.Errorf("httpapi: route %s %s: %w", method, path, err)
			}
			if route, _, err := router.FindRoute(probe); err == nil {
				static[method+" "+path] = route
			}
		}
	}
	return &validator{
		router: router,
		static: static,
		options: &openapi3filter.Options{
			MultiError: true,
			// Bearer tokens are checked by the handlers, which need the claims.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}, nil
}

// middleware validates each request, and routes HEAD as GET: the document
// (and the router after it) knows only GET, and net/http itself drops the
// body of a response to HEAD, keeping status and headers.
func (v *validator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
		}
		route, pathParams, err := v.findRoute(r)
		if err != nil {
			writeError(w, v.routeError(w, r, err))
			return
		}
		setOperation(r, route.Operation.OperationID)
		controls := paramControls(pathParams)
		if body := route.Operation.RequestBody; body != nil {
			bodyControls, err := readBody(r, body.Value)
			if err != nil {
				writeError(w, err)
				return
			}
			if controls == nil {
				controls = bodyControls
			} else {
				maps.Copy(controls, bodyControls)
			}
		}
		input := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: route, Options: v.options}
		if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil || len(controls) > 0 {
			writeError(w, invalidRequest(err, controls))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// paramControls returns the path parameters holding a control character
// or bytes that are not UTF-8, which no identifier of the service holds and
// which PostgreSQL refuses in a text column with an error of its own: they
// are answered as invalid before any handler sees them.
func paramControls(params map[string]string) fieldErrors {
	var bad fieldErrors
	for name, value := range params {
		if unescaped, err := url.PathUnescape(value); err == nil {
			value = unescaped
		}
		msg := controlMessage(value)
		if msg == "" && !utf8.ValidString(value) {
			msg = "Only UTF-8 text is allowed."
		}
		if msg == "" {
			continue
		}
		if bad == nil {
			bad = fieldErrors{}
		}
		bad[name] = []string{msg}
	}
	return bad
}

// invalidRequest is the error of a request that failed validation (err) or
// has control characters in fields (controls, which replace the schema's
// messages for those fields: they are the real problem).
func invalidRequest(err error, controls fieldErrors) error {
	if err == nil {
		return controls
	}
	verr := validationError(err)
	fields, ok := verr.(fieldErrors)
	if !ok {
		return verr
	}
	for name, msgs := range controls {
		fields[name] = msgs
	}
	return fields
}

// findRoute is the router's FindRoute, from the map for static paths.
func (v *validator) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	if route, ok := v.static[r.Method+" "+r.URL.Path]; ok {
		return route, nil, nil
	}
	return v.router.FindRoute(r)
}
