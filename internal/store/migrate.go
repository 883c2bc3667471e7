package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/ecommerce/auth-service/internal/auth"
)

// migrate applies the SQL migrations in files, and the Go ones below, to db.
func migrate(ctx context.Context, dialect goose.Dialect, db *sql.DB, files fs.FS, opts ...goose.ProviderOption) error {
	opts = append(opts, goose.WithGoMigrations(
		goose.NewGoMigration(5, &goose.GoFunc{RunTx: fillEmailKeys(dialect)}, nil),
	))
	provider, err := goose.NewProvider(dialect, db, files, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// fillEmailKeys is migration 00005: it computes the email key (auth.EmailKey)
// of every existing user, between 00004, which adds the column, and 00006,
// which makes it unique. It is Go because the key is: no SQL function of
// either database folds case as auth.EmailKey does.
func fillEmailKeys(dialect goose.Dialect) func(ctx context.Context, tx *sql.Tx) error {
	update := "UPDATE users SET email_key = ? WHERE id = ?"
	if dialect == goose.DialectPostgres {
		update = "UPDATE users SET email_key = $1 WHERE id = $2"
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id, email FROM users")
		if err != nil {
			return err
		}
		keys := map[int64]string{}
		for rows.Next() {
			var (
				id    int64
				email string
			)
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return err
			}
			keys[id] = auth.EmailKey(email)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for id, key := range keys {
			if _, err := tx.ExecContext(ctx, update, key, id); err != nil {
				return err
			}
		}
		return nil
	}
}
