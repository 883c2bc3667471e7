package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"
)

// The events the service sends to the Notification service. Each is written
// to the outbox in the transaction of the change it reports, so that an event
// goes out if and only if its change happened, and the dispatcher
// (dispatch.go) delivers it at least once. The JSON shape is the WebhookEvent
// schema of api/openapi.yaml.
const (
	// NotifyEmailVerification asks to mail a sign-up its verification link.
	NotifyEmailVerification = "email_verification"
	// NotifyAccountExists tells the owner of an address that someone tried to
	// sign up with it again.
	NotifyAccountExists = "account_exists"
	// NotifyPasswordReset asks to mail a password-reset link.
	NotifyPasswordReset = "password_reset"
	// NotifyPasswordResetUnavailable reports a reset requested for an address
	// with no account that can reset (unknown or deactivated). It keeps both
	// answers of the request doing the same work; the Notification service may
	// drop it, or tell the address that it has no account.
	NotifyPasswordResetUnavailable = "password_reset_unavailable"
	// NotifyPasswordChanged tells the owner that their password was changed,
	// reset, or set by an administrator.
	NotifyPasswordChanged = "password_changed"
)

// How a password came to change (EventData.Reason of password_changed).
const (
	ChangedByUser  = "change"
	ChangedByReset = "reset"
	ChangedByAdmin = "admin"
)

// Event is one event as delivered: the body of the webhook POST.
type Event struct {
	// ID is unique per event; it is also the Idempotency-Key and webhook-id
	// of every delivery attempt, so that receivers can drop repeats.
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      EventData `json:"data"`
}

// EventData is what an event says; which fields are set depends on its type.
type EventData struct {
	// Email is the address to write to, as the account has it (or as typed,
	// for an address with no account).
	Email  string `json:"email"`
	UserID int64  `json:"user_id,omitempty"`
	// Token is the one-time token of email_verification and password_reset,
	// for the link; it is valid until ExpiresAt.
	Token     string     `json:"token,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Reason is how the password changed (password_changed): ChangedByUser,
	// ChangedByReset or ChangedByAdmin.
	Reason string `json:"reason,omitempty"`
	// RequestID is the id of the request that caused the event, if any.
	RequestID string `json:"request_id,omitempty"`
	// TraceID is the W3C trace id of that request, if the gateway sent one:
	// deliveries carry it on, in a traceparent header.
	TraceID string `json:"trace_id,omitempty"`
}

// enqueue writes an event of type typ to the outbox inside tx, due at once.
func (s *Service) enqueue(ctx context.Context, tx Tx, typ string, data EventData, now time.Time) error {
	data.RequestID, data.TraceID = ClientOf(ctx).RequestID, ClientOf(ctx).TraceID
	ev := Event{ID: "evt_" + rand.Text(), Type: typ, CreatedAt: now, Data: data}
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("auth: encode %s event: %w", typ, err)
	}
	err = tx.InsertOutboxEvent(ctx, OutboxEvent{ID: ev.ID, Type: typ, Payload: payload, CreatedAt: now, NextAttemptAt: now})
	if err != nil {
		return fmt.Errorf("auth: queue %s event: %w", typ, err)
	}
	return nil
}

// eventsCommitted wakes this process's dispatcher after a transaction that
// queued events has committed. It never blocks: one pending wake-up is enough.
func (s *Service) eventsCommitted() {
	select {
	case s.eventsQueued <- struct{}{}:
	default:
	}
}
