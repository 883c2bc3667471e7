package hashlimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The memory budget bounds what runs at once, whatever the slots allow.
func TestBudgetBoundsConcurrentMemory(t *testing.T) {
	l := New(100, 64, time.Minute, 1000)
	var inUse, peak atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			release, err := l.Acquire(context.Background(), 30)
			if err != nil {
				t.Error(err)
				return
			}
			now := inUse.Add(30)
			for {
				p := peak.Load()
				if now <= p || peak.CompareAndSwap(p, now) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inUse.Add(-30)
			release()
		})
	}
	wg.Wait()
	if got := peak.Load(); got > 100 || got < 60 {
		t.Errorf("peak memory held = %d KiB, want at most the 100 KiB budget (and more than one hash at a time)", got)
	}
}

// Slots bound how many hashes run at once even when memory would allow more.
func TestSlotsBoundConcurrency(t *testing.T) {
	l := New(1<<20, 2, time.Minute, 1000)
	r1, _ := l.Acquire(context.Background(), 1)
	r2, _ := l.Acquire(context.Background(), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third hash with two slots taken: err = %v, want to wait until the context ended", err)
	}
	r1()
	r3, err := l.Acquire(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
}

// A hash larger than the whole budget is refused at once with its cost.
func TestTooCostly(t *testing.T) {
	l := New(64, 4, time.Second, 10)
	_, err := l.Acquire(context.Background(), 65)
	var tc *TooCostlyError
	if !errors.As(err, &tc) || tc.KiB != 65 || tc.BudgetKiB != 64 {
		t.Fatalf("err = %v, want TooCostlyError{65, 64}", err)
	}
}

// A caller whose context ends while queued leaves the queue and costs
// nothing: the next caller gets the share.
func TestCancelledWaiterLeavesTheQueue(t *testing.T) {
	l := New(10, 4, time.Minute, 10)
	hold, _ := l.Acquire(context.Background(), 10)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx, 10)
		errc <- err
	}()
	waitQueued(t, l, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if q := queued(l); q != 0 {
		t.Fatalf("%d still queued after cancelling", q)
	}
	hold()
	if r, err := l.Acquire(context.Background(), 10); err != nil {
		t.Fatalf("the budget was not returned: %v", err)
	} else {
		r()
	}
}

// Waiting is bounded by maxWait.
func TestWaitIsBounded(t *testing.T) {
	l := New(10, 4, 30*time.Millisecond, 10)
	hold, _ := l.Acquire(context.Background(), 10)
	defer hold()
	start := time.Now()
	if _, err := l.Acquire(context.Background(), 10); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("err = %v, want ErrOverloaded", err)
	}
	if d := time.Since(start); d < 25*time.Millisecond || d > time.Second {
		t.Errorf("refused after %s, want about the 30ms bound", d)
	}
}

// When the queue ahead would take longer than half of maxWait at the pace
// hashes have been finishing (the other half is the estimate's margin), a
// caller is refused at once instead of waiting for the refusal.
func TestLongQueueRefusesAtOnce(t *testing.T) {
	l := New(10, 1, 200*time.Millisecond, 1000)
	l.Observe(40 * time.Millisecond)
	hold, _ := l.Acquire(context.Background(), 10)
	defer hold()
	// One running, 40ms each: the first two queued expect 40 and 80ms.
	for i := range 2 {
		go func() { _, _ = l.Acquire(context.Background(), 10) }()
		waitQueued(t, l, i+1)
	}
	start := time.Now()
	if _, err := l.Acquire(context.Background(), 10); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("err = %v, want ErrOverloaded", err)
	}
	if d := time.Since(start); d > 10*time.Millisecond {
		t.Errorf("refused after %s, want at once", d)
	}
}

// The queue has a hard bound whatever the estimate says.
func TestQueueIsBounded(t *testing.T) {
	l := New(10, 1, time.Minute, 1)
	hold, _ := l.Acquire(context.Background(), 10)
	defer hold()
	go func() { _, _ = l.Acquire(context.Background(), 10) }()
	waitQueued(t, l, 1)
	if _, err := l.Acquire(context.Background(), 10); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("err = %v, want ErrOverloaded with the queue full", err)
	}
}

// Waiters are served in arrival order.
func TestFIFO(t *testing.T) {
	l := New(10, 1, time.Minute, 100)
	hold, _ := l.Acquire(context.Background(), 10)
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			r, err := l.Acquire(context.Background(), 10)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			r()
		})
		waitQueued(t, l, i+1)
	}
	hold()
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("served in order %v, want 0..4", order)
		}
	}
}

func queued(l *Limiter) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

func waitQueued(t *testing.T, l *Limiter, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for queued(l) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d queued, want %d", queued(l), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Reservations count as queued: a burst is refused at once, before the
// callers do the work that precedes their hash, once the places taken would
// not start within half of maxWait. Giving a place up frees it.
func TestReservationsCountAsQueued(t *testing.T) {
	l := New(10, 1, 200*time.Millisecond, 1000)
	l.Observe(40 * time.Millisecond)
	hold, _ := l.Acquire(context.Background(), 10)
	defer hold()
	var dones []func()
	for i := range 2 { // expected starts: 40ms, 80ms
		_, done, err := l.Reserve(context.Background())
		if err != nil {
			t.Fatalf("reservation %d: %v", i+1, err)
		}
		dones = append(dones, done)
	}
	if _, _, err := l.Reserve(context.Background()); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("third reservation: %v, want ErrOverloaded (it would start after 120ms)", err)
	}
	if _, err := l.Acquire(context.Background(), 10); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("an unreserved hash behind two reservations: %v, want ErrOverloaded", err)
	}
	dones[0]()
	dones[0]() // twice is harmless
	if _, done, err := l.Reserve(context.Background()); err != nil {
		t.Fatalf("after giving a place up: %v", err)
	} else {
		done()
	}
}

// A reserved hash waits at most maxWait from the reservation, and uses its
// place even when the queue looks full to others.
func TestReservedAcquireWaitsFromTheReservation(t *testing.T) {
	l := New(10, 1, 100*time.Millisecond, 1000)
	hold, _ := l.Acquire(context.Background(), 10)
	defer hold()
	ctx, done, err := l.Reserve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	time.Sleep(60 * time.Millisecond)
	start := time.Now()
	if _, err := l.Acquire(ctx, 10); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("err = %v, want ErrOverloaded", err)
	}
	if d := time.Since(start); d > 80*time.Millisecond {
		t.Errorf("waited %s after the reservation's 60ms, want the rest of 100ms", d)
	}
	if queued(l) != 0 || l.pending != 0 {
		t.Errorf("left %d queued, %d pending", queued(l), l.pending)
	}
}
