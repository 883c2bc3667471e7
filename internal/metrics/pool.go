package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// RegisterPool exposes a pgx pool's statistics as auth_db_pool_*, read from
// stat at every scrape.
func (m *Metrics) RegisterPool(stat func() *pgxpool.Stat) {
	m.registry.MustRegister(poolCollector{stat: stat})
}

var (
	poolAcquired = prometheus.NewDesc("auth_db_pool_acquired_conns", "Connections in use.", nil, nil)
	poolIdle     = prometheus.NewDesc("auth_db_pool_idle_conns", "Idle connections.", nil, nil)
	poolTotal    = prometheus.NewDesc("auth_db_pool_total_conns", "Open connections (acquired, idle and being opened).", nil, nil)
	poolMax      = prometheus.NewDesc("auth_db_pool_max_conns", "The pool's connection limit.", nil, nil)
	poolAcquires = prometheus.NewDesc("auth_db_pool_acquires_total", "Successful acquisitions of a connection.", nil, nil)
	poolEmpty    = prometheus.NewDesc("auth_db_pool_empty_acquires_total", "Acquisitions that had to wait, none being idle: saturation.", nil, nil)
	poolCanceled = prometheus.NewDesc("auth_db_pool_canceled_acquires_total", "Acquisitions given up by their context.", nil, nil)
	poolWait     = prometheus.NewDesc("auth_db_pool_acquire_duration_seconds_total", "Total time spent acquiring connections.", nil, nil)
	poolNew      = prometheus.NewDesc("auth_db_pool_new_conns_total", "Connections opened.", nil, nil)
)

// poolCollector reads pgxpool.Stat at scrape time.
type poolCollector struct{ stat func() *pgxpool.Stat }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolAcquires, poolEmpty, poolCanceled, poolWait, poolNew} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(poolAcquired, float64(s.AcquiredConns()))
	gauge(poolIdle, float64(s.IdleConns()))
	gauge(poolTotal, float64(s.TotalConns()))
	gauge(poolMax, float64(s.MaxConns()))
	counter(poolAcquires, float64(s.AcquireCount()))
	counter(poolEmpty, float64(s.EmptyAcquireCount()))
	counter(poolCanceled, float64(s.CanceledAcquireCount()))
	counter(poolWait, s.AcquireDuration().Seconds())
	counter(poolNew, float64(s.NewConnsCount()))
}
