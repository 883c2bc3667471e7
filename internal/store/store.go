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
func Open(ctx context.Context, url string) (DB, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return OpenPostgres(ctx, url)
	case strings.HasPrefix(url, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(url, "sqlite:"))
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
