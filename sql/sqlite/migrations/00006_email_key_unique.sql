-- Email uniqueness moves from lower(email) to the key that 00005 filled in.
-- Two rows whose keys collide make this migration fail, and nothing of it is
-- applied: merge or rename one of the accounts, then migrate again.

-- +goose Up
DROP INDEX users_email_lower_key;
CREATE UNIQUE INDEX users_email_key_key ON users (email_key);

-- +goose Down
DROP INDEX users_email_key_key;
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
