-- The login throttle's counters (internal/auth/throttle.go), shared by every
-- replica. A key is the SHA-256 of what it counts (an account and a client
-- address, an account, or an address), never the email or address itself.
-- Zero times ('0001-01-01') mean none. A counter is forgotten at reset_at,
-- when the cleanup deletes it.

-- +goose Up
CREATE TABLE login_throttle (
    key            bytea       PRIMARY KEY,
    attempts       integer     NOT NULL,
    locked_until   timestamptz NOT NULL,
    familiar_until timestamptz NOT NULL,
    reset_at       timestamptz NOT NULL
);

CREATE INDEX login_throttle_reset_at_idx ON login_throttle (reset_at);

-- +goose Down
DROP TABLE login_throttle;
