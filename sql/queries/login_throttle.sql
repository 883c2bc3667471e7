-- name: GetThrottleCounters :many
SELECT * FROM login_throttle WHERE key = ANY(@keys::bytea[]);

-- Creates the missing counters empty and returns all of them, existing or
-- new, locked until the transaction ends: the no-op update of an existing
-- row is what locks it and makes RETURNING return it. Keys come sorted, so
-- that transactions lock shared rows in one order.
-- name: LockThrottleCounters :many
INSERT INTO login_throttle (key, failures, in_flight, in_flight_until, locked_until, familiar_until, reset_at)
SELECT k, 0, 0, '0001-01-01 00:00:00+00', '0001-01-01 00:00:00+00', '0001-01-01 00:00:00+00', @reset_at::timestamptz
FROM unnest(@keys::bytea[]) WITH ORDINALITY AS u (k, i)
ORDER BY i
ON CONFLICT (key) DO UPDATE SET key = excluded.key
RETURNING *;

-- name: PutThrottleCounters :exec
INSERT INTO login_throttle (key, failures, in_flight, in_flight_until, locked_until, familiar_until, reset_at)
SELECT unnest(@keys::bytea[]), unnest(@failures::integer[]), unnest(@in_flight::integer[]),
    unnest(@in_flight_until::timestamptz[]), unnest(@locked_until::timestamptz[]),
    unnest(@familiar_until::timestamptz[]), unnest(@reset_at::timestamptz[])
ON CONFLICT (key) DO UPDATE SET
    failures = excluded.failures, in_flight = excluded.in_flight, in_flight_until = excluded.in_flight_until,
    locked_until = excluded.locked_until,
    familiar_until = excluded.familiar_until, reset_at = excluded.reset_at;

-- name: DeleteExpiredThrottleCounters :execrows
DELETE FROM login_throttle WHERE key IN (
    SELECT t.key FROM login_throttle AS t WHERE t.reset_at < @before LIMIT @batch_size
);
