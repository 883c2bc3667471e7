// Package logging builds the service's logger: JSON lines on one writer
// (stdout for the server), and on every line logged with a request's
// context, that request's id and trace id, so that the lines of one request
// join up whichever package wrote them.
package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/ecommerce/auth-service/internal/auth"
)

// New returns a JSON logger writing to w at level.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(requestHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})})
}

// requestHandler adds request_id and trace_id, from the auth.Client in the
// context, to every record.
type requestHandler struct{ slog.Handler }

func (h requestHandler) Handle(ctx context.Context, r slog.Record) error {
	c := auth.ClientOf(ctx)
	if c.RequestID != "" || c.TraceID != "" {
		r = r.Clone() // the record's attributes may be shared with other handlers
		if c.RequestID != "" {
			r.AddAttrs(slog.String("request_id", c.RequestID))
		}
		if c.TraceID != "" {
			r.AddAttrs(slog.String("trace_id", c.TraceID))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestHandler) WithGroup(name string) slog.Handler {
	return requestHandler{h.Handler.WithGroup(name)}
}
