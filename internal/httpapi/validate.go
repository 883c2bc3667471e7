package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// maxBodyBytes is the largest request body accepted.
const maxBodyBytes = 1 << 20

// validator checks every request against the OpenAPI document before it is
// routed: unknown paths, wrong methods, media types and bodies all get their
// JSON error here, so handlers only ever see valid requests.
type validator struct {
	router  routers.Router
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
	return &validator{
		router: router,
		options: &openapi3filter.Options{
			MultiError: true,
			// Bearer tokens are checked by the handlers, which need the claims.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}, nil
}

func (v *validator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, pathParams, err := v.router.FindRoute(r)
		if err != nil {
			v.routeError(w, r, err)
			return
		}
		if body := route.Operation.RequestBody; body != nil {
			if ok := readBody(w, r, body.Value); !ok {
				return
			}
		}
		input := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: route, Options: v.options}
		if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
			writeError(w, requestError(err))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// routeError answers a request that matches no operation: 405 with Allow for a
// known path, a permanent redirect for a known path missing its trailing
// slash (as Django's APPEND_SLASH does), and 404 otherwise.
func (v *validator) routeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, routers.ErrMethodNotAllowed) {
		w.Header().Set("Allow", strings.Join(v.allowed(r), ", "))
		writeError(w, errMethodNotAllowed)
		return
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
			writeError(w, newError(http.StatusPermanentRedirect, "moved", "This resource is at "+target))
			return
		}
	}
	writeError(w, errNotFound)
}

// allowed lists the methods the request's path does support.
func (v *validator) allowed(r *http.Request) []string {
	var methods []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := v.router.FindRoute(probe); err == nil {
			methods = append(methods, m)
		}
	}
	return methods
}

// limitBody refuses bodies over maxBodyBytes on every request that may carry
// one, whatever its route: at once when Content-Length says so, else while
// the body is read. GET and HEAD bodies are never read, so never refused.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > maxBodyBytes {
			writeError(w, errTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// readBody checks the JSON media type, and buffers the
// body so that both the validator and the handler can read it. An empty body
// is treated as an empty object, as DRF does, so that the client learns which
// fields are required. It writes the error response and returns false when
// the request must stop here.
func readBody(w http.ResponseWriter, r *http.Request, spec *openapi3.RequestBody) bool {
	data, err := io.ReadAll(r.Body) // limited by limitBody
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, errTooLarge)
		} else {
			writeError(w, newError(http.StatusBadRequest, codeParseError, "The request body could not be read."))
		}
		return false
	}
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
		r.Header.Set("Content-Type", "application/json")
	} else if mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || spec.Content.Get(mediaType) == nil {
		writeError(w, newError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			fmt.Sprintf("Unsupported media type %q in request; use application/json.", r.Header.Get("Content-Type"))))
		return false
	}
	data, ok := declaredOnly(data, spec)
	if !ok {
		writeError(w, errParse)
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.ContentLength = int64(len(data))
	return true
}

// declaredOnly keeps, of a JSON object body, only the properties its schema
// declares, by their exact names; ok is false for malformed JSON. The
// validator matches keys exactly but encoding/json, which decodes the body for
// the handler, also matches them ignoring case: without this, {"email":
// <valid>, "EMAIL": <anything>} would be validated on one value and used with
// the other. Unknown properties are ignored, as DRF ignores them. Valid JSON
// that is not an object is left to the validator to describe.
func declaredOnly(data []byte, spec *openapi3.RequestBody) (out []byte, ok bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		// Unmarshal also refuses trailing data such as `{...} garbage`, which
		// the validator's decoder would stop before.
		return data, json.Valid(data)
	}
	media := spec.Content.Get("application/json")
	if fields == nil || media == nil || media.Schema == nil || media.Schema.Value == nil {
		return data, true
	}
	kept := make(map[string]json.RawMessage, len(fields))
	for name := range media.Schema.Value.Properties {
		if v, ok := fields[name]; ok {
			kept[name] = v
		}
	}
	out, err := json.Marshal(kept)
	if err != nil {
		return data, true
	}
	return out, true
}

// requestError turns the validator's errors into one 400 response, with the
// messages of each faulty field under fields.
func requestError(err error) apiError {
	var parseErr *openapi3filter.ParseError
	if errors.As(err, &parseErr) {
		return errParse
	}
	fields := map[string][]string{}
	collectFieldErrors(err, fields)
	if len(fields) == 0 {
		fields[nonFieldErrors] = []string{"Invalid request."}
	}
	return newError(http.StatusBadRequest, codeInvalid, "Invalid input.").withFields(fields)
}

// nonFieldErrors is DRF's key for errors of the body as a whole.
const nonFieldErrors = "non_field_errors"

func collectFieldErrors(err error, fields map[string][]string) {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			collectFieldErrors(e, fields)
		}
		return
	}
	var reqErr *openapi3filter.RequestError
	if errors.As(err, &reqErr) && reqErr.Err != nil {
		collectFieldErrors(reqErr.Err, fields)
		return
	}
	var schemaErr *openapi3.SchemaError
	if !errors.As(err, &schemaErr) {
		fields[nonFieldErrors] = append(fields[nonFieldErrors], "Invalid request.")
		return
	}
	key := nonFieldErrors
	if path := schemaErr.JSONPointer(); len(path) > 0 {
		key = strings.Join(path, ".")
	}
	msg := fieldMessage(schemaErr, key == nonFieldErrors)
	if !slices.Contains(fields[key], msg) {
		fields[key] = append(fields[key], msg)
	}
}

// fieldMessage words a schema violation the way DRF words its field errors.
func fieldMessage(e *openapi3.SchemaError, whole bool) string {
	s, isString := e.Value.(string)
	switch {
	case whole && e.Value == nil:
		return "No data provided" // DRF's words for a null body
	case whole && e.SchemaField == "type":
		return fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", jsonType(e.Value))
	case e.SchemaField == "required":
		return "This field is required."
	case e.Value == nil:
		return "This field may not be null."
	case e.SchemaField == "type":
		return fmt.Sprintf("Not a valid %s.", e.Schema.Type.Slice()[0])
	case isString && strings.TrimSpace(s) == "":
		return "This field may not be blank."
	case e.SchemaField == "maxLength" && e.Schema.MaxLength != nil:
		return fmt.Sprintf("Ensure this field has no more than %d characters.", *e.Schema.MaxLength)
	case e.SchemaField == "minLength":
		return fmt.Sprintf("Ensure this field has at least %d characters.", e.Schema.MinLength)
	case e.SchemaField == "pattern" && e.Schema.Extensions["x-pattern-message"] != nil:
		return fmt.Sprint(e.Schema.Extensions["x-pattern-message"])
	}
	// Not kin-openapi's own wording, which may quote the schema (patterns).
	return "Invalid value."
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case float64, int64, int:
		return "number"
	}
	return "value"
}
