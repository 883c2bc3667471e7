-- name: InsertOutboxEvent :exec
INSERT INTO outbox_events (id, type, payload, created_at, next_attempt_at)
VALUES (@id, @type, @payload, @created_at, @next_attempt_at);

-- Claims due events that no live lease holds, by taking a lease on them
-- until locked_until. SQLite has no SKIP LOCKED: the statement runs under the
-- database's write lock, so claimers take turns (see the PostgreSQL twin).
-- name: ClaimOutboxEvents :many
UPDATE outbox_events SET locked_until = CAST(@locked_until AS INTEGER), attempts = attempts + 1
WHERE id IN (
    SELECT e.id FROM outbox_events AS e
    WHERE e.next_attempt_at <= @now AND (e.locked_until IS NULL OR e.locked_until <= @now)
    ORDER BY e.next_attempt_at, e.id
    LIMIT @batch_size
)
RETURNING *;

-- name: DeleteOutboxEvent :exec
DELETE FROM outbox_events WHERE id = @id;

-- name: RescheduleOutboxEvent :exec
UPDATE outbox_events SET locked_until = NULL, next_attempt_at = @next_attempt_at, last_error = @last_error
WHERE id = @id;
