// Command load drives one scenario of the benchmark against a running
// server and prints what it measured: for trying a change or profiling
// without the whole `make bench`.
//
//	load -url http://127.0.0.1:8000 -scenario me -pid $(pgrep -n auth-service) \
//	     -email bench@example.com   # password in BENCH_PASSWORD
//
// Scenarios: health, me, refresh (one session per connection, each following
// its own rotation chain) and login. me, refresh and login log in first, at
// -auth-url (the service; default -url), so that a bare baseline sharing the
// service's secret can be driven with the service's tokens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ecommerce/auth-service/bench/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	flags := flag.NewFlagSet("load", flag.ContinueOnError)
	target := flags.String("url", "http://127.0.0.1:8000", "base URL of the server under load")
	authURL := flags.String("auth-url", "", "base URL of the service to log in at (default -url)")
	scenario := flags.String("scenario", "health", "health, me, refresh or login")
	conns := flags.Int("conns", 64, "persistent connections")
	duration := flags.Duration("duration", 10*time.Second, "timed window")
	warmup := flags.Duration("warmup", time.Second, "warm-up before the window")
	pid := flags.Int("pid", 0, "server process whose CPU per request to report (0: none)")
	email := flags.String("email", "bench@example.com", "account to log in with (password in BENCH_PASSWORD)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-url %q: want http://host:port", *target)
	}
	if *authURL == "" {
		*authURL = *target
	}
	password := getenv("BENCH_PASSWORD")
	client := &http.Client{Timeout: 2 * time.Minute}
	login := func(ctx context.Context) (load.Pair, error) {
		if password == "" {
			return load.Pair{}, errors.New("BENCH_PASSWORD is not set")
		}
		return load.Login(ctx, client, *authURL, *email, password)
	}

	var sc load.Scenario
	switch *scenario {
	case "health":
		sc = load.Health()
	case "me":
		p, err := login(ctx)
		if err != nil {
			return err
		}
		sc = load.Me(p.Access)
	case "refresh":
		sc = load.Refresh(func(ctx context.Context) (string, error) {
			p, err := login(ctx)
			return p.Refresh, err
		})
	case "login":
		if password == "" {
			return errors.New("BENCH_PASSWORD is not set")
		}
		sc = load.LoginWith(*email, password)
	default:
		return fmt.Errorf("-scenario %q: want health, me, refresh or login", *scenario)
	}
	cpu := map[string]load.PIDs{"load generator": load.PID(os.Getpid())}
	if *pid > 0 {
		cpu["server"] = load.PID(*pid)
	}
	res, err := load.Run(ctx, load.Config{Addr: u.Host, Conns: *conns, Warmup: *warmup, Duration: *duration, CPU: cpu}, sc)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s\n", sc.Name, res.Summary())
	return nil
}
