-- Emails are matched by a key the service computes in Go (auth.EmailKey:
-- trimmed, NFC, Unicode lower case), so that SQLite and PostgreSQL agree on
-- which addresses are one account: SQLite's lower() folds only ASCII. The
-- column is filled by migration 00005 (Go, it needs auth.EmailKey) and
-- indexed by 00006. SQLite cannot drop the default later; the service always
-- writes the key.

-- +goose Up
ALTER TABLE users ADD COLUMN email_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN email_key;
