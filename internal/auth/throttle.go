package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"
)

// The login throttle counts login attempts in counters kept in the database,
// so that every replica counts together, and refuses attempts while a
// counter is locked, before any password hash is computed. Three counters
// see each attempt:
//
//   - the account (its EmailKey) from the client address: the tight one, a
//     few failures (ThrottleParams.MaxFailures);
//   - the account from all addresses together: slows guessing spread over
//     many addresses, with a high limit, since anyone can fail logins for an
//     account they do not own;
//   - the client address on all accounts together: slows one address trying
//     one password on many accounts.
//
// An attempt is counted in flight when it is admitted, before the password
// is checked, under a row lock, and settles afterwards: a wrong password
// becomes a failure, a right one is given back (and clears its
// account-and-address counter), and one whose password was never checked
// (hashing overloaded, database down, client gone) is given back too. Once a
// counter's failures reach its limit it locks, for firstBackoff, doubling
// with each further failure up to ThrottleParams.MaxBackoff; refused
// attempts are not counted, so the lock always ends by itself. A counter is
// forgotten after a whole window without counted attempts once its lock has
// ended.
//
// Where a counter's failures and the attempts in flight together reach its
// limit, a new attempt waits (up to admitWait) for those in flight to settle
// before it is admitted: concurrent guesses, on any replica, cannot all slip
// in before the first failure is recorded, while concurrent right passwords
// (one user's many tabs, a load test) are only delayed, never refused. An
// attempt in flight is forgotten after inFlightFor, should its replica stop
// before settling it.
//
// Nothing depends on whether the account exists: an unknown email is
// counted, locked and answered exactly as a known one.
//
// A successful login also marks the address as familiar to the account
// (familiarFor): the account's own lock, which strangers can trigger, does
// not apply to it, so that guessing from elsewhere does not lock the owner
// out where they usually log in.

// ThrottleParams configure the login throttle. A zero limit turns its
// counter off; the zero ThrottleParams turns the throttle off.
type ThrottleParams struct {
	// MaxFailures is how many failed logins one address may make on one
	// account before the next are refused.
	MaxFailures int
	// AccountMaxFailures is the same for one account from all addresses.
	AccountMaxFailures int
	// AddressMaxFailures is the same for one address on all accounts.
	AddressMaxFailures int
	// Window is how long failures are remembered without new ones.
	Window time.Duration
	// MaxBackoff bounds a lock.
	MaxBackoff time.Duration
}

const (
	// firstBackoff is the lock a counter takes at its limit: long enough that
	// a sixth guess at typing speed is refused, short enough for the owner.
	firstBackoff = 30 * time.Second
	// familiarFor is how long a successful login keeps its address familiar.
	familiarFor = 30 * 24 * time.Hour
	// settleTimeout bounds the bookkeeping after an attempt, which runs even
	// when the client has gone.
	settleTimeout = 5 * time.Second
	// inFlightFor is how long an admitted attempt counts as in flight unless
	// it settles: far longer than any login (AUTH_REQUEST_TIMEOUT, then
	// settleTimeout).
	inFlightFor = 2 * time.Minute
	// admitWait bounds how long an attempt waits for the attempts in flight
	// ahead of it; past it, it is throttled for a second.
	admitWait = 3 * time.Second
	// The waiting attempt looks again after firstPoll, doubling up to
	// maxPoll, with jitter (backoff).
	firstPoll, maxPoll = 10 * time.Millisecond, 100 * time.Millisecond
)

// throttleScope is what a counter counts.
type throttleScope int

const (
	scopePair    throttleScope = iota // an account from one address
	scopeAccount                      // an account from all addresses
	scopeAddress                      // an address on all accounts
)

// throttleKey is one counter an attempt is counted in, and its limit.
type throttleKey struct {
	scope throttleScope
	key   []byte
	limit int
}

// throttle is the login throttle of a Service: use cases that check a
// password call admit before, and failed, succeeded or giveBack after.
type throttle struct {
	store  Store
	params ThrottleParams
	now    func() time.Time
	log    *slog.Logger
}

// admission is an attempt the throttle let through.
type admission struct {
	keys []throttleKey
}

// admit counts an attempt to log in as email from the caller's address as
// in flight, or refuses it with a *ThrottledError while one of its counters
// is locked. It waits while the attempts in flight could reach a limit.
func (t *throttle) admit(ctx context.Context, email string) (admission, error) {
	keys := t.keysFor(email, ClientOf(ctx).Address)
	if len(keys) == 0 {
		return admission{}, nil
	}
	raw := rawKeys(keys)
	// The wait is measured in real time: the attempts ahead settle in it.
	giveUp := time.Now().Add(admitWait)
	for attempt := 1; ; attempt++ {
		now := t.now()
		// A refused attempt writes nothing and locks nothing: floods of them
		// stay cheap.
		current, err := t.store.ThrottleCounters(ctx, raw)
		if err != nil {
			return admission{}, fmt.Errorf("auth: login throttle: %w", err)
		}
		if wait := t.lockedFor(keys, current, now); wait > 0 {
			return admission{}, &ThrottledError{RetryAfter: wait}
		}
		admitted := false
		if !t.busy(keys, current, now) {
			err = t.store.InTx(ctx, func(tx Tx) error {
				locked, err := tx.LockThrottleCounters(ctx, raw, now.Add(t.params.Window))
				if err != nil {
					return err
				}
				if wait := t.lockedFor(keys, locked, now); wait > 0 {
					return &ThrottledError{RetryAfter: wait}
				}
				if t.busy(keys, locked, now) {
					return nil // another attempt came first: wait
				}
				admitted = true
				return tx.PutThrottleCounters(ctx, t.update(keys, locked, now, t.count))
			})
			if err != nil {
				return admission{}, fmt.Errorf("auth: login throttle: %w", err)
			}
		}
		if admitted {
			return admission{keys: keys}, nil
		}
		if !time.Now().Before(giveUp) {
			return admission{}, &ThrottledError{RetryAfter: time.Second}
		}
		if err := sleep(ctx, backoff(attempt, firstPoll, maxPoll)); err != nil {
			return admission{}, hashFailure(err)
		}
	}
}

// sleep waits for d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// failed settles an admitted attempt whose password was wrong: a failure in
// every counter, which locks the counters it brings to their limit.
func (t *throttle) failed(ctx context.Context, a admission) {
	t.settle(ctx, a, func(k throttleKey, c ThrottleCounter, now time.Time) ThrottleCounter {
		c.InFlight = max(c.InFlight-1, 0)
		c.Failures++
		if c.Failures >= k.limit {
			c.LockedUntil = now.Add(t.backoff(c.Failures - k.limit))
		}
		c.ResetAt = latest(c.ResetAt, now.Add(t.params.Window), c.LockedUntil.Add(t.params.Window))
		return c
	})
}

// succeeded settles an admitted attempt whose password was right: the
// account-and-address counter is cleared and the address becomes familiar
// to the account; the attempt is given back to the other counters.
func (t *throttle) succeeded(ctx context.Context, a admission) {
	t.settle(ctx, a, func(k throttleKey, c ThrottleCounter, now time.Time) ThrottleCounter {
		if k.scope != scopePair {
			return t.refund(k, c, now)
		}
		familiar := now.Add(familiarFor)
		return ThrottleCounter{
			Key: c.Key, InFlight: max(c.InFlight-1, 0), InFlightUntil: c.InFlightUntil,
			FamiliarUntil: familiar, ResetAt: latest(c.ResetAt, familiar),
		}
	})
}

// clearAccount forgets the failures counted against an account: its
// account-wide counter and that of the caller's address. A password reset,
// which proves the mailbox, ends whatever guessing locked the owner out.
// Other addresses' counters stay: they throttle those addresses, not the
// owner.
func (t *throttle) clearAccount(ctx context.Context, email string) {
	var mine []throttleKey
	for _, k := range t.keysFor(email, ClientOf(ctx).Address) {
		if k.scope != scopeAddress {
			mine = append(mine, k)
		}
	}
	t.settle(ctx, admission{keys: mine}, func(_ throttleKey, c ThrottleCounter, now time.Time) ThrottleCounter {
		return ThrottleCounter{
			Key: c.Key, InFlight: c.InFlight, InFlightUntil: c.InFlightUntil,
			FamiliarUntil: c.FamiliarUntil, ResetAt: latest(now, c.FamiliarUntil, c.InFlightUntil),
		}
	})
}

// giveBack settles an admitted attempt whose password was never checked: it
// no longer counts anywhere.
func (t *throttle) giveBack(ctx context.Context, a admission) {
	t.settle(ctx, a, t.refund)
}

// settle rewrites an admitted attempt's counters with change, even if the
// caller has gone; a failure to do so only leaves the attempt in flight
// until inFlightFor, so it is logged, not returned.
func (t *throttle) settle(ctx context.Context, a admission, change func(throttleKey, ThrottleCounter, time.Time) ThrottleCounter) {
	if len(a.keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	now := t.now()
	raw := rawKeys(a.keys)
	err := t.store.InTx(ctx, func(tx Tx) error {
		locked, err := tx.LockThrottleCounters(ctx, raw, now)
		if err != nil {
			return err
		}
		return tx.PutThrottleCounters(ctx, t.update(a.keys, locked, now, change))
	})
	if err != nil {
		t.log.WarnContext(ctx, "login throttle: settling an attempt failed", "error", err)
	}
}

// update applies change to the live state of every key's counter.
func (t *throttle) update(keys []throttleKey, counters []ThrottleCounter, now time.Time,
	change func(throttleKey, ThrottleCounter, time.Time) ThrottleCounter) []ThrottleCounter {
	out := make([]ThrottleCounter, 0, len(keys))
	for _, k := range keys {
		out = append(out, change(k, live(find(counters, k.key), k.key, now), now))
	}
	return out
}

// count adds an admitted attempt to a counter's attempts in flight.
func (t *throttle) count(_ throttleKey, c ThrottleCounter, now time.Time) ThrottleCounter {
	c.InFlight++
	c.InFlightUntil = now.Add(inFlightFor)
	c.ResetAt = latest(c.ResetAt, now.Add(t.params.Window), c.InFlightUntil)
	return c
}

// refund takes an attempt in flight back from a counter.
func (t *throttle) refund(_ throttleKey, c ThrottleCounter, _ time.Time) ThrottleCounter {
	c.InFlight = max(c.InFlight-1, 0)
	return c
}

// backoff is the lock after n counted failures beyond the limit.
func (t *throttle) backoff(n int) time.Duration {
	d := min(firstBackoff, t.params.MaxBackoff)
	for ; n > 0 && d < t.params.MaxBackoff; n-- {
		d *= 2
	}
	return min(d, t.params.MaxBackoff)
}

// lockedFor is how long the attempt with these keys must wait, or zero.
func (t *throttle) lockedFor(keys []throttleKey, counters []ThrottleCounter, now time.Time) time.Duration {
	var until time.Time
	for _, c := range t.binding(keys, counters, now) {
		until = latest(until, c.LockedUntil)
	}
	if until.After(now) {
		return until.Sub(now)
	}
	return 0
}

// busy reports whether the attempt with these keys must wait for attempts
// in flight: in some counter, they and the failures reach its limit.
func (t *throttle) busy(keys []throttleKey, counters []ThrottleCounter, now time.Time) bool {
	for i, c := range t.binding(keys, counters, now) {
		if c.InFlight > 0 && c.Failures+c.InFlight >= keys[i].limit {
			return true
		}
	}
	return false
}

// binding returns, for each key, its counter as it stands at now, or an
// empty one where it does not bind the attempt: the account's own counter
// does not bind an address familiar to the account.
func (t *throttle) binding(keys []throttleKey, counters []ThrottleCounter, now time.Time) []ThrottleCounter {
	familiar := false
	out := make([]ThrottleCounter, len(keys))
	for i, k := range keys {
		out[i] = live(find(counters, k.key), k.key, now)
		if k.scope == scopePair {
			familiar = out[i].FamiliarUntil.After(now)
		}
	}
	for i, k := range keys {
		if k.scope == scopeAccount && familiar {
			out[i] = ThrottleCounter{Key: k.key}
		}
	}
	return out
}

// keysFor returns the counters an attempt on email from address is counted
// in, in key order (so that transactions lock them in one order).
func (t *throttle) keysFor(email, address string) []throttleKey {
	account := EmailKey(email)
	address = throttleAddress(address)
	var keys []throttleKey
	add := func(scope throttleScope, limit int, parts ...string) {
		if limit > 0 {
			keys = append(keys, throttleKey{scope: scope, key: counterKey(parts...), limit: limit})
		}
	}
	add(scopePair, t.params.MaxFailures, "pair", account, address)
	add(scopeAccount, t.params.AccountMaxFailures, "account", account)
	if address != "" {
		add(scopeAddress, t.params.AddressMaxFailures, "address", address)
	}
	slices.SortFunc(keys, func(a, b throttleKey) int { return bytes.Compare(a.key, b.key) })
	return keys
}

// counterKey is how a counter is stored: a SHA-256 of what it counts, so
// that the table holds no addresses or emails in clear.
func counterKey(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// throttleAddress is the part of a client address that identifies the
// client: the IPv4 address (IPv4-mapped IPv6 included), or the /64 of an
// IPv6 address, which one subscriber usually holds whole.
func throttleAddress(address string) string {
	ip, err := netip.ParseAddr(address)
	if err != nil {
		return address
	}
	ip = ip.Unmap()
	if ip.Is6() {
		prefix, _ := ip.WithZone("").Prefix(64)
		return prefix.String()
	}
	return ip.String()
}

// live is a counter as it stands at now: empty once its reset time has
// passed (or when the store has none), and without attempts in flight once
// they are overdue.
func live(c ThrottleCounter, key []byte, now time.Time) ThrottleCounter {
	if !c.ResetAt.After(now) {
		return ThrottleCounter{Key: key}
	}
	if !c.InFlightUntil.After(now) {
		c.InFlight = 0
	}
	return c
}

func find(counters []ThrottleCounter, key []byte) ThrottleCounter {
	for _, c := range counters {
		if bytes.Equal(c.Key, key) {
			return c
		}
	}
	return ThrottleCounter{}
}

func rawKeys(keys []throttleKey) [][]byte {
	raw := make([][]byte, len(keys))
	for i, k := range keys {
		raw[i] = k.key
	}
	return raw
}

// latest returns the latest of times.
func latest(times ...time.Time) time.Time {
	var l time.Time
	for _, t := range times {
		if t.After(l) {
			l = t
		}
	}
	return l
}
