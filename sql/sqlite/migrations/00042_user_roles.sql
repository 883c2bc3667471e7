-- The roles of a user, carried in their access tokens. Times are Unix microseconds.

-- +goose Up
CREATE TABLE user_roles (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- +goose Down
DROP TABLE user_roles;
