package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/ecommerce/auth-service/internal/auth"
	"github.com/ecommerce/auth-service/internal/config"
	"github.com/ecommerce/auth-service/internal/hashlimit"
	"github.com/ecommerce/auth-service/internal/httpapi"
	"github.com/ecommerce/auth-service/internal/logging"
	"github.com/ecommerce/auth-service/internal/memlimit"
	"github.com/ecommerce/auth-service/internal/metrics"
	"github.com/ecommerce/auth-service/internal/password"
	"github.com/ecommerce/auth-service/internal/passwordpolicy"
	"github.com/ecommerce/auth-service/internal/store"
	"github.com/ecommerce/auth-service/internal/webhook"
)

// serve runs the HTTP server until ctx ends, then shuts it down gracefully.
// It listens before it serves, so that a bad address fails at once.
func serve(ctx context.Context, e env, args []string) error {
	if err := parseFlags(newFlags("serve", e), args); err != nil {
		return err
	}
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return err
	}
	log := newLogger(e, cfg)
	limit, source := memlimit.Apply(e.getenv, int64(cfg.MemoryLimitMiB), int64(cfg.HashMemoryMiB+baseMemoryMiB))
	log.Info("memory limit", "mib", limit>>20, "from", string(source))
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.MigrateOnStart {
		if err := st.Migrate(ctx); err != nil {
			return err
		}
		log.Info("database migrated")
	}
	keys, err := loadKeys(cfg, log)
	if err != nil {
		return err
	}
	hasher, err := password.New(cfg.Password)
	if err != nil {
		return err
	}
	slots := cfg.HashConcurrency
	if slots == 0 {
		slots = hashSlots(runtime.GOMAXPROCS(0))
	}
	limiter := hashlimit.New(int64(cfg.HashMemoryMiB)<<10, slots, cfg.HashMaxWait, maxHashQueue)
	// Metrics read the pool behind the cache; the service reads through it.
	var m *metrics.Metrics
	if cfg.MetricsAddr != "" {
		m = newMetrics(st)
		m.RegisterHashLimiter(limiter)
	}
	cached, listen := store.WithSessionCache(st, cfg.SessionCacheTTL)
	params := accountParams(cfg)
	params.AccessTTL, params.RefreshTTL, params.ReuseInterval = cfg.AccessTTL, cfg.RefreshTTL, cfg.ReuseInterval
	params.AuditRetention, params.Throttle = cfg.AuditRetention, cfg.Throttle
	if m != nil {
		params.Observer = m
	}
	svc := auth.New(cached, keys, hasher.Limited(limiter), time.Now, params, log)
	if err := svc.RecordKeysLoaded(ctx); err != nil {
		return fmt.Errorf("%w (has `auth-service migrate` run?)", err)
	}
	drain := &httpapi.Drain{}
	opts := httpapi.Options{
		Log:        log,
		JWKSMaxAge: cfg.JWKSMaxAge,
		RefreshCookie: httpapi.RefreshCookie{
			Enabled: cfg.RefreshCookie, Insecure: cfg.CookieInsecure, MaxAge: cfg.RefreshTTL,
			Name: cfg.CookieName, SameSite: sameSite[cfg.CookieSameSite],
		},
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		TrustedProxies:     cfg.TrustedProxies,
		RequestTimeout:     cfg.RequestTimeout,
		Drain:              drain,
	}
	if m != nil {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, m, log)
		if err != nil {
			return err
		}
		defer stopMetrics(context.Background())
		opts.Observer = m
	}
	handler, err := httpapi.New(svc, opts)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("AUTH_LISTEN_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Above the 16 KiB the handler answers in JSON (431); what is beyond
		// this gets net/http's own 431, made JSON by JSONServerErrors.
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(httpapi.JSONServerErrors(ln)) }()
	// Deferred calls run last first: stop the background work, wait for it,
	// and only then close the store it uses.
	var background sync.WaitGroup
	defer background.Wait()
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	background.Go(func() { cleanupLoop(bgCtx, svc, cfg.CleanupInterval, log) })
	background.Go(func() {
		listen(bgCtx, func(err error) { log.Warn("revocations from other replicas are not heard", "error", err) })
	})
	sender := eventSender(cfg, log)
	background.Go(func() { svc.DispatchEvents(bgCtx, sender, auth.DefaultDispatchParams()) })
	log.Info("listening", "addr", ln.Addr().String(), "algorithm", keys.Algorithm(),
		"access_ttl", cfg.AccessTTL.String(), "refresh_ttl", cfg.RefreshTTL.String(),
		"refresh_reuse_interval", cfg.ReuseInterval.String(), "jwt_leeway", cfg.JWTLeeway.String(), "signup_open", cfg.SignupOpen,
		"refresh_cookie", cfg.RefreshCookie, "cookie_name", cfg.CookieName, "cookie_samesite", cfg.CookieSameSite, "cors_allowed_origins", cfg.CORSAllowedOrigins,
		"hash_memory_mib", cfg.HashMemoryMiB, "trusted_proxies", len(cfg.TrustedProxies))
	if cfg.RefreshCookie && cfg.CookieInsecure {
		log.Warn("the refresh cookie is not Secure (AUTH_COOKIE_SECURE=false): for development over plain HTTP only")
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	// Fail readiness and tell every client to leave its connection, while
	// still answering: load balancers take the replica out and keep-alive
	// clients reconnect elsewhere, so that stopping loses nothing.
	drain.Start()
	log.Info("draining", "for", cfg.ShutdownDrain.String())
	select {
	case <-time.After(cfg.ShutdownDrain):
	case err := <-serveErr:
		return err
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// accountParams are the rules of accounts the configuration sets, for serve
// and the commands alike.
func accountParams(cfg config.Config) auth.Params {
	return auth.Params{
		SignupOpen: cfg.SignupOpen, EmailTokenTTL: cfg.EmailTokenTTL,
		Policy: passwordpolicy.Policy{MinLength: cfg.PasswordMinLength},
	}
}

// eventSender is where the event dispatcher delivers: the webhook, or, with
// AUTH_EVENTS_WEBHOOK_URL unset, the log. The log shows one-time tokens only
// in the embedded development default, where nobody else's links are at stake.
func eventSender(cfg config.Config, log *slog.Logger) auth.EventSender {
	if cfg.WebhookURL != "" {
		if u, err := url.Parse(cfg.WebhookURL); err == nil {
			log.Info("events are delivered by webhook", "url", u.Redacted())
		}
		return webhook.New(cfg.WebhookURL, cfg.WebhookKey)
	}
	if cfg.Embedded {
		log.Warn("AUTH_EVENTS_WEBHOOK_URL is unset: events (verification and reset links) are only logged, tokens included, for development")
	} else {
		log.Warn("AUTH_EVENTS_WEBHOOK_URL is unset: events are only logged, tokens redacted, and no verification or reset mail is sent")
	}
	return webhook.NewLogSender(log, cfg.Embedded)
}

func newLogger(e env, cfg config.Config) *slog.Logger {
	return logging.New(e.stdout, cfg.LogLevel)
}

// maxHashQueue bounds how many logins may wait for a hash, whatever the
// wait estimate says.
const maxHashQueue = 1024

// hashSlots is how many password hashes may run at once on cpus CPUs unless
// AUTH_HASH_CONCURRENCY says otherwise: all
// but one, however little memory they take (PBKDF2, bcrypt). A hash keeps
// its CPU busy for tens of milliseconds; with every CPU hashing, the cheap
// requests (refresh, /auth/me/, health checks, the 503s that shed a login
// storm) wait behind them for hundreds of milliseconds. One CPU left to
// them keeps them fast while logins queue; on one CPU there is no choice.
func hashSlots(cpus int) int { return max(cpus-1, 1) }

// baseMemoryMiB is what the process needs besides password hashes: the
// default memory limit is it plus the hash budget, when neither GOMEMLIMIT,
// AUTH_MEMORY_LIMIT_MIB nor a container limit says otherwise.
const baseMemoryMiB = 64

// openStore opens the configured store and says which one it is.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.DB, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL,
		store.WithMaxConns(cfg.DBMaxConns), store.WithStatementTimeout(cfg.DBStatementTimeout))
	if err != nil {
		return nil, fmt.Errorf("AUTH_DATABASE_URL: %w", err)
	}
	if path := cfg.SQLitePath(); path != "" {
		log.Info("using the embedded SQLite store; set AUTH_DATABASE_URL=postgres://… in production",
			"path", path, "default", cfg.Embedded)
	} else {
		log.Info("using PostgreSQL")
	}
	return st, nil
}

// cleanupLoop deletes expired sessions and refresh tokens every interval.
func cleanupLoop(ctx context.Context, svc *auth.Service, interval time.Duration, log *slog.Logger) {
	const batch = 1000
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			n, err := svc.Cleanup(ctx, batch)
			if err != nil && ctx.Err() == nil {
				log.Warn("cleanup of expired sessions failed", "error", err)
			} else if n > 0 {
				log.Info("expired sessions and tokens deleted", "rows", n)
			}
		}
	}
}

// sameSite maps AUTH_COOKIE_SAMESITE's values, which config has checked.
var sameSite = map[string]http.SameSite{
	"strict": http.SameSiteStrictMode,
	"lax":    http.SameSiteLaxMode,
	"none":   http.SameSiteNoneMode,
}
