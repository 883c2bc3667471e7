package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/ecommerce/auth-service/gen/oapiclient"
	"github.com/ecommerce/auth-service/internal/pgtest"
)

// Two replica processes on one PostgreSQL count login failures together,
// even when they all arrive at once: of 30 concurrent wrong logins for one
// account, spread over both, exactly AUTH_LOGIN_MAX_FAILURES are checked
// (401) and the rest are throttled (429 with Retry-After), the right
// password included.
func TestLoginThrottleAcrossProcesses(t *testing.T) {
	db := pgtest.NewDatabase(t)
	createUser(t, db, "victim@example.com", "victim-password-1")
	// A generous hash wait: on a busy machine the replicas would otherwise
	// shed some of the burst with 503 overloaded, which is not what this
	// test is about.
	patient := []string{"AUTH_HASH_MAX_WAIT=60s"}
	a := startReplica(t, db, patient)
	b := startReplica(t, db, patient)
	replicas := []*replica{a, b}
	hc := newHTTPClient(t)
	clients := []*oapiclient.ClientWithResponses{newAPIClient(t, a.url(), hc), newAPIClient(t, b.url(), hc)}
	wrong := oapiclient.LoginRequest{Email: "victim@example.com", Password: "wrong"}

	const n = 30
	type outcome struct {
		replica    *replica
		status     int
		code       string
		retryAfter string
		err        error
	}
	out := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k := i % 2
			<-start
			resp, err := clients[k].ObtainTokenWithResponse(context.Background(), nil, wrong)
			o := outcome{replica: replicas[k], err: err}
			if err == nil {
				o.status, o.code, o.retryAfter = resp.StatusCode(), errorCode(resp.Body), resp.HTTPResponse.Header.Get("Retry-After")
			}
			out[i] = o
		})
	}
	close(start)
	wg.Wait()

	counts := map[string]int{}
	for _, o := range out {
		switch {
		case o.err != nil:
			t.Errorf("%v: %v", o.replica, o.err)
		case o.status == http.StatusTooManyRequests && (o.code != "throttled" || o.retryAfter == ""):
			t.Errorf("%v: 429 %s Retry-After %q", o.replica, o.code, o.retryAfter)
		}
		counts[fmt.Sprintf("%s %d %s", o.replica.name, o.status, o.code)]++
	}
	t.Logf("30 concurrent wrong logins over two processes: %v", counts)
	rejected := counts[a.name+" 401 no_active_account"] + counts[b.name+" 401 no_active_account"]
	throttled := counts[a.name+" 429 throttled"] + counts[b.name+" 429 throttled"]
	if rejected != 5 || throttled != n-5 {
		t.Errorf("%d rejected (401), %d throttled (429); want 5 and %d: the processes did not count together", rejected, throttled, n-5)
	}

	// The right password is throttled too, on either process.
	for _, c := range clients {
		resp, err := c.ObtainTokenWithResponse(context.Background(), nil, oapiclient.LoginRequest{Email: "victim@example.com", Password: "victim-password-1"})
		if err != nil || resp.StatusCode() != http.StatusTooManyRequests {
			t.Errorf("right password while throttled: %v %s", err, statusOf(resp))
		}
	}
}
