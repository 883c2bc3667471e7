-- The login throttle's counters (internal/auth/throttle.go); see the
-- PostgreSQL migration of the same number. Times are Unix microseconds, as in
-- 00001; zero times (year 1) mean none.

-- +goose Up
CREATE TABLE login_throttle (
    key            BLOB    PRIMARY KEY,
    attempts       INTEGER NOT NULL,
    locked_until   INTEGER NOT NULL,
    familiar_until INTEGER NOT NULL,
    reset_at       INTEGER NOT NULL
);

CREATE INDEX login_throttle_reset_at_idx ON login_throttle (reset_at);

-- +goose Down
DROP TABLE login_throttle;
