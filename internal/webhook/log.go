package webhook

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/ecommerce/auth-service/internal/auth"
)

// LogSender "delivers" events by logging them: development without a
// Notification service. The one-time token an event may carry is a
// credential (it resets a password), so it is logged only when showTokens is
// set, which serve does only in the embedded development default; otherwise
// it is replaced by "[redacted]".
type LogSender struct {
	log        *slog.Logger
	showTokens bool
}

var _ auth.EventSender = (*LogSender)(nil)

// NewLogSender returns a LogSender writing to log.
func NewLogSender(log *slog.Logger, showTokens bool) *LogSender {
	return &LogSender{log: log, showTokens: showTokens}
}

// Send logs the event and always succeeds.
func (l *LogSender) Send(ctx context.Context, e auth.OutboxEvent) error {
	var ev auth.Event
	if err := json.Unmarshal(e.Payload, &ev); err != nil {
		l.log.WarnContext(ctx, "event not logged: undecodable payload", "event_id", e.ID, "type", e.Type)
		return nil
	}
	if ev.Data.Token != "" && !l.showTokens {
		ev.Data.Token = "[redacted]"
	}
	l.log.InfoContext(ctx, "event (not delivered: AUTH_EVENTS_WEBHOOK_URL is unset)", "event", ev)
	return nil
}
