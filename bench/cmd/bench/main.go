// Command bench is `make bench`: it builds the service and the bare baseline
// (bench/baseline), starts the service on a fresh PostgreSQL database and the
// baseline beside it with the same secret, drives both with the load
// generator (bench/load) scenario by scenario in one run, and prints a table
// of ratios: requests per second, latency, and server CPU per request, the
// service against the baseline (login: against the argon2id hash-bound
// limit). It removes the database and stops every process it started on
// exit, Ctrl-C included.
//
// Knobs (environment, or the flags of the same name): BENCH_DURATION (10s),
// BENCH_WARMUP (1s, before each round), BENCH_ROUNDS (2: the window is
// split into rounds alternating the service and the baseline, S B B S, so
// that both see the same background load), BENCH_CONNS (64),
// BENCH_LOGIN_CONNS (2 per CPU),
// BENCH_SCENARIOS (health,me,refresh,login), BENCH_PG_URL (the PostgreSQL
// server to create the database on), BENCH_MARKDOWN (also write the table to
// this file), BENCH_SERVICE_LOG (where the service's access log goes;
// /dev/null). AUTH_* variables other than those the benchmark sets (database,
// secret, address, log level) pass through to the service, for example the
// argon2id cost.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

	"github.com/jackc/pgx/v5"

	"github.com/ecommerce/auth-service/bench/internal/harness"
	"github.com/ecommerce/auth-service/bench/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the knobs of a run.
type options struct {
	duration, warmup  time.Duration
	conns, loginConns int
	scenarios         []string
	rounds            int
	pgURL             string
	markdown          string
	serviceLog        string
	goTool            string
	binDir            string
}

func parseOptions(args []string, getenv func(string) string) (options, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	flags := flag.NewFlagSet("bench", flag.ContinueOnError)
	duration := flags.String("duration", env("BENCH_DURATION", "10s"), "timed window of each run (BENCH_DURATION)")
	warmup := flags.String("warmup", env("BENCH_WARMUP", "1s"), "warm-up before each window (BENCH_WARMUP)")
	conns := flags.String("conns", env("BENCH_CONNS", "64"), "connections for health, me and refresh (BENCH_CONNS)")
	loginConns := flags.String("login-conns", env("BENCH_LOGIN_CONNS", strconv.Itoa(2*runtime.NumCPU())), "connections for login (BENCH_LOGIN_CONNS)")
	rounds := flags.String("rounds", env("BENCH_ROUNDS", "2"), "rounds alternating service and baseline within the window (BENCH_ROUNDS)")
	scenarios := flags.String("scenarios", env("BENCH_SCENARIOS", "health,me,refresh,login"), "scenarios to run (BENCH_SCENARIOS)")
	pgURL := flags.String("pg", env("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"), "PostgreSQL server to create the database on (BENCH_PG_URL)")
	markdown := flags.String("markdown", getenv("BENCH_MARKDOWN"), "also write the table to this file (BENCH_MARKDOWN)")
	serviceLog := flags.String("service-log", env("BENCH_SERVICE_LOG", os.DevNull), "file for the service's stdout, its access log (BENCH_SERVICE_LOG)")
	goTool := flags.String("go", env("GO", "go"), "the go command")
	binDir := flags.String("bin", "bin", "where to build the binaries")
	if err := flags.Parse(args); err != nil {
		return options{}, err
	}
	o := options{pgURL: *pgURL, markdown: *markdown, serviceLog: *serviceLog, goTool: *goTool, binDir: *binDir}
	var errs []error
	parseDur := func(name, s string) time.Duration {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s %q: want a positive Go duration", name, s))
		}
		return d
	}
	parseInt := func(name, s string) int {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s %q: want a positive integer", name, s))
		}
		return n
	}
	o.duration = parseDur("BENCH_DURATION", *duration)
	o.warmup = parseDur("BENCH_WARMUP", *warmup)
	o.conns = parseInt("BENCH_CONNS", *conns)
	o.loginConns = parseInt("BENCH_LOGIN_CONNS", *loginConns)
	o.rounds = parseInt("BENCH_ROUNDS", *rounds)
	for _, s := range strings.Split(*scenarios, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains([]string{"health", "me", "refresh", "login"}, s) {
			errs = append(errs, fmt.Errorf("BENCH_SCENARIOS: unknown scenario %q", s))
		}
		o.scenarios = append(o.scenarios, s)
	}
	return o, errors.Join(errs...)
}

// benchEmail is the account every session of the run belongs to.
const benchEmail = "bench@example.com"

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) (err error) {
	o, err := parseOptions(args, getenv)
	if err != nil {
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return harness.ErrNoRepo
	}
	say := func(format string, a ...any) { fmt.Fprintf(stdout, "# "+format+"\n", a...) }
	began := time.Now()

	// Every cleanup runs on the way out, whatever happened, in reverse order.
	var cleanups []func()
	defer func() {
		for _, f := range slices.Backward(cleanups) {
			f()
		}
	}()

	// 1. Build.
	svcBin, baseBin := filepath.Join(o.binDir, "auth-service"), filepath.Join(o.binDir, "bench-baseline")
	buildEnv := harness.SetEnv(os.Environ(), "CGO_ENABLED", "0")
	if err := harness.Command(ctx, 10*time.Minute, buildEnv, o.goTool, "build", "-trimpath", "-o", svcBin, "./cmd/auth-service"); err != nil {
		return err
	}
	if err := harness.Command(ctx, 10*time.Minute, buildEnv, o.goTool, "build", "-trimpath", "-o", baseBin, "./bench/baseline"); err != nil {
		return err
	}
	say("built %s and %s in %v", svcBin, baseBin, time.Since(began).Round(100*time.Millisecond))

	tmp, err := os.MkdirTemp("", "auth-bench-")
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(tmp) })

	// 2. A fresh database, dropped at the end.
	dbURLString, drop, err := harness.NewDatabase(ctx, o.pgURL, "bench_")
	if err != nil {
		return err
	}
	cleanups = append(cleanups, drop)
	dbURL, err := url.Parse(dbURLString)
	if err != nil {
		return err
	}
	dbName := strings.TrimPrefix(dbURL.Path, "/")
	admin, err := pgx.Connect(ctx, o.pgURL)
	if err != nil {
		return fmt.Errorf("PostgreSQL at BENCH_PG_URL: %w", err)
	}
	cleanups = append(cleanups, func() { admin.Close(context.Background()) })

	// 3. Migrate, create the account, start both servers.
	secret := base64.RawURLEncoding.EncodeToString([]byte(rand.Text() + rand.Text()))
	password := rand.Text()
	svcAddr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	baseAddr, err := harness.FreeAddr()
	if err != nil {
		return err
	}
	svcEnv := harness.SetEnv(os.Environ(),
		"AUTH_DATABASE_URL", dbURL.String(),
		"AUTH_SECRET_KEY", secret,
		"AUTH_LISTEN_ADDR", svcAddr,
		"AUTH_LOG_LEVEL", "info",
		"AUTH_MIGRATE_ON_START", "false",
		"AUTH_SUPERUSER_PASSWORD", password)
	if err := harness.Command(ctx, 2*time.Minute, svcEnv, svcBin, "migrate"); err != nil {
		return err
	}
	if err := harness.Command(ctx, 2*time.Minute, svcEnv, svcBin, "createsuperuser", "--email", benchEmail, "--noinput"); err != nil {
		return err
	}
	svc, err := harness.StartServer("service", tmp, svcAddr, o.serviceLog, svcEnv, svcBin, "serve")
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { svc.Stop(10 * time.Second) })
	base, err := harness.StartServer("baseline", tmp, baseAddr, os.DevNull,
		harness.SetEnv(os.Environ(), "AUTH_SECRET_KEY", secret), baseBin, "-listen", baseAddr)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { base.Stop(10 * time.Second) })
	for _, s := range []*harness.Server{svc, base} {
		if err := s.WaitReady(ctx, 30*time.Second); err != nil {
			return err
		}
	}
	say("service (pid %d) at %s on database %s; baseline (pid %d) at %s", svc.PID(), svc.URL, dbName, base.PID(), base.URL)

	// 4. The hash-bound limit: one argon2id hash in this process with the
	// parameters of the hash the service stored, measured now, while both
	// servers are idle, and again between the login rounds.
	cores := runtime.NumCPU()
	params, source := argonParams(ctx, dbURL.String(), getenv)
	hashTimes := []time.Duration{load.HashTime(params, 9)}
	say("argon2id %s (%s): one hash takes %s in-process, so %d cores hash at most %.0f logins/s",
		params, source, load.Dur(hashTimes[0]), cores, float64(cores)/hashTimes[0].Seconds())

	// 5. The scenarios. The window is cut into rounds that alternate the
	// service and the baseline (S B B S ...), so that both see the same
	// background load of a shared machine.
	self := load.PID(os.Getpid())
	pgBackends := func() ([]int, error) {
		rows, err := admin.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1", dbName)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[int])
	}
	slice := o.duration / time.Duration(o.rounds)
	newTarget := func(label string, s *harness.Server, conns int, cpu map[string]load.PIDs) *target {
		u, _ := url.Parse(s.URL)
		return &target{label: label, cfg: load.Config{Addr: u.Host, Conns: conns, Warmup: o.warmup, Duration: slice, CPU: cpu}}
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	login := func(ctx context.Context) (load.Pair, error) {
		return load.Login(ctx, client, svc.URL, benchEmail, password)
	}
	// alternate drives each target's scenario round by round; between runs
	// after each round (it may be nil).
	alternate := func(targets []*target, between func()) {
		for _, t := range targets {
			if t.err == nil {
				t.workers, t.err = load.Prepare(ctx, t.cfg, t.sc)
			}
		}
		for round := range o.rounds {
			order := slices.Clone(targets)
			if round%2 == 1 {
				slices.Reverse(order)
			}
			for _, t := range order {
				if t.err != nil || ctx.Err() != nil {
					continue
				}
				res, err := load.Drive(ctx, t.cfg, t.sc.Name, t.workers)
				if err != nil {
					t.err = err
					continue
				}
				say("%-7s %-8s round %d/%d: %s", t.sc.Name, t.label, round+1, o.rounds, res.Summary())
				t.results = append(t.results, res)
			}
			if between != nil && ctx.Err() == nil {
				between()
			}
		}
		for _, t := range targets {
			if t.err != nil && ctx.Err() == nil {
				say("%-7s %-8s failed: %v", t.sc.Name, t.label, t.err)
			}
		}
	}

	rows := make([]row, 0, len(o.scenarios))
	for _, name := range o.scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		svcT := newTarget("service", svc, o.conns, map[string]load.PIDs{cpuServer: load.PID(svc.PID()), cpuPostgres: pgBackends, cpuClient: self})
		baseT := newTarget("baseline", base, o.conns, map[string]load.PIDs{cpuServer: load.PID(base.PID()), cpuClient: self})
		r := row{name: name}
		switch name {
		case "health":
			svcT.sc, baseT.sc = load.Health(), load.Health()
			alternate([]*target{svcT, baseT}, nil)
		case "me":
			// One login; the baseline verifies the same token with the same secret.
			p, err := login(ctx)
			svcT.sc, baseT.sc = load.Me(p.Access), load.Me(p.Access)
			svcT.err, baseT.err = err, err
			alternate([]*target{svcT, baseT}, nil)
		case "refresh":
			// Each service connection logs in once: a session and a rotation
			// chain of its own, followed across the rounds. The logins go one
			// at a time, as a user's would: 64 at once for one account from
			// one address are what the login throttle exists to refuse.
			var oneAtATime sync.Mutex
			svcT.sc = load.Refresh(func(ctx context.Context) (string, error) {
				oneAtATime.Lock()
				defer oneAtATime.Unlock()
				p, err := login(ctx)
				return p.Refresh, err
			})
			// The baseline keeps no state, so one login's token starts all
			// its chains.
			p, err := login(ctx)
			baseT.sc, baseT.err = load.Refresh(func(context.Context) (string, error) { return p.Refresh, nil }), err
			alternate([]*target{svcT, baseT}, nil)
		case "login":
			svcT.sc, svcT.cfg.Conns = load.LoginWith(benchEmail, password), o.loginConns
			var capacity []float64
			alternate([]*target{svcT}, func() {
				hashTimes = append(hashTimes, load.HashTime(params, 5))
				capacity = append(capacity, load.HashThroughput(params, cores, min(slice/2, 2*time.Second)))
			})
			r.hashTime = median(hashTimes)
			r.hashBound = float64(cores) / r.hashTime.Seconds()
			r.cores = cores
			if len(capacity) > 0 {
				r.capacity = medianFloat(capacity)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.svc, r.base = svcT.outcome(), baseT.outcome()
		if name == "login" {
			r.base = outcome{}
		}
		for _, t := range []struct {
			label string
			o     outcome
		}{{"service", r.svc}, {"baseline", r.base}} {
			if t.o.ran() && o.rounds > 1 {
				say("%-7s %-8s all rounds: %s", name, t.label, t.o.res.Summary())
			}
		}
		rows = append(rows, r)
	}
	if !svc.Alive() {
		return fmt.Errorf("the service exited during the run: %s", svc.StderrTail())
	}
	if tail := svc.StderrTail(); tail != "" {
		say("the service wrote to stderr: %s", tail)
	}

	// 6. The table.
	host, _ := os.Hostname()
	header := fmt.Sprintf("%s, %s, %d CPUs, %s; %d connections (login %d); %v per endpoint and target in %d rounds, each after %v warm-up; service at %s",
		time.Now().Format("2006-01-02 15:04 MST"), host, cores, runtime.Version(),
		o.conns, o.loginConns, o.duration, o.rounds, o.warmup, gitDescribe(ctx))
	table := renderTable(header, rows)
	fmt.Fprint(stdout, "\n"+table)
	if o.markdown != "" {
		if err := os.WriteFile(o.markdown, []byte(table), 0o644); err != nil {
			return err
		}
	}
	say("whole run %v", time.Since(began).Round(time.Second))
	return nil
}

// argonParams returns the argon2id parameters of the hash createsuperuser
// stored, so the measurement uses exactly what the service is configured
// with; failing that, those of AUTH_ARGON2_* or the service's defaults.
func argonParams(ctx context.Context, dbURL string, getenv func(string) string) (load.Argon2Params, string) {
	if conn, err := pgx.Connect(ctx, dbURL); err == nil {
		defer conn.Close(ctx)
		var hash string
		if err := conn.QueryRow(ctx, "SELECT password_hash FROM users WHERE email = $1", benchEmail).Scan(&hash); err == nil {
			if p, err := load.ParsePHC(hash); err == nil {
				return p, "read from the stored hash"
			}
		}
	}
	num := func(name string, def uint64) uint64 {
		if n, err := strconv.ParseUint(getenv(name), 10, 32); err == nil && n > 0 {
			return n
		}
		return def
	}
	return load.Argon2Params{
		MemoryKiB:   uint32(num("AUTH_ARGON2_MEMORY_KIB", 19456)),
		Iterations:  uint32(num("AUTH_ARGON2_ITERATIONS", 2)),
		Parallelism: uint8(min(num("AUTH_ARGON2_PARALLELISM", 1), 255)),
		KeyLen:      32,
	}, "stored hash unreadable: from AUTH_ARGON2_* or the defaults"
}

// gitDescribe names the commit the service was built from.
func gitDescribe(ctx context.Context) string {
	out, err := execOutput(ctx, "git", "describe", "--always", "--dirty")
	if err != nil {
		return "unknown commit"
	}
	return out
}
