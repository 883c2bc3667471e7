-- The transactional outbox: events for the Notification service, written in
-- the transaction of the change they report, delivered by a dispatcher in
-- every replica. A replica claims a row by setting locked_until (a lease) and
-- holds no transaction open while it delivers; a crashed replica's lease
-- simply expires. Delivered rows are deleted: they may hold one-time tokens.

-- +goose Up
CREATE TABLE outbox_events (
    id              text        PRIMARY KEY,
    type            text        NOT NULL,
    payload         bytea       NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    locked_until    timestamptz,
    last_error      text
);

CREATE INDEX outbox_events_next_attempt_at_idx ON outbox_events (next_attempt_at);

-- +goose Down
DROP TABLE outbox_events;
