// Package storetest opens fresh, migrated stores for tests: one SQLite file
// in the test's temporary directory and one new PostgreSQL database, so that
// one test body runs against both adapters. For states no use case of the
// service makes (a user deleted behind its back), Exec runs raw SQL on the
// database behind a store.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the "sqlite" driver, for Exec

	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/store"
)

// Kinds are the names of the stores Each runs a test against.
var Kinds = []string{"sqlite", "postgres"}

// urls remembers the database URL of every store OpenURL opened, for Exec.
var urls sync.Map // store.DB -> string

// Open returns a fresh, migrated store of the given kind, closed when tb ends.
func Open(tb testing.TB, kind string) store.DB {
	tb.Helper()
	return OpenURL(tb, URL(tb, kind))
}

// URL returns a fresh, unmigrated database of the given kind as an
// AUTH_DATABASE_URL value.
func URL(tb testing.TB, kind string) string {
	tb.Helper()
	switch kind {
	case "sqlite":
		return "sqlite:" + filepath.Join(tb.TempDir(), "auth.db")
	case "postgres":
		return pgtest.NewDatabase(tb)
	}
	tb.Fatalf("storetest: unknown store kind %q", kind)
	return ""
}

// OpenURL opens and migrates the store at url, closing it when tb ends.
func OpenURL(tb testing.TB, url string) store.DB {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		tb.Fatalf("storetest: open %s: %v", url, err)
	}
	urls.Store(st, url)
	tb.Cleanup(func() {
		urls.Delete(st)
		st.Close()
	})
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("storetest: migrate: %v", err)
	}
	return st
}

// Each runs fn as a subtest against a fresh store of every kind.
func Each(t *testing.T, fn func(t *testing.T, st store.DB)) {
	t.Helper()
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			fn(t, Open(t, kind))
		})
	}
}

// Exec runs statement, plain SQL common to both dialects with no
// parameters, on the database behind st (opened by this package), over a
// connection of its own.
func Exec(tb testing.TB, st store.DB, statement string) {
	tb.Helper()
	v, ok := urls.Load(st)
	if !ok {
		tb.Fatal("storetest: Exec on a store storetest did not open")
	}
	url := v.(string)
	ctx := context.Background()
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		name := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
		db, err := sql.Open("sqlite", "file:"+name+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
		if err == nil {
			_, err = db.ExecContext(ctx, statement)
			db.Close()
		}
		if err != nil {
			tb.Fatalf("storetest: %s: %v", statement, err)
		}
		return
	}
	conn, err := pgx.Connect(ctx, url)
	if err == nil {
		_, err = conn.Exec(ctx, statement)
		conn.Close(ctx)
	}
	if err != nil {
		tb.Fatalf("storetest: %s: %v", statement, err)
	}
}

// SetUserActive activates or deactivates a user behind the service's back.
func SetUserActive(tb testing.TB, st store.DB, userID int64, active bool) {
	tb.Helper()
	Exec(tb, st, fmt.Sprintf("UPDATE users SET is_active = %t WHERE id = %d", active, userID))
}

// DeleteUser deletes a user, and by cascade their sessions and tokens.
func DeleteUser(tb testing.TB, st store.DB, userID int64) {
	tb.Helper()
	Exec(tb, st, fmt.Sprintf("DELETE FROM users WHERE id = %d", userID))
}
