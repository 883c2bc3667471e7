-- name: CreateUser :one
INSERT INTO users (email, email_key, password_hash, is_active, is_staff, is_superuser, date_joined, email_verified_at)
VALUES (@email, @email_key, @password_hash, @is_active, @is_staff, @is_superuser, @date_joined, @email_verified_at)
RETURNING *;

-- name: ImportUser :exec
INSERT INTO users (id, email, email_key, password_hash, is_active, is_staff, is_superuser, date_joined, last_login, email_verified_at)
VALUES (@id, @email, @email_key, @password_hash, @is_active, @is_staff, @is_superuser, @date_joined, @last_login, @email_verified_at);

-- name: GetUserByEmailKey :one
SELECT * FROM users WHERE email_key = @email_key;

-- name: GetUserByID :one
SELECT * FROM users WHERE id = @id;

-- name: RecordLogin :exec
UPDATE users SET last_login = CAST(@last_login AS INTEGER) WHERE id = @id;

-- Compare-and-set: a concurrent password change wins over a hash upgrade.
-- name: ReplacePasswordHash :execrows
UPDATE users SET password_hash = @new_hash WHERE id = @id AND password_hash = @old_hash;

-- name: ListUsers :many
SELECT * FROM users ORDER BY id;

-- name: SetPasswordHash :exec
UPDATE users SET password_hash = @password_hash WHERE id = @id;

-- Activation also verifies an address not verified yet (see the PostgreSQL twin).
-- name: ActivateUser :exec
UPDATE users SET is_active = 1, email_verified_at = COALESCE(email_verified_at, CAST(@verified_at AS INTEGER))
WHERE id = @id;

-- Deactivation also marks the address as taken in hand (see the PostgreSQL twin).
-- name: DeactivateUser :exec
UPDATE users SET is_active = 0, email_verified_at = COALESCE(email_verified_at, CAST(@at AS INTEGER)) WHERE id = @id;
