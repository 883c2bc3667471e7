-- name: CreateUser :one
INSERT INTO users (email, email_key, password_hash, is_active, is_staff, is_superuser, date_joined)
VALUES (@email, @email_key, @password_hash, @is_active, @is_staff, @is_superuser, @date_joined)
RETURNING *;

-- name: ImportUser :exec
INSERT INTO users (id, email, email_key, password_hash, is_active, is_staff, is_superuser, date_joined, last_login)
VALUES (@id, @email, @email_key, @password_hash, @is_active, @is_staff, @is_superuser, @date_joined, @last_login);

-- name: GetUserByEmailKey :one
SELECT * FROM users WHERE email_key = @email_key;

-- name: GetUserByID :one
SELECT * FROM users WHERE id = @id;

-- name: RecordLogin :exec
UPDATE users SET last_login = CAST(@last_login AS INTEGER) WHERE id = @id;

-- Compare-and-set: a concurrent password change wins over a hash upgrade.
-- name: ReplacePasswordHash :execrows
UPDATE users SET password_hash = @new_hash WHERE id = @id AND password_hash = @old_hash;
