package store

import (
	"context"
	"fmt"
	"strings"
)

// Open opens the store that url names: a postgres:// (or postgresql://) URL
// for PostgreSQL, or sqlite:PATH for the embedded store.
func Open(ctx context.Context, url string) (Store, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return OpenPostgres(ctx, url)
	case strings.HasPrefix(url, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(url, "sqlite:"))
	}
	return nil, fmt.Errorf("unsupported database URL scheme (want postgres:// or sqlite:PATH)")
}
