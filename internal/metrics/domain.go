package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/hashlimit"
)

// The domain's outcomes (auth.Observer) and the password hashes' queue.
type domain struct {
	logins          *prometheus.CounterVec
	refreshes       *prometheus.CounterVec
	sessionsRevoked *prometheus.CounterVec
	hashWait        prometheus.Histogram
}

// counter is a counter of events by one label.
func counter(name, help, label string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{label})
}

func newDomain() domain {
	d := domain{
		logins: counter("auth_logins_total",
			"Logins by result: success, bad_credentials, throttled, overloaded, error.", "result"),
		refreshes: counter("auth_refreshes_total",
			"Refreshes by result: rotated, grace_replay, reuse_revoked, invalid, error.", "result"),
		sessionsRevoked: counter("auth_sessions_revoked_total",
			"Sessions revoked, by reason (logout, logout_all, reuse, ended, password_changed, ...).", "reason"),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "auth_password_hash_wait_seconds",
			Help:    "Time a password hash waited for its share of the hash memory budget.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2, 5},
		}),
	}
	// Every result is exported from the start, at zero: an alert on a rate
	// needs the series before its first increment.
	for _, r := range []string{auth.LoginSuccess, auth.LoginBadCredentials, auth.LoginThrottled, auth.LoginOverloaded, auth.LoginError} {
		d.logins.WithLabelValues(r)
	}
	for _, r := range []string{auth.RefreshRotated, auth.RefreshGraceReplay, auth.RefreshReuseRevoked, auth.RefreshInvalid, auth.RefreshError} {
		d.refreshes.WithLabelValues(r)
	}
	// The reasons the server revokes for; the users commands' (deactivated,
	// roles_changed, admin) run in a process of their own, which serves no
	// metrics.
	for _, r := range []string{auth.ReasonLogout, auth.ReasonLogoutAll, auth.ReasonReuse, auth.ReasonEnded, auth.ReasonPasswordChanged} {
		d.sessionsRevoked.WithLabelValues(r)
	}
	return d
}

func (d domain) collectors() []prometheus.Collector {
	return []prometheus.Collector{d.logins, d.refreshes, d.sessionsRevoked, d.hashWait}
}

var _ auth.Observer = (*Metrics)(nil)

// LoginDone counts a login by result (auth.Observer).
func (m *Metrics) LoginDone(result string) { m.domain.logins.WithLabelValues(result).Inc() }

// RefreshDone counts a refresh by result (auth.Observer).
func (m *Metrics) RefreshDone(result string) { m.domain.refreshes.WithLabelValues(result).Inc() }

// SessionsRevoked counts revoked sessions by reason (auth.Observer).
func (m *Metrics) SessionsRevoked(reason string, n int64) {
	m.domain.sessionsRevoked.WithLabelValues(reason).Add(float64(n))
}

// RegisterHashLimiter exposes the password hashes' queue: the wait of each
// hash (auth_password_hash_wait_seconds), and, read at every scrape, the
// hashes running (auth_password_hashes_in_flight) and the memory they hold
// (auth_password_hash_memory_bytes).
func (m *Metrics) RegisterHashLimiter(l *hashlimit.Limiter) {
	l.ObserveWaits(func(d time.Duration) { m.domain.hashWait.Observe(d.Seconds()) })
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "auth_password_hashes_in_flight",
			Help: "Password hashes being computed now.",
		}, func() float64 { running, _ := l.Usage(); return float64(running) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "auth_password_hash_memory_bytes",
			Help: "Memory the password hashes being computed hold, of the budget (AUTH_HASH_MEMORY_MIB).",
		}, func() float64 { _, kib := l.Usage(); return float64(kib) * 1024 }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "auth_password_hash_memory_budget_bytes",
			Help: "The password hashes' memory budget (AUTH_HASH_MEMORY_MIB).",
		}, func() float64 { return float64(l.BudgetKiB()) * 1024 }),
	)
}
