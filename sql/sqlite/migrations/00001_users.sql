-- The embedded store's identity table. Times are Unix microseconds (INTEGER):
-- SQLite has no time type, and integers compare correctly where text
-- timestamps with trimmed fractions would not. AUTOINCREMENT: the id of a
-- deleted user is never handed out again.

-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_active     BOOLEAN NOT NULL DEFAULT 1,
    is_staff      BOOLEAN NOT NULL DEFAULT 0,
    is_superuser  BOOLEAN NOT NULL DEFAULT 0,
    date_joined   INTEGER NOT NULL,
    last_login    INTEGER
);

-- Email is unique regardless of case (SQLite's lower() folds ASCII only).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- +goose Down
DROP TABLE users;
