-- A session's token generation: tokens carry it (claim sgen, omitted at 0),
-- and the service refuses a session's tokens of an earlier generation
-- (internal/auth, owner). A password change keeps the session going with a
-- new pair of the next generation, so that the access token from before the
-- change stops working here at once.

-- +goose Up
ALTER TABLE sessions ADD COLUMN token_generation integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN token_generation;
