-- Sessions a user can see, and refresh tokens seen outside a plain rotation;
-- see sql/migrations/00020. Times are Unix microseconds.

-- +goose Up
ALTER TABLE sessions ADD COLUMN created_address TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN created_user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN refreshed_at INTEGER;
ALTER TABLE sessions ADD COLUMN refreshed_address TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN refreshed_user_agent TEXT NOT NULL DEFAULT '';

ALTER TABLE refresh_tokens ADD COLUMN exposed_at INTEGER;

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN exposed_at;

ALTER TABLE sessions DROP COLUMN refreshed_user_agent;
ALTER TABLE sessions DROP COLUMN refreshed_address;
ALTER TABLE sessions DROP COLUMN refreshed_at;
ALTER TABLE sessions DROP COLUMN created_user_agent;
ALTER TABLE sessions DROP COLUMN created_address;
