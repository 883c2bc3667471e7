-- name: InsertOneTimeToken :exec
INSERT INTO one_time_tokens (token_hash, user_id, purpose, created_at, expires_at)
VALUES (@token_hash, @user_id, @purpose, @created_at, @expires_at);

-- name: GetOneTimeToken :one
SELECT * FROM one_time_tokens WHERE token_hash = @token_hash AND purpose = @purpose;

-- Deleting is using: of two requests with one token, only one gets the row.
-- name: ConsumeOneTimeToken :one
DELETE FROM one_time_tokens WHERE token_hash = @token_hash AND purpose = @purpose
RETURNING *;

-- name: DeleteUserOneTimeTokens :execrows
DELETE FROM one_time_tokens WHERE user_id = @user_id AND purpose = @purpose;

-- name: DeleteExpiredOneTimeTokens :execrows
DELETE FROM one_time_tokens WHERE token_hash IN (
    SELECT t.token_hash FROM one_time_tokens AS t WHERE t.expires_at < @before LIMIT @batch_size
);
