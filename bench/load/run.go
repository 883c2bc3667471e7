// Package load is the load generator of `make bench`: a fixed number of
// persistent connections drive one scenario for a fixed window after a short
// warm-up, and the run reports requests per second, latency percentiles,
// every non-2xx answer and connection error, and the CPU time the measured
// processes (the server, PostgreSQL's backends, the generator itself) spent
// in the window, read from /proc.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Scenario is what every connection of a run does.
type Scenario struct {
	Name string
	// NewWorker prepares one connection's worker before the clock starts (for
	// example, it logs in). host is the Host header of the server under load.
	NewWorker func(ctx context.Context, host string) (Worker, error)
}

// Worker produces one connection's requests and follows their answers.
type Worker interface {
	// Request returns the next request (see NewRequest); the runner does not
	// modify it.
	Request() []byte
	// Response handles the answer to the last request, after its latency was
	// taken: following a rotation chain, logging in again after a rejection.
	// An error stops this worker and is reported in Result.Stopped.
	Response(ctx context.Context, status int, body []byte) error
}

// Config is how to run a scenario.
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// Conns is the number of persistent connections, one worker each.
	Conns int
	// Warmup runs before the window and is not counted.
	Warmup time.Duration
	// Duration is the timed window.
	Duration time.Duration
	// Timeout bounds each request, and each dial.
	Timeout time.Duration
	// CPU names the processes whose CPU time the window is charged with.
	CPU map[string]PIDs
}

// Result is what one run measured inside its window. Latencies cover every
// request completed in the window, whatever its status.
type Result struct {
	Scenario string
	Conns    int
	Window   time.Duration
	// Requests completed in the window, of which OK got a 2xx.
	Requests, OK int
	// Errors counts the rest: by status ("401") or by connection error
	// ("connection reset").
	Errors map[string]int
	// Stopped holds why workers stopped early (for example, a failed re-login).
	Stopped map[string]int
	// P50, P99 and Max are latency percentiles.
	P50, P99, Max time.Duration
	// CPU is the CPU time of each process set of Config.CPU in the window.
	CPU map[string]time.Duration
	// Redials counts connections opened beyond one per worker.
	Redials int
	// latencies are those of the window, sorted.
	latencies []time.Duration
}

// Rate returns the successful requests per second.
func (r Result) Rate() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.OK) / r.Window.Seconds()
}

// CPUPerRequest returns the CPU time of the process set name per request
// completed in the window, or 0 when nothing completed.
func (r Result) CPUPerRequest(name string) time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU[name] / time.Duration(r.Requests)
}

// workerStats is what one worker saw in the window.
type workerStats struct {
	latencies []time.Duration
	ok        int
	errors    map[string]int
	stopped   error
	dials     int
}

// Run prepares cfg.Conns workers of sc and drives them once: Prepare, then
// Drive.
func Run(ctx context.Context, cfg Config, sc Scenario) (Result, error) {
	workers, err := Prepare(ctx, cfg, sc)
	if err != nil {
		return Result{}, err
	}
	return Drive(ctx, cfg, sc.Name, workers)
}

// Prepare makes cfg.Conns workers of sc, concurrently, before any clock
// starts. It fails if any worker cannot be prepared.
func Prepare(ctx context.Context, cfg Config, sc Scenario) ([]Worker, error) {
	if cfg.Conns < 1 {
		return nil, errors.New("load: need at least one connection")
	}
	workers := make([]Worker, cfg.Conns)
	errs := make([]error, cfg.Conns)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { workers[i], errs[i] = sc.NewWorker(ctx, cfg.Addr) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load: %s: prepare workers: %w", sc.Name, err)
	}
	return workers, nil
}

// Drive runs workers, one connection each, through cfg.Warmup and the
// cfg.Duration window, and returns what the window measured. Workers keep
// their state, so that a later Drive continues where this one ended (a
// refresh chain goes on). It fails only when a CPU meter fails or ctx ends;
// errors under load are counted in the Result.
func Drive(ctx context.Context, cfg Config, name string, workers []Worker) (Result, error) {
	if len(workers) == 0 || cfg.Duration <= 0 {
		return Result{}, errors.New("load: need workers and a positive duration")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	start := time.Now()
	from := start.Add(cfg.Warmup)
	to := from.Add(cfg.Duration)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	stats := make([]workerStats, len(workers))
	conns := make([]*Conn, len(workers))
	var wg sync.WaitGroup
	for i := range workers {
		conns[i] = NewConn(cfg.Addr, cfg.Timeout)
		wg.Go(func() { stats[i] = drive(runCtx, conns[i], workers[i], from, to) })
	}
	// A cancelled run must not wait for requests in flight.
	stopAbort := context.AfterFunc(runCtx, func() {
		for _, c := range conns {
			c.abort()
		}
	})
	defer stopAbort()

	cpu, cpuErr := meter(runCtx, cfg.CPU, from, to)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if cpuErr != nil {
		return Result{}, fmt.Errorf("load: %s: %w", name, cpuErr)
	}

	res := Result{Scenario: name, Conns: len(workers), Window: cfg.Duration,
		Errors: map[string]int{}, Stopped: map[string]int{}, CPU: cpu}
	for _, s := range stats {
		res.latencies = append(res.latencies, s.latencies...)
		res.OK += s.ok
		for k, n := range s.errors {
			res.Errors[k] += n
		}
		if s.stopped != nil {
			res.Stopped[s.stopped.Error()]++
		}
		res.Redials += max(s.dials-1, 0)
	}
	res.summarise()
	return res, nil
}

// Merge adds up the results of several drives of one scenario (rounds
// alternating with another target's): requests, windows, failures and CPU
// add, and the percentiles are those of all the latencies together.
func Merge(rs ...Result) Result {
	if len(rs) == 0 {
		return Result{}
	}
	m := Result{Scenario: rs[0].Scenario, Conns: rs[0].Conns,
		Errors: map[string]int{}, Stopped: map[string]int{}, CPU: map[string]time.Duration{}}
	for _, r := range rs {
		m.Window += r.Window
		m.OK += r.OK
		m.Redials += r.Redials
		m.latencies = append(m.latencies, r.latencies...)
		for k, n := range r.Errors {
			m.Errors[k] += n
		}
		for k, n := range r.Stopped {
			m.Stopped[k] += n
		}
		for k, d := range r.CPU {
			m.CPU[k] += d
		}
	}
	m.summarise()
	return m
}

// summarise sorts the latencies and sets Requests and the percentiles.
func (r *Result) summarise() {
	slices.Sort(r.latencies)
	r.Requests = len(r.latencies)
	r.P50, r.P99, r.Max = Percentile(r.latencies, 0.50), Percentile(r.latencies, 0.99), 0
	if n := len(r.latencies); n > 0 {
		r.Max = r.latencies[n-1]
	}
}

// drive runs one worker until the window ends, counting the requests that
// complete inside [from, to].
func drive(ctx context.Context, c *Conn, w Worker, from, to time.Time) workerStats {
	defer c.Close()
	s := workerStats{errors: map[string]int{}, latencies: make([]time.Duration, 0, 4096)}
	for ctx.Err() == nil {
		req := w.Request()
		t0 := time.Now()
		status, body, err := c.Do(req)
		t1 := time.Now()
		in := !t1.Before(from) && !t1.After(to)
		switch {
		case err != nil:
			if in {
				s.latencies = append(s.latencies, t1.Sub(t0))
				s.errors[ErrorClass(err)]++
			}
			// Do not spin on a refused dial.
			time.Sleep(10 * time.Millisecond)
		default:
			if in {
				s.latencies = append(s.latencies, t1.Sub(t0))
				if status >= 200 && status < 300 {
					s.ok++
				} else {
					s.errors[strconv.Itoa(status)]++
				}
			}
			if rerr := w.Response(ctx, status, body); rerr != nil {
				s.stopped = rerr
				s.dials = c.Dials
				return s
			}
		}
		if t1.After(to) {
			break
		}
	}
	s.dials = c.Dials
	return s
}

// meter snapshots the CPU time of every process set at from and at to, and
// returns the differences.
func meter(ctx context.Context, sets map[string]PIDs, from, to time.Time) (map[string]time.Duration, error) {
	sleepUntil := func(t time.Time) error {
		timer := time.NewTimer(time.Until(t))
		defer timer.Stop()
		select {
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	take := func() (map[string]cpuSnapshot, error) {
		snaps := make(map[string]cpuSnapshot, len(sets))
		for name, pids := range sets {
			s, err := snapshot(pids)
			if err != nil {
				return nil, fmt.Errorf("CPU of %s: %w", name, err)
			}
			snaps[name] = s
		}
		return snaps, nil
	}
	if err := sleepUntil(from); err != nil {
		return nil, err
	}
	before, err := take()
	if err != nil {
		return nil, err
	}
	if err := sleepUntil(to); err != nil {
		return nil, err
	}
	after, err := take()
	if err != nil {
		return nil, err
	}
	cpu := make(map[string]time.Duration, len(sets))
	for name := range sets {
		cpu[name] = cpuBetween(before[name], after[name])
	}
	return cpu, nil
}

// Percentile returns the nearest-rank q-quantile of sorted, or 0 if empty.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ErrorClass names a transport error by kind, so that the report groups
// them instead of listing every address.
func ErrorClass(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, net.ErrClosed):
		return "connection aborted"
	default:
		return "connection error"
	}
}
