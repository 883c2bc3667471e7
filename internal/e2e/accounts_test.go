//go:build e2e

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/webhook"
)

// webhookSecret signs the events the replicas send to the test's receiver.
const webhookSecret = "e2e-webhook-secret-0123456789-abcdefghijklmnop"

// notifications is the Notification service for the end-to-end test: it
// verifies each delivery's signature, drops repeats by event id, and keeps
// the events for the test to read the mailed tokens from.
type notifications struct {
	srv    *httptest.Server
	mu     sync.Mutex
	seen   map[string]bool
	events []mailedEvent
	bad    int
}

// mailedEvent is the part of a WebhookEvent the test reads.
type mailedEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Email string `json:"email"`
		Token string `json:"token"`
	} `json:"data"`
}

func startNotifications(t *testing.T) *notifications {
	t.Helper()
	n := &notifications{seen: map[string]bool{}}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		n.mu.Lock()
		defer n.mu.Unlock()
		if err != nil || webhook.Verify([]byte(webhookSecret), r.Header, body, time.Now(), 5*time.Minute) != nil {
			n.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev mailedEvent
		if json.Unmarshal(body, &ev) != nil || ev.ID != r.Header.Get("Idempotency-Key") {
			n.bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if !n.seen[ev.ID] {
			n.seen[ev.ID] = true
			n.events = append(n.events, ev)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(n.srv.Close)
	return n
}

// env is what a replica needs to deliver here, with sign-up open.
func (n *notifications) env() []string {
	return []string{"AUTH_SIGNUP=open", "AUTH_EVENTS_WEBHOOK_URL=" + n.srv.URL + "/events", "AUTH_EVENTS_WEBHOOK_SECRET=" + webhookSecret}
}

// token waits for the next event of type typ for email (after the first
// skip such events) and returns its token.
func (n *notifications) token(t *testing.T, typ, email string, skip int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n.mu.Lock()
		found := 0
		for _, ev := range n.events {
			if ev.Type == typ && ev.Data.Email == email {
				if found == skip {
					n.mu.Unlock()
					return ev.Data.Token
				}
				found++
			}
		}
		bad := n.bad
		n.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d deliveries failed the signature or shape checks", bad)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for %s reached the receiver within 15s", typ, email)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
