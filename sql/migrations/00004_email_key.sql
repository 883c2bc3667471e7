-- Emails are matched by a key the service computes in Go (auth.EmailKey:
-- trimmed, NFC, Unicode lower case), so that PostgreSQL and SQLite agree on
-- which addresses are one account whatever their collation: SQL lower() folds
-- only ASCII in SQLite and in the C collation. The column is filled by
-- migration 00005 (Go, it needs auth.EmailKey) and indexed by 00006.

-- +goose Up
ALTER TABLE users ADD COLUMN email_key text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN email_key;
