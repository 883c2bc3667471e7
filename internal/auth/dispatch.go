package auth

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"
)

// EventSender delivers one event to the Notification service (or, in
// development, to the log). A nil error means delivered; any error means
// try again later. It must give up within its own timeout.
type EventSender interface {
	Send(ctx context.Context, e OutboxEvent) error
}

// DispatchParams tune the dispatcher.
type DispatchParams struct {
	// Batch is how many events one claim takes.
	Batch int
	// Lease is how long a claim keeps its events from other replicas; it must
	// exceed Batch deliveries at the sender's timeout. A replica that dies
	// holding a lease delays those events by at most Lease.
	Lease time.Duration
	// Poll is how often the outbox is checked for events queued by other
	// replicas or due for a retry (this replica's own wake it at once).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait before a failed event is tried
	// again: it doubles with each attempt, with jitter, up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
}

// DefaultDispatchParams suit a sender with a 10-second timeout.
func DefaultDispatchParams() DispatchParams {
	return DispatchParams{Batch: 10, Lease: 2 * time.Minute, Poll: time.Second, MinBackoff: time.Second, MaxBackoff: 5 * time.Minute}
}

// DispatchEvents delivers the outbox's events through sender until ctx ends:
// one dispatcher runs in every replica, and they share the work through
// ClaimOutboxEvents' leases, so that no event is delivered by two replicas at
// once. Delivery is at least once: an event whose delivery succeeded but
// could not be deleted, or whose replica died mid-delivery, goes out again,
// with the same id. A failed event waits (backoff) and is retried until it
// is delivered.
func (s *Service) DispatchEvents(ctx context.Context, sender EventSender, p DispatchParams) {
	for ctx.Err() == nil {
		n, err := s.dispatchBatch(ctx, sender, p)
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "event dispatch failed", "error", err)
		}
		if n == p.Batch && err == nil {
			continue // more may be due
		}
		timer := time.NewTimer(p.Poll)
		select {
		case <-ctx.Done():
		case <-s.eventsQueued:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// dispatchBatch claims due events and delivers each: a delivered event is
// deleted, a failed one rescheduled. It returns how many it claimed.
func (s *Service) dispatchBatch(ctx context.Context, sender EventSender, p DispatchParams) (int, error) {
	now := s.now()
	events, err := s.store.ClaimOutboxEvents(ctx, now, now.Add(p.Lease), p.Batch)
	if err != nil {
		return 0, err
	}
	slices.SortFunc(events, func(a, b OutboxEvent) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i, ev := range events {
		if ctx.Err() != nil {
			s.releaseEvents(events[i:])
			return len(events), nil
		}
		if err := sender.Send(ctx, ev); err != nil {
			next := s.now().Add(backoff(ev.Attempts, p.MinBackoff, p.MaxBackoff))
			s.log.WarnContext(ctx, "event delivery failed; will retry", "event_id", ev.ID, "type", ev.Type,
				"attempt", ev.Attempts, "retry_at", next, "error", err)
			if err := s.store.RescheduleOutboxEvent(context.WithoutCancel(ctx), ev.ID, next, truncate(err.Error(), 500)); err != nil {
				s.log.WarnContext(ctx, "event reschedule failed; its lease will expire", "event_id", ev.ID, "error", err)
			}
			continue
		}
		if err := s.store.DeleteOutboxEvent(context.WithoutCancel(ctx), ev.ID); err != nil {
			// Delivered, but it will be delivered again once the lease ends:
			// receivers drop the repeat by its id.
			s.log.WarnContext(ctx, "delivered event not deleted; it will be sent again", "event_id", ev.ID, "error", err)
			continue
		}
		s.log.InfoContext(ctx, "event delivered", "event_id", ev.ID, "type", ev.Type, "attempt", ev.Attempts)
	}
	return len(events), nil
}

// releaseEvents gives back claimed events not yet tried, due at once, so
// that a replica shutting down does not hold them for a whole lease.
func (s *Service) releaseEvents(events []OutboxEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	now := s.now()
	for _, ev := range events {
		if err := s.store.RescheduleOutboxEvent(ctx, ev.ID, now, ev.LastError); err != nil {
			s.log.Warn("event release failed; its lease will expire", "event_id", ev.ID, "error", err)
		}
	}
}

// backoff is the wait after the attempt-th failed attempt (1 for the first):
// lo doubled per attempt, at most hi, then "equal jitter" (between half
// and all of it), so that replicas and events retrying together spread out.
func backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := hi
	if attempt < 1 {
		attempt = 1
	}
	if shift := attempt - 1; shift < 32 && lo<<shift < hi && lo<<shift > 0 {
		d = lo << shift
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
