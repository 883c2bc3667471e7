-- One-time tokens sent by email (address verification, password reset):
-- kept only as SHA-256 hashes, deleted when used, superseded by a newer one of
-- the same purpose for the same user, and deleted by the cleanup once expired.

-- +goose Up
CREATE TABLE one_time_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX one_time_tokens_user_purpose_idx ON one_time_tokens (user_id, purpose);
CREATE INDEX one_time_tokens_expires_at_idx ON one_time_tokens (expires_at);

-- +goose Down
DROP TABLE one_time_tokens;
