package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

// call runs one command and returns what it printed on stdout (its result;
// the log goes to stderr, shown if the command fails).
func call(t *testing.T, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	var out, log bytes.Buffer
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &log)
	if err != nil {
		t.Logf("%q: %v\nstderr: %s", args, err, log.String())
	}
	return out.String(), err
}

// postJSON posts to a served instance and decodes the answer.
func postJSON(t *testing.T, url string, body map[string]string) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cmd-test/1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func getMe(t *testing.T, base, access string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/auth/me/", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWeakConfigurationIsRefused(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "a.db")
	cases := map[string]struct {
		env  func(string) string
		want string
	}{
		"32 × a":                {envMap("AUTH_DATABASE_URL", db, "AUTH_SECRET_KEY", strings.Repeat("a", 32)), "AUTH_SECRET_KEY"},
		"a placeholder":         {envMap("AUTH_DATABASE_URL", db, "AUTH_SECRET_KEY", strings.Repeat("changeme", 4)), "AUTH_SECRET_KEY"},
		"Django's insecure key": {envMap("AUTH_DATABASE_URL", db, "AUTH_SECRET_KEY", "django-insecure-7#x!q2@w9$e5^r8&t1*y4(u6)i3-o0+p=a"), "AUTH_SECRET_KEY"},
		"a weak previous secret": {envMap("AUTH_DATABASE_URL", db, "AUTH_SECRET_KEY", testSecret,
			"AUTH_SECRET_KEY_PREVIOUS", strings.Repeat("b", 40)), "AUTH_SECRET_KEY_PREVIOUS"},
		"reuse interval 24h":    {envMap("AUTH_DATABASE_URL", db, "AUTH_SECRET_KEY", testSecret, "AUTH_REFRESH_REUSE_INTERVAL", "24h"), "AUTH_REFRESH_REUSE_INTERVAL"},
		"access TTL of a day":   {envMap("AUTH_DATABASE_URL", db, "AUTH_SECRET_KEY", testSecret, "AUTH_ACCESS_TOKEN_TTL", "24h", "AUTH_REFRESH_TOKEN_TTL", "48h"), "AUTH_ACCESS_TOKEN_TTL"},
		"refresh TTL of a year": {envMap("AUTH_DATABASE_URL", db, "AUTH_SECRET_KEY", testSecret, "AUTH_REFRESH_TOKEN_TTL", "365d"), "AUTH_REFRESH_TOKEN_TTL"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, cmd := range []string{"serve", "migrate"} {
				if _, err := call(t, c.env, cmd); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("%s: err = %v, want one naming %s", cmd, err, c.want)
				}
			}
		})
	}
}

func TestKeygenOut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.pem")
	out, err := call(t, envMap(), "keygen", "--alg", "ES256", "--out", path)
	if err != nil {
		t.Fatalf("keygen --out: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	pem, _ := os.ReadFile(path)
	keys, err := token.NewAsymmetric(token.ES256, [][]byte{pem}, "")
	if err != nil {
		t.Fatalf("keygen --out wrote an unusable key: %v", err)
	}
	if kid := keys.JWKS()[0].Kid; !strings.Contains(out, kid) || strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("output %q: want the kid %s and no key", out, kid)
	}
	if _, err := call(t, envMap(), "keygen", "--alg", "ES256", "--out", path); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("keygen over an existing file: %v, want a refusal", err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, pem) {
		t.Error("an existing key file was overwritten")
	}

	// An empty file (mktemp's) holds no key: it is replaced, mode 0600.
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, envMap(), "keygen", "--alg", "ES256", "--out", empty); err != nil {
		t.Fatalf("keygen --out an empty file: %v", err)
	}
	if info, err := os.Stat(empty); err != nil || info.Mode().Perm() != 0o600 || info.Size() == 0 {
		t.Errorf("the empty file after keygen: %v, %v", info, err)
	}
}

// serve signs with the key AUTH_JWT_SIGNING_KEY_ID names, publishes every
// key, records them in the audit trail, and warns about a private key file
// others can read.
func TestServeKeysAndTheirRecord(t *testing.T) {
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "old.pem"), filepath.Join(dir, "new.pem")
	for _, p := range []string{oldPath, newPath} {
		if _, err := call(t, envMap(), "keygen", "--alg", "ES256", "--out", p); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(oldPath, 0o644); err != nil {
		t.Fatal(err)
	}
	newPEM, _ := os.ReadFile(newPath)
	newKeys, _ := token.NewAsymmetric(token.ES256, [][]byte{newPEM}, "")
	newKid := newKeys.JWKS()[0].Kid

	addr := freeAddr(t)
	db := "sqlite:" + filepath.Join(dir, "auth.db")
	getenv := envMap("AUTH_DATABASE_URL", db, "AUTH_LISTEN_ADDR", addr, "AUTH_JWT_ALGORITHM", "ES256",
		"AUTH_JWT_PRIVATE_KEYS", oldPath+","+newPath, "AUTH_JWT_SIGNING_KEY_ID", newKid, "AUTH_JWKS_MAX_AGE", "90s",
		"AUTH_SUPERUSER_PASSWORD", "a-long-password")
	if _, err := call(t, getenv, "createsuperuser", "--email", "k@example.com", "--noinput"); err != nil {
		t.Fatal(err)
	}
	stop, logs := startServe(t, getenv, addr)
	status, pair := postJSON(t, "http://"+addr+"/auth/token/", map[string]string{"email": "k@example.com", "password": "a-long-password"})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, pair)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(pair["access"].(string), ".")[0])
	if !strings.Contains(string(header), newKid) {
		t.Errorf("token header %s: want the selected kid %s", header, newKid)
	}
	resp, err := http.Get("http://" + addr + "/auth/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []map[string]string }
	_ = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) != 2 || resp.Header.Get("Cache-Control") != "public, max-age=90" {
		t.Errorf("JWKS: %d keys, Cache-Control %q; want both keys, max-age=90", len(set.Keys), resp.Header.Get("Cache-Control"))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "readable by group or others") || !strings.Contains(logs.String(), oldPath) {
		t.Errorf("no warning about the 0644 key file:\n%s", logs)
	}
	if strings.Count(logs.String(), "readable by group or others") != 1 {
		t.Errorf("the 0600 key file was warned about too:\n%s", logs)
	}

	out, err := call(t, getenv, "audit", "--json")
	if err != nil {
		t.Fatalf("audit: %v\n%s", err, out)
	}
	var loaded []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev["kind"] == "key_loaded" {
			loaded = append(loaded, ev["detail"].(string))
		}
	}
	if len(loaded) != 2 || !strings.Contains(strings.Join(loaded, " "), "kid="+newKid+" alg=ES256 use=signing") {
		t.Errorf("key_loaded events %q", loaded)
	}
	if strings.Contains(out, "PRIVATE") || strings.Contains(out, string(newPEM[30:60])) {
		t.Error("the audit trail holds key material")
	}

	// A kid that is not loaded stops start-up, naming the variable.
	bad := envMap("AUTH_DATABASE_URL", db, "AUTH_LISTEN_ADDR", addr, "AUTH_JWT_ALGORITHM", "ES256",
		"AUTH_JWT_PRIVATE_KEYS", oldPath, "AUTH_JWT_SIGNING_KEY_ID", newKid)
	if _, err := call(t, bad, "serve"); err == nil || !strings.Contains(err.Error(), "AUTH_JWT_SIGNING_KEY_ID") {
		t.Errorf("an unknown signing kid: %v", err)
	}
}

// The HS256 secret rotates without ending sessions: tokens of the previous
// secret keep working while it is listed in AUTH_SECRET_KEY_PREVIOUS, and
// stop when it is dropped.
func TestHS256SecretRotation(t *testing.T) {
	const next = "the-next-secret-0123456789-ABCDEFGHIJKLMNOP"
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			addr := freeAddr(t)
			base := "http://" + addr
			db := storetest.URL(t, kind)
			common := []string{"AUTH_DATABASE_URL", db, "AUTH_LISTEN_ADDR", addr, "AUTH_MIGRATE_ON_START", "true", "AUTH_SUPERUSER_PASSWORD", "a-long-password"}
			with := func(kv ...string) func(string) string { return envMap(append(append([]string{}, common...), kv...)...) }
			before := with("AUTH_SECRET_KEY", testSecret)
			if _, err := call(t, before, "createsuperuser", "--email", "r@example.com", "--noinput"); err != nil {
				t.Fatal(err)
			}
			stop, _ := startServe(t, before, addr)
			_, old := postJSON(t, base+"/auth/token/", map[string]string{"email": "r@example.com", "password": "a-long-password"})
			_ = stop()

			during := with("AUTH_SECRET_KEY", next, "AUTH_SECRET_KEY_PREVIOUS", testSecret)
			stop, _ = startServe(t, during, addr)
			if s := getMe(t, base, old["access"].(string)); s != http.StatusOK {
				t.Errorf("an access token of the previous secret: %d", s)
			}
			status, fresh := postJSON(t, base+"/auth/token/refresh/", map[string]string{"refresh": old["refresh"].(string)})
			if status != http.StatusOK {
				t.Fatalf("a refresh token of the previous secret: %d %v", status, fresh)
			}
			nextOnly, err := token.NewHS256([]byte(next))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := nextOnly.Parse(fresh["access"].(string), time.Now()); err != nil {
				t.Errorf("a new token is not signed with the new secret: %v", err)
			}
			_ = stop()

			after := with("AUTH_SECRET_KEY", next)
			startServe(t, after, addr)
			if s := getMe(t, base, old["access"].(string)); s != http.StatusUnauthorized {
				t.Errorf("a token of a dropped secret: %d, want 401", s)
			}
			if s := getMe(t, base, fresh["access"].(string)); s != http.StatusOK {
				t.Errorf("a token of the new secret: %d", s)
			}
		})
	}
}

// serve holds tokens to the claims policy it is configured with: issuer and
// audience minted and required, lifetimes no longer than the TTLs.
func TestServeAppliesTheClaimsPolicy(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	getenv := envMap("AUTH_DATABASE_URL", "sqlite:"+filepath.Join(dir, "auth.db"), "AUTH_LISTEN_ADDR", addr,
		"AUTH_SECRET_KEY", testSecret, "AUTH_JWT_ISSUER", "https://auth.example", "AUTH_JWT_AUDIENCE", "shop",
		"AUTH_SUPERUSER_PASSWORD", "a-long-password")
	if _, err := call(t, getenv, "createsuperuser", "--email", "p@example.com", "--noinput"); err != nil {
		t.Fatal(err)
	}
	startServe(t, getenv, addr)
	_, pair := postJSON(t, base+"/auth/token/", map[string]string{"email": "p@example.com", "password": "a-long-password"})
	c := claimsOf(t, pair["access"].(string))
	if c["iss"] != "https://auth.example" || c["aud"] == nil {
		t.Errorf("claims %v lack the configured iss and aud", c)
	}
	holder, _ := token.NewHS256([]byte(testSecret))
	for name, pol := range map[string]token.Policy{
		"without iss and aud":          {},
		"valid for a day, iss and aud": {Issuer: "https://auth.example", Audience: "shop"},
	} {
		ttl := time.Minute
		if pol.Issuer != "" {
			ttl = 24 * time.Hour
		}
		tok, err := holder.WithPolicy(pol).Mint(token.Access, int64(c["user_id"].(float64)), c["sid"].(string), time.Now(), ttl, token.Authz{})
		if err != nil {
			t.Fatal(err)
		}
		if s := getMe(t, base, tok.Token); s != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, s)
		}
	}
	if s := getMe(t, base, pair["access"].(string)); s != http.StatusOK {
		t.Errorf("the service's own token: %d", s)
	}
}

// audit prints the trail of an address, in a table or as JSON lines.
func TestAuditCommand(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			addr := freeAddr(t)
			base := "http://" + addr
			getenv := envMap("AUTH_DATABASE_URL", storetest.URL(t, kind), "AUTH_LISTEN_ADDR", addr, "AUTH_SECRET_KEY", testSecret,
				"AUTH_MIGRATE_ON_START", "true", "AUTH_SUPERUSER_PASSWORD", "a-long-password")
			if _, err := call(t, getenv, "createsuperuser", "--email", "Audit@Example.com", "--noinput"); err != nil {
				t.Fatal(err)
			}
			startServe(t, getenv, addr)
			postJSON(t, base+"/auth/token/", map[string]string{"email": "AUDIT@example.com", "password": "not-the-password"})
			postJSON(t, base+"/auth/token/", map[string]string{"email": "stranger@example.com", "password": "guess"})
			if s, _ := postJSON(t, base+"/auth/token/", map[string]string{"email": "audit@example.com", "password": "a-long-password"}); s != http.StatusOK {
				t.Fatalf("login: %d", s)
			}

			out, err := call(t, getenv, "audit", "--email", "audit@EXAMPLE.com", "--json")
			if err != nil {
				t.Fatalf("audit: %v\n%s", err, out)
			}
			var events []map[string]any
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var ev map[string]any
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("not a JSON line: %q", line)
				}
				events = append(events, ev)
			}
			// createsuperuser's account_created comes first (last, newest first).
			if len(events) != 3 || events[0]["kind"] != "login_succeeded" || events[1]["kind"] != "login_failed" ||
				events[2]["kind"] != "account_created" || events[2]["detail"] != "admin" {
				t.Fatalf("events of the address, newest first: %v", events)
			}
			failed := events[1]
			if failed["email_typed"] != "AUDIT@example.com" || failed["client_address"] != "127.0.0.1" ||
				failed["user_agent"] != "cmd-test/1.0" || failed["request_id"] == nil || failed["user_email"] != "Audit@Example.com" {
				t.Errorf("failed login event %v", failed)
			}
			if strings.Contains(out, "not-the-password") || strings.Contains(out, "a-long-password") {
				t.Error("a password reached the audit trail")
			}

			table, err := call(t, getenv, "audit", "--since", "1d")
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"TIME", "login_failed", "stranger@example.com", "login_succeeded", "key_loaded", "alg=HS256"} {
				if !strings.Contains(table, want) {
					t.Errorf("audit table lacks %q:\n%s", want, table)
				}
			}
			if empty, _ := call(t, getenv, "audit", "--email", "nobody@example.com"); !strings.Contains(empty, "(no events)") {
				t.Errorf("audit of an unknown address:\n%s", empty)
			}
			for _, args := range [][]string{{"audit", "--since", "yesterday"}, {"audit", "--since", "-1h"}, {"audit", "--limit", "0"}, {"audit", "stray"}} {
				if _, err := call(t, getenv, args...); err == nil {
					t.Errorf("%q succeeded", args)
				}
			}
		})
	}
}
