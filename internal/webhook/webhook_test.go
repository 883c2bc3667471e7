package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/webhook"
)

var key = []byte("a-webhook-key-of-at-least-32-bytes!!")

func TestSendSignsAndVerifies(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, body = r, must(io.ReadAll(r.Body))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ev := auth.OutboxEvent{ID: "evt_1", Type: "account_exists", Payload: []byte(`{"id":"evt_1"}`)}
	if err := webhook.New(srv.URL, key).Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if got.Header.Get("Idempotency-Key") != "evt_1" || got.Header.Get("webhook-id") != "evt_1" ||
		got.Header.Get("Content-Type") != "application/json" || !bytes.Equal(body, ev.Payload) {
		t.Fatalf("delivery headers %v, body %s", got.Header, body)
	}
	if err := webhook.Verify(key, got.Header, body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("Verify of a delivery: %v", err)
	}
	// The signature covers id, timestamp and body, under the key.
	tampered := got.Header.Clone()
	tampered.Set("webhook-id", "evt_2")
	for name, c := range map[string]struct {
		key  []byte
		h    http.Header
		body []byte
		now  time.Time
	}{
		"other key":  {[]byte("another-key-of-at-least-32-bytes-long"), got.Header, body, time.Now()},
		"other id":   {key, tampered, body, time.Now()},
		"other body": {key, got.Header, []byte(`{"id":"evt_2"}`), time.Now()},
		"too old":    {key, got.Header, body, time.Now().Add(10 * time.Minute)},
	} {
		if err := webhook.Verify(c.key, c.h, c.body, c.now, 5*time.Minute); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	ts, _ := strconv.ParseInt(got.Header.Get("webhook-timestamp"), 10, 64)
	if want := webhook.Sign(key, "evt_1", ts, body); got.Header.Get("webhook-signature") != want || !strings.HasPrefix(want, "v1,") {
		t.Errorf("signature %q, want %q", got.Header.Get("webhook-signature"), want)
	}
}

func TestSendFailsUnlessTwoHundred(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusBadRequest, http.StatusFound} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status == http.StatusFound {
				http.Redirect(w, r, "/elsewhere", status)
				return
			}
			w.WriteHeader(status)
		}))
		err := webhook.New(srv.URL, key).Send(context.Background(), auth.OutboxEvent{ID: "evt", Payload: []byte("{}")})
		srv.Close()
		if err == nil {
			t.Errorf("status %d counted as delivered", status)
		}
	}
	if err := webhook.New("http://127.0.0.1:1/", key).Send(context.Background(), auth.OutboxEvent{ID: "evt", Payload: []byte("{}")}); err == nil {
		t.Error("a refused connection counted as delivered")
	}
}

func TestLogSenderRedactsTokens(t *testing.T) {
	payload, _ := json.Marshal(auth.Event{ID: "evt_9", Type: auth.NotifyPasswordReset, Data: auth.EventData{Email: "a@example.com", Token: "SECRET-TOKEN"}})
	for _, show := range []bool{false, true} {
		var buf bytes.Buffer
		s := webhook.NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)), show)
		if err := s.Send(context.Background(), auth.OutboxEvent{ID: "evt_9", Payload: payload}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "SECRET-TOKEN") != show || !strings.Contains(buf.String(), "evt_9") {
			t.Errorf("showTokens %t: log %s", show, buf.String())
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// An event caused by a traced request carries the trace on to the
// Notification service, in a span of its own; one without a trace carries
// none.
func TestSendPassesTheTraceOn(t *testing.T) {
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Traceparent"))
	}))
	defer srv.Close()
	s := webhook.New(srv.URL, key)
	for _, payload := range []string{`{"id":"evt_1","data":{"trace_id":"` + trace + `"}}`, `{"id":"evt_2","data":{}}`} {
		if err := s.Send(context.Background(), auth.OutboxEvent{ID: "evt", Type: "password_reset", Payload: []byte(payload)}); err != nil {
			t.Fatal(err)
		}
	}
	parts := strings.Split(got[0], "-")
	if len(parts) != 4 || parts[0] != "00" || parts[1] != trace || len(parts[2]) != 16 || parts[3] != "01" {
		t.Errorf("traceparent %q, want 00-%s-<span>-01", got[0], trace)
	}
	if got[1] != "" {
		t.Errorf("an untraced event sent traceparent %q", got[1])
	}
}
