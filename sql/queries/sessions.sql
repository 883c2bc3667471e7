-- name: CreateSession :exec
INSERT INTO sessions (id, user_id, created_at, expires_at, created_address, created_user_agent)
VALUES (@id, @user_id, @created_at, @expires_at, @created_address, @created_user_agent);

-- Serializes every rotation of one session, across processes.
-- name: LockSession :one
SELECT * FROM sessions WHERE id = @id FOR UPDATE;

-- A rotation: the session lives on from its new refresh token, and
-- remembers when and by which client it was refreshed.
-- name: ExtendSession :exec
UPDATE sessions SET expires_at = GREATEST(expires_at, @expires_at),
    refreshed_at = @refreshed_at::timestamptz, refreshed_address = @refreshed_address, refreshed_user_agent = @refreshed_user_agent
WHERE id = @id;

-- The session's next token generation: its tokens of earlier ones are
-- refused from now on.
-- name: BumpSessionGeneration :one
UPDATE sessions SET token_generation = token_generation + 1 WHERE id = @id RETURNING token_generation;

-- name: RevokeSession :exec
UPDATE sessions SET revoked_at = @revoked_at::timestamptz, revoked_reason = @reason::text
WHERE id = @id AND revoked_at IS NULL;

-- name: RevokeUserSessions :execrows
UPDATE sessions SET revoked_at = @revoked_at::timestamptz, revoked_reason = @reason::text
WHERE user_id = @user_id AND revoked_at IS NULL;

-- A session is kept until its last refresh token expires, revoked or not, so
-- that a reused token is still recognised as reuse until then.
-- name: DeleteExpiredSessions :execrows
DELETE FROM sessions WHERE id IN (
    SELECT s.id FROM sessions AS s WHERE s.expires_at < @before LIMIT @batch_size
);

-- The session with its user, in one round trip: what every authenticated
-- request needs.
-- name: GetSessionUser :one
SELECT sqlc.embed(sessions), sqlc.embed(users)
FROM sessions JOIN users ON users.id = sessions.user_id
WHERE sessions.id = @id;

-- name: RevokeOtherUserSessions :execrows
UPDATE sessions SET revoked_at = @revoked_at::timestamptz, revoked_reason = @reason::text
WHERE user_id = @user_id AND id <> @keep_id AND revoked_at IS NULL;

-- name: CountLiveUserSessions :one
SELECT count(*) FROM sessions WHERE user_id = @user_id AND revoked_at IS NULL AND expires_at > @now;
-- A user's live sessions, newest first.
-- name: ListUserSessions :many
SELECT * FROM sessions
WHERE user_id = @user_id AND revoked_at IS NULL AND expires_at > @now
ORDER BY created_at DESC, id
LIMIT @max_rows;

-- Revokes one live session, only if it is the user's.
-- name: RevokeUserSession :execrows
UPDATE sessions SET revoked_at = @revoked_at::timestamptz, revoked_reason = @reason::text
WHERE id = @id AND user_id = @user_id AND revoked_at IS NULL AND expires_at > @revoked_at::timestamptz;

-- What a rotation decides on, in one round trip: the session, locked as
-- LockSession locks it, its user and the user's roles (for the new access
-- token), and the presented refresh token (it may belong to another
-- session; the domain checks). The token row is locked too, not only read:
-- a statement that waited for the session's lock re-reads the rows it
-- locks, and only those, so a token read without its lock could be a
-- rotation stale. No row: no such session, or no such token.
-- name: LockRotation :one
SELECT sqlc.embed(sessions), sqlc.embed(users), sqlc.embed(t),
    COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles AS r WHERE r.user_id = users.id), '{}')::text[] AS roles
FROM sessions
JOIN users ON users.id = sessions.user_id
JOIN refresh_tokens AS t ON t.token_hash = @token_hash
WHERE sessions.id = @id
FOR UPDATE OF sessions, t;

-- A rotation's writes, in one statement: the old refresh token retired with
-- its sealed successor, the new one stored, and the session extended and
-- marked refreshed by the client.
-- name: RecordRotation :exec
WITH retired AS (
    UPDATE refresh_tokens SET retired_at = @refreshed_at::timestamptz, successor = @successor
    WHERE refresh_tokens.token_hash = @old_hash
), added AS (
    INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)
    VALUES (@next_hash, @id, @issued_at, @expires_at)
)
UPDATE sessions SET expires_at = GREATEST(sessions.expires_at, @expires_at),
    refreshed_at = @refreshed_at::timestamptz, refreshed_address = @refreshed_address, refreshed_user_agent = @refreshed_user_agent
WHERE sessions.id = @id;
