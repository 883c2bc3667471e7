package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/hashlimit"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
)

// throttleParams are the defaults but for a short MaxBackoff, so that the
// tests see it reached.
var throttleParams = auth.ThrottleParams{
	MaxFailures: 5, AccountMaxFailures: 100, AddressMaxFailures: 50,
	Window: 15 * time.Minute, MaxBackoff: 4 * time.Minute,
}

// atomicHasher is the real hasher counting its hashes, safe for concurrent
// logins; fail, when set, makes every hash fail with it instead.
type atomicHasher struct {
	*countingHasher
	n    atomic.Int64
	fail error
	// block, when set, holds every Verify until it is closed, after
	// signalling entered.
	block, entered chan struct{}
}

func (a *atomicHasher) Verify(ctx context.Context, pw, encoded string) (bool, bool, error) {
	a.n.Add(1)
	if a.block != nil {
		a.entered <- struct{}{}
		<-a.block
	}
	if a.fail != nil {
		return false, false, a.fail
	}
	return a.countingHasher.Hasher.Verify(ctx, pw, encoded)
}

func (a *atomicHasher) VerifyDummy(ctx context.Context, pw string) error {
	a.n.Add(1)
	if a.fail != nil {
		return a.fail
	}
	return a.countingHasher.Hasher.VerifyDummy(ctx, pw)
}

// throttled is a service with the login throttle over a store, on a clock
// the test sets, with one user (known@example.com, password "right").
type throttled struct {
	svc    *auth.Service
	hasher *atomicHasher
	clock  *clock
}

func newThrottled(t *testing.T, st store.DB, clk *clock, p auth.ThrottleParams) *throttled {
	t.Helper()
	h := &atomicHasher{countingHasher: &countingHasher{Hasher: cheapHasher(t)}, entered: make(chan struct{}, 1)}
	params := auth.Params{AccessTTL: time.Minute, RefreshTTL: time.Hour, Throttle: p}
	svc := auth.New(st, testKeys(t), h, clk.Now, params, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &throttled{svc: svc, hasher: h, clock: clk}
}

func (r *throttled) createUser(t *testing.T, email string) {
	t.Helper()
	if _, err := r.svc.CreateUser(context.Background(), email, "right", false, false); err != nil {
		t.Fatal(err)
	}
}

// login logs in from address and returns the error (nil on success).
func (r *throttled) login(address, email, pw string) error {
	_, err := r.svc.Login(auth.WithClient(context.Background(), auth.Client{Address: address}), email, pw)
	return err
}

// retryAfter returns the wait a throttled login was told, failing unless
// err is a *ThrottledError.
func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var te *auth.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("err = %v, want a *ThrottledError", err)
	}
	return te.RetryAfter
}

func expectBadCredentials(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("%s: err = %v, want ErrBadCredentials", what, err)
	}
}

// After MaxFailures failures of one account from one address, attempts are
// refused, right password or not, without a hash; the lock doubles with
// every further failure up to MaxBackoff, and ends by itself.
func TestThrottleLocksAccountFromAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		r := newThrottled(t, st, &clock{now: base}, throttleParams)
		r.createUser(t, "known@example.com")
		const addr = "192.0.2.10"
		for i := range 5 {
			expectBadCredentials(t, r.login(addr, "known@example.com", "wrong"), fmt.Sprintf("failure %d", i+1))
		}
		hashes := r.hasher.n.Load()
		if wait := retryAfter(t, r.login(addr, "known@example.com", "right")); wait != 30*time.Second {
			t.Errorf("first lock: retry after %s, want 30s", wait)
		}
		if r.hasher.n.Load() != hashes {
			t.Error("a throttled attempt computed a password hash")
		}
		// Another address, and another account from this address, are free.
		if err := r.login("192.0.2.11", "known@example.com", "right"); err != nil {
			t.Errorf("another address: %v", err)
		}
		expectBadCredentials(t, r.login(addr, "other@example.com", "wrong"), "another account")

		// Each further failure doubles the lock, up to MaxBackoff.
		for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
			r.clock.Set(r.clock.Now().Add(retryAfter(t, r.login(addr, "known@example.com", "wrong"))))
			expectBadCredentials(t, r.login(addr, "known@example.com", "wrong"), "failure after the lock")
			if wait := retryAfter(t, r.login(addr, "known@example.com", "wrong")); wait != want {
				t.Errorf("lock = %s, want %s", wait, want)
			}
		}
		// The lock ends by itself, and a success clears the counter.
		r.clock.Set(r.clock.Now().Add(4 * time.Minute))
		if err := r.login(addr, "known@example.com", "right"); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		for i := range 5 {
			expectBadCredentials(t, r.login(addr, "known@example.com", "wrong"), fmt.Sprintf("failure %d after a success", i+1))
		}
		retryAfter(t, r.login(addr, "known@example.com", "wrong"))
	})
}

// An unknown email is counted, locked and answered exactly like a known one,
// and costs a hash exactly like one until it is locked.
func TestThrottleTreatsUnknownEmailsLikeKnownOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		r := newThrottled(t, st, &clock{now: base}, throttleParams)
		r.createUser(t, "known@example.com")
		var outcomes [2][]string
		var hashes [2]int64
		for i, email := range []string{"known@example.com", "unknown@example.com"} {
			before := r.hasher.n.Load()
			for range 8 {
				err := r.login("198.51.100.1", email, "wrong")
				var te *auth.ThrottledError
				if errors.As(err, &te) {
					outcomes[i] = append(outcomes[i], fmt.Sprintf("throttled %s", te.RetryAfter))
				} else {
					outcomes[i] = append(outcomes[i], fmt.Sprint(err))
				}
			}
			hashes[i] = r.hasher.n.Load() - before
		}
		if fmt.Sprint(outcomes[0]) != fmt.Sprint(outcomes[1]) || hashes[0] != hashes[1] || hashes[0] != 5 {
			t.Errorf("known: %v (%d hashes)\nunknown: %v (%d hashes)", outcomes[0], hashes[0], outcomes[1], hashes[1])
		}
	})
}

// One address failing on many accounts is throttled on all of them.
func TestThrottleLimitsAnAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		p := throttleParams
		p.AddressMaxFailures = 3
		r := newThrottled(t, st, &clock{now: base}, p)
		r.createUser(t, "known@example.com")
		for i := range 3 {
			expectBadCredentials(t, r.login("203.0.113.5", fmt.Sprintf("user%d@example.com", i), "x"), "failure")
		}
		retryAfter(t, r.login("203.0.113.5", "known@example.com", "right"))
		if err := r.login("203.0.113.6", "known@example.com", "right"); err != nil {
			t.Errorf("another address: %v", err)
		}
		// One IPv6 subscriber (a /64) is one address.
		for i := range 3 {
			expectBadCredentials(t, r.login(fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprintf("v6-%d@example.com", i), "x"), "v6 failure")
		}
		retryAfter(t, r.login("2001:db8:1:2:ffff::9", "known@example.com", "right"))
		if err := r.login("2001:db8:1:3::1", "known@example.com", "right"); err != nil {
			t.Errorf("another /64: %v", err)
		}
	})
}

// Failures spread over many addresses lock the account, except for an
// address the owner has logged in from: strangers cannot lock the owner
// out where they usually log in.
func TestThrottleLimitsAnAccountButNotFromFamiliarAddresses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		p := throttleParams
		p.AccountMaxFailures = 4
		r := newThrottled(t, st, &clock{now: base}, p)
		r.createUser(t, "victim@example.com")
		if err := r.login("192.0.2.1", "victim@example.com", "right"); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			expectBadCredentials(t, r.login(fmt.Sprintf("198.51.100.%d", i+1), "victim@example.com", "guess"), "distributed guess")
		}
		retryAfter(t, r.login("198.51.100.99", "victim@example.com", "right"))
		if err := r.login("192.0.2.1", "victim@example.com", "right"); err != nil {
			t.Errorf("the owner's familiar address is locked out: %v", err)
		}
	})
}

// Failures older than the window are forgotten; the cleanup deletes the
// forgotten counters.
func TestThrottleForgetsAfterTheWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		r := newThrottled(t, st, &clock{now: base}, throttleParams)
		for range 4 {
			expectBadCredentials(t, r.login("192.0.2.20", "someone@example.com", "x"), "failure")
		}
		r.clock.Set(base.Add(throttleParams.Window + time.Second))
		for range 4 {
			expectBadCredentials(t, r.login("192.0.2.20", "someone@example.com", "x"), "failure in a new window")
		}
		r.clock.Set(r.clock.Now().Add(throttleParams.Window + time.Second))
		n, err := r.svc.Cleanup(context.Background(), 1000)
		if err != nil || n != 3 {
			t.Fatalf("Cleanup = %d, %v; want the 3 counters deleted", n, err)
		}
	})
}

// An attempt whose password was never checked (the hash could not start in
// time) is given back: overload never locks anyone out.
func TestThrottleGivesBackUncheckedAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		r := newThrottled(t, st, &clock{now: base}, throttleParams)
		r.createUser(t, "known@example.com")
		r.hasher.fail = hashlimit.ErrOverloaded
		for range 10 {
			if err := r.login("192.0.2.30", "known@example.com", "right"); !errors.Is(err, auth.ErrOverloaded) {
				t.Fatalf("err = %v, want ErrOverloaded", err)
			}
		}
		r.hasher.fail = nil
		for range 4 {
			expectBadCredentials(t, r.login("192.0.2.30", "known@example.com", "wrong"), "failure")
		}
		if err := r.login("192.0.2.30", "known@example.com", "right"); err != nil {
			t.Errorf("the overloaded attempts were counted: %v", err)
		}
	})
}

// twoReplicas are two services, each with its own handle on one database of
// kind, on one clock.
func twoReplicas(t *testing.T, kind string) (a, b *throttled) {
	t.Helper()
	url := storetest.URL(t, kind)
	clk := &clock{now: base}
	return newThrottled(t, storetest.OpenURL(t, url), clk, throttleParams), newThrottled(t, storetest.OpenURL(t, url), clk, throttleParams)
}

// Replicas count together, and concurrent attempts cannot slip past the
// limit before the failures are recorded: two services over two handles of
// one database, 40 concurrent wrong logins for one account from one address,
// exactly MaxFailures of them checked.
func TestThrottleIsSharedAndRaceFree(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a, b := twoReplicas(t, kind)
			a.createUser(t, "shared@example.com")
			var wg sync.WaitGroup
			var bad, refused atomic.Int64
			for i := range 40 {
				r := []*throttled{a, b}[i%2]
				wg.Go(func() {
					err := r.login("192.0.2.40", "shared@example.com", "wrong")
					switch {
					case errors.Is(err, auth.ErrBadCredentials):
						bad.Add(1)
					case errors.Is(err, auth.ErrThrottled):
						refused.Add(1)
					default:
						t.Errorf("err = %v", err)
					}
				})
			}
			wg.Wait()
			checked := a.hasher.n.Load() + b.hasher.n.Load()
			if bad.Load() != 5 || refused.Load() != 35 || checked != 5 {
				t.Errorf("%d rejected, %d throttled, %d hashes; want 5, 35, 5", bad.Load(), refused.Load(), checked)
			}
		})
	}
}

// Concurrent right passwords are never refused: one account logging in 30
// times at once from one address on two replicas, and 120 accounts at once
// from one address (over its limit of 50), all succeed; the attempts in
// flight made the later ones wait, not fail.
func TestThrottleLetsConcurrentRightPasswordsThrough(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a, b := twoReplicas(t, kind)
			a.createUser(t, "tabs@example.com")
			const accounts = 120
			for i := range accounts {
				a.createUser(t, fmt.Sprintf("shopper%d@example.com", i))
			}
			var wg sync.WaitGroup
			var failed atomic.Int64
			login := func(r *throttled, email string) {
				if err := r.login("192.0.2.50", email, "right"); err != nil {
					failed.Add(1)
					t.Errorf("%s: %v", email, err)
				}
			}
			for i := range 30 {
				wg.Go(func() { login([]*throttled{a, b}[i%2], "tabs@example.com") })
			}
			wg.Wait()
			for i := range accounts {
				wg.Go(func() { login([]*throttled{a, b}[i%2], fmt.Sprintf("shopper%d@example.com", i)) })
			}
			wg.Wait()
			if failed.Load() > 0 {
				t.Errorf("%d of %d right passwords refused", failed.Load(), 30+accounts)
			}
			// Nothing was left in flight: five failures still lock as ever.
			for range 5 {
				expectBadCredentials(t, a.login("192.0.2.50", "tabs@example.com", "wrong"), "failure")
			}
			retryAfter(t, a.login("192.0.2.50", "tabs@example.com", "right"))
		})
	}
}

// An attempt whose replica stopped before settling it is forgotten after
// inFlightFor: it does not hold the counter full for the whole window.
func TestThrottleForgetsAttemptsLeftInFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		clk := &clock{now: base}
		r := newThrottled(t, st, clk, throttleParams)
		r.createUser(t, "known@example.com")
		for range 4 {
			expectBadCredentials(t, r.login("192.0.2.60", "known@example.com", "wrong"), "failure")
		}
		// A fifth attempt admitted by a replica that then stopped: as admit
		// leaves it, a counter in flight with no settling to come.
		stranded := &clock{now: base}
		s2 := newThrottled(t, st, stranded, throttleParams)
		ctx, cancel := context.WithCancel(auth.WithClient(context.Background(), auth.Client{Address: "192.0.2.60"}))
		s2.hasher.block = make(chan struct{})
		done := make(chan error, 1)
		go func() { _, err := s2.svc.Login(ctx, "known@example.com", "right"); done <- err }()
		<-s2.hasher.entered
		// While it is in flight, the owner's next attempt waits, then is told to retry.
		if wait := retryAfter(t, r.login("192.0.2.60", "known@example.com", "right")); wait != time.Second {
			t.Errorf("Retry-After %s while an attempt is in flight, want 1s", wait)
		}
		clk.Set(base.Add(3 * time.Minute))
		if err := r.login("192.0.2.60", "known@example.com", "right"); err != nil {
			t.Errorf("after the stranded attempt expired: %v", err)
		}
		cancel()
		close(s2.hasher.block)
		<-done
	})
}

// countingStore counts the questions a login asks the database first.
type countingStore struct {
	store.DB
	asked atomic.Int64
}

func (c *countingStore) ThrottleCounters(ctx context.Context, keys [][]byte) ([]auth.ThrottleCounter, error) {
	c.asked.Add(1)
	return c.DB.ThrottleCounters(ctx, keys)
}

func (c *countingStore) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	c.asked.Add(1)
	return c.DB.UserByEmail(ctx, email)
}

// When hashing is saturated a login is refused at once, before it asks the
// database anything: a burst must not queue for the database either.
func TestSaturatedHashingRefusesBeforeTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		counting := &countingStore{DB: st}
		lim := hashlimit.New(64, 1, 2*time.Second, 100)
		lim.Observe(10 * time.Second) // a hash takes far longer than the wait bound
		h := cheapHasher(t).Limited(lim)
		svc := auth.New(counting, testKeys(t), h, time.Now,
			auth.Params{AccessTTL: time.Minute, RefreshTTL: time.Hour, Throttle: throttleParams}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		hold, err := lim.Acquire(context.Background(), 64)
		if err != nil {
			t.Fatal(err)
		}
		defer hold()
		start := time.Now()
		_, err = svc.Login(auth.WithClient(context.Background(), auth.Client{Address: "192.0.2.50"}), "someone@example.com", "pw")
		if !errors.Is(err, auth.ErrOverloaded) {
			t.Fatalf("err = %v, want ErrOverloaded", err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("refused after %s, want at once", d)
		}
		if n := counting.asked.Load(); n != 0 {
			t.Errorf("the refused login asked the database %d questions", n)
		}
	})
}
