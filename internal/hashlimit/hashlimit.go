// Package hashlimit bounds what password hashing may take from the process:
// a memory budget that every running hash holds its allocation of, a number
// of hashes that may run at once (CPU), and how long a caller may wait for
// either. Password hashes are the service's one expensive operation and the
// one an attacker can ask for without credentials, so a burst of logins must
// queue briefly or be refused at once, never pile up until memory runs out or
// clients have long given up.
package hashlimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrOverloaded means a hash could not start within the wait bound, or the
// queue was already too long for it to start in time: the caller should be
// told to come back later (503), not kept waiting.
var ErrOverloaded = errors.New("hashlimit: overloaded")

// TooCostlyError means a hash needs more memory than the whole budget: it
// could never run, however long it waited.
type TooCostlyError struct {
	// KiB is the memory the hash would allocate, BudgetKiB the whole budget.
	KiB, BudgetKiB int64
}

func (e *TooCostlyError) Error() string {
	return fmt.Sprintf("hashlimit: a hash of %d KiB exceeds the %d KiB budget", e.KiB, e.BudgetKiB)
}

// Limiter admits hashes in arrival order while their memory fits the budget
// and a slot is free. A caller waits at most maxWait, and is refused at once
// when the hashes queued ahead of it would, at the pace hashes have been
// finishing, take too long (admits): a refusal is fast, so a client that is
// refused can retry elsewhere while one that waits is almost always served.
type Limiter struct {
	budgetKiB int64
	slots     int
	maxWait   time.Duration
	maxQueue  int

	mu      sync.Mutex
	usedKiB int64
	running int
	queue   []*waiter
	// pending counts reservations not yet used: callers on their way to a
	// hash, counted as if queued.
	pending int
	// avgHold is a moving average of how long a hash holds its share: what
	// the queue's wait is estimated from.
	avgHold time.Duration
	// onWait, if set, hears how long each hash waited for its share.
	onWait func(time.Duration)
}

// waiter is a caller queued for its share; ready is closed once granted.
type waiter struct {
	kib   int64
	ready chan struct{}
	// granted is set (under mu) when the share is handed over, so that a
	// waiter that gives up at that moment returns it.
	granted bool
}

// New returns a Limiter of budgetKiB of memory and slots concurrent hashes,
// where a caller waits at most maxWait and at most maxQueue callers wait.
func New(budgetKiB int64, slots int, maxWait time.Duration, maxQueue int) *Limiter {
	return &Limiter{budgetKiB: budgetKiB, slots: max(slots, 1), maxWait: maxWait, maxQueue: max(maxQueue, 1)}
}

// BudgetKiB is the whole memory budget.
func (l *Limiter) BudgetKiB() int64 { return l.budgetKiB }

// ObserveWaits has f told how long each hash that started, or gave up
// after queueing, waited for its share (metrics). Set it before use.
func (l *Limiter) ObserveWaits(f func(time.Duration)) { l.onWait = f }

// Usage reports the hashes running now and the memory they hold.
func (l *Limiter) Usage() (running int, kib int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running, l.usedKiB
}

// waited tells onWait, if any, how long a caller waited since start.
func (l *Limiter) waited(start time.Time) {
	if l.onWait != nil {
		l.onWait(time.Since(start))
	}
}

// Observe records how long one hash took, outside the limiter (the first
// hash a hasher computes at start-up), so that the wait estimate is sensible
// before the first hash through the limiter has finished.
func (l *Limiter) Observe(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.observe(d)
}

// observe folds d into the moving average; mu is held.
func (l *Limiter) observe(d time.Duration) {
	if l.avgHold == 0 {
		l.avgHold = d
		return
	}
	l.avgHold += (d - l.avgHold) / 8
}

// reservation is a place Reserve took for a caller's next Acquire.
type reservation struct {
	l        *Limiter
	deadline time.Time
	used     bool // by Acquire, or given up; mu is held to change it
}

type reservationKey struct{}

// Reserve takes a place for a hash the caller will Acquire a little later,
// after the work that tells it which hash (a database lookup), or fails at
// once with ErrOverloaded if the hashes queued and reserved ahead would not
// start in time (admits). So a burst is refused before it does any of that
// work, instead of queueing for it. It returns ctx carrying the place, for
// the Acquire that uses it (whose wait it bounds from now), and done, which
// gives the place up if it is still unused (call it when the caller is done
// hashing, in any case).
func (l *Limiter) Reserve(ctx context.Context) (context.Context, func(), error) {
	if err := ctx.Err(); err != nil {
		return ctx, func() {}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.admits(len(l.queue) + l.pending) {
		return ctx, func() {}, ErrOverloaded
	}
	l.pending++
	r := &reservation{l: l, deadline: time.Now().Add(l.maxWait)}
	done := func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if !r.used {
			r.used = true
			l.pending--
		}
	}
	return context.WithValue(ctx, reservationKey{}, r), done, nil
}

// admits reports whether a caller with ahead others queued or reserved
// before it may wait: the queue is not full, and at the recent pace it would
// start within half the wait bound. The other half is the margin for what
// the estimate cannot see (the work a reserved caller does before its hash,
// hashes slowing down as the machine gets busier), so that a caller who is
// let in is almost never refused later, after waiting: a refusal comes at
// once or not at all. An idle limiter admits anyone. mu is held.
func (l *Limiter) admits(ahead int) bool {
	if ahead == 0 && l.running < l.slots {
		return true
	}
	return ahead < l.maxQueue && l.estimatedWait(ahead) <= l.maxWait/2
}

// Acquire waits until a hash of kib KiB may run and returns the function
// that ends it, to be called exactly once. It fails with a *TooCostlyError
// if kib exceeds the whole budget, with ErrOverloaded if the hash cannot
// start within the wait bound (counted from Reserve, when ctx carries a
// place it took), and with ctx's error if ctx ends first: a caller that has
// gone costs no hash.
func (l *Limiter) Acquire(ctx context.Context, kib int64) (release func(), err error) {
	if kib > l.budgetKiB {
		return nil, &TooCostlyError{KiB: kib, BudgetKiB: l.budgetKiB}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()
	deadline := start.Add(l.maxWait)
	l.mu.Lock()
	r, reserved := ctx.Value(reservationKey{}).(*reservation)
	if reserved = reserved && r.l == l && !r.used; reserved {
		r.used = true
		l.pending--
		deadline = r.deadline
	}
	if len(l.queue) == 0 && l.fits(kib) {
		l.take(kib)
		l.mu.Unlock()
		l.waited(start)
		return l.releaser(kib), nil
	}
	if !reserved && !l.admits(len(l.queue)+l.pending) {
		l.mu.Unlock()
		return nil, ErrOverloaded
	}
	w := &waiter{kib: kib, ready: make(chan struct{})}
	l.queue = append(l.queue, w)
	l.mu.Unlock()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	defer l.waited(start)
	select {
	case <-w.ready:
		return l.releaser(kib), nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = ErrOverloaded
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.granted {
		// Granted while giving up: hand the share on.
		l.give(kib)
		return nil, err
	}
	for i, q := range l.queue {
		if q == w {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			break
		}
	}
	// The head may have been the one blocking smaller waiters behind it.
	l.grant()
	return nil, err
}

// estimatedWait is how long a caller queued behind ahead others would wait,
// at the recent pace: the hashes running now are one round, and the queue
// is served as many at a time as are running. mu is held.
func (l *Limiter) estimatedWait(ahead int) time.Duration {
	parallel := max(l.running, 1)
	rounds := 1 + float64(ahead)/float64(parallel)
	return time.Duration(rounds * float64(l.avgHold))
}

// fits reports whether a hash of kib may start now. mu is held.
func (l *Limiter) fits(kib int64) bool {
	return l.running < l.slots && l.usedKiB+kib <= l.budgetKiB
}

func (l *Limiter) take(kib int64) {
	l.usedKiB += kib
	l.running++
}

// give returns a share and lets the queue advance. mu is held.
func (l *Limiter) give(kib int64) {
	l.usedKiB -= kib
	l.running--
	l.grant()
}

// grant starts queued hashes in order while the head fits. mu is held.
func (l *Limiter) grant() {
	for len(l.queue) > 0 && l.fits(l.queue[0].kib) {
		w := l.queue[0]
		l.queue = l.queue[1:]
		l.take(w.kib)
		w.granted = true
		close(w.ready)
	}
}

// releaser returns the function that ends a hash of kib started now.
func (l *Limiter) releaser(kib int64) func() {
	start := time.Now()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.observe(time.Since(start))
			l.give(kib)
		})
	}
}
