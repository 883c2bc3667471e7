// Package webhook delivers the service's events (auth.OutboxEvent) to the
// Notification service: as signed HTTP POSTs, the Standard Webhooks way, or,
// in development with no URL configured, as lines in the log. The dispatcher
// (auth.Service.DispatchEvents) decides when; this package only sends.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
)

// Timeout bounds one delivery attempt, connection included.
const Timeout = 10 * time.Second

// The headers of a delivery (Standard Webhooks), plus Idempotency-Key, the
// event id again, for receivers that de-duplicate by that header.
const (
	HeaderID             = "webhook-id"
	HeaderTimestamp      = "webhook-timestamp"
	HeaderSignature      = "webhook-signature"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// Sender POSTs events to one URL, signed with an HMAC-SHA256 key.
type Sender struct {
	url    string
	key    []byte
	client *http.Client
	now    func() time.Time
}

var _ auth.EventSender = (*Sender)(nil)

// New returns a Sender to url signing with key (config.Config.WebhookKey).
func New(url string, key []byte) *Sender {
	return &Sender{
		url: url, key: key, now: time.Now,
		client: &http.Client{
			Timeout: Timeout,
			// A redirect is not a delivery: retry later instead of POSTing
			// the event (and its token) wherever it points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Send POSTs the event's JSON and succeeds only on a 2xx answer.
func (s *Sender) Send(ctx context.Context, e auth.OutboxEvent) error {
	ts := s.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(e.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "auth-service-webhooks/1")
	req.Header.Set(HeaderID, e.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(s.key, e.ID, ts, e.Payload))
	req.Header.Set(HeaderIdempotencyKey, e.ID)
	if tp := traceparent(e.Payload); tp != "" {
		req.Header.Set("Traceparent", tp)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: %s answered %s", s.url, resp.Status)
	}
	return nil
}

// Sign returns the webhook-signature header of a delivery: "v1," and the
// base64 of HMAC-SHA256(key, id + "." + timestamp + "." + body).
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature is returned by Verify for a delivery that is not signed
// with the key, or whose timestamp is too far from now.
var ErrBadSignature = errors.New("webhook: bad signature")

// Verify is what a receiver written in Go does with a delivery: it checks the
// signature (any of the space-separated ones in the header) in constant time,
// and that the timestamp is within tolerance of now, which bounds replays.
func Verify(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: no timestamp", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp outside the tolerance", ErrBadSignature)
	}
	want := Sign(key, h.Get(HeaderID), ts, body)
	for _, sig := range strings.Fields(h.Get(HeaderSignature)) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return ErrBadSignature
}

// traceparent passes on the trace of the request that caused an event: a W3C
// traceparent header with the event's trace id and a span id of its own, or
// "" when the event has no trace.
func traceparent(payload []byte) string {
	var ev auth.Event
	if json.Unmarshal(payload, &ev) != nil || len(ev.Data.TraceID) != 32 {
		return ""
	}
	span := make([]byte, 8)
	rand.Read(span)
	return "00-" + ev.Data.TraceID + "-" + hex.EncodeToString(span) + "-01"
}
