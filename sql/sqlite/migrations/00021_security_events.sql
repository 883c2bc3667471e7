-- The security audit trail; see sql/migrations/00021. Times are Unix
-- microseconds.

-- +goose Up
CREATE TABLE security_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at    INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    user_id        INTEGER,
    session_id     TEXT    NOT NULL DEFAULT '',
    request_id     TEXT    NOT NULL DEFAULT '',
    client_address TEXT    NOT NULL DEFAULT '',
    user_agent     TEXT    NOT NULL DEFAULT '',
    email          TEXT    NOT NULL DEFAULT '',
    email_key      TEXT    NOT NULL DEFAULT '',
    detail         TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX security_events_occurred_at_idx ON security_events (occurred_at);
CREATE INDEX security_events_user_id_idx ON security_events (user_id, occurred_at);
CREATE INDEX security_events_email_key_idx ON security_events (email_key, occurred_at);

-- +goose Down
DROP TABLE security_events;
