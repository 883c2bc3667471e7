-- Sign-up creates accounts inactive until their address is verified (see the
-- PostgreSQL twin). Existing accounts count as verified when they joined.
-- Times are Unix microseconds, as in 00001.

-- +goose Up
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
UPDATE users SET email_verified_at = date_joined;

-- +goose Down
ALTER TABLE users DROP COLUMN email_verified_at;
