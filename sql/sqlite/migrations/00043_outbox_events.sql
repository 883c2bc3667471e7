-- The transactional outbox (see the PostgreSQL twin). SQLite has no
-- SKIP LOCKED: a claim is one UPDATE under the database's write lock, which
-- serializes claimers. Times are Unix microseconds.

-- +goose Up
CREATE TABLE outbox_events (
    id              TEXT    PRIMARY KEY,
    type            TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    last_error      TEXT
);

CREATE INDEX outbox_events_next_attempt_at_idx ON outbox_events (next_attempt_at);

-- +goose Down
DROP TABLE outbox_events;
