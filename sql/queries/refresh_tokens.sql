-- name: InsertRefreshToken :exec
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)
VALUES (@token_hash, @session_id, @issued_at, @expires_at);

-- name: GetStoredRefreshToken :one
SELECT * FROM refresh_tokens WHERE token_hash = @token_hash;

-- name: DeleteExpiredRefreshTokens :execrows
DELETE FROM refresh_tokens WHERE token_hash IN (
    SELECT t.token_hash FROM refresh_tokens AS t WHERE t.expires_at < @before LIMIT @batch_size
);

-- A password change keeps the session but replaces its live refresh token;
-- retired ones stay, so that replaying them is still recognised as reuse.
-- name: DeleteLiveRefreshTokens :execrows
DELETE FROM refresh_tokens WHERE session_id = @session_id AND retired_at IS NULL;
-- Marks a token seen outside a plain rotation (see migration 00020); the
-- first time counts.
-- name: ExposeRefreshToken :exec
UPDATE refresh_tokens SET exposed_at = @exposed_at::timestamptz WHERE token_hash = @token_hash AND exposed_at IS NULL;
