package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// cacheChannel is the NOTIFY channel of migration 00030's triggers: a
// payload "s:<session id>" for a session revoked or deleted, "u:<user id>"
// for a user changed or deleted.
const cacheChannel = "auth_cache"

// listen forgets, in cache, what the triggers announce, until ctx ends, on a
// connection of its own. While it is not listening (at start, after the
// connection broke) it cannot know what changed, so it flushes the cache
// each time it starts listening again.
func (p *Postgres) listen(ctx context.Context, cache *sessionCache, onError func(error)) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := p.listenOnce(ctx, cache, func() { backoff = 50 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		if onError != nil {
			onError(fmt.Errorf("session cache listener: %w (reconnecting in %s)", err, backoff))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// listenOnce connects, listens and forgets until the connection fails.
func (p *Postgres) listenOnce(ctx context.Context, cache *sessionCache, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+cacheChannel); err != nil {
		return err
	}
	cache.forget(cacheKey{all: true}) // what changed while nobody listened
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if k, ok := parseCacheKey(n.Payload); ok {
			cache.forget(k)
		} else {
			cache.forget(cacheKey{all: true})
		}
	}
}

func parseCacheKey(payload string) (cacheKey, bool) {
	kind, id, ok := strings.Cut(payload, ":")
	switch {
	case !ok:
		return cacheKey{}, false
	case kind == "s":
		return cacheKey{sessionID: id}, id != ""
	case kind == "u":
		n, err := strconv.ParseInt(id, 10, 64)
		return cacheKey{userID: n}, err == nil
	}
	return cacheKey{}, false
}
