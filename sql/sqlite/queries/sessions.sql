-- name: CreateSession :exec
INSERT INTO sessions (id, user_id, created_at, expires_at, created_address, created_user_agent)
VALUES (@id, @user_id, @created_at, @expires_at, @created_address, @created_user_agent);

-- SQLite has no FOR UPDATE: transactions start with BEGIN IMMEDIATE instead.
-- name: LockSession :one
SELECT * FROM sessions WHERE id = @id;

-- A rotation: the session lives on from its new refresh token, and
-- remembers when and by which client it was refreshed.
-- name: ExtendSession :exec
UPDATE sessions SET expires_at = max(expires_at, CAST(@expires_at AS INTEGER)),
    refreshed_at = CAST(@refreshed_at AS INTEGER), refreshed_address = @refreshed_address, refreshed_user_agent = @refreshed_user_agent
WHERE id = @id;

-- The session's next token generation: its tokens of earlier ones are
-- refused from now on.
-- name: BumpSessionGeneration :one
UPDATE sessions SET token_generation = token_generation + 1 WHERE id = @id RETURNING token_generation;

-- name: RevokeSession :exec
UPDATE sessions SET revoked_at = CAST(@revoked_at AS INTEGER), revoked_reason = CAST(@reason AS TEXT)
WHERE id = @id AND revoked_at IS NULL;

-- name: RevokeUserSessions :execrows
UPDATE sessions SET revoked_at = CAST(@revoked_at AS INTEGER), revoked_reason = CAST(@reason AS TEXT)
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
UPDATE sessions SET revoked_at = CAST(@revoked_at AS INTEGER), revoked_reason = CAST(@reason AS TEXT)
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
UPDATE sessions SET revoked_at = CAST(@revoked_at AS INTEGER), revoked_reason = CAST(@reason AS TEXT)
WHERE id = @id AND user_id = @user_id AND revoked_at IS NULL AND expires_at > CAST(@revoked_at AS INTEGER);

-- What a rotation decides on, in one query: the session (the transaction
-- already holds SQLite's write lock), its user and the user's roles
-- (comma-separated: role names have no commas), and the presented refresh
-- token, if it exists.
-- name: LockRotation :one
SELECT sqlc.embed(sessions), sqlc.embed(users),
    CAST(COALESCE((SELECT group_concat(r.role, ',') FROM user_roles AS r WHERE r.user_id = users.id), '') AS TEXT) AS roles,
    t.token_hash AS token_hash, t.session_id AS token_session_id, t.issued_at AS token_issued_at,
    t.expires_at AS token_expires_at, t.retired_at AS token_retired_at, t.successor AS token_successor,
    t.exposed_at AS token_exposed_at
FROM sessions
JOIN users ON users.id = sessions.user_id
LEFT JOIN refresh_tokens AS t ON t.token_hash = @token_hash
WHERE sessions.id = @id;
