-- name: GetThrottleCounters :many
SELECT * FROM login_throttle WHERE key IN (sqlc.slice('keys'));

-- Creates the counter empty if missing and returns it; the transaction's
-- BEGIN IMMEDIATE already holds the write lock.
-- name: LockThrottleCounter :one
INSERT INTO login_throttle (key, failures, in_flight, in_flight_until, locked_until, familiar_until, reset_at)
VALUES (@key, 0, 0, @zero, @zero, @zero, @reset_at)
ON CONFLICT (key) DO UPDATE SET key = excluded.key
RETURNING *;

-- name: PutThrottleCounter :exec
INSERT INTO login_throttle (key, failures, in_flight, in_flight_until, locked_until, familiar_until, reset_at)
VALUES (@key, @failures, @in_flight, @in_flight_until, @locked_until, @familiar_until, @reset_at)
ON CONFLICT (key) DO UPDATE SET
    failures = excluded.failures, in_flight = excluded.in_flight, in_flight_until = excluded.in_flight_until,
    locked_until = excluded.locked_until,
    familiar_until = excluded.familiar_until, reset_at = excluded.reset_at;

-- name: DeleteExpiredThrottleCounters :execrows
DELETE FROM login_throttle WHERE key IN (
    SELECT t.key FROM login_throttle AS t WHERE t.reset_at < @before LIMIT @batch_size
);
