package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/passwordpolicy"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/storetest"
	"github.com/ecommerce/auth-service/internal/webhook"
)

// fast retries, so that the tests take seconds.
var fast = auth.DispatchParams{Batch: 5, Lease: 10 * time.Second, Poll: 20 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}

// receiver is a Notification service: it verifies each delivery, records
// every attempt, de-duplicates by Idempotency-Key, and notes any event that
// arrives while another delivery of it is still in progress.
type receiver struct {
	mu         sync.Mutex
	down       bool              // answer 503 to everything
	failFirst  bool              // answer 500 to the first attempt of each event, after recording it
	attempts   map[string]int    // every attempt, by event id
	delivered  map[string][]byte // the de-duplicated events
	inFlight   map[string]bool
	concurrent []string // ids delivered twice at the same time
	badSig     int
}

func newReceiver() *receiver {
	return &receiver{attempts: map[string]int{}, delivered: map[string][]byte{}, inFlight: map[string]bool{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get("Idempotency-Key")
	rc.mu.Lock()
	if webhook.Verify(key, r.Header, body, time.Now(), time.Minute) != nil {
		rc.badSig++
	}
	if rc.down {
		rc.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if rc.inFlight[id] {
		rc.concurrent = append(rc.concurrent, id)
	}
	rc.inFlight[id] = true
	rc.attempts[id]++
	first := rc.attempts[id] == 1
	rc.mu.Unlock()

	time.Sleep(2 * time.Millisecond) // a delivery takes a moment, so overlaps would show

	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.inFlight[id] = false
	if rc.failFirst && first {
		w.WriteHeader(http.StatusInternalServerError) // received, but the sender must retry
		return
	}
	rc.delivered[id] = body
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) setDown(down bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.down = down
}

func (rc *receiver) deliveredCount() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.delivered)
}

func newService(t *testing.T, st store.DB) *auth.Service {
	t.Helper()
	h, err := password.New(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	params := auth.Params{SignupOpen: true, EmailTokenTTL: time.Hour, Policy: passwordpolicy.Policy{MinLength: 12}}
	return auth.New(st, nil, h, time.Now, params, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// queue makes n events: password resets requested for unknown addresses.
func queue(t *testing.T, svc *auth.Service, n int) {
	t.Helper()
	for i := range n {
		if err := svc.RequestPasswordReset(t.Context(), fmt.Sprintf("nobody-%d@example.com", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A receiver that is down for a while, then answers, gets every event: each
// at least once, and, de-duplicated by id, each exactly once.
// acked counts the deliveries whose 2xx the dispatcher has read: the
// receiver counts a delivery before its answer is back, and a dispatcher
// stopped in between retries the event later, as it must.
type acked struct {
	auth.EventSender
	n atomic.Int64
}

func (a *acked) Send(ctx context.Context, e auth.OutboxEvent) error {
	err := a.EventSender.Send(ctx, e)
	if err == nil {
		a.n.Add(1)
	}
	return err
}

func TestDispatchSurvivesADownReceiver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st store.DB) {
		rc := newReceiver()
		rc.down, rc.failFirst = true, true
		srv := httptest.NewServer(rc)
		defer srv.Close()
		svc := newService(t, st)
		const n = 12
		queue(t, svc, n)

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		sender := &acked{EventSender: webhook.New(srv.URL, key)}
		go func() { svc.DispatchEvents(ctx, sender, fast); close(done) }()
		time.Sleep(300 * time.Millisecond) // several failed rounds
		if got := rc.deliveredCount(); got != 0 {
			t.Fatalf("%d events delivered while the receiver was down", got)
		}
		rc.setDown(false)
		queue(t, svc, 3) // more while it runs: the wake-up path
		waitFor(t, "every event", 20*time.Second, func() bool { return rc.deliveredCount() == n+3 })
		waitFor(t, "every delivery acknowledged", 20*time.Second, func() bool { return sender.n.Load() >= n+3 })
		cancel()
		<-done

		rc.mu.Lock()
		defer rc.mu.Unlock()
		for id, body := range rc.delivered {
			var ev auth.Event
			if err := json.Unmarshal(body, &ev); err != nil || ev.ID != id || ev.Type != auth.NotifyPasswordResetUnavailable {
				t.Errorf("delivered %s: %s (%v)", id, body, err)
			}
			if rc.attempts[id] < 2 {
				t.Errorf("event %s arrived %d times; the receiver failed its first attempt", id, rc.attempts[id])
			}
		}
		if rc.badSig > 0 {
			t.Errorf("%d deliveries with a bad signature", rc.badSig)
		}
		// Delivered events leave the outbox.
		later := time.Now().Add(time.Hour)
		if left, err := st.ClaimOutboxEvents(context.Background(), later, later, 100); err != nil || len(left) != 0 {
			t.Errorf("outbox after delivery: %d events, %v", len(left), err)
		}
	})
}

// Two replicas, each with its dispatcher, on one database: every event is
// delivered, and no event is ever delivered by both at the same time.
func TestDispatchAcrossTwoReplicas(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			url := storetest.URL(t, kind)
			a, b := newService(t, storetest.OpenURL(t, url)), newService(t, storetest.OpenURL(t, url))
			rc := newReceiver()
			rc.failFirst = true // every event is tried at least twice
			srv := httptest.NewServer(rc)
			defer srv.Close()
			const n = 40
			queue(t, a, n/2)
			queue(t, b, n/2)

			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for _, svc := range []*auth.Service{a, b} {
				wg.Go(func() { svc.DispatchEvents(ctx, webhook.New(srv.URL, key), fast) })
			}
			waitFor(t, "every event", 30*time.Second, func() bool { return rc.deliveredCount() == n })
			cancel()
			wg.Wait()
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if len(rc.concurrent) > 0 {
				t.Errorf("events delivered twice at the same time: %v", rc.concurrent)
			}
			total := 0
			for _, c := range rc.attempts {
				total += c
			}
			t.Logf("%d events, %d attempts, no concurrent duplicates", len(rc.delivered), total)
		})
	}
}
