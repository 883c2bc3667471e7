package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ecommerce/auth-service/internal/metrics"
	"github.com/ecommerce/auth-service/internal/store"
)

// newMetrics returns the service's metrics, with the pool's statistics when
// st is PostgreSQL.
func newMetrics(st store.DB) *metrics.Metrics {
	m := metrics.New()
	if pg, ok := st.(*store.Postgres); ok {
		m.RegisterPool(pg.PoolStat)
	}
	return m
}

// serveMetrics serves /metrics on addr, a listener of its own that the
// gateway never routes to, until the returned stop is called. It listens
// before it returns, so that a bad address fails start-up.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (stop func(context.Context) error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("AUTH_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener failed", "error", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return srv.Shutdown, nil
}
