-- name: CreateUser :one
INSERT INTO users (email, email_key, password_hash, is_active, is_staff, is_superuser, date_joined, email_verified_at)
VALUES (@email, @email_key, @password_hash, @is_active, @is_staff, @is_superuser, @date_joined, @email_verified_at)
RETURNING *;

-- name: ImportUser :exec
INSERT INTO users (id, email, email_key, password_hash, is_active, is_staff, is_superuser, date_joined, last_login, email_verified_at)
VALUES (@id, @email, @email_key, @password_hash, @is_active, @is_staff, @is_superuser, @date_joined, @last_login, @email_verified_at);

-- Imported ids bypass the identity sequence; move it past them. It only ever
-- moves forward, so the id of a deleted user is never handed out again.
-- name: SyncUserIDSequence :exec
SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST(
    (SELECT COALESCE(max(id), 0) FROM users),
    nextval(pg_get_serial_sequence('users', 'id'))
));

-- name: GetUserByEmailKey :one
SELECT * FROM users WHERE email_key = @email_key;

-- name: GetUserByID :one
SELECT * FROM users WHERE id = @id;

-- name: RecordLogin :exec
UPDATE users SET last_login = @last_login::timestamptz WHERE id = @id;

-- Compare-and-set: a concurrent password change wins over a hash upgrade.
-- name: ReplacePasswordHash :execrows
UPDATE users SET password_hash = @new_hash WHERE id = @id AND password_hash = @old_hash;

-- name: ListUsers :many
SELECT * FROM users ORDER BY id;

-- name: SetPasswordHash :exec
UPDATE users SET password_hash = @password_hash WHERE id = @id;

-- Activation also verifies an address not verified yet: whoever activates
-- (the owner with a token from the mailbox, or an administrator) vouches for it.
-- name: ActivateUser :exec
UPDATE users SET is_active = true, email_verified_at = COALESCE(email_verified_at, @verified_at::timestamptz)
WHERE id = @id;

-- Deactivation also marks the address as taken in hand (verified), so that a
-- sign-up or a reset for it cannot reactivate the account.
-- name: DeactivateUser :exec
UPDATE users SET is_active = false, email_verified_at = COALESCE(email_verified_at, @at::timestamptz) WHERE id = @id;
