// Package sql embeds the schema migrations of both stores, so that the binary
// can migrate a database without any file beside it.
package sql

import "embed"

// PostgresMigrations holds the goose migrations for PostgreSQL, under "migrations".
//
//go:embed migrations/*.sql
var PostgresMigrations embed.FS

// SQLiteMigrations holds the goose migrations for SQLite, under "sqlite/migrations".
//
//go:embed sqlite/migrations/*.sql
var SQLiteMigrations embed.FS
