//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/gen/oapiclient"
	"github.com/ecommerce/auth-service/internal/logtest"
	"github.com/ecommerce/auth-service/internal/pgtest"
)

// underCI reports whether a missing tool must fail the test rather than skip it.
func underCI() bool { return os.Getenv("CI") == "true" }

// missing fails under CI=true and skips otherwise: CI must never pass without
// having run a check.
func missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if underCI() {
		tb.Fatalf(format+" (CI=true: this must not be skipped)", args...)
	}
	tb.Skipf(format, args...)
}

// unrendered finds a template variable left in the rendered configuration
// (nginx's own variables are lower case).
var unrendered = regexp.MustCompile(`\$\{?[A-Z][A-Z0-9_]*\}?`)

// gateway is an nginx process rendered from deploy/nginx.
type gateway struct {
	url    string
	stdout *logtest.Buffer // the JSON access log
	stderr *logtest.Buffer
}

// startGateway renders deploy/nginx for the replicas and runs nginx in the
// foreground on a free 127.0.0.1 port until the test ends (SIGQUIT).
func startGateway(t *testing.T, replicas ...*replica) *gateway {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nginx"); statErr != nil {
			missing(t, "nginx is not installed (apt-get install -y nginx): %v", err)
		}
		nginx = "/usr/sbin/nginx"
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(moduleRoot, "deploy/nginx/templates/default.conf.template"))
	if err != nil {
		t.Fatal(err)
	}
	standalone, err := os.ReadFile(filepath.Join(moduleRoot, "deploy/nginx/standalone.conf"))
	if err != nil {
		t.Fatal(err)
	}
	// The template names one upstream server; the others go in
	// auth-upstreams.d/*.conf beside the main configuration, which the
	// template's upstream block includes.
	var servers, extra []string
	for i, r := range replicas {
		servers = append(servers, r.addr)
		if i > 0 {
			extra = append(extra, fmt.Sprintf("server %s max_fails=1 fail_timeout=5s;\n", r.addr))
		}
	}
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// Only these variables: nginx's own $variables must survive, as with
	// envsubst '${AUTH_UPSTREAM} ${GATEWAY_LISTEN}'.
	conf := strings.NewReplacer(
		"${AUTH_UPSTREAM}", replicas[0].addr,
		"${GATEWAY_LISTEN}", listen,
	).Replace(string(tmpl))
	if m := unrendered.FindString(conf); m != "" {
		t.Fatalf("the gateway template uses %s, which this test does not set", m)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf.d/default.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "auth-upstreams.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "auth-upstreams.d/e2e.conf"), []byte(strings.Join(extra, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "standalone.conf"), standalone, 0o644); err != nil {
		t.Fatal(err)
	}

	g := &gateway{url: "http://" + listen, stdout: &logtest.Buffer{}, stderr: &logtest.Buffer{}}
	cmd := exec.Command(nginx, "-e", "stderr", "-p", dir+"/", "-c", filepath.Join(dir, "standalone.conf"))
	cmd.Stdout, cmd.Stderr = g.stdout, g.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful stop
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}
		if t.Failed() {
			t.Logf("nginx access log (tail):\n%s", tail(g.stdout, 30))
			t.Logf("nginx stderr (tail):\n%s", tail(g.stderr, 30))
		}
	})
	if err := waitHealthy(g.url, startTimeout); err != nil {
		t.Fatalf("gateway: %v\nnginx stderr:\n%s", err, tail(g.stderr, 30))
	}
	t.Logf("gateway %s: nginx in front of %s", g.url, strings.Join(servers, ", "))
	return g
}

// TestGateway drives two replicas sharing one database through the nginx
// gateway rendered from deploy/nginx, with the generated Go client and the
// TypeScript client. Subtests run in order and share state; the login rate
// limit is last so that it does not throttle the logins before it.
func TestGateway(t *testing.T) {
	db := pgtest.NewDatabase(t)
	const (
		email         = "e2e@example.com"
		password      = "e2e-password-1"
		smokeEmail    = "smoke@example.com"
		smokePassword = "smoke-password-1"
	)
	createUser(t, db, email, password)
	createUser(t, db, smokeEmail, smokePassword)
	// The gateway is the replicas' trusted proxy: the client address is the
	// one nginx puts in X-Forwarded-For (as compose sets it).
	mail := startNotifications(t)
	env := append(mail.env(), "AUTH_TRUSTED_PROXIES=127.0.0.1/32")
	a := startReplica(t, db, env)
	a.name = "A"
	b := startReplica(t, db, env)
	b.name = "B"
	replicas := []*replica{a, b}
	gw := startGateway(t, a, b)

	hc := newHTTPClient(t)
	api := newAPIClient(t, gw.url, hc)
	ctx := context.Background()
	creds := oapiclient.LoginRequest{Email: email, Password: password}

	// login logs in through the gateway, retrying (bounded) if the rate limit
	// answers 429, and returns the pair and the replica that served it.
	login := func(t *testing.T, purpose string) (oapiclient.TokenPair, *replica) {
		t.Helper()
		for attempt := 1; ; attempt++ {
			id := newRequestID(purpose)
			resp, err := api.ObtainTokenWithResponse(ctx, nil, creds, withRequestID(id))
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if resp.StatusCode() == http.StatusTooManyRequests && attempt < 5 {
				t.Logf("login throttled (429), retrying in 1s")
				time.Sleep(time.Second)
				continue
			}
			pair := pairOf(resp.JSON200)
			if pair == nil {
				t.Fatalf("login: %s %s", resp.Status(), truncate(resp.Body, 300))
			}
			by := servedBy(t, id, replicas...)
			if by == nil {
				t.Fatalf("login %s: no replica logged it", id)
			}
			return *pair, by
		}
	}

	t.Run("health", func(t *testing.T) {
		resp, err := api.GetHealthWithResponse(ctx)
		if err != nil || resp.JSON200 == nil {
			t.Fatalf("GET /auth/health/: %v %s %s", err, statusOf(resp), bodyOf(resp))
		}
		t.Logf("GET /auth/health/ -> %d %q", resp.StatusCode(), resp.JSON200.Status)
	})

	// Not /auth/health/: probes are logged at debug only.
	t.Run("request-id", func(t *testing.T) {
		id := newRequestID("echo")
		resp, err := api.GetJWKSWithResponse(ctx, withRequestID(id))
		if err != nil {
			t.Fatal(err)
		}
		got := resp.HTTPResponse.Header.Values("X-Request-ID")
		if len(got) != 1 || got[0] != id {
			t.Errorf("sent X-Request-ID %s, got %q", id, got)
		}
		by := servedBy(t, id, replicas...)
		if by == nil {
			t.Errorf("no replica logged request id %s", id)
		}
		t.Logf("sent X-Request-ID %s: echoed %q, logged by %v", id, got, by)

		resp, err = api.GetJWKSWithResponse(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = resp.HTTPResponse.Header.Values("X-Request-ID")
		if len(got) != 1 || got[0] == "" {
			t.Fatalf("sent no X-Request-ID, got %q: want exactly one generated id", got)
		}
		by = servedBy(t, got[0], replicas...)
		if by == nil {
			t.Errorf("the generated request id %s is in no replica's log", got[0])
		}
		t.Logf("sent no X-Request-ID: got generated %q, logged by %v", got[0], by)
	})

	t.Run("login", func(t *testing.T) {
		pair, by := login(t, "login")
		c := claims(t, pair.Access)
		if c["token_type"] != "access" || claims(t, pair.Refresh)["token_type"] != "refresh" {
			t.Errorf("token types: access %v, refresh %v", c["token_type"], claims(t, pair.Refresh)["token_type"])
		}
		t.Logf("POST /auth/token/ -> 200 pair (sid %s), served by %v", sid(t, pair.Access), by)
	})

	t.Run("refresh-on-other-replica", func(t *testing.T) {
		for attempt := 1; attempt <= 10; attempt++ {
			pair, issuer := login(t, "login-for-refresh")
			id := newRequestID("refresh")
			resp, err := api.RefreshTokenWithResponse(ctx, nil, oapiclient.RefreshRequest{Refresh: pair.Refresh}, withRequestID(id))
			if err != nil {
				t.Fatal(err)
			}
			by := servedBy(t, id, replicas...)
			if by == nil {
				t.Fatalf("refresh %s: no replica logged it", id)
			}
			if by == issuer {
				t.Logf("attempt %d: login and refresh both on %v (%d); logging in again", attempt, by, resp.StatusCode())
				continue
			}
			next := pairOf(resp.JSON200)
			if next == nil {
				t.Fatalf("refresh of a token issued by %v, served by %v: %s %s", issuer, by, resp.Status(), truncate(resp.Body, 300))
			}
			if sid(t, next.Refresh) != sid(t, pair.Refresh) {
				t.Errorf("refresh changed the session")
			}
			t.Logf("attempt %d: token issued by %v (login), refreshed by %v -> 200, same sid", attempt, issuer, by)
			return
		}
		t.Fatal("10 attempts never put the login and the refresh on different replicas")
	})

	t.Run("logout-then-refresh-on-other-replica", func(t *testing.T) {
		for attempt := 1; attempt <= 10; attempt++ {
			pair, _ := login(t, "login-for-logout")
			outID := newRequestID("logout")
			out, err := api.LogoutWithResponse(ctx, nil, oapiclient.LogoutRequest{Refresh: pair.Refresh}, withRequestID(outID))
			if err != nil {
				t.Fatal(err)
			}
			if out.StatusCode() != http.StatusNoContent {
				t.Fatalf("logout: %s %s", out.Status(), truncate(out.Body, 300))
			}
			outBy := servedBy(t, outID, replicas...)
			refID := newRequestID("refresh-after-logout")
			ref, err := api.RefreshTokenWithResponse(ctx, nil, oapiclient.RefreshRequest{Refresh: pair.Refresh}, withRequestID(refID))
			if err != nil {
				t.Fatal(err)
			}
			refBy := servedBy(t, refID, replicas...)
			if outBy == nil || refBy == nil {
				t.Fatalf("logout %s logged by %v, refresh %s logged by %v", outID, outBy, refID, refBy)
			}
			if ref.StatusCode() != http.StatusUnauthorized {
				t.Fatalf("refresh after logout (logout on %v, refresh on %v): %s %s, want 401",
					outBy, refBy, ref.Status(), truncate(ref.Body, 300))
			}
			if outBy == refBy {
				t.Logf("attempt %d: logout and refresh both on %v (refresh 401); trying again", attempt, outBy)
				continue
			}
			t.Logf("attempt %d: logout on %v -> 204; refresh with that token on %v -> 401 %s",
				attempt, outBy, refBy, errorBody(t, ref.Body).Code)
			return
		}
		t.Fatal("10 attempts never put the logout and the refresh on different replicas")
	})

	t.Run("me", func(t *testing.T) {
		pair, _ := login(t, "login-for-me")
		id := newRequestID("me")
		resp, err := api.GetMeWithResponse(ctx, withBearer(pair.Access), withRequestID(id))
		if err != nil || resp.JSON200 == nil {
			t.Fatalf("GET /auth/me/: %v %s %s", err, statusOf(resp), bodyOf(resp))
		}
		if resp.JSON200.Email != email {
			t.Errorf("GET /auth/me/ email %q, want %q", resp.JSON200.Email, email)
		}
		t.Logf("GET /auth/me/ -> 200 {id %d, email %s}, served by %v", resp.JSON200.Id, resp.JSON200.Email, servedBy(t, id, replicas...))
	})

	// The accounts flow a frontend drives, in order: sign up, verify with the
	// mailed token, log in, change the password, find the other session
	// refused, reset the password with the mailed token, log in with it.
	t.Run("accounts", func(t *testing.T) {
		const (
			shopper  = "shopper@example.com"
			chosen   = "correct horse battery staple"
			changed  = "tr0ub4dor&3-zebra-crossing"
			afterAll = "a fresh passphrase after the reset"
		)
		loginAs := func(t *testing.T, pw string) oapiclient.TokenPair {
			t.Helper()
			for attempt := 1; ; attempt++ {
				resp, err := api.ObtainTokenWithResponse(ctx, nil, oapiclient.LoginRequest{Email: shopper, Password: pw})
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode() == http.StatusTooManyRequests && attempt < 5 {
					time.Sleep(time.Second)
					continue
				}
				pair := pairOf(resp.JSON200)
				if pair == nil {
					t.Fatalf("login as %s: %s %s", shopper, resp.Status(), truncate(resp.Body, 300))
				}
				return *pair
			}
		}

		reg, err := api.RegisterWithResponse(ctx, oapiclient.RegisterRequest{Email: shopper, Password: chosen})
		if err != nil || reg.JSON202 == nil {
			t.Fatalf("1. sign-up: %v %s %s", err, statusOf(reg), bodyOf(reg))
		}
		t.Logf("1. POST /auth/register/ -> 202 %q", reg.JSON202.Detail)

		tok := mail.token(t, "email_verification", shopper, 0)
		ver, err := api.VerifyEmailWithResponse(ctx, oapiclient.OneTimeTokenRequest{Token: tok})
		if err != nil || ver.StatusCode() != http.StatusNoContent {
			t.Fatalf("2. verify: %v %s %s", err, statusOf(ver), bodyOf(ver))
		}
		t.Log("2. token from the webhook receiver; POST /auth/register/verify/ -> 204")

		here := loginAs(t, chosen)
		other := loginAs(t, chosen)
		t.Logf("3. POST /auth/token/ -> 200 (two sessions: %s, %s)", sid(t, here.Access), sid(t, other.Access))

		chg, err := api.ChangePasswordWithResponse(ctx, oapiclient.PasswordChangeRequest{CurrentPassword: chosen, NewPassword: changed}, withBearer(here.Access))
		if err != nil || chg.JSON200 == nil {
			t.Fatalf("4. change: %v %s %s", err, statusOf(chg), bodyOf(chg))
		}
		if sid(t, chg.JSON200.Access) != sid(t, here.Access) {
			t.Error("4. the change moved the session")
		}
		t.Logf("4. POST /auth/password/change/ -> 200, new pair of session %s", sid(t, chg.JSON200.Access))

		me, err := api.GetMeWithResponse(ctx, withBearer(other.Access))
		if err != nil || me.StatusCode() != http.StatusUnauthorized {
			t.Fatalf("5. the other session after the change: %v %s %s, want 401", err, statusOf(me), bodyOf(me))
		}
		if old, err := api.GetMeWithResponse(ctx, withBearer(here.Access)); err != nil || old.StatusCode() != http.StatusUnauthorized {
			t.Fatalf("5. this session's access token from before the change: %v %s %s, want 401", err, statusOf(old), bodyOf(old))
		}
		if cur, err := api.GetMeWithResponse(ctx, withBearer(chg.JSON200.Access)); err != nil || cur.StatusCode() != http.StatusOK {
			t.Fatalf("5. the new pair: %v %s %s, want 200", err, statusOf(cur), bodyOf(cur))
		}
		ref, err := api.RefreshTokenWithResponse(ctx, nil, oapiclient.RefreshRequest{Refresh: here.Refresh})
		if err != nil || ref.StatusCode() != http.StatusUnauthorized {
			t.Fatalf("5. the pre-change refresh token: %v %s %s, want 401", err, statusOf(ref), bodyOf(ref))
		}
		t.Logf("5. the other session -> 401 %s; the old refresh token -> 401 %s", errorBody(t, me.Body).Code, errorBody(t, ref.Body).Code)

		rst, err := api.RequestPasswordResetWithResponse(ctx, oapiclient.PasswordResetRequest{Email: shopper})
		if err != nil || rst.JSON202 == nil {
			t.Fatalf("6. reset request: %v %s %s", err, statusOf(rst), bodyOf(rst))
		}
		tok = mail.token(t, "password_reset", shopper, 0)
		cnf, err := api.ConfirmPasswordResetWithResponse(ctx, oapiclient.PasswordResetConfirmRequest{Token: tok, NewPassword: afterAll})
		if err != nil || cnf.StatusCode() != http.StatusNoContent {
			t.Fatalf("6. reset confirm: %v %s %s", err, statusOf(cnf), bodyOf(cnf))
		}
		t.Log("6. POST /auth/password/reset/ -> 202; token from the receiver; POST /auth/password/reset/confirm/ -> 204")

		after := loginAs(t, afterAll)
		if me, err := api.GetMeWithResponse(ctx, withBearer(after.Access)); err != nil || me.JSON200 == nil || me.JSON200.Email != shopper {
			t.Fatalf("7. /me after the reset: %v %s %s", err, statusOf(me), bodyOf(me))
		}
		if me, _ := api.GetMeWithResponse(ctx, withBearer(chg.JSON200.Access)); me == nil || me.StatusCode() != http.StatusUnauthorized {
			t.Errorf("7. the session from before the reset: %s, want 401", statusOf(me))
		}
		t.Log("7. POST /auth/token/ with the new password -> 200; the pre-reset session -> 401")
	})

	// Failed logins spread by nginx over both replicas count together: no
	// replica sees five of them, yet the sixth attempt is throttled. Paced
	// under the gateway's own rate limit (5/s), so that the 429 is the
	// service's (its detail names the wait; the gateway's does not).
	t.Run("throttle-shared-between-replicas", func(t *testing.T) {
		for attempt := 1; attempt <= 3; attempt++ {
			victim := fmt.Sprintf("throttle-%d@example.com", attempt)
			createUser(t, db, victim, "throttle-password-1")
			served := map[*replica]int{}
			for i := 1; i <= 5; i++ {
				time.Sleep(300 * time.Millisecond)
				id := newRequestID("throttle")
				resp, err := api.ObtainTokenWithResponse(ctx, nil, oapiclient.LoginRequest{Email: victim, Password: "wrong"}, withRequestID(id))
				if err != nil || resp.StatusCode() != http.StatusUnauthorized {
					t.Fatalf("failure %d: %v %s %s", i, err, statusOf(resp), bodyOf(resp))
				}
				served[servedBy(t, id, replicas...)]++
			}
			time.Sleep(300 * time.Millisecond)
			id := newRequestID("throttled")
			resp, err := api.ObtainTokenWithResponse(ctx, nil, oapiclient.LoginRequest{Email: victim, Password: "throttle-password-1"}, withRequestID(id))
			if err != nil {
				t.Fatal(err)
			}
			if served[a] == 0 || served[b] == 0 {
				t.Logf("attempt %d: the 5 failures were not spread over both replicas (A %d, B %d); again with another account", attempt, served[a], served[b])
				continue
			}
			e := errorBody(t, resp.Body)
			if resp.StatusCode() != http.StatusTooManyRequests || e.Code != "throttled" || !strings.Contains(e.Detail, "Expected available in") {
				t.Fatalf("6th attempt (right password) after failures on A (%d) and B (%d): %s %s, want the service's 429 throttled",
					served[a], served[b], resp.Status(), truncate(resp.Body, 200))
			}
			t.Logf("5 wrong logins: %d on A, %d on B; the 6th (right password) on %v -> 429 %s, Retry-After %s",
				served[a], served[b], servedBy(t, id, replicas...), e.Detail, resp.HTTPResponse.Header.Get("Retry-After"))
			return
		}
		t.Fatal("nginx never spread 5 logins over both replicas")
	})

	t.Run("ready", func(t *testing.T) {
		resp, err := api.GetReadyWithResponse(ctx)
		if err != nil || resp.JSON200 == nil || resp.JSON200.Status != "ready" {
			t.Fatalf("GET /auth/ready/: %v %s %s", err, statusOf(resp), bodyOf(resp))
		}
		head, err := hc.Head(gw.url + "/auth/ready/")
		if err != nil || head.StatusCode != http.StatusOK {
			t.Fatalf("HEAD /auth/ready/ through the gateway: %v %v", err, head)
		}
		head.Body.Close()
		t.Logf("GET /auth/ready/ -> 200 %q; HEAD -> %d", resp.JSON200.Status, head.StatusCode)
	})

	t.Run("not-found", func(t *testing.T) {
		for _, path := range []string{"/auth/nope/", "/other", "/auth"} {
			resp, err := hc.Get(gw.url + path)
			if err != nil {
				t.Fatal(err)
			}
			body, err := readAll(resp)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404: %s", path, resp.StatusCode, truncate(body, 200))
				continue
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("GET %s: Content-Type %q, want application/json", path, ct)
			}
			e := errorBody(t, body)
			if e.Code != "not_found" {
				t.Errorf("GET %s: code %q, want not_found", path, e.Code)
			}
			t.Logf("GET %s -> 404 %s %s", path, resp.Header.Get("Content-Type"), bytes.TrimSpace(body))
		}
	})

	t.Run("body-too-large", func(t *testing.T) {
		body := bytes.Repeat([]byte("x"), 1<<20+1024)
		resp, err := api.RefreshTokenWithBodyWithResponse(ctx, nil, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode() != http.StatusRequestEntityTooLarge {
			t.Fatalf("POST /auth/token/refresh/ with %d bytes: %s %s, want 413", len(body), resp.Status(), truncate(resp.Body, 200))
		}
		if ct := resp.ContentType(); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("413 Content-Type %q, want application/json", ct)
		}
		e := errorBody(t, resp.Body)
		if resp.JSON413 == nil || e.Code != "payload_too_large" {
			t.Errorf("413 body %s, want code payload_too_large", truncate(resp.Body, 200))
		}
		t.Logf("POST /auth/token/refresh/ with %d bytes -> 413 %s", len(body), bytes.TrimSpace(resp.Body))
	})

	t.Run("typescript-smoke", func(t *testing.T) {
		out := runNPM(t, "smoke", gw.url, smokeEmail, smokePassword)
		t.Logf("npm run smoke: %s", out)
	})

	t.Run("docs-check", func(t *testing.T) {
		if path := os.Getenv("CHROMIUM_PATH"); path == "" {
			if _, err := os.Stat("/usr/bin/chromium"); err != nil {
				missing(t, "chromium is not installed (apt-get install -y chromium, or set CHROMIUM_PATH)")
			}
		}
		out := runNPM(t, "docs-check", gw.url, "--login", smokeEmail, smokePassword)
		t.Logf("npm run docs-check: %s", out)
	})

	t.Run("replica-down", func(t *testing.T) {
		a.kill(t)
		t.Logf("killed %v with SIGKILL", a)
		var onB int
		var failover []string // gateway log lines of requests first tried on A
		for i := range 20 {
			id := newRequestID("health-after-kill")
			resp, err := api.GetHealthWithResponse(ctx, withRequestID(id))
			if err != nil || resp.StatusCode() != http.StatusOK {
				t.Errorf("health %d after killing A: %v %s %s", i+1, err, statusOf(resp), bodyOf(resp))
				continue
			}
			if servedBy(t, id, b) == b {
				onB++
			}
			if line := gatewayLogLine(gw, id); strings.Contains(line, a.addr) {
				failover = append(failover, line)
			}
		}
		t.Logf("20 sequential GET /auth/health/ after the kill: all 200 unless reported above, %d logged by %v", onB, b)
		t.Logf("%d of them were first tried on the dead %v and retried by nginx on B: %s", len(failover), a, strings.Join(failover, " | "))

		id := newRequestID("login-after-kill")
		resp, err := api.ObtainTokenWithResponse(ctx, nil, creds, withRequestID(id))
		if err != nil || resp.JSON200 == nil {
			t.Fatalf("login after killing A: %v %s %s", err, statusOf(resp), bodyOf(resp))
		}
		if servedBy(t, id, b) != b {
			t.Errorf("login %s after the kill was not logged by %v", id, b)
		}
		t.Logf("POST /auth/token/ after the kill -> 200, served by %v; gateway log: %s", b, gatewayLogLine(gw, id))

		// Once fail_timeout (5s, counted in whole seconds) has passed nginx tries
		// A again: a POST whose connection is refused was never sent, so it must
		// be retried on B, not answered 502. Log in once a second until one was
		// first tried on A (bounded).
		time.Sleep(5 * time.Second)
		for i := 1; i <= 8; i++ {
			time.Sleep(time.Second)
			id := newRequestID("login-after-fail-timeout")
			resp, err := api.ObtainTokenWithResponse(ctx, nil, creds, withRequestID(id))
			if err != nil || resp.JSON200 == nil {
				t.Fatalf("login %d after fail_timeout: %v %s %s; gateway log: %s", i, err, statusOf(resp), bodyOf(resp), gatewayLogLine(gw, id))
			}
			if line := gatewayLogLine(gw, id); strings.Contains(line, a.addr) {
				t.Logf("POST /auth/token/ %ds after fail_timeout, first tried on the dead A -> 200 from B; gateway log: %s", i, line)
				return
			}
		}
		t.Log("nginx did not try A again within 8 logins after fail_timeout (all 200 from B)")
	})

	// Last: it exhausts the login rate limit for this client address.
	t.Run("login-rate-limit", func(t *testing.T) {
		wrong := oapiclient.LoginRequest{Email: email, Password: "wrong-password"}
		counts := map[int]int{}
		var throttled *oapiclient.ObtainTokenResponse
		for range 40 {
			resp, err := api.ObtainTokenWithResponse(ctx, nil, wrong)
			if err != nil {
				t.Fatal(err)
			}
			counts[resp.StatusCode()]++
			if resp.StatusCode() == http.StatusTooManyRequests && throttled == nil {
				throttled = resp
			}
		}
		t.Logf("40 quick POST /auth/token/ with a wrong password: %v (status: count)", counts)
		if throttled == nil {
			t.Fatal("no 429: the login rate limit did not apply")
		}
		if counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != 40 {
			t.Errorf("want only 401 and 429, got %v", counts)
		}
		e := errorBody(t, throttled.Body)
		if throttled.JSON429 == nil || e.Code != "throttled" {
			t.Errorf("429 body %s, want code throttled", truncate(throttled.Body, 200))
		}
		if ct := throttled.ContentType(); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("429 Content-Type %q, want application/json", ct)
		}
		ra := throttled.HTTPResponse.Header.Get("Retry-After")
		if n, err := strconv.Atoi(ra); err != nil || n < 1 {
			t.Errorf("429 Retry-After %q, want a positive number of seconds", ra)
		}
		t.Logf("429: Retry-After %s, X-Request-ID %q, body %s", ra,
			throttled.HTTPResponse.Header.Get("X-Request-ID"), bytes.TrimSpace(throttled.Body))
	})
}

// runNPM runs `npm run --silent <script> -- args...` in clients/ts with a
// bounded time and returns its output, failing the test if it fails.
func runNPM(t *testing.T, script string, args ...string) string {
	t.Helper()
	return runNPMWithin(t, 3*time.Minute, nil, script, args...)
}

// runNPMWithin is runNPM with its own time bound and extra environment
// ("K=V").
func runNPMWithin(t *testing.T, timeout time.Duration, env []string, script string, args ...string) string {
	t.Helper()
	dir := filepath.Join(moduleRoot, "clients/ts")
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		missing(t, "clients/ts/node_modules is missing: run `npm ci` in clients/ts (make e2e does)")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		missing(t, "npm is not installed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, append([]string{"run", "--silent", script, "--"}, args...)...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (timed out)", err)
		}
		t.Fatalf("npm run %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// gatewayLogLine returns nginx's access-log line for a request id, waiting
// briefly for nginx to write it; "" if it does not appear.
func gatewayLogLine(g *gateway, id string) string {
	deadline := time.Now().Add(2 * time.Second)
	for {
		for _, line := range strings.Split(g.stdout.String(), "\n") {
			if strings.Contains(line, `"request_id":"`+id+`"`) {
				return line
			}
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readAll reads and closes a response body (at most 1 MiB).
func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}
