// Package metrics exposes the service's Prometheus metrics on a listener of
// their own (AUTH_METRICS_ADDR), never through the gateway: HTTP requests by
// operation, how logins and refreshes end and why sessions are revoked (as
// the domain tells, auth.Observer), the password hashes' queue, the Go
// runtime and the process, and the PostgreSQL pool.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the service's collectors, in a registry of its own (no
// global state).
type Metrics struct {
	registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	domain       domain
}

// New registers the service's metrics and the Go runtime and process
// collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auth_http_requests_total",
			Help: "HTTP requests answered, by operationId (unmatched for none) and status code.",
		}, []string{"operation", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "auth_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by operationId.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
	}
	m.domain = newDomain()
	m.registry.MustRegister(
		m.httpRequests, m.httpDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.registry.MustRegister(m.domain.collectors()...)
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveRequest counts an answered request and its duration
// (httpapi.RequestObserver).
func (m *Metrics) ObserveRequest(operation string, status int, elapsed time.Duration) {
	m.httpRequests.WithLabelValues(operation, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(operation).Observe(elapsed.Seconds())
}
