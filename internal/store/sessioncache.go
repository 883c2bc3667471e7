package store

import (
	"context"
	"sync"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
)

// WithSessionCache returns db with SessionUser, the question of every
// authenticated request (/auth/me/, verify, logout-all, sessions), answered
// from memory for at most ttl. Every write of this process that revokes a
// session or changes a user forgets what it touched as soon as it ends. On
// PostgreSQL, listen hears the other replicas' writes (and any other
// writer's) through triggers (migration 00030) and forgets those too; run
// it in the background until the process stops (it returns when ctx ends;
// onError hears of lost connections, which it re-establishes, flushing the
// cache). For SQLite, or ttl <= 0 (which returns db as is), listen only
// waits for ctx.
func WithSessionCache(db DB, ttl time.Duration) (cached DB, listen func(ctx context.Context, onError func(error))) {
	wait := func(ctx context.Context, _ func(error)) { <-ctx.Done() }
	if ttl <= 0 {
		return db, wait
	}
	c := &cachedDB{db: db, cache: newSessionCache(ttl)}
	c.invalidatingTx = invalidatingTx{Tx: db, forget: c.cache.forget}
	if pg, ok := db.(*Postgres); ok {
		return c, func(ctx context.Context, onError func(error)) { pg.listen(ctx, c.cache, onError) }
	}
	return c, wait
}

// cachedDB is WithSessionCache's DB.
type cachedDB struct {
	invalidatingTx // outside transactions: forgets at once
	db             DB
	cache          *sessionCache
}

func (c *cachedDB) SessionUser(ctx context.Context, id string) (auth.Session, auth.User, error) {
	return c.cache.sessionUser(ctx, id, c.db.SessionUser)
}

// InTx forgets what the transaction touched once it has ended, committed or
// not: forgetting too much only costs a read.
func (c *cachedDB) InTx(ctx context.Context, fn func(tx auth.Tx) error) error {
	var touched []cacheKey
	err := c.db.InTx(ctx, func(tx auth.Tx) error {
		return fn(invalidatingTx{Tx: tx, forget: func(k cacheKey) { touched = append(touched, k) }})
	})
	for _, k := range touched {
		c.cache.forget(k)
	}
	return err
}

func (c *cachedDB) Ping(ctx context.Context) error    { return c.db.Ping(ctx) }
func (c *cachedDB) Migrate(ctx context.Context) error { return c.db.Migrate(ctx) }
func (c *cachedDB) Close() error                      { return c.db.Close() }

// cacheKey names what a write touched: one session, every session of a
// user, or everything.
type cacheKey struct {
	sessionID string
	userID    int64
	all       bool
}

// invalidatingTx is a Tx that reports, through forget, the sessions and
// users its writes change in ways SessionUser's answers show.
type invalidatingTx struct {
	auth.Tx
	forget func(cacheKey)
}

// Other replicas hear of a new generation through the users trigger of
// migration 00030: the only change that bumps it, a password change, sets
// the user's password hash in the same transaction.
func (t invalidatingTx) BumpSessionGeneration(ctx context.Context, id string) (int, error) {
	defer t.forget(cacheKey{sessionID: id})
	return t.Tx.BumpSessionGeneration(ctx, id)
}

func (t invalidatingTx) RevokeSession(ctx context.Context, id, reason string, at time.Time) error {
	defer t.forget(cacheKey{sessionID: id})
	return t.Tx.RevokeSession(ctx, id, reason, at)
}

func (t invalidatingTx) RevokeUserSession(ctx context.Context, userID int64, id, reason string, at time.Time) (bool, error) {
	defer t.forget(cacheKey{sessionID: id})
	return t.Tx.RevokeUserSession(ctx, userID, id, reason, at)
}

func (t invalidatingTx) RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error) {
	defer t.forget(cacheKey{userID: userID})
	return t.Tx.RevokeUserSessions(ctx, userID, reason, at)
}

func (t invalidatingTx) RevokeOtherUserSessions(ctx context.Context, userID int64, keepID, reason string, at time.Time) (int64, error) {
	defer t.forget(cacheKey{userID: userID})
	return t.Tx.RevokeOtherUserSessions(ctx, userID, keepID, reason, at)
}

func (t invalidatingTx) DeleteExpiredSessions(ctx context.Context, before time.Time, batch int) (int64, error) {
	defer t.forget(cacheKey{all: true})
	return t.Tx.DeleteExpiredSessions(ctx, before, batch)
}

func (t invalidatingTx) ActivateUser(ctx context.Context, userID int64, at time.Time) error {
	defer t.forget(cacheKey{userID: userID})
	return t.Tx.ActivateUser(ctx, userID, at)
}

func (t invalidatingTx) DeactivateUser(ctx context.Context, userID int64, at time.Time) error {
	defer t.forget(cacheKey{userID: userID})
	return t.Tx.DeactivateUser(ctx, userID, at)
}

func (t invalidatingTx) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	defer t.forget(cacheKey{userID: userID})
	return t.Tx.SetPasswordHash(ctx, userID, hash)
}

func (t invalidatingTx) ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) (bool, error) {
	defer t.forget(cacheKey{userID: userID})
	return t.Tx.ReplacePasswordHash(ctx, userID, oldHash, newHash)
}

// sessionCache holds SessionUser's answers, by session id.
type sessionCache struct {
	ttl time.Duration
	mu  sync.Mutex
	// generation counts forgets: an answer read while one happened may be
	// stale and is not kept.
	generation uint64
	entries    map[string]cachedSession
}

type cachedSession struct {
	session auth.Session
	user    auth.User
	expires time.Time
}

func newSessionCache(ttl time.Duration) *sessionCache {
	return &sessionCache{ttl: ttl, entries: map[string]cachedSession{}}
}

// sessionUser answers from memory, or asks read and keeps its answer
// (errors are never kept).
func (c *sessionCache) sessionUser(ctx context.Context, id string, read func(context.Context, string) (auth.Session, auth.User, error)) (auth.Session, auth.User, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[id]
	generation := c.generation
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.session, e.user, nil
	}
	sess, user, err := read(ctx, id)
	if err != nil {
		return sess, user, err
	}
	c.mu.Lock()
	if c.generation == generation {
		if len(c.entries) >= maxCachedSessions {
			c.entries = map[string]cachedSession{} // a crude bound; entries live a second anyway
		}
		c.entries[id] = cachedSession{session: sess, user: user, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return sess, user, nil
}

// maxCachedSessions bounds the cache's memory (about 1 KiB an entry).
const maxCachedSessions = 100_000

// forget drops what k names.
func (c *sessionCache) forget(k cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	switch {
	case k.all:
		clear(c.entries)
	case k.sessionID != "":
		delete(c.entries, k.sessionID)
	default:
		for id, e := range c.entries {
			if e.user.ID == k.userID {
				delete(c.entries, id)
			}
		}
	}
}
