package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/logtest"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/token"
)

const testSecret = "a-test-secret-of-sixteen-distinct-bytes-or-more"

// envMap is an injected environment.
func envMap(kv ...string) func(string) string {
	m := map[string]string{
		// Cheap hashing keeps the tests fast, and so does stopping without
		// the drain (drain_test.go sets one).
		"AUTH_ARGON2_MEMORY_KIB": "64", "AUTH_ARGON2_ITERATIONS": "1", "AUTH_SHUTDOWN_DRAIN": "0s",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `serve` until the test ends and waits until it answers.
func startServe(t *testing.T, getenv func(string) string, addr string) (stop func() error, logs *logtest.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &logtest.Buffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, strings.NewReader(""), logs, logs) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/auth/health/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\n%s", err, logs)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not answer at %s\n%s", addr, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop, logs
}

func TestServeOnEmbeddedDefaultAndShutDownGracefully(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the embedded default lives in the working directory
	db := filepath.Join(dir, "auth-service.db")
	addr := freeAddr(t)
	getenv := envMap("AUTH_LISTEN_ADDR", addr)
	stop, logs := startServe(t, getenv, addr)

	var out bytes.Buffer
	if err := run(context.Background(), []string{"healthcheck"}, getenv, nil, &out, &out); err != nil {
		t.Fatalf("healthcheck against a running server: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve did not shut down cleanly: %v", err)
	}
	if err := run(context.Background(), []string{"healthcheck"}, getenv, nil, &out, &out); err == nil {
		t.Fatal("healthcheck passed with no server running")
	}
	secretFile := db + ".secret_key"
	info, err := os.Stat(secretFile)
	if err != nil {
		t.Fatalf("no generated secret beside the database: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode = %v, want 0600", info.Mode().Perm())
	}
	if info, err := os.Stat(db); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("database file: %v, mode %v; want 0600 (it holds password hashes)", err, info.Mode().Perm())
	}
	for _, want := range []string{`"msg":"listening"`, "embedded SQLite", `"level":"WARN"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	secret, _ := os.ReadFile(secretFile)
	if strings.Contains(logs.String(), string(secret)) {
		t.Error("the generated secret reached the log")
	}

	// A restart keeps the same secret, so earlier tokens stay valid.
	startServe(t, getenv, addr)
	again, _ := os.ReadFile(secretFile)
	if !bytes.Equal(secret, again) {
		t.Error("the generated secret changed across restarts")
	}
}

func TestStartupFailsClosed(t *testing.T) {
	pg := "postgres://postgres@127.0.0.1:1/none?sslmode=disable" // never contacted: config fails first
	cases := map[string]struct {
		env  func(string) string
		want string
	}{
		"postgres without secret": {envMap("AUTH_DATABASE_URL", pg), "AUTH_SECRET_KEY"},
		"postgres short secret":   {envMap("AUTH_DATABASE_URL", pg, "AUTH_SECRET_KEY", "short"), "AUTH_SECRET_KEY"},
		"sqlite short secret":     {envMap("AUTH_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "a.db"), "AUTH_SECRET_KEY", "short"), "AUTH_SECRET_KEY"},
		"named sqlite no secret":  {envMap("AUTH_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "d.db")), "AUTH_SECRET_KEY"},
		"bad ttl":                 {envMap("AUTH_ACCESS_TOKEN_TTL", "five minutes"), "AUTH_ACCESS_TOKEN_TTL"},
		"bad listen address":      {envMap("AUTH_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "b.db"), "AUTH_SECRET_KEY", testSecret, "AUTH_LISTEN_ADDR", "not-an-address"), "AUTH_LISTEN_ADDR"},
		"es256 without keys":      {envMap("AUTH_JWT_ALGORITHM", "ES256"), "AUTH_JWT_PRIVATE_KEYS"},
		"missing key file":        {envMap("AUTH_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "c.db"), "AUTH_JWT_ALGORITHM", "ES256", "AUTH_JWT_PRIVATE_KEYS", "/nonexistent.pem"), "AUTH_JWT_PRIVATE_KEYS"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), []string{"serve"}, c.env, nil, &out, &out)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one naming %s", err, c.want)
			}
		})
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			getenv := envMap("AUTH_DATABASE_URL", storetest.URL(t, kind), "AUTH_SECRET_KEY", testSecret)
			for i := 0; i < 2; i++ {
				var out bytes.Buffer
				if err := run(context.Background(), []string{"migrate"}, getenv, nil, &out, &out); err != nil {
					t.Fatalf("migrate run %d: %v\n%s", i+1, err, out.String())
				}
			}
		})
	}
}

func TestCreateSuperuser(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			url := storetest.URL(t, kind)
			base := []string{"AUTH_DATABASE_URL", url, "AUTH_SECRET_KEY", testSecret, "AUTH_MIGRATE_ON_START", "true"}
			cmd := func(stdin string, env []string, args ...string) (string, error) {
				var out bytes.Buffer
				err := run(context.Background(), append([]string{"createsuperuser"}, args...), envMap(append(base, env...)...), strings.NewReader(stdin), &out, &out)
				return out.String(), err
			}
			out, err := cmd("", []string{"AUTH_SUPERUSER_PASSWORD", "s3cret-pass-9471"}, "--email", "Admin@Example.com", "--noinput")
			if err != nil || !strings.Contains(out, "Superuser created") {
				t.Fatalf("--noinput: %v\n%s", err, out)
			}
			if strings.Contains(out, "s3cret-pass") {
				t.Error("the password was printed")
			}
			// The password policy applies, unless --force-weak.
			for pw, why := range map[string]string{"pw-12345": "too short", "password-123456": "too common", "weak-admin-pass": "name part"} {
				if _, err := cmd("", []string{"AUTH_SUPERUSER_PASSWORD", pw}, "--email", "weak-admin@example.com", "--noinput"); err == nil || !strings.Contains(err.Error(), why) {
					t.Errorf("password %q: err = %v, want a refusal saying %q", pw, err, why)
				}
			}
			if out, err := cmd("", []string{"AUTH_SUPERUSER_PASSWORD", "pw-12345"}, "--email", "weak-admin@example.com", "--noinput", "--force-weak"); err != nil {
				t.Errorf("--force-weak: %v\n%s", err, out)
			}
			if _, err := cmd("", []string{"AUTH_SUPERUSER_PASSWORD", "s3cret-pass-9471"}, "--email", "admin@example.com", "--noinput"); err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("duplicate email (other case): err = %v", err)
			}
			if _, err := cmd("", nil, "--email", "x@example.com", "--noinput"); err == nil {
				t.Error("--noinput without AUTH_SUPERUSER_PASSWORD succeeded")
			}
			if _, err := cmd("", []string{"AUTH_SUPERUSER_PASSWORD", "short"}, "--email", "y@example.com", "--noinput"); err == nil {
				t.Error("a 5-character password was accepted")
			}
			// Prompted: stdin is not a terminal here, so answers are read as lines.
			out, err = cmd("ops@example.com\nlong-enough-pw\nlong-enough-pw\n", nil)
			if err != nil || !strings.Contains(out, "ops@example.com") {
				t.Fatalf("prompted: %v\n%s", err, out)
			}
			if _, err := cmd("z@example.com\nlong-enough-pw\ndifferent-pw\n", nil); err == nil || !strings.Contains(err.Error(), "do not match") {
				t.Errorf("mismatched passwords: err = %v", err)
			}
		})
	}
}

func TestKeygen(t *testing.T) {
	for _, alg := range []string{token.ES256, token.EdDSA, token.RS256} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"keygen", "--alg", alg}, envMap(), nil, &out, &out); err != nil {
			t.Fatalf("keygen %s: %v", alg, err)
		}
		if _, err := token.NewAsymmetric(alg, [][]byte{out.Bytes()}, ""); err != nil {
			t.Errorf("keygen %s made an unusable key: %v", alg, err)
		}
	}
	if err := run(context.Background(), []string{"keygen", "--alg", "HS256"}, envMap(), nil, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("keygen made an HS256 'key'")
	}
}

func TestImportUsersCommand(t *testing.T) {
	const fixture = `[
 {"model": "accounts.user", "pk": 7, "fields": {"password": "pbkdf2_sha256$1000$salt$AAAA", "last_login": null, "is_superuser": true, "email": "boss@example.com", "is_active": true, "is_staff": true, "date_joined": "2023-05-01T10:00:00Z", "groups": [], "user_permissions": []}},
 {"model": "accounts.user", "pk": 9, "fields": {"password": "bcrypt$$2b$12$abc", "last_login": "2024-01-02T03:04:05.123Z", "is_superuser": false, "email": "clerk@example.com", "is_active": false, "is_staff": false, "date_joined": "2023-06-01T10:00:00Z", "groups": [], "user_permissions": []}}
]`
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			url := storetest.URL(t, kind)
			getenv := envMap("AUTH_DATABASE_URL", url, "AUTH_SECRET_KEY", testSecret, "AUTH_MIGRATE_ON_START", "true")
			dir := t.TempDir()
			good := filepath.Join(dir, "users.json")
			bad := filepath.Join(dir, "bad.json")
			os.WriteFile(good, []byte(fixture), 0o600)
			os.WriteFile(bad, []byte(strings.Replace(fixture, `"pk": 9`, `"pk": "nine"`, 1)), 0o600)
			importFile := func(path string) (string, error) {
				var out bytes.Buffer
				err := run(context.Background(), []string{"import-users", path}, getenv, nil, &out, &out)
				return out.String(), err
			}
			if _, err := importFile(bad); err == nil {
				t.Fatal("a malformed file was accepted")
			}
			out, err := importFile(good)
			if err != nil || !strings.Contains(out, "created: 2, unchanged: 0") {
				t.Fatalf("first import: %v\n%s", err, out)
			}
			out, err = importFile(good)
			if err != nil || !strings.Contains(out, "created: 0, unchanged: 2") {
				t.Fatalf("second import is not idempotent: %v\n%s", err, out)
			}
			st := storetest.OpenURL(t, url)
			u, err := st.UserByID(context.Background(), 7)
			if err != nil || u.Email != "boss@example.com" || !u.IsSuperuser || u.PasswordHash != "pbkdf2_sha256$1000$salt$AAAA" {
				t.Fatalf("imported user 7 = %+v, %v", u, err)
			}
		})
	}
}

func TestEmbeddedSecretFailsOnADanglingLink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db.secret_key")
	if err := os.Symlink(filepath.Join(t.TempDir(), "nowhere"), path); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if _, _, err := embeddedSecret(path); err == nil {
		t.Fatal("a dangling link was taken for a secret")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".secret-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary secret files left behind: %v", leftovers)
	}
}

func TestCommandLine(t *testing.T) {
	call := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, envMap(), strings.NewReader(""), &out, &out)
		return out.String(), err
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		out, err := call(args...)
		if err != nil || !strings.Contains(out, "usage:") {
			t.Errorf("%q: err %v, output %q; want usage and success", args, err, out)
		}
	}
	for _, args := range [][]string{{"frobnicate"}, {"--bogus"}, {"serve", "extra"}, {"migrate", "extra"}, {"keygen", "--alg", "ES256", "stray"}, {"import-users"}} {
		if _, err := call(args...); err == nil || errors.Is(err, errHelpShown) {
			t.Errorf("%q: err %v, want a failure", args, err)
		}
	}
	for _, args := range [][]string{{"createsuperuser", "-h"}, {"keygen", "--help"}, {"serve", "-h"}, {"migrate", "--help"}, {"healthcheck", "-h"}, {"import-users", "-h"}} {
		if _, err := call(args...); !errors.Is(err, errHelpShown) {
			t.Errorf("%q: err %v, want help shown (exit 0)", args, err)
		}
	}
}
