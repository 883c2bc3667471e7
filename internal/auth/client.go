package auth

import "context"

// Client is who is calling, as far as the service can tell: what the rules
// that depend on the caller (throttling, the audit trail) and the logs need.
// The HTTP layer puts it in the request's context (WithClient); commands
// leave it empty.
type Client struct {
	// Address is the client's IP address: the TCP peer, or the address a
	// trusted proxy reports.
	Address   string
	UserAgent string
	// RequestID is the request's id (X-Request-ID), to join logs and events.
	RequestID string
	// TraceID is the W3C trace id of the gateway's traceparent header, if
	// any, to join the service's logs to a distributed trace.
	TraceID string
}

type clientKey struct{}

// WithClient returns ctx carrying c.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientOf returns the Client ctx carries, or the zero Client.
func ClientOf(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}
