package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/pgtest"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
)

// A PostgreSQL that goes away is auth.ErrUnavailable, fast, and the store
// uses it again within a second of its return, without reopening.
func TestPostgresOutageIsUnavailableAndRecovers(t *testing.T) {
	url := storetest.URL(t, "postgres")
	storetest.OpenURL(t, url) // migrated
	proxy, viaProxy := pgtest.NewProxy(t, url)
	ctx := context.Background()
	st, err := store.Open(ctx, viaProxy, store.WithStatementTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ask := func() error {
		_, err := st.UserByEmail(ctx, "nobody@example.com")
		if errors.Is(err, auth.ErrNotFound) {
			return nil
		}
		return err
	}
	if err := ask(); err != nil {
		t.Fatalf("before the outage: %v", err)
	}

	proxy.Cut()
	for i := range 5 { // the pool's idle connection, then new ones
		start := time.Now()
		err := ask()
		if !errors.Is(err, auth.ErrUnavailable) {
			t.Fatalf("during the outage, query %d: err = %v, want ErrUnavailable", i+1, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("during the outage, query %d took %s", i+1, d)
		}
	}
	if err := st.Ping(ctx); !errors.Is(err, auth.ErrUnavailable) {
		t.Errorf("Ping during the outage: %v, want ErrUnavailable", err)
	}

	proxy.Restore()
	back := time.Now()
	for ask() != nil {
		if time.Since(back) > time.Second {
			t.Fatalf("not recovered within 1s of the database's return: %v", ask())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("recovered %s after the database's return", time.Since(back).Round(time.Millisecond))
}

// The statement timeout is enforced by the server: a statement stuck behind
// a lock fails as ErrUnavailable once it has passed.
func TestPostgresStatementTimeout(t *testing.T) {
	url := storetest.URL(t, "postgres")
	storetest.OpenURL(t, url)
	ctx := context.Background()
	st, err := store.Open(ctx, url, store.WithStatementTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	locker, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	tx, err := locker.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, "LOCK TABLE login_throttle"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = st.ThrottleCounters(ctx, [][]byte{hash("k")})
	if !errors.Is(err, auth.ErrUnavailable) || !strings.Contains(err.Error(), "57014") {
		t.Fatalf("err = %v, want ErrUnavailable from the server's statement timeout (57014)", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("failed after %s, want about the 300ms statement timeout", d)
	}
}

// A SQLite database held by another writer past the statement timeout is
// ErrUnavailable.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	url := storetest.URL(t, "sqlite")
	storetest.OpenURL(t, url)
	ctx := context.Background()
	st, err := store.Open(ctx, url, store.WithStatementTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(url, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck
	start := time.Now()
	err = st.PutThrottleCounters(ctx, []auth.ThrottleCounter{{Key: hash("k"), ResetAt: base}})
	if !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("failed after %s, want about the 200ms timeout", d)
	}
}

// A SQLite path is a file name, whatever it holds: a '#' or '?' (subtests
// named "x#01") must not end the URI SQLite parses and open another file.
func TestSQLitePathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a#01?b%20.db")
	st, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at %s: %v", path, err)
	}
}
