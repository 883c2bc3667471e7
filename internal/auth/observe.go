package auth

import (
	"context"
	"errors"
	"time"
)

// Observer is told the outcomes an operator watches: how logins and
// refreshes end, and how many sessions are revoked, and why.
// internal/metrics implements it; it must be cheap and never block.
type Observer interface {
	LoginDone(result string)
	RefreshDone(result string)
	SessionsRevoked(reason string, n int64)
}

// How a login ends (Observer.LoginDone).
const (
	LoginSuccess        = "success"
	LoginBadCredentials = "bad_credentials"
	LoginThrottled      = "throttled"
	LoginOverloaded     = "overloaded"
	LoginError          = "error"
)

// How a refresh ends (Observer.RefreshDone).
const (
	RefreshRotated      = "rotated"
	RefreshGraceReplay  = "grace_replay"
	RefreshReuseRevoked = "reuse_revoked"
	RefreshInvalid      = "invalid"
	RefreshError        = "error"
)

// loginResult names how a login that returned err ended.
func loginResult(err error) string {
	switch {
	case err == nil:
		return LoginSuccess
	case errors.Is(err, ErrBadCredentials):
		return LoginBadCredentials
	case errors.Is(err, ErrThrottled):
		return LoginThrottled
	case errors.Is(err, ErrOverloaded):
		return LoginOverloaded
	}
	return LoginError
}

// refreshResult names how a refresh that took step and returned err ended:
// a reuse it detected (the session revoked now) apart from tokens refused
// for any other reason, a session already revoked for reuse included.
func refreshResult(step rotationStep, err error) string {
	switch {
	case err == nil:
		if step == stepReplay {
			return RefreshGraceReplay
		}
		return RefreshRotated
	case step == stepRevoke:
		return RefreshReuseRevoked
	case errors.Is(err, ErrTokenInvalid), errors.Is(err, ErrTokenReused),
		errors.Is(err, ErrUserInactive), errors.Is(err, ErrUserNotFound):
		return RefreshInvalid
	}
	return RefreshError
}

// nobody is the Observer of a Service that has none.
type nobody struct{}

func (nobody) LoginDone(string)              {}
func (nobody) RefreshDone(string)            {}
func (nobody) SessionsRevoked(string, int64) {}

// observedStore tells the Observer of every session revoked through it,
// once the write is committed: outside a transaction at once, inside one
// when it commits.
type observedStore struct {
	observedTx // outside transactions
	store      Store
}

func newObservedStore(st Store, obs Observer) observedStore {
	return observedStore{observedTx: observedTx{Tx: st, revoked: obs.SessionsRevoked}, store: st}
}

func (o observedStore) Ping(ctx context.Context) error { return o.store.Ping(ctx) }

func (o observedStore) InTx(ctx context.Context, fn func(tx Tx) error) error {
	type revocation struct {
		reason string
		n      int64
	}
	var done []revocation
	err := o.store.InTx(ctx, func(tx Tx) error {
		return fn(observedTx{Tx: tx, revoked: func(reason string, n int64) { done = append(done, revocation{reason, n}) }})
	})
	if err == nil {
		for _, r := range done {
			o.revoked(r.reason, r.n)
		}
	}
	return err
}

// observedTx is a Tx that reports, through revoked, the sessions its writes
// revoke.
type observedTx struct {
	Tx
	revoked func(reason string, n int64)
}

func (t observedTx) RevokeSession(ctx context.Context, id, reason string, at time.Time) error {
	err := t.Tx.RevokeSession(ctx, id, reason, at)
	if err == nil {
		t.revoked(reason, 1)
	}
	return err
}

func (t observedTx) RevokeUserSession(ctx context.Context, userID int64, id, reason string, at time.Time) (bool, error) {
	ok, err := t.Tx.RevokeUserSession(ctx, userID, id, reason, at)
	if ok && err == nil {
		t.revoked(reason, 1)
	}
	return ok, err
}

func (t observedTx) RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error) {
	n, err := t.Tx.RevokeUserSessions(ctx, userID, reason, at)
	if n > 0 && err == nil {
		t.revoked(reason, n)
	}
	return n, err
}

func (t observedTx) RevokeOtherUserSessions(ctx context.Context, userID int64, keepID, reason string, at time.Time) (int64, error) {
	n, err := t.Tx.RevokeOtherUserSessions(ctx, userID, keepID, reason, at)
	if n > 0 && err == nil {
		t.revoked(reason, n)
	}
	return n, err
}
