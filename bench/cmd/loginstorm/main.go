// Command loginstorm is `make loginstorm`: it measures the service under a
// storm of concurrent logins, half of them with a wrong password, with its
// default settings on PostgreSQL, against the targets of the README's
// "Abuse and failure behaviour":
//
//   - the server's peak RSS stays under 160 MiB;
//   - every login is answered 200, 401 or 503, none reset or dropped;
//   - 200s and 401s come within 3 s (p99), 503s within 100 ms;
//   - GET /auth/health/, polled throughout, answers within 100 ms (p99).
//
// It builds the service, creates a fresh database, imports the accounts (one
// argon2id hash with the default parameters, shared by all), starts the
// service with nothing but its database, secret and address set, and lets
// STORM_CLIENTS clients loose on it at once, each on a keep-alive connection
// from a loopback address of its own (127.0.x.y), as distinct clients on the
// Internet would be: the login throttle, which counts by address and
// account, is not what this measures. Each client logs in once, on an
// account of its own (of STORM_ACCOUNTS), even clients with the right
// password, odd ones with a wrong one; told 503, it waits the Retry-After,
// give or take half of it, and tries again, as the TypeScript client lets
// callers do, until it is answered 200 or 401, or STORM_DURATION has passed. Everything stays on
// loopback, and the run is bounded in time; the database is dropped and
// the service stopped on exit, Ctrl-C included. AUTH_* variables in the
// environment pass through to the service, to try other settings.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ecommerce/auth-service/bench/internal/harness"
	"github.com/ecommerce/auth-service/bench/load"
	"github.com/ecommerce/auth-service/internal/password"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loginstorm:", err)
		os.Exit(1)
	}
}

// options are the knobs of a run.
type options struct {
	clients, accounts int
	duration          time.Duration
	timeout           time.Duration
	pgURL, goTool     string
	serviceLog        string
}

func parseOptions(args []string, getenv func(string) string) (options, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	flags := flag.NewFlagSet("loginstorm", flag.ContinueOnError)
	clients := flags.Int("clients", atoi(env("STORM_CLIENTS", "1000")), "concurrent clients (STORM_CLIENTS)")
	accounts := flags.Int("accounts", atoi(env("STORM_ACCOUNTS", "500")), "accounts the logins spread over (STORM_ACCOUNTS)")
	duration := flags.Duration("duration", dur(env("STORM_DURATION", "2m")), "the longest the storm may last (STORM_DURATION)")
	timeout := flags.Duration("timeout", 10*time.Second, "a client gives up on a request after this long")
	pgURL := flags.String("pg", env("STORM_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"), "PostgreSQL server to create the database on (STORM_PG_URL)")
	goTool := flags.String("go", env("GO", "go"), "the go command")
	serviceLog := flags.String("service-log", getenv("STORM_SERVICE_LOG"), "keep the service's log in this file (STORM_SERVICE_LOG)")
	if err := flags.Parse(args); err != nil {
		return options{}, err
	}
	o := options{clients: *clients, accounts: *accounts, duration: *duration, timeout: *timeout, pgURL: *pgURL, goTool: *goTool,
		serviceLog: *serviceLog}
	if o.clients < 1 || o.clients > 60000 || o.accounts < 1 || o.duration <= 0 || o.duration > 10*time.Minute || o.timeout <= 0 {
		return o, errors.New("want 1 to 60000 clients, at least one account, and a duration of at most 10m")
	}
	return o, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func dur(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

// stormPassword is every account's password.
const stormPassword = "storm-password-1"

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, err := parseOptions(args, getenv)
	if err != nil {
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return harness.ErrNoRepo
	}
	say := func(format string, a ...any) { fmt.Fprintf(stdout, "# "+format+"\n", a...) }
	var cleanups []func()
	defer func() {
		for _, f := range slices.Backward(cleanups) {
			f()
		}
	}()
	tmp, err := os.MkdirTemp("", "loginstorm-")
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(tmp) })

	bin := filepath.Join(tmp, "auth-service")
	if err := harness.Command(ctx, 10*time.Minute, harness.SetEnv(os.Environ(), "CGO_ENABLED", "0"),
		o.goTool, "build", "-trimpath", "-o", bin, "./cmd/auth-service"); err != nil {
		return err
	}
	dbURL, drop, err := harness.NewDatabase(ctx, o.pgURL, "storm_")
	if err != nil {
		return err
	}
	cleanups = append(cleanups, drop)

	addr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	secret := base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text()))
	svcEnv := harness.SetEnv(os.Environ(), "AUTH_DATABASE_URL", dbURL, "AUTH_SECRET_KEY", secret, "AUTH_LISTEN_ADDR", addr)
	if err := harness.Command(ctx, 2*time.Minute, svcEnv, bin, "migrate"); err != nil {
		return err
	}
	users := filepath.Join(tmp, "users.json")
	if err := writeAccounts(ctx, users, o.accounts); err != nil {
		return err
	}
	if err := harness.Command(ctx, 5*time.Minute, svcEnv, bin, "import-users", users); err != nil {
		return err
	}
	serviceLog := o.serviceLog
	if serviceLog == "" {
		serviceLog = filepath.Join(tmp, "service.log")
	}
	svc, err := harness.StartServer("service", tmp, addr, serviceLog, svcEnv, bin, "serve")
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { svc.Stop(30 * time.Second) })
	if err := svc.WaitReady(ctx, 30*time.Second); err != nil {
		return err
	}
	say("service (pid %d) at %s with its default settings; %d accounts; %d clients for %v, %d CPUs",
		svc.PID(), svc.URL, o.accounts, o.clients, o.duration, runtime.NumCPU())

	stopProbe := make(chan struct{})
	health := probeHealth(ctx, addr, stopProbe)
	time.Sleep(time.Second) // the prober's baseline, before the storm
	logins, took := storm(ctx, o, addr)
	close(stopProbe)
	healthResult := <-health
	// The kernel's own high-water mark of the process's resident memory:
	// no sampling interval can miss the peak.
	peak, err := procStatus(svc.PID(), "VmHWM")
	if err != nil {
		return err
	}
	if !svc.Alive() {
		return fmt.Errorf("the service exited during the storm: %s", svc.StderrTail())
	}
	if tail := svc.StderrTail(); tail != "" {
		say("the service wrote to stderr: %s", tail)
	}
	served, err := serverSide(serviceLog)
	if err != nil {
		return err
	}
	report(stdout, o, logins, took, healthResult, peak, served)
	return nil
}

// serverSide reads the service's access log: how long the handler took, by
// path and status, which leaves out the time requests (and this program's
// own goroutines) waited for a CPU before and after.
func serverSide(path string) (map[string][]time.Duration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string][]time.Duration{}
	for _, line := range strings.Split(string(data), "\n") {
		var l struct {
			Msg        string  `json:"msg"`
			Path       string  `json:"path"`
			Status     int     `json:"status"`
			DurationMS float64 `json:"duration_ms"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "request" {
			continue
		}
		key := fmt.Sprintf("%s %d", l.Path, l.Status)
		if l.Path == "/auth/token/" && (l.Status == 200 || l.Status == 401) {
			key = l.Path + " 200/401"
		}
		out[key] = append(out[key], time.Duration(l.DurationMS*float64(time.Millisecond)))
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out, nil
}

// writeAccounts writes a dumpdata file of n accounts storm-<i>@example.com
// sharing one argon2id hash of stormPassword with the default parameters.
func writeAccounts(ctx context.Context, path string, n int) error {
	h, err := password.New(password.DefaultParams())
	if err != nil {
		return err
	}
	hash, err := h.Hash(ctx, stormPassword)
	if err != nil {
		return err
	}
	type fields struct {
		Email      string `json:"email"`
		Password   string `json:"password"`
		IsActive   bool   `json:"is_active"`
		DateJoined string `json:"date_joined"`
	}
	type record struct {
		Model  string `json:"model"`
		PK     int    `json:"pk"`
		Fields fields `json:"fields"`
	}
	records := make([]record, n)
	for i := range records {
		records[i] = record{Model: "accounts.user", PK: i + 1, Fields: fields{
			Email: fmt.Sprintf("storm-%d@example.com", i), Password: hash, IsActive: true, DateJoined: "2026-01-01T00:00:00Z",
		}}
	}
	data, err := json.Marshal(records)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// answer is one login's outcome: its status and Error code (or, for a
// transport error, status 0 and kind naming it) and how long it took.
type answer struct {
	status  int
	kind    string
	latency time.Duration
}

// errorCode returns the code of an Error body, or "".
func errorCode(body []byte) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Code
}

// storm drives the clients until each has been answered 200 or 401, or
// o.duration has passed, and returns every answer and how long it took.
func storm(ctx context.Context, o options, addr string) ([]answer, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	start := make(chan struct{})
	results := make([][]answer, o.clients)
	var wg sync.WaitGroup
	for i := range o.clients {
		wg.Go(func() {
			// 127.0.x.y, x and y from 1: one address per client, never 127.0.0.1.
			local := &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))}
			c := load.NewConnFrom(local, addr, o.timeout)
			defer c.Close()
			pw := stormPassword
			if i%2 == 1 {
				pw = "wrong-password"
			}
			body, _ := json.Marshal(map[string]string{"email": fmt.Sprintf("storm-%d@example.com", i%o.accounts), "password": pw})
			<-start
			for ctx.Err() == nil {
				began := time.Now()
				status, resp, err := c.Do(load.NewRequest("POST", "/auth/token/", addr, body))
				a := answer{status: status, latency: time.Since(began)}
				if err != nil {
					a.kind = load.ErrorClass(err)
				} else if status >= 400 && status != 401 {
					a.kind = errorCode(resp)
				}
				results[i] = append(results[i], a)
				if status == 200 || status == 401 {
					return
				}
				if status == 503 || err != nil {
					// The Retry-After (1 s), give or take half, as clients
					// should wait so as not to come back all at once.
					select {
					case <-ctx.Done():
					case <-time.After(time.Second/2 + mathrand.N(time.Second)):
					}
				}
			}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	var all []answer
	for _, r := range results {
		all = append(all, r...)
	}
	return all, time.Since(began)
}

// probeHealth polls GET /auth/health/ from its own connection every 50 ms
// until stop is closed, and then sends the latencies and failures.
func probeHealth(ctx context.Context, addr string, stop <-chan struct{}) <-chan []answer {
	out := make(chan []answer, 1)
	go func() {
		c := load.NewConn(addr, 10*time.Second)
		defer c.Close()
		req := load.NewRequest("GET", "/auth/health/", addr, nil)
		var answers []answer
		for ctx.Err() == nil {
			select {
			case <-stop:
				out <- answers
				return
			default:
			}
			began := time.Now()
			status, _, err := c.Do(req)
			a := answer{status: status, latency: time.Since(began)}
			if err != nil {
				a.kind = load.ErrorClass(err)
			}
			answers = append(answers, a)
			time.Sleep(50 * time.Millisecond)
		}
		out <- answers
	}()
	return out
}

// procStatus reads a "kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// report prints the figures and whether each target is met.
func report(w io.Writer, o options, logins []answer, took time.Duration, health []answer, peakRSS int64, served map[string][]time.Duration) {
	byStatus := map[string]int{}
	latencies := map[string][]time.Duration{}
	for _, a := range logins {
		key := strconv.Itoa(a.status)
		if a.status == 0 {
			key = a.kind
		} else if a.kind != "" {
			key += " " + a.kind
		}
		byStatus[key]++
		class := strconv.Itoa(a.status)
		if a.status == 200 || a.status == 401 {
			class = "200/401"
		}
		latencies[class] = append(latencies[class], a.latency)
	}
	for _, l := range latencies {
		slices.Sort(l)
	}
	var healthLat []time.Duration
	healthFailed := 0
	for _, a := range health {
		if a.status != 200 {
			healthFailed++
		}
		healthLat = append(healthLat, a.latency)
	}
	slices.Sort(healthLat)
	pct := func(class string, q float64) time.Duration { return load.Percentile(latencies[class], q) }

	keys := slices.Sorted(maps.Keys(byStatus))
	var counts []string
	for _, k := range keys {
		counts = append(counts, fmt.Sprintf("%s ×%d", k, byStatus[k]))
	}
	others := 0
	for _, a := range logins {
		if a.status != 200 && a.status != 401 && a.status != 503 {
			others++
		}
	}
	rssMiB := float64(peakRSS) / (1 << 20)
	fmt.Fprintf(w, "\n%s, %d CPUs, %s: %d clients logging in at once, half with a wrong password, retrying after 503; "+
		"all answered in %v, after %d requests\n\n",
		time.Now().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.Version(), o.clients, took.Round(100*time.Millisecond), len(logins))
	fmt.Fprintf(w, "| measure | target | measured | met |\n| --- | --- | --- | --- |\n")
	row := func(measure, target, measured string, met bool) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", measure, target, measured, map[bool]string{true: "yes", false: "**no**"}[met])
	}
	row("server peak RSS (VmHWM)", "< 160 MiB", fmt.Sprintf("%.0f MiB", rssMiB), rssMiB < 160)
	row("login answers", "200, 401 or 503 only", strings.Join(counts, ", "), others == 0)
	row("200 and 401, p50 / p99 / max", "p99 < 3 s", fmt.Sprintf("%s / %s / %s", load.Dur(pct("200/401", 0.5)),
		load.Dur(pct("200/401", 0.99)), load.Dur(pct("200/401", 1))), pct("200/401", 0.99) < 3*time.Second)
	row("503, p50 / p99 / max", "< 100 ms", fmt.Sprintf("%s / %s / %s", load.Dur(pct("503", 0.5)),
		load.Dur(pct("503", 0.99)), load.Dur(pct("503", 1))), pct("503", 0.99) < 100*time.Millisecond)
	row("GET /auth/health/ every 50 ms, p50 / p99 / max", "p99 < 100 ms", fmt.Sprintf("%s / %s / %s (%d polls, %d failed)",
		load.Dur(load.Percentile(healthLat, 0.5)), load.Dur(load.Percentile(healthLat, 0.99)), load.Dur(load.Percentile(healthLat, 1)),
		len(healthLat), healthFailed), load.Percentile(healthLat, 0.99) < 100*time.Millisecond && healthFailed == 0)
	fmt.Fprintf(w, "\nIn the service's access log (handler time, without waiting for a CPU before and after):\n\n")
	for _, key := range []string{"/auth/token/ 200/401", "/auth/token/ 503", "/auth/health/ 200"} {
		l := served[key]
		fmt.Fprintf(w, "- %s: %d, p50 %s, p99 %s, max %s\n", key, len(l),
			load.Dur(load.Percentile(l, 0.5)), load.Dur(load.Percentile(l, 0.99)), load.Dur(load.Percentile(l, 1)))
	}
	rate := float64(byStatus["200"]+byStatus["401"]) / took.Seconds()
	fmt.Fprintf(w, "\n%.1f passwords checked per second (200 + 401).\n", rate)
}
