-- The roles of a user, carried in their access tokens (the `roles` claim).

-- +goose Up
CREATE TABLE user_roles (
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text        NOT NULL,
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- +goose Down
DROP TABLE user_roles;
