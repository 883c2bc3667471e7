package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/ecommerce/auth-service/gen/oapiclient"
	"github.com/ecommerce/auth-service/internal/pgtest"
)

// concurrentRefreshes is how many refreshes of one token race each other.
const concurrentRefreshes = 50

// refreshOutcome is what one of the racing refreshes got.
type refreshOutcome struct {
	replica *replica
	status  int
	code    string // the Error code of a non-200
	pair    *oapiclient.TokenPair
	err     error
}

// raceRefreshes logs in on the first replica, then fires n concurrent
// refreshes of that one refresh token, alternating between the replicas, all
// released at once. It returns the login pair and every outcome.
func raceRefreshes(t *testing.T, n int, replicas ...*replica) (oapiclient.TokenPair, []refreshOutcome) {
	t.Helper()
	hc := newHTTPClient(t)
	email, password := "race@example.com", "race-password-1"
	login, err := newAPIClient(t, replicas[0].url(), hc).ObtainTokenWithResponse(context.Background(),
		nil, oapiclient.LoginRequest{Email: email, Password: password})
	if err != nil || pairOf(login.JSON200) == nil {
		t.Fatalf("login on %s: %v %s %s", replicas[0], err, statusOf(login), bodyOf(login))
	}
	pair := *pairOf(login.JSON200)

	clients := make([]*oapiclient.ClientWithResponses, len(replicas))
	for i, r := range replicas {
		clients[i] = newAPIClient(t, r.url(), hc)
	}
	out := make([]refreshOutcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i % len(replicas)
			o := refreshOutcome{replica: replicas[k]}
			<-start
			resp, err := clients[k].RefreshTokenWithResponse(context.Background(),
				nil, oapiclient.RefreshRequest{Refresh: pair.Refresh})
			if err != nil {
				o.err = err
			} else {
				o.status, o.pair = resp.StatusCode(), pairOf(resp.JSON200)
				if o.status != http.StatusOK {
					o.code = errorCode(resp.Body)
				}
			}
			out[i] = o
		}()
	}
	close(start)
	wg.Wait()
	return pair, out
}

// tally counts outcomes by status and Error code, for the log.
func tally(outs []refreshOutcome) map[string]int {
	m := map[string]int{}
	for _, o := range outs {
		switch {
		case o.err != nil:
			m["transport error"]++
		case o.status == http.StatusOK:
			m["200"]++
		default:
			m[http.StatusText(o.status)+" "+o.code]++
		}
	}
	return m
}

// TestConcurrentRefreshAcrossProcesses: 50 concurrent refreshes of one token
// against two processes sharing a PostgreSQL database never yield two
// independent live sessions.
func TestConcurrentRefreshAcrossProcesses(t *testing.T) {
	t.Run("grace", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		createUser(t, db, "race@example.com", "race-password-1")
		a := startReplica(t, db, nil) // default reuse interval: 10s
		b := startReplica(t, db, nil)

		login, outs := raceRefreshes(t, concurrentRefreshes, a, b)
		t.Logf("grace interval 10s, %d concurrent refreshes over %s and %s: %v", len(outs), a, b, tally(outs))
		want := sid(t, login.Refresh)
		if want == "" {
			t.Fatal("the login's refresh token has no sid claim")
		}
		var winners []refreshOutcome
		for i, o := range outs {
			switch {
			case o.err != nil:
				t.Errorf("refresh %d on %s: %v", i, o.replica, o.err)
			case o.status == http.StatusOK:
				if o.pair == nil {
					t.Errorf("refresh %d on %s: 200 without a token pair", i, o.replica)
					continue
				}
				if got := sid(t, o.pair.Access); got != want {
					t.Errorf("refresh %d on %s: access token of session %q, want the login's %q", i, o.replica, got, want)
				}
				if got := sid(t, o.pair.Refresh); got != want {
					t.Errorf("refresh %d on %s: refresh token of session %q, want the login's %q", i, o.replica, got, want)
				}
				winners = append(winners, o)
			case o.status != http.StatusUnauthorized:
				t.Errorf("refresh %d on %s: status %d (%s), want 200 or 401", i, o.replica, o.status, o.code)
			}
		}
		if len(winners) == 0 {
			t.Fatal("no refresh succeeded")
		}

		// Every refreshed access token works on both replicas.
		hc := newHTTPClient(t)
		var meOK int
		for _, w := range winners {
			for _, r := range []*replica{a, b} {
				me, err := newAPIClient(t, r.url(), hc).GetMeWithResponse(context.Background(), withBearer(w.pair.Access))
				if err != nil || me.JSON200 == nil {
					t.Errorf("GET /auth/me/ on %s with a refreshed access token: %v %s %s", r, err, statusOf(me), bodyOf(me))
					continue
				}
				meOK++
			}
		}
		// And a refreshed refresh token, issued by one replica, rotates on the other.
		w := winners[0]
		other := a
		if w.replica == a {
			other = b
		}
		next, err := newAPIClient(t, other.url(), hc).RefreshTokenWithResponse(context.Background(),
			nil, oapiclient.RefreshRequest{Refresh: w.pair.Refresh})
		if err != nil || pairOf(next.JSON200) == nil {
			t.Fatalf("refresh on %s of a token issued by %s: %v %s %s", other, w.replica, err, statusOf(next), bodyOf(next))
		}
		if got := sid(t, pairOf(next.JSON200).Refresh); got != want {
			t.Errorf("second-generation refresh: session %q, want %q", got, want)
		}
		t.Logf("grace: all %d successes carry sid %s; GET /auth/me/ answered 200 %d/%d times across both replicas; "+
			"a refreshed token issued by %s rotated on %s", len(winners), want, meOK, 2*len(winners), w.replica, other)
	})

	t.Run("strict", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewDatabase(t)
		createUser(t, db, "race@example.com", "race-password-1")
		strict := []string{"AUTH_REFRESH_REUSE_INTERVAL=0s"}
		a := startReplica(t, db, strict)
		b := startReplica(t, db, strict)

		_, outs := raceRefreshes(t, concurrentRefreshes, a, b)
		t.Logf("strict (reuse interval 0s), %d concurrent refreshes over %s and %s: %v", len(outs), a, b, tally(outs))
		var winners []refreshOutcome
		for i, o := range outs {
			switch {
			case o.err != nil:
				t.Errorf("refresh %d on %s: %v", i, o.replica, o.err)
			case o.status == http.StatusOK:
				winners = append(winners, o)
			case o.status != http.StatusUnauthorized || o.code != "token_reused":
				t.Errorf("refresh %d on %s: status %d code %q, want 401 token_reused", i, o.replica, o.status, o.code)
			}
		}
		switch {
		case len(winners) > 1:
			t.Fatalf("%d refreshes succeeded, want at most 1", len(winners))
		case len(winners) == 0:
			t.Log("strict: no refresh succeeded (allowed: at most one may)")
			return
		}

		// The reuse revoked the session: the winner's tokens are dead everywhere.
		w := winners[0]
		if w.pair == nil {
			t.Fatal("the successful refresh returned no token pair")
		}
		hc := newHTTPClient(t)
		for _, r := range []*replica{a, b} {
			c := newAPIClient(t, r.url(), hc)
			me, err := c.GetMeWithResponse(context.Background(), withBearer(w.pair.Access))
			if err != nil || me.StatusCode() != http.StatusUnauthorized {
				t.Errorf("GET /auth/me/ on %s with the winner's access token: %v %s %s, want 401", r, err, statusOf(me), bodyOf(me))
			} else {
				t.Logf("strict: winner's access token on %s: 401 %s", r, errorCode(me.Body))
			}
			ref, err := c.RefreshTokenWithResponse(context.Background(), nil, oapiclient.RefreshRequest{Refresh: w.pair.Refresh})
			if err != nil || ref.StatusCode() != http.StatusUnauthorized {
				t.Errorf("refresh on %s with the winner's refresh token: %v %s %s, want 401", r, err, statusOf(ref), bodyOf(ref))
			} else {
				t.Logf("strict: winner's refresh token on %s: 401 %s", r, errorCode(ref.Body))
			}
		}
	})
}

// statusOf and bodyOf describe a generated-client response, a pointer that
// is nil when the request failed, for failure messages.
func statusOf[R interface {
	comparable
	Status() string
}](r R) string {
	var none R
	if r == none {
		return "(no response)"
	}
	return r.Status()
}

func bodyOf[R interface {
	comparable
	GetBody() []byte
}](r R) string {
	var none R
	if r == none {
		return ""
	}
	return truncate(r.GetBody(), 300)
}
