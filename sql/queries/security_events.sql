-- name: InsertSecurityEvent :exec
INSERT INTO security_events (occurred_at, kind, user_id, session_id, request_id, client_address, user_agent, email, email_key, detail)
VALUES (@occurred_at, @kind, @user_id, @session_id, @request_id, @client_address, @user_agent, @email, @email_key, @detail);

-- Events since a time, newest first; with an email key, only those typed
-- with that address or of the user who has it now. user_email is the user's
-- address today, for reading.
-- name: ListSecurityEvents :many
SELECT e.id, e.occurred_at, e.kind, e.user_id, e.session_id, e.request_id, e.client_address, e.user_agent,
    e.email, e.detail, COALESCE(u.email, '')::text AS user_email
FROM security_events AS e LEFT JOIN users AS u ON u.id = e.user_id
WHERE e.occurred_at >= @since
  AND (@email_key::text = '' OR e.email_key = @email_key::text
       OR e.user_id IN (SELECT x.id FROM users AS x WHERE x.email_key = @email_key::text))
ORDER BY e.occurred_at DESC, e.id DESC
LIMIT @max_rows;

-- name: DeleteSecurityEventsBefore :execrows
DELETE FROM security_events WHERE id IN (
    SELECT e.id FROM security_events AS e WHERE e.occurred_at < @before LIMIT @batch_size
);
