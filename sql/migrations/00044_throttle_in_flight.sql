-- The login throttle counts failures and attempts in flight apart
-- (internal/auth/throttle.go): concurrent right passwords no longer fill a
-- counter, while concurrent guesses still cannot outrun it. attempts, which
-- counted both, becomes failures. in_flight_until is when the attempts in
-- flight count as lost (a replica stopped mid-login): after it they are
-- forgotten. Zero times ('0001-01-01') mean none.

-- +goose Up
ALTER TABLE login_throttle RENAME COLUMN attempts TO failures;
ALTER TABLE login_throttle ADD COLUMN in_flight integer NOT NULL DEFAULT 0;
ALTER TABLE login_throttle ADD COLUMN in_flight_until timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00';

-- +goose Down
ALTER TABLE login_throttle DROP COLUMN in_flight_until;
ALTER TABLE login_throttle DROP COLUMN in_flight;
ALTER TABLE login_throttle RENAME COLUMN failures TO attempts;
