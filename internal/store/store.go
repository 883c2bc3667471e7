// Package store is the service's persistence: it implements auth.Store over
// PostgreSQL (pgx and sqlc; the production store) and over an embedded
// SQLite file (the zero-setup default), with the same behaviour. It answers
// questions and writes rows; the rules are auth's. Driver errors are
// translated here into auth.ErrNotFound and auth.ErrConflict, so no other
// package sees pgx or SQLite errors.
package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
)

// DB is an open database: the domain's persistence, and what only the
// process that owns it does (migrate, close).
type DB interface {
	auth.Store
	// Migrate brings the schema up to date; it is idempotent.
	Migrate(ctx context.Context) error
	Close() error
}

var (
	_ DB = (*Postgres)(nil)
	_ DB = (*SQLite)(nil)
)

// Open opens the database that url names: a postgres:// (or postgresql://)
// URL for PostgreSQL, or sqlite:PATH for the embedded store.
func Open(ctx context.Context, url string, opts ...Option) (DB, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return OpenPostgres(ctx, url, opts...)
	case strings.HasPrefix(url, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(url, "sqlite:"), opts...)
	}
	return nil, fmt.Errorf("unsupported database URL scheme (want postgres:// or sqlite:PATH)")
}

// optID stores a user id of 0 (none) as NULL.
func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func fromOptID(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// eventEmailKey is the key events are found by: auth.EmailKey of the
// address as typed, "" for none.
func eventEmailKey(email string) string {
	if email == "" {
		return ""
	}
	return auth.EmailKey(email)
}

// DefaultStatementTimeout bounds every statement unless WithStatementTimeout
// says otherwise.
const DefaultStatementTimeout = 5 * time.Second

// options are how a store talks to its database.
type options struct {
	maxConns         int
	statementTimeout time.Duration
}

// Option sets how a store talks to its database.
type Option func(*options)

func collect(opts []Option) options {
	o := options{statementTimeout: DefaultStatementTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithMaxConns bounds the PostgreSQL connection pool (default: pgxpool's,
// the greater of 4 and the number of CPUs). SQLite ignores it.
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// WithStatementTimeout bounds every statement: PostgreSQL enforces it on the
// server (statement_timeout, lock waits included) and it bounds connecting;
// SQLite waits at most that long for another writer (busy_timeout). Past it
// a statement fails with auth.ErrUnavailable.
func WithStatementTimeout(d time.Duration) Option {
	return func(o *options) { o.statementTimeout = d }
}
