// Package storetest opens fresh, migrated stores for tests: one SQLite file
// in the test's temporary directory and one new PostgreSQL database, so that
// one test body runs against both adapters.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/store"
)

// Kinds are the names of the stores Each runs a test against.
var Kinds = []string{"sqlite", "postgres"}

// Open returns a fresh, migrated store of the given kind, closed when tb ends.
func Open(tb testing.TB, kind string) store.Store {
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
func OpenURL(tb testing.TB, url string) store.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		tb.Fatalf("storetest: open %s: %v", url, err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("storetest: migrate: %v", err)
	}
	return st
}

// Each runs fn as a subtest against a fresh store of every kind.
func Each(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Helper()
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			fn(t, Open(t, kind))
		})
	}
}
