package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
)

// The property of issue 9: a thief holds a copy of the victim's refresh
// token, taken at any point, and may call verify, refresh, logout and me (and
// the other bearer endpoints) in any order and at any rate. Within one
// rotation of the victim after the thief first uses the token, either the
// session is revoked (the victim's next refresh answers 401 token_reused) or
// the thief holds no working token; an event is recorded either way. These
// tests play it through the whole HTTP router, on both stores, with the
// default grace interval.

const (
	victimUA = "VictimBrowser/1.0"
	thiefUA  = "ThiefScript/6.6"
)

// postAs sends a JSON body as the given User-Agent.
func (e *apiEnv) postAs(ua, path string, body map[string]string) response {
	e.t.Helper()
	return e.request(http.MethodPost, path, "application/json", jsonBody(body), map[string]string{"User-Agent": ua})
}

// sessionEvents returns the events of a session, oldest first.
func (e *apiEnv) sessionEvents(sid string) []auth.SecurityEvent {
	e.t.Helper()
	all, err := e.svc.SecurityEvents(context.Background(), auth.EventQuery{})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []auth.SecurityEvent
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].SessionID == sid {
			out = append(out, all[i])
		}
	}
	return out
}

// detected reports whether the session's events include one that a theft
// or its end leaves: a grace replay, a reuse, a logout or a revocation.
func detected(events []auth.SecurityEvent) bool {
	for _, ev := range events {
		switch ev.Kind {
		case auth.EventGraceReplay, auth.EventRefreshReuse, auth.EventLogout, auth.EventLogoutAll, auth.EventSessionRevoked:
			return true
		}
	}
	return false
}

// theft is one randomised scenario.
type theft struct {
	t   *testing.T
	e   *apiEnv
	rng *rand.Rand
	log []string // what happened, for a failure message

	victim        pair
	victimHistory []string // every refresh token the victim has held
	sid           string

	stolen       bool
	thiefRefresh []string
	thiefAccess  []string
	thiefUsed    bool
}

func (s *theft) note(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf("%s  ", s.e.clock.Now().Format("15:04:05"))+fmt.Sprintf(format, args...))
}

func (s *theft) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf(format+"\nscenario:\n  %s", append(args, joinLines(s.log))...)
}

func joinLines(lines []string) string {
	out := ""
	for i, l := range lines {
		if i > 0 {
			out += "\n  "
		}
		out += l
	}
	return out
}

// pause lets time pass: not at all, within the grace interval, or beyond it.
func (s *theft) pause() {
	switch s.rng.IntN(3) {
	case 0:
	case 1:
		s.e.clock.Advance(time.Duration(1+s.rng.IntN(9)) * time.Second)
	default:
		s.e.clock.Advance(time.Duration(15+s.rng.IntN(240)) * time.Second)
	}
}

// victimRefresh refreshes as the victim does, with its newest token. It
// reports whether it got a pair, and fails the test on an answer the rules
// never give.
func (s *theft) victimRefresh() bool {
	s.t.Helper()
	r := s.e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": s.victim.Refresh})
	if r.status == http.StatusOK {
		s.victim = decodePair(s.t, r)
		s.victimHistory = append(s.victimHistory, s.victim.Refresh)
		s.note("victim refreshes: 200")
		return true
	}
	code := r.errorBody(s.t).Code
	s.note("victim refreshes: %d %s", r.status, code)
	if !s.thiefUsed {
		s.fail("the victim's refresh failed (%d %s) before the thief did anything", r.status, code)
	}
	if r.status != http.StatusUnauthorized || code != "token_reused" && code != "token_not_valid" {
		s.fail("the victim's refresh answered %d %s", r.status, code)
	}
	return false
}

// thiefAct makes one random call with one of the thief's tokens.
func (s *theft) thiefAct() {
	s.t.Helper()
	tokens := append(slices.Clone(s.thiefRefresh), s.thiefAccess...)
	refresh := s.thiefRefresh[s.rng.IntN(len(s.thiefRefresh))]
	s.thiefUsed = true
	switch s.rng.IntN(7) {
	case 0, 1, 2: // refresh, the call that yields tokens, most often
		r := s.e.postAs(thiefUA, "/auth/token/refresh/", map[string]string{"refresh": refresh})
		s.note("thief refreshes token #%d: %d", slices.Index(s.thiefRefresh, refresh), r.status)
		if r.status == http.StatusOK {
			p := decodePair(s.t, r)
			s.thiefRefresh = append(s.thiefRefresh, p.Refresh)
			s.thiefAccess = append(s.thiefAccess, p.Access)
		}
	case 3:
		tok := tokens[s.rng.IntN(len(tokens))]
		r := s.e.postAs(thiefUA, "/auth/token/verify/", map[string]string{"token": tok})
		s.note("thief verifies a token: %d", r.status)
	case 4:
		tok := tokens[s.rng.IntN(len(tokens))]
		r := s.e.request(http.MethodGet, "/auth/me/", "", "", map[string]string{"Authorization": "Bearer " + tok, "User-Agent": thiefUA})
		s.note("thief calls /auth/me/: %d", r.status)
	case 5:
		if s.rng.IntN(4) > 0 { // rarely: it ends the session for everyone
			return
		}
		r := s.e.postAs(thiefUA, "/auth/logout/", map[string]string{"refresh": refresh})
		s.note("thief logs out: %d", r.status)
	case 6:
		tok := tokens[s.rng.IntN(len(tokens))]
		r := s.e.request(http.MethodGet, "/auth/sessions/", "", "", map[string]string{"Authorization": "Bearer " + tok, "User-Agent": thiefUA})
		s.note("thief lists sessions: %d", r.status)
	}
}

// check is the property, at the victim's first rotation after the thief's
// first use: the thief presents every refresh token it holds, at once or
// within the grace interval, and then the victim refreshes.
func (s *theft) check() {
	s.t.Helper()
	if s.rng.IntN(2) == 0 {
		s.e.clock.Advance(time.Duration(s.rng.IntN(9)) * time.Second)
	}
	worked := 0
	for _, i := range s.rng.Perm(len(s.thiefRefresh)) {
		r := s.e.postAs(thiefUA, "/auth/token/refresh/", map[string]string{"refresh": s.thiefRefresh[i]})
		s.note("check: thief presents token #%d: %d", i, r.status)
		if r.status == http.StatusOK {
			worked++
		}
	}
	r := s.e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": s.victim.Refresh})
	code := ""
	if r.status != http.StatusOK {
		code = r.errorBody(s.t).Code
	}
	s.note("check: victim refreshes: %d %s", r.status, code)
	if worked > 0 && code != "token_reused" {
		s.fail("the thief still held %d working refresh token(s) one rotation after its first use, and the victim's next refresh answered %d %s, not 401 token_reused",
			worked, r.status, code)
	}
	if code != "" && code != "token_reused" && code != "token_not_valid" {
		s.fail("the victim's refresh answered %d %s", r.status, code)
	}
	s.checkEvents()
}

// checkEvents: something was recorded, and every grace replay names the
// client that made it.
func (s *theft) checkEvents() {
	s.t.Helper()
	events := s.e.sessionEvents(s.sid)
	if !detected(events) {
		s.fail("no security event recorded for the session: %v", events)
	}
	for _, ev := range events {
		if ev.Kind == auth.EventGraceReplay && (ev.Client.Address != "127.0.0.1" || ev.Client.UserAgent != victimUA && ev.Client.UserAgent != thiefUA || ev.Client.RequestID == "") {
			s.fail("a grace replay recorded without its client: %+v", ev)
		}
	}
}

// run plays the scenario: random steps until the property can be checked.
func (s *theft) run(email string) {
	s.t.Helper()
	s.e.createUser(email, "pw-12345")
	s.victim = decodePair(s.t, s.e.postAs(victimUA, "/auth/token/", map[string]string{"email": email, "password": "pw-12345"}))
	s.victimHistory = []string{s.victim.Refresh}
	s.sid = sidOf(s.t, s.victim)
	stealAt := s.rng.IntN(6)
	for step := 0; step < 40; step++ {
		s.pause()
		if !s.stolen && step >= stealAt {
			// A copy taken at any point: usually the current token, sometimes
			// an older one, with the access token of its pair or not.
			s.stolen = true
			copied := s.victim.Refresh
			if s.rng.IntN(4) == 0 {
				copied = s.victimHistory[s.rng.IntN(len(s.victimHistory))]
			}
			s.thiefRefresh = []string{copied}
			if copied == s.victim.Refresh && s.rng.IntN(2) == 0 {
				s.thiefAccess = []string{s.victim.Access}
			}
			s.note("thief copies the victim's token (current: %v)", copied == s.victim.Refresh)
		}
		if !s.stolen || s.rng.IntN(5) < 2 {
			usedBefore := s.thiefUsed
			if !s.victimRefresh() {
				s.checkEvents() // revoked: the first branch of the property
				return
			}
			if usedBefore {
				s.check()
				return
			}
			continue
		}
		s.thiefAct()
	}
	if !s.thiefUsed {
		s.thiefAct()
	}
	if s.victimRefresh() {
		s.check()
	} else {
		s.checkEvents()
	}
}

func TestStolenRefreshTokenCannotShadowTheSession(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		for seed := range uint64(60) {
			s := &theft{t: t, e: e, rng: rand.New(rand.NewPCG(seed, 9))}
			s.run(fmt.Sprintf("victim-%d@example.com", seed))
		}
	})
}

// The attack of the issue: the thief polls verify until it fails, then
// replays within the grace interval. Verify now counts a retired token as
// reuse: the first poll after the victim's rotation ends the session.
func TestPollingThiefIsCaughtAtOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("polled@example.com", "pw-12345")
		v := decodePair(t, e.postAs(victimUA, "/auth/token/", map[string]string{"email": "polled@example.com", "password": "pw-12345"}))
		stolen := v.Refresh
		for range 4 * 60 { // the thief polls every second for four minutes
			e.clock.Advance(time.Second)
			if r := e.postAs(thiefUA, "/auth/token/verify/", map[string]string{"token": stolen}); r.status != http.StatusOK {
				t.Fatalf("verify of the live stolen token: %d %s", r.status, r.body)
			}
		}
		// The first look is recorded, with the thief's client; the polls after it are not.
		var exposed []auth.SecurityEvent
		for _, ev := range e.sessionEvents(sidOf(t, v)) {
			if ev.Kind == auth.EventRefreshExposed {
				exposed = append(exposed, ev)
			}
		}
		if len(exposed) != 1 || exposed[0].Client.UserAgent != thiefUA || exposed[0].Detail != "presented to verify" {
			t.Errorf("exposure events %+v, want one, the thief's, at verify", exposed)
		}
		v = decodePair(t, e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": v.Refresh}))
		e.clock.Advance(time.Second)
		expectError(t, e.postAs(thiefUA, "/auth/token/verify/", map[string]string{"token": stolen}), http.StatusUnauthorized, "token_reused")
		expectError(t, e.postAs(thiefUA, "/auth/token/refresh/", map[string]string{"refresh": stolen}), http.StatusUnauthorized, "token_reused")
		expectError(t, e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": v.Refresh}), http.StatusUnauthorized, "token_reused")
		reuse := e.sessionEvents(sidOf(t, v))
		if last := reuse[len(reuse)-1]; last.Kind != auth.EventRefreshReuse || last.Client.UserAgent != thiefUA {
			t.Errorf("last event %+v, want the thief's reuse", last)
		}
	})
}

// A thief that knows the victim's schedule replays right after each of the
// victim's rotations. The first replay gets the victim's pair (and is
// recorded); at the victim's next rotation the thief holds nothing that
// works, and its next replay ends the session.
func TestScheduledReplayGetsOnePairAtMost(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("scheduled@example.com", "pw-12345")
		v := decodePair(t, e.postAs(victimUA, "/auth/token/", map[string]string{"email": "scheduled@example.com", "password": "pw-12345"}))
		sid := sidOf(t, v)
		copied := v.Refresh

		e.clock.Advance(4 * time.Minute)
		v = decodePair(t, e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": v.Refresh}))
		e.clock.Advance(time.Second)
		got := decodePair(t, e.postAs(thiefUA, "/auth/token/refresh/", map[string]string{"refresh": copied}))
		if got != v {
			t.Fatal("a grace replay returned another pair than the victim's")
		}
		if ev := e.sessionEvents(sid); ev[len(ev)-1].Kind != auth.EventGraceReplay || ev[len(ev)-1].Client.UserAgent != thiefUA ||
			ev[len(ev)-1].Client.Address != "127.0.0.1" {
			t.Errorf("the replay was not recorded with the thief's client: %+v", ev[len(ev)-1])
		}

		e.clock.Advance(4 * time.Minute)
		v = decodePair(t, e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": v.Refresh}))
		e.clock.Advance(time.Second)
		expectError(t, e.postAs(thiefUA, "/auth/token/refresh/", map[string]string{"refresh": got.Refresh}), http.StatusUnauthorized, "token_reused")
		expectError(t, e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": v.Refresh}), http.StatusUnauthorized, "token_reused")
	})
}

// A thief that logs out with a token the victim has rotated beyond the grace
// interval ends the session as reuse, not as a logout: the victim's next
// refresh says token_reused, and the event names the thief. Within the grace
// interval, a retired token is a tab racing its own refresh and logs out.
func TestLogoutWithRetiredTokenIsReuse(t *testing.T) {
	eachStore(t, func(t *testing.T, e *apiEnv) {
		e.createUser("loggedout@example.com", "pw-12345")
		login := map[string]string{"email": "loggedout@example.com", "password": "pw-12345"}
		v := decodePair(t, e.postAs(victimUA, "/auth/token/", login))
		stolen := v.Refresh
		v = decodePair(t, e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": v.Refresh}))
		e.clock.Advance(11 * time.Second)
		if r := e.postAs(thiefUA, "/auth/logout/", map[string]string{"refresh": stolen}); r.status != http.StatusNoContent {
			t.Fatalf("logout with the retired token: %d %s", r.status, r.body)
		}
		expectError(t, e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": v.Refresh}), http.StatusUnauthorized, "token_reused")
		ev := e.sessionEvents(sidOf(t, v))
		if last := ev[len(ev)-1]; last.Kind != auth.EventRefreshReuse || last.Client.UserAgent != thiefUA {
			t.Errorf("last event %+v, want the thief's reuse", last)
		}

		// A tab that lost the race logs out with the token just retired.
		tab := decodePair(t, e.postAs(victimUA, "/auth/token/", login))
		e.postAs(victimUA, "/auth/token/refresh/", map[string]string{"refresh": tab.Refresh})
		e.clock.Advance(time.Second)
		if r := e.postAs(victimUA, "/auth/logout/", map[string]string{"refresh": tab.Refresh}); r.status != http.StatusNoContent {
			t.Fatalf("logout within the grace interval: %d %s", r.status, r.body)
		}
		if ev := e.sessionEvents(sidOf(t, tab)); ev[len(ev)-1].Kind != auth.EventLogout {
			t.Errorf("last event %+v, want a logout", ev[len(ev)-1])
		}
	})
}
