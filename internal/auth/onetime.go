package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// One-time tokens are what the Notification service mails: a link to verify
// an address or to reset a password carries one. They are random (130 bits
// from crypto/rand, URL-safe base32), kept only as SHA-256 hashes, valid for
// Params.EmailTokenTTL, used once (using deletes them), and a newer token of
// the same purpose for the same user supersedes the older ones.

// newOneTimeToken returns a fresh raw token. Use cases make one even when
// they end up not needing it, so that both paths of a request cost the same.
func newOneTimeToken() string { return rand.Text() }

// issueOneTimeToken stores raw as the user's one token of purpose, valid
// from now for EmailTokenTTL, and returns its expiry.
func (s *Service) issueOneTimeToken(ctx context.Context, tx Tx, userID int64, purpose, raw string, now time.Time) (time.Time, error) {
	if _, err := tx.DeleteUserOneTimeTokens(ctx, userID, purpose); err != nil {
		return time.Time{}, fmt.Errorf("auth: supersede %s tokens: %w", purpose, err)
	}
	expires := now.Add(s.params.EmailTokenTTL)
	t := OneTimeToken{Hash: HashToken(raw), UserID: userID, Purpose: purpose, CreatedAt: now, ExpiresAt: expires}
	if err := tx.InsertOneTimeToken(ctx, t); err != nil {
		return time.Time{}, fmt.Errorf("auth: store %s token: %w", purpose, err)
	}
	return expires, nil
}

// liveOneTimeToken returns the unexpired token raw of purpose, without using
// it, or ErrOneTimeTokenInvalid.
func liveOneTimeToken(ctx context.Context, tx Tx, raw, purpose string, now time.Time) (OneTimeToken, error) {
	t, err := tx.OneTimeToken(ctx, HashToken(raw), purpose)
	return checkOneTimeToken(t, err, now)
}

// consumeOneTimeToken uses the token raw of purpose: it is deleted, and of
// concurrent requests with one token only one succeeds. It fails with
// ErrOneTimeTokenInvalid for an unknown, used, superseded or expired token.
func consumeOneTimeToken(ctx context.Context, tx Tx, raw, purpose string, now time.Time) (OneTimeToken, error) {
	t, err := tx.ConsumeOneTimeToken(ctx, HashToken(raw), purpose)
	return checkOneTimeToken(t, err, now)
}

func checkOneTimeToken(t OneTimeToken, err error, now time.Time) (OneTimeToken, error) {
	switch {
	case errors.Is(err, ErrNotFound):
		return OneTimeToken{}, fmt.Errorf("%w: unknown token", ErrOneTimeTokenInvalid)
	case err != nil:
		return OneTimeToken{}, fmt.Errorf("auth: one-time token: %w", err)
	case !now.Before(t.ExpiresAt):
		return OneTimeToken{}, fmt.Errorf("%w: expired", ErrOneTimeTokenInvalid)
	}
	return t, nil
}
