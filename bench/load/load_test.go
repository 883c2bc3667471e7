package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	line := "4242 (auth (svc) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 1234 0 0\n"
	got, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := parseStat([]byte("4242 (x) S 1")); err == nil {
		t.Fatal("short line accepted")
	}
}

func TestProcessCPUOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := ProcessCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func TestCPUBetweenCountsNewProcessesFromZero(t *testing.T) {
	before := cpuSnapshot{1: time.Second, 2: 2 * time.Second}
	after := cpuSnapshot{1: 3 * time.Second, 3: time.Second} // 2 exited, 3 started
	if got := cpuBetween(before, after); got != 3*time.Second {
		t.Fatalf("got %v", got)
	}
}

func TestParsePHC(t *testing.T) {
	p, err := ParsePHC("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43))
	if err != nil {
		t.Fatal(err)
	}
	if p != (Argon2Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1, KeyLen: 32}) {
		t.Fatalf("got %+v", p)
	}
	for _, bad := range []string{"pbkdf2_sha256$1$x$y", "$argon2i$v=19$m=1,t=1,p=1$a$b", "$argon2id$v=19$m=0,t=1,p=1$a$AAAA"} {
		if _, err := ParsePHC(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHashTimeIsPositive(t *testing.T) {
	p := Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, KeyLen: 32}
	if HashTime(p, 3) <= 0 || HashThroughput(p, 2, 10*time.Millisecond) <= 0 {
		t.Fatal("no time measured")
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	if Percentile(d, 0.5) != 50 || Percentile(d, 0.99) != 99 || Percentile(d[:1], 0.99) != 1 || Percentile(nil, 0.5) != 0 {
		t.Fatal("wrong nearest-rank percentile")
	}
}

func TestConnReadsChunkedBodiesAndRedialsAfterClose(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte("first "))
		w.(http.Flusher).Flush() // forces a chunked body
		w.Write([]byte("second"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := NewConn(addr, 5*time.Second)
	defer c.Close()
	for _, path := range []string{"/", "/", "/close", "/"} {
		status, body, err := c.Do(NewRequest("GET", path, addr, nil))
		if err != nil || status != 200 || string(body) != "first second" {
			t.Fatalf("%s: %d %q %v", path, status, body, err)
		}
	}
	if c.Dials != 2 {
		t.Fatalf("%d dials, want 2 (one after Connection: close)", c.Dials)
	}
}

// chainServer rotates refresh tokens "user-N" strictly: only the newest
// token of a chain is accepted, any other gets a 401.
type chainServer struct {
	mu     sync.Mutex
	newest map[string]int // chain -> newest generation
	logins int
}

func (s *chainServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/auth/token/":
		s.logins++
		chain := fmt.Sprint("c", s.logins)
		s.newest[chain] = 0
		json.NewEncoder(w).Encode(Pair{Access: "a", Refresh: chain + ":0"})
	case "/auth/token/refresh/":
		var body struct{ Refresh string }
		json.NewDecoder(r.Body).Decode(&body)
		var chain string
		var gen int
		fmt.Sscanf(strings.Replace(body.Refresh, ":", " ", 1), "%s %d", &chain, &gen)
		if n, ok := s.newest[chain]; !ok || n != gen {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.newest[chain] = gen + 1
		json.NewEncoder(w).Encode(Pair{Access: "a", Refresh: fmt.Sprintf("%s:%d", chain, gen+1)})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestRefreshFollowsEachConnectionsChain(t *testing.T) {
	fake := &chainServer{newest: map[string]int{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	login := func(ctx context.Context) (string, error) {
		p, err := Login(ctx, srv.Client(), srv.URL, "e", "p")
		return p.Refresh, err
	}
	cfg := Config{Addr: addr, Conns: 4, Warmup: 20 * time.Millisecond, Duration: 200 * time.Millisecond,
		CPU: map[string]PIDs{"self": PID(os.Getpid())}}
	res, err := Run(t.Context(), cfg, Refresh(login))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.OK != res.Requests || len(res.Errors) != 0 || len(res.Stopped) != 0 || fake.logins != 4 {
		t.Fatalf("ok %d of %d, errors %v, stopped %v, logins %d", res.OK, res.Requests, res.Errors, res.Stopped, fake.logins)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
		t.Fatalf("percentiles %v %v %v", res.P50, res.P99, res.Max)
	}

	// Connections sharing one start token fork its chain: all but one get
	// 401s, which are counted by status, and each restarts its chain.
	fake.mu.Lock()
	fake.newest["fixed"] = 0
	fake.mu.Unlock()
	fixedToken := func(context.Context) (string, error) { return "fixed:0", nil }
	res, err = Run(t.Context(), cfg, Refresh(fixedToken))
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors["401"] == 0 || res.Requests != res.OK+res.Errors["401"] {
		t.Fatalf("ok %d, errors %v", res.OK, res.Errors)
	}
}

func TestMergeAddsRoundsAndRecomputesPercentiles(t *testing.T) {
	a := Result{Scenario: "me", Conns: 2, Window: time.Second, OK: 2, Errors: map[string]int{"401": 1},
		CPU: map[string]time.Duration{"server": time.Millisecond}, latencies: []time.Duration{1, 2, 3}}
	b := Result{Scenario: "me", Conns: 2, Window: time.Second, OK: 1, Errors: map[string]int{"401": 1},
		CPU: map[string]time.Duration{"server": 2 * time.Millisecond}, latencies: []time.Duration{10}}
	m := Merge(a, b)
	if m.Window != 2*time.Second || m.OK != 3 || m.Requests != 4 || m.Errors["401"] != 2 ||
		m.CPU["server"] != 3*time.Millisecond || m.P50 != 2 || m.Max != 10 || m.Rate() != 1.5 {
		t.Fatalf("%+v", m)
	}
	if got := m.CPUPerRequest("server"); got != 750*time.Microsecond {
		t.Fatalf("CPU per request %v", got)
	}
}
