// Package interop_test checks auth-service against the Django + DRF +
// SimpleJWT stack it replaces, using that stack's own code as the oracle: the
// Python scripts in testdata run SimpleJWT's JWTStatelessUserAuthentication,
// PyJWT over the published JWKS, and Django's password hashers. The service
// under test is the real HTTP handler (httpapi.New) over both stores.
package interop_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/httpapi"
	"github.com/ecommerce/auth-service/internal/logging"
	"github.com/ecommerce/auth-service/internal/logtest"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
	"github.com/ecommerce/auth-service/internal/userimport"
)

// python is Debian's interpreter, which has the legacy stack's modules (a
// python3 found on PATH may be a pyenv shim without them).
const python = "/usr/bin/python3"

// aptPackages provide the modules the oracle scripts import.
const aptPackages = "python3-django python3-djangorestframework python3-djangorestframework-simplejwt python3-jwt python3-argon2 python3-bcrypt"

// pythonCheck imports every module once per test binary.
var pythonCheck = sync.OnceValues(func() ([]byte, error) {
	return exec.Command(python, "-c", "import django, rest_framework_simplejwt, jwt, argon2, bcrypt").CombinedOutput()
})

// requirePython skips the test when the legacy stack is not installed, but
// fails it under CI=true: CI must never pass without running the oracles.
func requirePython(t testing.TB) {
	t.Helper()
	out, err := pythonCheck()
	if err == nil {
		return
	}
	msg := "interop: " + python + " cannot import the legacy Django stack (" + err.Error() + ": " +
		strings.TrimSpace(string(out)) + "); install: apt-get install -y " + aptPackages
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true, so this fails instead of skipping)")
	}
	t.Skip(msg)
}

// pyResult is what an oracle script answered.
type pyResult struct {
	code int
	out  map[string]any // the JSON object printed, numbers as json.Number
	raw  []byte
}

// runScript runs testdata/<script> with env (and a fixed locale, so that
// non-ASCII passwords pass through the environment as UTF-8). A usage error
// (exit 2) or a crash fails the test: only 0 and 1 are verdicts.
func runScript(t testing.TB, env []string, script string, args ...string) pyResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{filepath.Join("testdata", script)}, args...)...)
	// A minimal environment: an outer SECRET, AUDIENCE or LEEWAY must not leak in.
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUTF8=1"}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := pyResult{raw: stdout.Bytes()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("%s: %v\nstderr: %s", script, err, stderr.Bytes())
	}
	if res.code != 0 && res.code != 1 {
		t.Fatalf("%s %q exited %d\nstdout: %s\nstderr: %s", script, args, res.code, stdout.Bytes(), stderr.Bytes())
	}
	if len(args) > 0 && args[0] == "--fixture" {
		return res // a JSON array, read by the caller
	}
	dec := json.NewDecoder(bytes.NewReader(res.raw))
	dec.UseNumber()
	if err := dec.Decode(&res.out); err != nil {
		t.Fatalf("%s printed no JSON object: %v\nstdout: %s\nstderr: %s", script, err, stdout.Bytes(), stderr.Bytes())
	}
	return res
}

// cheapHasher is the service's real hasher at a test cost.
func cheapHasher(t testing.TB) *password.Hasher {
	t.Helper()
	h, err := password.New(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// api is a running instance of the whole HTTP handler.
type api struct {
	url    string
	svc    *auth.Service
	hasher *password.Hasher
}

// startAPI serves httpapi.New over st and keys on a real clock (the Python
// verifiers check exp and iat against the real time), stopped when t ends.
// The service log is shown if the test fails.
func startAPI(t testing.TB, st store.DB, keys *token.Keys, hasher *password.Hasher) *api {
	t.Helper()
	logs := &logtest.Buffer{}
	log := logging.New(logs, slog.LevelDebug)
	svc := auth.New(st, keys, hasher, time.Now, auth.Params{AccessTTL: 5 * time.Minute, RefreshTTL: 24 * time.Hour}, log)
	h, err := httpapi.New(svc, httpapi.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		if t.Failed() {
			t.Logf("service log:\n%s", logs.String())
		}
	})
	return &api{url: srv.URL, svc: svc, hasher: hasher}
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (a *api) do(t testing.TB, method, path, body, bearer string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func jsonBody(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// tryLogin posts to /auth/token/ and returns the raw answer.
func (a *api) tryLogin(t testing.TB, email, pw string) response {
	t.Helper()
	return a.do(t, http.MethodPost, "/auth/token/", jsonBody(t, map[string]string{"email": email, "password": pw}), "")
}

// pair is the TokenPair body.
type pair struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// login logs in and fails the test unless it answers 200 with both tokens.
func (a *api) login(t testing.TB, email, pw string) pair {
	t.Helper()
	resp := a.tryLogin(t, email, pw)
	if resp.status != http.StatusOK {
		t.Fatalf("login %s: %d %s, want 200", email, resp.status, resp.body)
	}
	var p pair
	if err := json.Unmarshal(resp.body, &p); err != nil || p.Access == "" || p.Refresh == "" {
		t.Fatalf("login %s: body %s is not a token pair (%v)", email, resp.body, err)
	}
	return p
}

// me returns the id /auth/me/ reports for an access token.
func (a *api) me(t testing.TB, access string) int64 {
	t.Helper()
	resp := a.do(t, http.MethodGet, "/auth/me/", "", access)
	var body struct {
		ID int64 `json:"id"`
	}
	if resp.status != http.StatusOK || json.Unmarshal(resp.body, &body) != nil {
		t.Fatalf("GET /auth/me/: %d %s, want 200", resp.status, resp.body)
	}
	return body.ID
}

// segment decodes one of the first two parts of a JWT, without verifying it.
func segment(t testing.TB, jwt string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a compact JWS", jwt)
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("JWT segment %d: %v", i, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("JWT segment %d: %v", i, err)
	}
	return m
}

// withPayload re-encodes a token's payload with one claim changed and keeps
// the old signature: a forgery every verifier must reject.
func withPayload(t testing.TB, jwt, claim string, value any) string {
	t.Helper()
	claims := segment(t, jwt, 1)
	claims[claim] = value
	parts := strings.Split(jwt, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(jsonBody(t, claims)))
	return strings.Join(parts, ".")
}

// integer is how an id must appear in decoded JSON: an integer literal.
func integer(id int64) json.Number { return json.Number(strconv.FormatInt(id, 10)) }

// nested returns out[k1][k2]... or nil.
func nested(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// TestSimpleJWTAcceptsAccessTokens checks that Django services downstream,
// which authenticate with SimpleJWT's JWTStatelessUserAuthentication and the
// shared secret, accept the service's HS256 access tokens as the right user,
// and reject what they rejected before.
func TestSimpleJWTAcceptsAccessTokens(t *testing.T) {
	t.Parallel()
	requirePython(t)
	secret := rand.Text() + rand.Text() // 52 ASCII bytes, as a SECRET_KEY would be
	keys, err := token.NewHS256([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	verify := func(t *testing.T, secret, tok string) pyResult {
		t.Helper()
		return runScript(t, []string{"SECRET=" + secret}, "simplejwt_verify.py", tok)
	}
	wantAccepted := func(t *testing.T, what string, res pyResult, tok string, id int64) {
		t.Helper()
		if res.code != 0 {
			t.Fatalf("%s: SimpleJWT rejected it: %s", what, res.raw)
		}
		if res.out["user_id"] != integer(id) {
			t.Errorf("%s: SimpleJWT user_id = %#v, want the integer %d", what, res.out["user_id"], id)
		}
		if res.out["token_type"] != "access" {
			t.Errorf("%s: SimpleJWT token_type = %#v, want access", what, res.out["token_type"])
		}
		if jti := nested(res.out, "claims", "jti"); jti == nil || jti != segment(t, tok, 1)["jti"] {
			t.Errorf("%s: SimpleJWT saw jti %v, not the token's", what, jti)
		}
	}
	wantRejected := func(t *testing.T, what string, res pyResult) {
		t.Helper()
		if res.code != 1 || res.out["error"] != "InvalidToken" || nested(res.out, "detail", "code") != "token_not_valid" {
			t.Errorf("%s: SimpleJWT answered exit %d %s, want exit 1 InvalidToken token_not_valid", what, res.code, res.raw)
		}
	}

	// A pair issued through the API, kept for the negative controls, which do
	// not depend on the store.
	var (
		mu      sync.Mutex
		sample  pair
		sampleU int64
	)
	storetest.Each(t, func(t *testing.T, st store.DB) {
		ctx := context.Background()
		a := startAPI(t, st, keys, cheapHasher(t))

		// A shared secret is never published.
		if resp := a.do(t, http.MethodGet, "/auth/.well-known/jwks.json", "", ""); resp.status != http.StatusOK ||
			strings.TrimSpace(string(resp.body)) != `{"keys":[]}` {
			t.Errorf("JWKS in HS256 mode = %d %s, want 200 {\"keys\":[]}", resp.status, resp.body)
		}

		// The second of two users, so that a constant id would be caught, and a
		// migrated user whose id is past float64's exact integers, so that an id
		// written as a float would be caught.
		if _, err := a.svc.CreateUser(ctx, "first@example.com", "first-password", false, false); err != nil {
			t.Fatal(err)
		}
		second, err := a.svc.CreateUser(ctx, "second@example.com", "pässwörd-2", false, false)
		if err != nil {
			t.Fatal(err)
		}
		const bigID = 1<<53 + 1
		bigHash, err := a.hasher.Hash(ctx, "big-id-password")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.ImportUsers(ctx, []auth.User{{
			ID: bigID, Email: "big@example.com", PasswordHash: bigHash, IsActive: true, DateJoined: time.Now().UTC(),
		}}); err != nil {
			t.Fatal(err)
		}

		p := a.login(t, "second@example.com", "pässwörd-2")
		if got := a.me(t, p.Access); got != second.ID {
			t.Fatalf("/auth/me/ id = %d, want %d", got, second.ID)
		}
		wantAccepted(t, "access token", verify(t, secret, p.Access), p.Access, second.ID)

		big := a.login(t, "big@example.com", "big-id-password")
		wantAccepted(t, "access token of user 2^53+1", verify(t, secret, big.Access), big.Access, bigID)

		// An access token from a refresh works downstream too.
		resp := a.do(t, http.MethodPost, "/auth/token/refresh/", jsonBody(t, map[string]string{"refresh": p.Refresh}), "")
		var next pair
		if resp.status != http.StatusOK || json.Unmarshal(resp.body, &next) != nil {
			t.Fatalf("refresh: %d %s", resp.status, resp.body)
		}
		wantAccepted(t, "access token from a refresh", verify(t, secret, next.Access), next.Access, second.ID)

		mu.Lock()
		sample, sampleU = next, second.ID
		mu.Unlock()
	})
	if sample.Access == "" {
		t.Fatal("no store issued a token pair") // every store was skipped
	}

	// Negative controls: each must be refused exactly as SimpleJWT refuses it.
	wantRejected(t, "refresh token", verify(t, secret, sample.Refresh))
	wantRejected(t, "another secret", verify(t, secret+"x", sample.Access))
	wantRejected(t, "user_id changed without re-signing", verify(t, secret, withPayload(t, sample.Access, "user_id", sampleU+1)))
	expired, err := keys.Mint(token.Access, sampleU, "sid", time.Now().Add(-time.Hour), 5*time.Minute, token.Authz{})
	if err != nil {
		t.Fatal(err)
	}
	wantRejected(t, "expired access token", verify(t, secret, expired.Token))
	// The control for the control: the same minting, unexpired, is accepted.
	fresh, err := keys.Mint(token.Access, sampleU, "sid", time.Now(), 5*time.Minute, token.Authz{})
	if err != nil {
		t.Fatal(err)
	}
	wantAccepted(t, "minted access token", verify(t, secret, fresh.Token), fresh.Token, sampleU)
}

// jwksKey is the part of a published JWK the tests read.
type jwksKey struct {
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Kty string `json:"kty"`
	Use string `json:"use"`
}

// fetchJWKS downloads the key set, checks that it may be cached, writes it
// byte for byte to a file for PyJWT and returns the file and its keys.
func fetchJWKS(t *testing.T, a *api) (string, []jwksKey) {
	t.Helper()
	resp := a.do(t, http.MethodGet, "/auth/.well-known/jwks.json", "", "")
	if resp.status != http.StatusOK {
		t.Fatalf("GET jwks.json: %d %s", resp.status, resp.body)
	}
	cc := resp.header.Get("Cache-Control")
	if m := regexp.MustCompile(`(?:^|[ ,])max-age=([0-9]+)(?:$|[ ,])`).FindStringSubmatch(cc); m == nil || m[1] == "0" {
		t.Errorf("JWKS Cache-Control = %q, want a positive max-age", cc)
	}
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("JWKS Content-Type = %q, want application/json", ct)
	}
	var doc struct {
		Keys []jwksKey `json:"keys"`
	}
	if err := json.Unmarshal(resp.body, &doc); err != nil {
		t.Fatalf("JWKS %s: %v", resp.body, err)
	}
	file, err := os.CreateTemp(t.TempDir(), "jwks-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := file.Write(resp.body); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	return file.Name(), doc.Keys
}

// TestPyJWTVerifiesThroughJWKS checks that a relying party using PyJWT and
// only the published key set verifies the service's access tokens, for every
// asymmetric algorithm, and across a key rotation.
func TestPyJWTVerifiesThroughJWKS(t *testing.T) {
	t.Parallel()
	requirePython(t)
	for _, alg := range []string{token.ES256, token.EdDSA, token.RS256} {
		t.Run(alg, func(t *testing.T) {
			oldPEM, err := token.GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			newPEM, err := token.GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			oldKeys, err := token.NewAsymmetric(alg, [][]byte{oldPEM}, "")
			if err != nil {
				t.Fatal(err)
			}
			// After the rotation the new key signs and the old one only verifies.
			rotated, err := token.NewAsymmetric(alg, [][]byte{newPEM, oldPEM}, "")
			if err != nil {
				t.Fatal(err)
			}

			storetest.Each(t, func(t *testing.T, st store.DB) {
				ctx := context.Background()
				before := startAPI(t, st, oldKeys, cheapHasher(t))
				user, err := before.svc.CreateUser(ctx, "rp@example.com", "relying-party", false, false)
				if err != nil {
					t.Fatal(err)
				}
				pyjwt := func(jwksFile, tok string) pyResult {
					t.Helper()
					return runScript(t, nil, "pyjwt_jwks_verify.py", jwksFile, tok)
				}
				wantVerified := func(what string, res pyResult, kid string) {
					t.Helper()
					if res.code != 0 {
						t.Fatalf("%s: PyJWT rejected it: %s", what, res.raw)
					}
					if res.out["kid"] != kid || res.out["alg"] != alg {
						t.Errorf("%s: PyJWT used kid %v alg %v, want %s %s", what, res.out["kid"], res.out["alg"], kid, alg)
					}
					if got := nested(res.out, "claims", "user_id"); got != integer(user.ID) {
						t.Errorf("%s: PyJWT claims.user_id = %#v, want %d", what, got, user.ID)
					}
					if got := nested(res.out, "claims", "token_type"); got != "access" {
						t.Errorf("%s: token_type = %v, want access", what, got)
					}
				}
				wantRefused := func(what string, res pyResult, errName string) {
					t.Helper()
					if res.code != 1 || res.out["error"] != errName {
						t.Errorf("%s: PyJWT answered exit %d %s, want exit 1 %s", what, res.code, res.raw, errName)
					}
				}

				oldFile, oldSet := fetchJWKS(t, before)
				if len(oldSet) != 1 || oldSet[0].Alg != alg || oldSet[0].Use != "sig" || oldSet[0].Kid == "" {
					t.Fatalf("JWKS before rotation = %+v, want one %s signing key with a kid", oldSet, alg)
				}
				oldKid := oldSet[0].Kid
				oldToken := before.login(t, "rp@example.com", "relying-party")
				if h := segment(t, oldToken.Access, 0); h["alg"] != alg || h["kid"] != oldKid {
					t.Fatalf("token header = %v, want alg %s kid %s", h, alg, oldKid)
				}
				wantVerified("access token", pyjwt(oldFile, oldToken.Access), oldKid)

				wantRefused("user_id changed without re-signing", pyjwt(oldFile, withPayload(t, oldToken.Access, "user_id", user.ID+1)), "InvalidSignatureError")
				expired, err := oldKeys.Mint(token.Access, user.ID, "sid", time.Now().Add(-time.Hour), 5*time.Minute, token.Authz{})
				if err != nil {
					t.Fatal(err)
				}
				wantRefused("expired access token", pyjwt(oldFile, expired.Token), "ExpiredSignatureError")

				// Rotation: the same store, served with [new, old].
				after := startAPI(t, st, rotated, cheapHasher(t))
				newFile, newSet := fetchJWKS(t, after)
				if len(newSet) != 2 || newSet[1].Kid != oldKid || newSet[0].Kid == oldKid || newSet[0].Alg != alg || newSet[1].Alg != alg {
					t.Fatalf("JWKS after rotation = %+v, want the new key then the old one (%s)", newSet, oldKid)
				}
				newKid := newSet[0].Kid
				wantVerified("token of the old key, new JWKS", pyjwt(newFile, oldToken.Access), oldKid)
				if got := after.me(t, oldToken.Access); got != user.ID {
					t.Errorf("the rotated service accepted the old token as user %d, want %d", got, user.ID)
				}
				newToken := after.login(t, "rp@example.com", "relying-party")
				if kid := segment(t, newToken.Access, 0)["kid"]; kid != newKid {
					t.Fatalf("new token kid = %v, want the new key's %s", kid, newKid)
				}
				wantVerified("token of the new key", pyjwt(newFile, newToken.Access), newKid)
				// A relying party still holding the old set cannot know the new key:
				// why the new key must be published before it signs.
				wantRefused("token of the new key, old JWKS", pyjwt(oldFile, newToken.Access), "UnknownKid")
			})
		})
	}
}

// djangoFormats are the hash formats django_hashes.py --fixture cycles
// through, in order (user i has format (i-1) mod 5), with the prefix each
// Django hash must have.
var djangoFormats = []struct{ name, prefix string }{
	{"pbkdf2_sha256", "pbkdf2_sha256$260000$"},
	{"argon2", "argon2$argon2id$v=19$m=102400,t=2,p=8$"},
	{"bcrypt_sha256", "bcrypt_sha256$$2b$12$"},
	{"bcrypt", "bcrypt$$2b$12$"},
	{"pbkdf2_sha256_low_iter", "pbkdf2_sha256$1000$"},
}

// djangoFixture runs Django's real dumpdata over users whose password is pw,
// one per format, and checks that the file holds what the tests assume.
func djangoFixture(t *testing.T, pw string) ([]byte, []auth.User) {
	t.Helper()
	res := runScript(t, []string{"PASSWORD=" + pw}, "django_hashes.py", "--fixture", strconv.Itoa(len(djangoFormats)), "--indent", "2")
	if res.code != 0 {
		t.Fatalf("django_hashes.py --fixture: exit %d %s", res.code, res.raw)
	}
	users, err := userimport.Parse(bytes.NewReader(res.raw))
	if err != nil {
		t.Fatalf("userimport.Parse of Django's dumpdata: %v\n%s", err, res.raw)
	}
	if len(users) != len(djangoFormats) {
		t.Fatalf("fixture has %d users, want %d", len(users), len(djangoFormats))
	}
	for i, u := range users {
		f := djangoFormats[i]
		if u.ID != int64(i+1) || u.Email != "user"+strconv.Itoa(i+1)+"@example.com" || !u.IsActive ||
			!strings.HasPrefix(u.PasswordHash, f.prefix) {
			t.Fatalf("fixture user %d = %+v, want pk %d with a %s hash (%s...)", i, u, i+1, f.name, f.prefix)
		}
	}
	return res.raw, users
}

// TestDjangoHashesAreAcceptedAndUpgraded imports users whose hashes Django
// made, logs each in through the API, and checks that the hash is upgraded to
// the service's argon2id on the first good login and only then.
func TestDjangoHashesAreAcceptedAndUpgraded(t *testing.T) {
	t.Parallel()
	requirePython(t)
	const pw = "Tr0ub4dor & ünïcødé ☃" // non-ASCII: every format hashes the UTF-8 bytes
	fixture, _ := djangoFixture(t, pw)

	storetest.Each(t, func(t *testing.T, st store.DB) {
		t.Parallel() // the stores share nothing; Django's bcrypt costs seconds under -race
		ctx := context.Background()
		a := startAPI(t, st, mustHS256(t), cheapHasher(t))
		users, err := userimport.Parse(bytes.NewReader(fixture))
		if err != nil {
			t.Fatal(err)
		}
		res, err := a.svc.ImportUsers(ctx, users)
		if err != nil || res != (auth.ImportResult{Created: len(users)}) {
			t.Fatalf("first import = %+v, %v; want Created %d", res, err, len(users))
		}
		stored := func(t *testing.T, email string) string {
			t.Helper()
			u, err := st.UserByEmail(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			return u.PasswordHash
		}

		var wrongBody []byte
		upgraded := map[string]string{}
		for i, u := range users {
			t.Run(djangoFormats[i].name, func(t *testing.T) {
				if got := stored(t, u.Email); got != u.PasswordHash {
					t.Fatalf("imported hash = %q, want Django's %q", got, u.PasswordHash)
				}
				// One wrong password (the last character dropped): under -race a
				// cost-12 bcrypt takes seconds. The empty one never reaches a hasher.
				for _, wrong := range []string{string([]rune(pw)[:len([]rune(pw))-1]), ""} {
					resp := a.tryLogin(t, u.Email, wrong)
					if wrong == "" {
						// Not a login attempt at all: the validator refuses it.
						if resp.status != http.StatusBadRequest {
							t.Errorf("empty password: %d %s, want 400", resp.status, resp.body)
						}
						continue
					}
					wantNoActiveAccount(t, "wrong password "+strconv.Quote(wrong), resp)
					wrongBody = resp.body
				}
				if got := stored(t, u.Email); got != u.PasswordHash {
					t.Fatalf("a failed login changed the hash to %q", got)
				}

				p := a.login(t, u.Email, pw)
				if got := a.me(t, p.Access); got != u.ID {
					t.Errorf("/auth/me/ id = %d, want %d", got, u.ID)
				}
				fresh := stored(t, u.Email)
				if !strings.HasPrefix(fresh, "$argon2id$v=19$m=64,t=1,p=1$") {
					t.Fatalf("after the first login the hash is %q, want the service's argon2id", fresh)
				}
				if ok, rehash, err := a.hasher.Verify(context.Background(), pw, fresh); !ok || rehash || err != nil {
					t.Fatalf("the upgraded hash does not verify the password (ok %v, rehash %v)", ok, rehash)
				}
				upgraded[u.Email] = fresh

				// The second login is checked by argon2id, and upgrades nothing.
				a.login(t, u.Email, pw)
				wantNoActiveAccount(t, "wrong password after the upgrade", a.tryLogin(t, u.Email, pw+"x"))
				if got := stored(t, u.Email); got != fresh {
					t.Errorf("the hash changed again to %q", got)
				}
				if u2, err := st.UserByEmail(ctx, u.Email); err != nil || u2.LastLogin == nil || time.Since(*u2.LastLogin) > time.Minute {
					t.Errorf("last_login after login = %v (%v), want about now", u2.LastLogin, err)
				}
			})
		}

		t.Run("reimport", func(t *testing.T) {
			again, err := userimport.Parse(bytes.NewReader(fixture))
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.svc.ImportUsers(ctx, again)
			if err != nil || res != (auth.ImportResult{Unchanged: len(again)}) {
				t.Fatalf("second import = %+v, %v; want Created 0, Unchanged %d", res, err, len(again))
			}
			for _, u := range again {
				if got := stored(t, u.Email); got != upgraded[u.Email] {
					t.Errorf("%s: the re-import changed the hash to %q, want the upgraded %q", u.Email, got, upgraded[u.Email])
				}
				a.login(t, u.Email, pw)
			}
		})

		t.Run("unknown formats", func(t *testing.T) {
			if wrongBody == nil {
				t.Fatal("no wrong-password body to compare with")
			}
			hashes := []string{
				"md5$abc$def",
				"!" + strings.Repeat("x", 40), // Django's set_unusable_password
				"!",
				"sha1$salt$" + strings.Repeat("0", 40),
				"unsalted_md5$" + strings.Repeat("0", 32),
				"crypt$$abN/lHy5IYpo",
				"pbkdf2_sha1$260000$salt$" + strings.Repeat("A", 28),
				"scrypt$16384$salt$8$1$" + strings.Repeat("A", 88),
				// Known prefixes with broken or hostile contents.
				"pbkdf2_sha256$260000$salt",
				"pbkdf2_sha256$999999999999$salt$" + strings.Repeat("A", 43) + "=",
				"pbkdf2_sha256$-1$salt$" + strings.Repeat("A", 43) + "=",
				"argon2$argon2id$v=19$m=4194305,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 22),
				"argon2$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 22),
				"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
				"bcrypt$$2b$12$short",
				"bcrypt_sha256$",
			}
			var users []auth.User
			for i, h := range hashes {
				users = append(users, auth.User{
					ID: int64(100 + i), Email: "unknown" + strconv.Itoa(i) + "@example.com", PasswordHash: h,
					IsActive: true, DateJoined: time.Now().UTC(),
				})
			}
			if _, err := a.svc.ImportUsers(ctx, users); err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				for _, try := range []string{pw, "abc", "def", strings.Repeat("x", 40)} {
					resp := a.tryLogin(t, u.Email, try)
					wantNoActiveAccount(t, "hash "+strconv.Quote(u.PasswordHash), resp)
					if !bytes.Equal(resp.body, wrongBody) {
						t.Errorf("hash %q: body %s differs from a wrong password's %s", u.PasswordHash, resp.body, wrongBody)
					}
				}
				if got := stored(t, u.Email); got != u.PasswordHash {
					t.Errorf("hash %q was replaced by %q", u.PasswordHash, got)
				}
			}
			if resp := a.tryLogin(t, "nobody@example.com", pw); !bytes.Equal(resp.body, wrongBody) || resp.status != http.StatusUnauthorized {
				t.Errorf("unknown email: %d %s, want the wrong-password answer %s", resp.status, resp.body, wrongBody)
			}
		})
	})
}

// TestDjangoBcryptLongPasswords pins the 72-byte edge against Django itself:
// plain bcrypt reads only the first 72 bytes of the password, every other
// format reads them all. The service must agree with Django's check_password
// on a password that differs from the real one only after byte 72.
func TestDjangoBcryptLongPasswords(t *testing.T) {
	t.Parallel()
	requirePython(t)
	pw := strings.Repeat("ü", 36) + "-tail-one" // 72 bytes of ü, then the tail
	near := pw[:72] + "-tail-two"
	fixture, users := djangoFixture(t, pw)

	// Django's verdict on the near miss, per format.
	djangoAccepts := make([]bool, len(users))
	for i, u := range users {
		res := runScript(t, []string{"PASSWORD=" + near}, "django_hashes.py", "--check", u.PasswordHash)
		djangoAccepts[i] = res.code == 0
		if want := djangoFormats[i].name == "bcrypt"; djangoAccepts[i] != want {
			t.Fatalf("%s: Django check_password(near miss) = %v, want %v: %s", djangoFormats[i].name, djangoAccepts[i], want, res.raw)
		}
	}

	// One store is enough here: this pins the hashers against Django, and
	// TestDjangoHashesAreAcceptedAndUpgraded covers import and upgrade on both.
	st := storetest.Open(t, "sqlite")
	{
		ctx := context.Background()
		a := startAPI(t, st, mustHS256(t), cheapHasher(t))
		users, err := userimport.Parse(bytes.NewReader(fixture))
		if err != nil {
			t.Fatal(err)
		}
		// A second user with the plain bcrypt hash logs in with the near miss,
		// so that the first one can still log in with the real password.
		twin := users[3]
		twin.ID, twin.Email = 99, "twin@example.com"
		if _, err := a.svc.ImportUsers(ctx, append(users, twin)); err != nil {
			t.Fatal(err)
		}
		for i, u := range users {
			t.Run(djangoFormats[i].name, func(t *testing.T) {
				if djangoAccepts[i] {
					a.login(t, twin.Email, near)
				} else {
					wantNoActiveAccount(t, "near miss", a.tryLogin(t, u.Email, near))
				}
				a.login(t, u.Email, pw)
				a.login(t, u.Email, pw) // now argon2id, which reads every byte
				wantNoActiveAccount(t, "near miss after the upgrade", a.tryLogin(t, u.Email, near))
			})
		}
	}
}

func wantNoActiveAccount(t *testing.T, what string, resp response) {
	t.Helper()
	var body struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if resp.status != http.StatusUnauthorized || json.Unmarshal(resp.body, &body) != nil || body.Code != "no_active_account" ||
		body.Detail != "No active account found with the given credentials" {
		t.Errorf("%s: %d %s, want 401 no_active_account", what, resp.status, resp.body)
	}
	if got := resp.header.Get("WWW-Authenticate"); got == "" {
		t.Errorf("%s: a 401 without WWW-Authenticate", what)
	}
}

func mustHS256(t testing.TB) *token.Keys {
	t.Helper()
	keys, err := token.NewHS256([]byte(rand.Text() + rand.Text()))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
