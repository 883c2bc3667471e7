-- Sessions a user can see: the client (address, User-Agent) that logged in
-- and the one that last refreshed, and when. Sessions from before this
-- migration show empty clients and no refresh until their next one.
--
-- exposed_at marks a refresh token seen outside a plain rotation: handed out
-- a second time by a grace replay of its predecessor, or presented to
-- /auth/token/verify/ or as a bearer token. Such a token has no grace
-- interval: once it is retired, presenting it again is reuse (see
-- internal/auth/rotate.go, decideRotation).

-- +goose Up
ALTER TABLE sessions
    ADD COLUMN created_address      text NOT NULL DEFAULT '',
    ADD COLUMN created_user_agent   text NOT NULL DEFAULT '',
    ADD COLUMN refreshed_at         timestamptz,
    ADD COLUMN refreshed_address    text NOT NULL DEFAULT '',
    ADD COLUMN refreshed_user_agent text NOT NULL DEFAULT '';

ALTER TABLE refresh_tokens ADD COLUMN exposed_at timestamptz;

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN exposed_at;

ALTER TABLE sessions
    DROP COLUMN created_address,
    DROP COLUMN created_user_agent,
    DROP COLUMN refreshed_at,
    DROP COLUMN refreshed_address,
    DROP COLUMN refreshed_user_agent;
