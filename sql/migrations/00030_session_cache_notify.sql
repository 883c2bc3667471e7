-- Replicas cache sessions for at most a second (store.WithSessionCache).
-- These triggers announce, on commit, every change that a cached answer
-- would hide: a session revoked or deleted, a user changed (active,
-- password, email) or deleted. Each replica LISTENs on auth_cache and
-- forgets what is announced, so that a logout on one replica is refused on
-- every other within milliseconds. Payloads are ids only ("s:<session id>",
-- "u:<user id>"), well under NOTIFY's 8000 bytes.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION auth_cache_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'sessions' THEN
        PERFORM pg_notify('auth_cache', 's:' || OLD.id);
    ELSE
        PERFORM pg_notify('auth_cache', 'u:' || OLD.id::text);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER sessions_auth_cache AFTER UPDATE OF revoked_at OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION auth_cache_notify();
CREATE TRIGGER users_auth_cache AFTER UPDATE OF is_active, email, email_key, password_hash OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION auth_cache_notify();

-- +goose Down
DROP TRIGGER users_auth_cache ON users;
DROP TRIGGER sessions_auth_cache ON sessions;
DROP FUNCTION auth_cache_notify();
