package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/ecommerce/auth-service/api"
	"github.com/ecommerce/auth-service/gen/oapi"
	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/hashlimit"
	"github.com/ecommerce/auth-service/internal/httpapi"
	"github.com/ecommerce/auth-service/internal/logging"
	"github.com/ecommerce/auth-service/internal/logtest"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/passwordpolicy"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

// testSecret signs the tests' HS256 tokens.
const testSecret = "test-secret-that-is-at-least-32-bytes-long"

// cheapParams keep password hashing fast in tests; production uses the defaults.
var cheapParams = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// clock is a settable time source shared by the service and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// apiEnv is the whole service over one store, served by httptest, with a
// client that validates every response against api/openapi.yaml.
type apiEnv struct {
	t      *testing.T
	url    string
	store  store.DB
	svc    *auth.Service
	keys   *token.Keys
	hasher *password.Hasher
	clock  *clock
	router routers.Router
	logs   *logtest.Buffer
}

// envSettings are what an envOption may change: the service's parameters,
// its keys and the claims policy they are given (production's, the
// configuration's defaults, unless changed), the HTTP layer's options, and
// the password hash limiter.
type envSettings struct {
	params  auth.Params
	keys    *token.Keys
	policy  token.Policy
	http    httpapi.Options
	limiter *hashlimit.Limiter
	// cacheTTL, if set, puts the session cache of production in front of
	// the store (store.WithSessionCache), with its listener running.
	cacheTTL time.Duration
}

type envOption func(*envSettings)

func withSessionCache(ttl time.Duration) envOption {
	return func(s *envSettings) { s.cacheTTL = ttl }
}

func withReuseInterval(d time.Duration) envOption {
	return func(s *envSettings) { s.params.ReuseInterval = d }
}

func withKeys(k *token.Keys) envOption {
	return func(s *envSettings) { s.keys = k }
}

func withPolicy(change func(*token.Policy)) envOption {
	return func(s *envSettings) { change(&s.policy) }
}

// withThrottle turns the login throttle on with the service's defaults.
func withThrottle() envOption {
	return func(s *envSettings) {
		s.params.Throttle = auth.ThrottleParams{
			MaxFailures: 5, AccountMaxFailures: 100, AddressMaxFailures: 50, Window: 15 * time.Minute, MaxBackoff: 15 * time.Minute,
		}
	}
}

// withHTTP changes the HTTP layer's options (Log is always the env's).
func withHTTP(change func(*httpapi.Options)) envOption {
	return func(s *envSettings) { change(&s.http) }
}

// withLimiter puts every password hash through l.
func withLimiter(l *hashlimit.Limiter) envOption {
	return func(s *envSettings) { s.limiter = l }
}

func newAPIEnv(t *testing.T, st store.DB, opts ...envOption) *apiEnv {
	t.Helper()
	return newAPIEnvWith(t, st, httpapi.Options{}, opts...)
}

// newAPIEnvWith is newAPIEnv with the HTTP layer's settings hopts (its Log
// is the env's own).
func newAPIEnvWith(t *testing.T, st store.DB, hopts httpapi.Options, opts ...envOption) *apiEnv {
	t.Helper()
	keys, err := token.NewHS256([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	set := envSettings{
		params: auth.Params{
			AccessTTL: 5 * time.Minute, RefreshTTL: 24 * time.Hour, ReuseInterval: 10 * time.Second,
			SignupOpen: true, EmailTokenTTL: 30 * time.Minute, Policy: passwordpolicy.Policy{MinLength: 12},
		},
		keys:   keys,
		policy: token.Policy{Leeway: 30 * time.Second},
		http:   hopts,
	}
	for _, opt := range opts {
		opt(&set)
	}
	set.policy.MaxLifetime = map[token.Type]time.Duration{token.Access: set.params.AccessTTL, token.Refresh: set.params.RefreshTTL}
	params, keys := set.params, set.keys.WithPolicy(set.policy)
	hasher, err := password.New(cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	if set.limiter != nil {
		hasher = hasher.Limited(set.limiter)
	}
	logs := &logtest.Buffer{}
	log := logging.New(logs, slog.LevelDebug)
	clk := &clock{now: time.Now().UTC().Truncate(time.Second)}
	var db auth.Store = st
	if set.cacheTTL > 0 {
		cached, listen := store.WithSessionCache(st, set.cacheTTL)
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go listen(ctx, func(err error) { t.Logf("session cache listener: %v", err) })
		db = cached
	}
	svc := auth.New(db, keys, hasher, clk.Now, params, log)
	set.http.Log = log
	handler, err := httpapi.New(svc, set.http)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	doc, err := api.Load()
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil
	doc.SetStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &apiEnv{t: t, url: srv.URL, store: st, svc: svc, keys: keys, hasher: hasher, clock: clk, router: router, logs: logs}
}

// eachStore runs fn against the full API over SQLite and over PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, e *apiEnv), opts ...envOption) {
	t.Helper()
	storetest.Each(t, func(t *testing.T, st store.DB) {
		fn(t, newAPIEnv(t, st, opts...))
	})
}

// eachStoreWith is eachStore with the HTTP layer's settings hopts.
func eachStoreWith(t *testing.T, hopts httpapi.Options, fn func(t *testing.T, e *apiEnv), opts ...envOption) {
	t.Helper()
	storetest.Each(t, func(t *testing.T, st store.DB) {
		fn(t, newAPIEnvWith(t, st, hopts, opts...))
	})
}

// response is what the client got back.
type response struct {
	status int
	header http.Header
	body   []byte
	// closed: the server asked to close the connection (Connection: close,
	// which net/http removes from header).
	closed bool
}

// json decodes the body into a generic map.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v: %q", err, r.body)
	}
	return m
}

// errorBody decodes an Error body and checks the basic shape.
func (r response) errorBody(t *testing.T) oapi.Error {
	t.Helper()
	var e oapi.Error
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == "" || e.Detail == "" {
		t.Fatalf("not an Error body (%v): %q", err, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type = %q, want JSON", ct)
	}
	return e
}

// request sends a request with a raw body and headers, and validates the
// response against the OpenAPI document.
func (e *apiEnv) request(method, path, contentType, body string, header map[string]string) response {
	e.t.Helper()
	var reqBody io.Reader
	if body != "" {
		reqBody = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, reqBody)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, body: data, closed: resp.Close}
	e.validateResponse(req, out)
	return out
}

// validateResponse is the contract test: every response of a documented
// operation must match the document, status included; responses to requests
// that match no operation must still be JSON errors.
func (e *apiEnv) validateResponse(req *http.Request, resp response) {
	e.t.Helper()
	if req.Body != nil {
		req.Body = io.NopCloser(strings.NewReader(""))
	}
	head := req.Method == http.MethodHead
	if head {
		// HEAD answers as the document's GET does, without the body.
		if len(resp.body) != 0 {
			e.t.Errorf("HEAD %s: %d body bytes, want none", req.URL.Path, len(resp.body))
		}
		req = req.Clone(req.Context())
		req.Method = http.MethodGet
	}
	route, params, err := e.router.FindRoute(req)
	if err != nil {
		if !head {
			resp.errorBody(e.t)
		}
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: resp.status,
		Header: resp.header,
		Body:   io.NopCloser(bytes.NewReader(resp.body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			// kin-openapi decodes JSON and plain text only; the docs tests check the page's
			// HTML, scripts, styles and images themselves. HEAD answers have no body.
			ExcludeResponseBody: head || (!strings.HasPrefix(resp.header.Get("Content-Type"), "application/json") &&
				!strings.HasPrefix(resp.header.Get("Content-Type"), "text/plain")),
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		e.t.Errorf("%s %s: response %d violates the contract: %v\nbody: %s", req.Method, req.URL.Path, resp.status, err, resp.body)
	}
}

func (e *apiEnv) postJSON(path, body string) response {
	e.t.Helper()
	return e.request(http.MethodPost, path, "application/json", body, nil)
}

func (e *apiEnv) get(path, accessToken string) response {
	e.t.Helper()
	var h map[string]string
	if accessToken != "" {
		h = map[string]string{"Authorization": "Bearer " + accessToken}
	}
	return e.request(http.MethodGet, path, "", "", h)
}

// createUser adds an active user with the given password.
func (e *apiEnv) createUser(email, pw string) auth.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), email, pw, false, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// pair is a decoded TokenPair.
type pair struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// login logs in and fails the test unless it succeeds.
func (e *apiEnv) login(email, pw string) pair {
	e.t.Helper()
	resp := e.postJSON("/auth/token/", jsonBody(map[string]string{"email": email, "password": pw}))
	if resp.status != http.StatusOK {
		e.t.Fatalf("login: status %d: %s", resp.status, resp.body)
	}
	return decodePair(e.t, resp)
}

func (e *apiEnv) refresh(refresh string) response {
	e.t.Helper()
	return e.postJSON("/auth/token/refresh/", jsonBody(map[string]string{"refresh": refresh}))
}

func decodePair(t *testing.T, resp response) pair {
	t.Helper()
	var p pair
	if err := json.Unmarshal(resp.body, &p); err != nil || p.Access == "" || p.Refresh == "" {
		t.Fatalf("not a token pair (%v): %s", err, resp.body)
	}
	return p
}

func jsonBody(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// expectError checks status, code and, for 401s, the WWW-Authenticate header.
func expectError(t *testing.T, resp response, status int, code string) oapi.Error {
	t.Helper()
	if resp.status != status {
		t.Fatalf("status = %d, want %d; body %s", resp.status, status, resp.body)
	}
	e := resp.errorBody(t)
	if e.Code != code {
		t.Errorf("code = %q, want %q (body %s)", e.Code, code, resp.body)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", resp.header.Get("WWW-Authenticate"))
	}
	return e
}
