-- See the PostgreSQL migration of the same number.

-- +goose Up
ALTER TABLE sessions ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sessions DROP COLUMN token_generation;
