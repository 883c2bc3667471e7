-- The security audit trail: one row per event (see internal/auth/events.go
-- for the kinds), written in the transaction of the change it records where
-- there is one. Never a password, a token or key material. user_id has no
-- foreign key and session_id none either: the trail outlives the rows it
-- speaks of, until AUTH_AUDIT_RETENTION. email is the address as typed, on
-- failures; email_key is its auth.EmailKey, computed by the service, to find
-- events by address.

-- +goose Up
CREATE TABLE security_events (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at    timestamptz NOT NULL,
    kind           text        NOT NULL,
    user_id        bigint,
    session_id     text        NOT NULL DEFAULT '',
    request_id     text        NOT NULL DEFAULT '',
    client_address text        NOT NULL DEFAULT '',
    user_agent     text        NOT NULL DEFAULT '',
    email          text        NOT NULL DEFAULT '',
    email_key      text        NOT NULL DEFAULT '',
    detail         text        NOT NULL DEFAULT ''
);

CREATE INDEX security_events_occurred_at_idx ON security_events (occurred_at);
CREATE INDEX security_events_user_id_idx ON security_events (user_id, occurred_at);
CREATE INDEX security_events_email_key_idx ON security_events (email_key, occurred_at);

-- +goose Down
DROP TABLE security_events;
