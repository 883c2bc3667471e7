package auth

import (
	"context"
	"fmt"
	"time"
)

// EventKind names a kind of security event.
type EventKind string

// The events of the audit trail. Each is written in the transaction of the
// change it records wherever there is one, so that a change and its record
// stand or fall together.
const (
	EventLoginSucceeded EventKind = "login_succeeded"
	// EventLoginFailed records the email as typed; never the password.
	EventLoginFailed EventKind = "login_failed"
	// EventLoginThrottled is a login refused by throttling before any
	// password was checked (recorded by the login throttle).
	EventLoginThrottled EventKind = "login_throttled"
	// EventRefreshReuse is a retired refresh token presented again: the
	// session is revoked. Detail says why the token counted as reused.
	EventRefreshReuse EventKind = "refresh_reuse_detected"
	// EventGraceReplay is a just-retired refresh token presented within the
	// grace interval, answered with the pair it was rotated into.
	EventGraceReplay EventKind = "refresh_grace_replay"
	// EventRefreshExposed is a live refresh token presented to verify or as
	// a bearer token: it loses its grace interval, and whoever presents it
	// once it is retired ends the session. Detail says where.
	EventRefreshExposed EventKind = "refresh_token_exposed"
	EventLogout         EventKind = "logout"
	EventLogoutAll      EventKind = "logout_all"
	EventSessionRevoked EventKind = "session_revoked"
	// EventPasswordHashUpgraded is a stored hash replaced at login by one
	// with the current algorithm and cost.
	EventPasswordHashUpgraded EventKind = "password_hash_upgraded"
	// EventKeyLoaded is a signing or verification key in use at start-up:
	// its kid and algorithm, never its material.
	EventKeyLoaded EventKind = "key_loaded"

	// Accounts. Detail says who acted where it is not the user: "admin" for
	// the users commands.

	// EventAccountCreated is a new account: detail "signup" or "admin".
	EventAccountCreated EventKind = "account_created"
	// EventEmailVerified is a sign-up's address verified by its link.
	EventEmailVerified EventKind = "email_verified"
	// EventPasswordChanged is a password changed by its user ("change"),
	// reset by mail ("reset") or set by an administrator ("admin").
	EventPasswordChanged EventKind = "password_changed"
	// EventPasswordChangeFailed is a password change refused because the
	// current password was wrong: a guess, like a failed login.
	EventPasswordChangeFailed EventKind = "password_change_failed"
	EventUserDeactivated      EventKind = "user_deactivated"
	EventUserActivated        EventKind = "user_activated"
	// EventRoleGranted and EventRoleRevoked carry the role as detail.
	EventRoleGranted EventKind = "role_granted"
	EventRoleRevoked EventKind = "role_revoked"
	// EventSessionsRevoked is every session of a user revoked by an
	// administrator; detail counts them.
	EventSessionsRevoked EventKind = "sessions_revoked"
)

// byAdmin is the detail of events the users commands cause.
const byAdmin = "admin"

// recordIn writes an event in tx: the change and its record stand or fall
// together.
func (s *Service) recordIn(ctx context.Context, tx Tx, kind EventKind, userID int64, detail string) error {
	if err := tx.RecordEvent(ctx, s.event(ctx, kind, userID, "", detail)); err != nil {
		return fmt.Errorf("auth: record %s: %w", kind, err)
	}
	return nil
}

// event returns an event of kind, now, caused by the client in ctx.
func (s *Service) event(ctx context.Context, kind EventKind, userID int64, sessionID, detail string) SecurityEvent {
	return SecurityEvent{At: s.now(), Kind: kind, UserID: userID, SessionID: sessionID, Client: ClientOf(ctx), Detail: detail}
}

// maxEvents bounds what one SecurityEvents call returns.
const maxEvents = 10000

// SecurityEvents reads the audit trail: the events q selects, newest first.
func (s *Service) SecurityEvents(ctx context.Context, q EventQuery) ([]SecurityEvent, error) {
	if q.Limit <= 0 || q.Limit > maxEvents {
		q.Limit = maxEvents
	}
	events, err := s.store.SecurityEvents(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("auth: read security events: %w", err)
	}
	return events, nil
}

// RecordKeysLoaded writes a key_loaded event for every key the service
// signs or verifies with, at start-up: which keys each replica used, and
// when, is part of the trail.
func (s *Service) RecordKeysLoaded(ctx context.Context) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		for _, k := range s.keys.Loaded() {
			use := "verify only"
			if k.Signing {
				use = "signing"
			}
			detail := fmt.Sprintf("kid=%s alg=%s use=%s", k.Kid, k.Alg, use)
			if err := tx.RecordEvent(ctx, s.event(ctx, EventKeyLoaded, 0, "", detail)); err != nil {
				return fmt.Errorf("auth: record key loaded: %w", err)
			}
		}
		return nil
	})
}

// deleteOldEvents deletes one batch of events older than the retention.
func (s *Service) deleteOldEvents(ctx context.Context, now time.Time, batch int) (int64, error) {
	if s.params.AuditRetention <= 0 {
		return 0, nil
	}
	return s.store.DeleteEventsBefore(ctx, now.Add(-s.params.AuditRetention), batch)
}
