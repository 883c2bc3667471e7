// Package e2e runs the real auth-service binary as separate processes against
// a real PostgreSQL database, to check what only several processes can show:
// races between replicas sharing a database (race_test.go, always run) and the
// nginx gateway in front of two replicas (gateway_test.go, `-tags e2e`).
//
// Everything listens on 127.0.0.1 only, and every wait is bounded.
package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/gen/oapiclient"
	"github.com/ecommerce/auth-service/internal/logtest"
)

// testSecretKey signs the tokens of every replica of a test: replicas must
// share it to accept each other's tokens.
const testSecretKey = "e2e-test-secret-key-0123456789-abcdefghijklmnop"

// startTimeout bounds how long a replica may take to answer /auth/health/.
const startTimeout = 20 * time.Second

var (
	// moduleRoot is the repository root, found from the package directory.
	moduleRoot string
	// binPath is the auth-service binary TestMain builds once for all tests.
	binPath string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests builds the binary, runs the tests and removes the binary; it is
// TestMain's body so that its deferred cleanup runs before os.Exit.
func runTests(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	moduleRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	dir, err := os.MkdirTemp("", "auth-service-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "auth-service")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// `go test` puts its own GOROOT/bin first in PATH, so this is the same toolchain.
	build := exec.CommandContext(ctx, "go", "build", "-o", binPath, "./cmd/auth-service")
	build.Dir = moduleRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/auth-service in %s: %v\n", moduleRoot, err)
		return 1
	}
	return m.Run()
}

// tail returns at most the last n lines written so far.
func tail(b *logtest.Buffer, n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d earlier lines)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// logLine is the part of a JSON log line the tests read: the service's
// access log ("msg":"request") and its start-up line ("msg":"listening").
type logLine struct {
	Msg       string `json:"msg"`
	RequestID string `json:"request_id"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Addr      string `json:"addr"`
}

// lines parses the JSON lines written so far, skipping any that are not JSON.
func logLines(b *logtest.Buffer) []logLine {
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}

// replica is one auth-service process started by startReplica.
type replica struct {
	name   string
	addr   string // host:port it listens on
	logs   *logtest.Buffer
	stderr *logtest.Buffer
	cmd    *exec.Cmd
	done   chan struct{} // closed once the process has exited
}

// url is the replica's base URL.
func (r *replica) url() string { return "http://" + r.addr }

func (r *replica) String() string { return r.name + " (" + r.addr + ")" }

// exited reports whether the process has ended.
func (r *replica) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// kill ends the process at once (SIGKILL), as a crash would, and waits for it.
func (r *replica) kill(tb testing.TB) {
	tb.Helper()
	if r.exited() {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		tb.Fatalf("%s did not exit within 10s of SIGKILL", r)
	}
}

// request returns the access-log line of the request with this id, if the
// replica has logged it.
func (r *replica) request(id string) (logLine, bool) {
	for _, l := range logLines(r.logs) {
		if l.Msg == "request" && l.RequestID == id {
			return l, true
		}
	}
	return logLine{}, false
}

var replicaCount struct {
	sync.Mutex
	n int
}

// startReplica runs `auth-service serve` on a free 127.0.0.1 port against
// dbURL, with a shared secret, migrations on start and cheap argon2
// parameters; extraEnv ("K=V") comes last and wins. It returns once
// /auth/health/ answers 200 (failing the test after startTimeout) and stops
// the process when the test ends.
func startReplica(tb testing.TB, dbURL string, extraEnv []string) *replica {
	tb.Helper()
	replicaCount.Lock()
	replicaCount.n++
	name := fmt.Sprintf("replica-%d", replicaCount.n)
	replicaCount.Unlock()

	r := &replica{name: name, logs: &logtest.Buffer{}, stderr: &logtest.Buffer{}, done: make(chan struct{})}
	// Port 0: serve listens before it logs "listening" with the real address,
	// so there is no window in which another process could take the port.
	r.cmd = exec.Command(binPath, "serve")
	r.cmd.Env = serviceEnv(dbURL, append([]string{"AUTH_LISTEN_ADDR=127.0.0.1:0"}, extraEnv...))
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.stderr
	if err := r.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = r.cmd.Wait()
		close(r.done)
	}()
	tb.Cleanup(func() {
		if !r.exited() {
			// SIGTERM first, for a graceful shutdown; SIGKILL if it hangs.
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.done:
			case <-time.After(10 * time.Second):
				_ = r.cmd.Process.Kill()
				<-r.done
			}
		}
		if tb.Failed() {
			tb.Logf("%s stdout (tail):\n%s", r, tail(r.logs, 40))
			tb.Logf("%s stderr (tail):\n%s", r, tail(r.stderr, 20))
		}
	})

	deadline := time.Now().Add(startTimeout)
	for r.addr == "" {
		for _, l := range logLines(r.logs) {
			if l.Msg == "listening" {
				r.addr = l.Addr
			}
		}
		switch {
		case r.addr != "":
		case r.exited():
			tb.Fatalf("%s exited before listening:\nstdout:\n%s\nstderr:\n%s", name, tail(r.logs, 20), tail(r.stderr, 20))
		case time.Now().After(deadline):
			tb.Fatalf("%s did not log \"listening\" within %s:\n%s", name, startTimeout, tail(r.logs, 20))
		default:
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := waitHealthy(r.url(), time.Until(deadline)); err != nil {
		tb.Fatalf("%s: %v\nstderr:\n%s", r, err, tail(r.stderr, 20))
	}
	return r
}

// waitHealthy polls baseURL/auth/health/ until it answers 200 or timeout passes.
func waitHealthy(baseURL string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for {
		resp, err := client.Get(baseURL + "/auth/health/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/auth/health/ did not answer 200 within %s (last: %s)", baseURL, timeout.Round(time.Second), last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serviceEnv is the environment of a replica or command: the test's own
// environment without any AUTH_* variable, then the test settings, then extra.
func serviceEnv(dbURL string, extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTH_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AUTH_DATABASE_URL="+dbURL,
		"AUTH_SECRET_KEY="+testSecretKey,
		"AUTH_MIGRATE_ON_START=true",
		"AUTH_ARGON2_MEMORY_KIB=1024",
		"AUTH_ARGON2_ITERATIONS=1",
		"AUTH_ARGON2_PARALLELISM=1",
	)
	return append(env, extra...)
}

// createUser creates an active user (a superuser) with the binary's
// `createsuperuser --noinput`, migrating the database first if needed. The
// password policy is skipped (--force-weak): these are fixtures.
func createUser(tb testing.TB, dbURL, email, password string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "createsuperuser", "--email", email, "--noinput", "--force-weak")
	cmd.Env = serviceEnv(dbURL, []string{"AUTH_SUPERUSER_PASSWORD=" + password})
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("createsuperuser --email %s: %v\n%s", email, err, out)
	}
}

// servedBy returns the one replica whose access log holds requestID, waiting
// briefly for the log line to arrive; nil if none logged it. Two replicas
// logging one id fails the test: ids are meant to be unique.
func servedBy(tb testing.TB, requestID string, replicas ...*replica) *replica {
	tb.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		var found []*replica
		for _, r := range replicas {
			if _, ok := r.request(requestID); ok {
				found = append(found, r)
			}
		}
		switch {
		case len(found) > 1:
			tb.Fatalf("request id %s is in the logs of %d replicas", requestID, len(found))
		case len(found) == 1:
			return found[0]
		case time.Now().After(deadline):
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newRequestID returns a fresh X-Request-ID that names its purpose.
func newRequestID(purpose string) string {
	return "e2e-" + purpose + "-" + strings.ToLower(rand.Text()[:12])
}

// withRequestID sets the X-Request-ID header of a generated-client request.
func withRequestID(id string) oapiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-Request-ID", id)
		return nil
	}
}

// withBearer sets the Authorization header of a generated-client request.
func withBearer(token string) oapiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// newHTTPClient returns a client with a bounded timeout whose idle
// connections are closed when the test ends.
func newHTTPClient(tb testing.TB) *http.Client {
	tb.Helper()
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	tb.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport, Timeout: 15 * time.Second}
}

// newAPIClient returns the generated client for baseURL.
func newAPIClient(tb testing.TB, baseURL string, hc *http.Client) *oapiclient.ClientWithResponses {
	tb.Helper()
	c, err := oapiclient.NewClientWithResponses(baseURL, oapiclient.WithHTTPClient(hc))
	if err != nil {
		tb.Fatalf("client for %s: %v", baseURL, err)
	}
	return c
}

// pairOf returns the TokenPair of a login or refresh answer in the body
// transport, or nil when resp is nil or holds no pair.
func pairOf(resp *oapiclient.TokenResponse) *oapiclient.TokenPair {
	if resp == nil {
		return nil
	}
	p, err := resp.AsTokenPair()
	if err != nil || p.Access == "" || p.Refresh == "" {
		return nil
	}
	return &p
}

// claims decodes a JWT's payload without verifying it: the tests only read
// claims of tokens the service has just issued.
func claims(tb testing.TB, jwt string) map[string]any {
	tb.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a JWT: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatalf("JWT payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		tb.Fatalf("JWT payload: %v", err)
	}
	return c
}

// sid returns a token's session id claim ("" if absent).
func sid(tb testing.TB, jwt string) string {
	tb.Helper()
	s, _ := claims(tb, jwt)["sid"].(string)
	return s
}

// errorBody decodes a body in the API's Error shape, failing unless it has
// both detail and code.
func errorBody(tb testing.TB, body []byte) oapiclient.Error {
	tb.Helper()
	var e oapiclient.Error
	if err := json.Unmarshal(body, &e); err != nil {
		tb.Fatalf("body is not the JSON Error shape: %v: %q", err, truncate(body, 200))
	}
	if e.Detail == "" || e.Code == "" {
		tb.Fatalf("body lacks detail or code: %q", truncate(body, 200))
	}
	return e
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// errorCode returns the code of an Error body, or "" if it is not one.
func errorCode(body []byte) string {
	var e oapiclient.Error
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Code
}

// freePort returns a 127.0.0.1 port that was free a moment ago, for a
// process (nginx) that cannot report the port it took.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
