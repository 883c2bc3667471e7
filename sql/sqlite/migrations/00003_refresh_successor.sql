-- The pair a refresh token was rotated into, sealed with a key derived from
-- that refresh token itself (which is stored only as a hash). Within the
-- reuse grace interval, presenting the retired token returns this same pair
-- instead of minting a second one, so a session never forks.

-- +goose Up
ALTER TABLE refresh_tokens ADD COLUMN successor BLOB;

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN successor;
