-- name: InsertOutboxEvent :exec
INSERT INTO outbox_events (id, type, payload, created_at, next_attempt_at)
VALUES (@id, @type, @payload, @created_at, @next_attempt_at);

-- Claims due events that no live lease holds, by taking a lease on them
-- until locked_until, in one statement: SKIP LOCKED lets replicas claiming
-- at the same moment take different rows instead of waiting for each other,
-- and the lease keeps a claimed row from the others while it is delivered,
-- with no transaction open.
-- name: ClaimOutboxEvents :many
UPDATE outbox_events SET locked_until = @locked_until::timestamptz, attempts = attempts + 1
WHERE id IN (
    SELECT e.id FROM outbox_events AS e
    WHERE e.next_attempt_at <= @now AND (e.locked_until IS NULL OR e.locked_until <= @now)
    ORDER BY e.next_attempt_at, e.id
    LIMIT @batch_size
    FOR UPDATE SKIP LOCKED
)
RETURNING *;

-- name: DeleteOutboxEvent :exec
DELETE FROM outbox_events WHERE id = @id;

-- name: RescheduleOutboxEvent :exec
UPDATE outbox_events SET locked_until = NULL, next_attempt_at = @next_attempt_at, last_error = @last_error
WHERE id = @id;
