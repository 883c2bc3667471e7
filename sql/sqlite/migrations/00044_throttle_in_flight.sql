-- See the PostgreSQL migration of the same number. Times are Unix
-- microseconds; in_flight_until's default, 0 (1970), is in the past, so it
-- means none as the zero time does.

-- +goose Up
ALTER TABLE login_throttle RENAME COLUMN attempts TO failures;
ALTER TABLE login_throttle ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_throttle ADD COLUMN in_flight_until INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE login_throttle DROP COLUMN in_flight_until;
ALTER TABLE login_throttle DROP COLUMN in_flight;
ALTER TABLE login_throttle RENAME COLUMN failures TO attempts;
