-- Sign-up creates accounts inactive until their address is verified. An
-- inactive account that was never verified may be signed up for again (the
-- verification is sent anew); one that was verified and then deactivated by
-- an administrator may not. Accounts that exist already were vouched for by
-- whoever created or imported them: they count as verified when they joined.

-- +goose Up
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = date_joined;

-- +goose Down
ALTER TABLE users DROP COLUMN email_verified_at;
