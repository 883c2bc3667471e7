package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jackc/puddle/v2"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ecommerce/auth-service/gen/pgdb"
	"github.com/ecommerce/auth-service/internal/auth"
	sqlfiles "github.com/ecommerce/auth-service/sql"
)

// Postgres is the production store: a pgx connection pool.
type Postgres struct {
	pgTx // queries outside any transaction
	pool *pgxpool.Pool
}

// OpenPostgres connects to the database at url (a postgres:// URL) and checks
// that it answers. It returns an error naming the cause if it does not.
// Once open, the pool reconnects by itself: a database that comes back is
// used again by the next statement, without a restart.
func OpenPostgres(ctx context.Context, url string, opts ...Option) (*Postgres, error) {
	o := collect(opts)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse PostgreSQL URL: %w", err)
	}
	if o.maxConns > 0 {
		cfg.MaxConns = int32(o.maxConns)
	}
	if o.statementTimeout > 0 {
		// On the server: a statement stuck behind a lock or a slow plan is
		// cancelled there, and its connection stays usable.
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.statementTimeout.Milliseconds(), 10)
		if cfg.ConnConfig.ConnectTimeout == 0 { // the URL's connect_timeout wins
			cfg.ConnConfig.ConnectTimeout = o.statementTimeout
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	q := pgdb.New(pool)
	return &Postgres{pgTx: pgTx{q: q, later: q}, pool: pool}, nil
}

// Migrate applies the embedded migrations. A PostgreSQL advisory lock makes
// replicas that start together migrate one at a time. It runs on
// connections of its own without the statement timeout: building an index
// on a large table may take longer than any request should.
func (p *Postgres) Migrate(ctx context.Context) error {
	files, err := fs.Sub(sqlfiles.PostgresMigrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	cfg := p.pool.Config() // a copy
	cfg.MaxConns = 2       // goose's own and its lock's
	delete(cfg.ConnConfig.RuntimeParams, "statement_timeout")
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return migrate(ctx, goose.DialectPostgres, db, files, goose.WithSessionLocker(locker))
}

// PoolStat returns the connection pool's statistics, for metrics.
func (p *Postgres) PoolStat() *pgxpool.Stat { return p.pool.Stat() }

// Close releases the pool.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (p *Postgres) Ping(ctx context.Context) error { return pgError(p.pool.Ping(ctx)) }

// InTx runs fn in a transaction (pipeTx: BEGIN and the writes travel with
// other statements), committing only if it returns nil.
func (p *Postgres) InTx(ctx context.Context, fn func(tx auth.Tx) error) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return pgError(err)
	}
	defer conn.Release()
	tx := &pipeTx{conn: conn.Conn()}
	err = fn(pgTx{q: pgdb.New(tx), later: pgdb.New(laterTx{tx})})
	if err == nil {
		err = tx.commit(ctx)
	}
	if err != nil {
		if rerr := tx.rollback(ctx); rerr != nil {
			conn.Conn().Close(context.Background()) // a connection in an unknown state is not reused
		}
		return pgError(err)
	}
	return nil
}

// pgError translates driver errors into the domain's store errors.
func pgError(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return auth.ErrNotFound
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		return fmt.Errorf("%w: %s", auth.ErrConflict, pgErr.ConstraintName)
	case pgUnavailable(err):
		return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
	}
	return err
}

// pgUnavailable reports whether err means the database did not answer, as
// opposed to refusing a statement: the connection could not be made or was
// lost, the pool was closed, or the statement or request timed out.
func pgUnavailable(err error) bool {
	var (
		pgErr      *pgconn.PgError
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"),                                 // insufficient resources: too many connections, ...
			pgErr.Code == "57014",                                               // query_canceled: statement_timeout
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", // shutting down, crashed, starting up
			pgErr.Code == "25006": // read_only_sql_transaction: a standby after a failover
			return true
		}
		return false
	}
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, net.ErrClosed)
}

// optUTC returns t in UTC: pgx reads timestamptz in the local zone.
func optUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func pgUser(u pgdb.User, err error) (auth.User, error) {
	if err != nil {
		return auth.User{}, pgError(err)
	}
	return auth.User{
		ID: u.ID, Email: u.Email, PasswordHash: u.PasswordHash,
		IsActive: u.IsActive, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser,
		DateJoined: u.DateJoined.UTC(), LastLogin: optUTC(u.LastLogin), EmailVerifiedAt: optUTC(u.EmailVerifiedAt),
	}, nil
}

func pgSession(s pgdb.Session, err error) (auth.Session, error) {
	if err != nil {
		return auth.Session{}, pgError(err)
	}
	out := auth.Session{
		ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(),
		RevokedAt:       optUTC(s.RevokedAt),
		CreatedBy:       auth.Client{Address: s.CreatedAddress, UserAgent: s.CreatedUserAgent},
		RefreshedAt:     optUTC(s.RefreshedAt),
		RefreshedBy:     auth.Client{Address: s.RefreshedAddress, UserAgent: s.RefreshedUserAgent},
		TokenGeneration: int(s.TokenGeneration),
	}
	if s.RevokedReason != nil {
		out.RevokedReason = *s.RevokedReason
	}
	return out, nil
}

// pgTx implements auth.Tx over the generated PostgreSQL queries, on the pool
// or in a transaction. later runs the writes whose only answer is success:
// in a transaction they wait to travel with the next statement (pipeTx); on
// the pool it is q.
type pgTx struct{ q, later *pgdb.Queries }

func (a pgTx) CreateUser(ctx context.Context, u auth.User) (auth.User, error) {
	return pgUser(a.q.CreateUser(ctx, pgdb.CreateUserParams{
		Email: u.Email, EmailKey: auth.EmailKey(u.Email), PasswordHash: u.PasswordHash,
		IsActive: u.IsActive, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser, DateJoined: u.DateJoined,
		EmailVerifiedAt: u.EmailVerifiedAt,
	}))
}

func (a pgTx) ImportUser(ctx context.Context, u auth.User) error {
	return pgError(a.q.ImportUser(ctx, pgdb.ImportUserParams{
		ID: u.ID, Email: u.Email, EmailKey: auth.EmailKey(u.Email), PasswordHash: u.PasswordHash,
		IsActive: u.IsActive, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser,
		DateJoined: u.DateJoined, LastLogin: u.LastLogin, EmailVerifiedAt: u.EmailVerifiedAt,
	}))
}

func (a pgTx) SyncUserIDs(ctx context.Context) error {
	return pgError(a.q.SyncUserIDSequence(ctx))
}

func (a pgTx) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	return pgUser(a.q.GetUserByEmailKey(ctx, auth.EmailKey(email)))
}

func (a pgTx) UserByID(ctx context.Context, id int64) (auth.User, error) {
	return pgUser(a.q.GetUserByID(ctx, id))
}

func (a pgTx) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	return pgError(a.later.RecordLogin(ctx, pgdb.RecordLoginParams{ID: userID, LastLogin: at}))
}

func (a pgTx) ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) (bool, error) {
	n, err := a.q.ReplacePasswordHash(ctx, pgdb.ReplacePasswordHashParams{ID: userID, OldHash: oldHash, NewHash: newHash})
	return n > 0, pgError(err)
}

func (a pgTx) CreateSession(ctx context.Context, s auth.Session) error {
	return pgError(a.later.CreateSession(ctx, pgdb.CreateSessionParams{
		ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt,
		CreatedAddress: s.CreatedBy.Address, CreatedUserAgent: s.CreatedBy.UserAgent,
	}))
}

func (a pgTx) SessionUser(ctx context.Context, id string) (auth.Session, auth.User, error) {
	row, err := a.q.GetSessionUser(ctx, id)
	if err != nil {
		return auth.Session{}, auth.User{}, pgError(err)
	}
	sess, _ := pgSession(row.Session, nil)
	user, _ := pgUser(row.User, nil)
	return sess, user, nil
}

// LockSession reads the session FOR UPDATE.
func (a pgTx) LockSession(ctx context.Context, id string) (auth.Session, error) {
	return pgSession(a.q.LockSession(ctx, id))
}

// LockRotation reads the session and the token FOR UPDATE, with the
// session's user and their roles. When that finds nothing, a second query
// tells a missing session from a missing token.
func (a pgTx) LockRotation(ctx context.Context, sessionID string, tokenHash []byte) (auth.RotationState, error) {
	row, err := a.q.LockRotation(ctx, pgdb.LockRotationParams{ID: sessionID, TokenHash: tokenHash})
	if errors.Is(err, pgx.ErrNoRows) {
		sess, user, err := a.SessionUser(ctx, sessionID)
		return auth.RotationState{Session: sess, User: user}, err
	} else if err != nil {
		return auth.RotationState{}, pgError(err)
	}
	sess, _ := pgSession(row.Session, nil)
	user, _ := pgUser(row.User, nil)
	tok := pgRefreshToken(row.RefreshTokenRow)
	return auth.RotationState{Session: sess, User: user, Roles: row.Roles, Token: &tok}, nil
}

// RecordRotation is one statement (data-modifying CTEs).
func (a pgTx) RecordRotation(ctx context.Context, r auth.RotationWrite) error {
	return pgError(a.later.RecordRotation(ctx, pgdb.RecordRotationParams{
		OldHash: r.OldHash, Successor: r.Successor, NextHash: r.Next.Hash, ID: r.Next.SessionID,
		IssuedAt: r.Next.IssuedAt, ExpiresAt: r.Next.ExpiresAt,
		RefreshedAt: r.At, RefreshedAddress: r.By.Address, RefreshedUserAgent: r.By.UserAgent,
	}))
}

func (a pgTx) ExtendSession(ctx context.Context, id string, until, at time.Time, by auth.Client) error {
	return pgError(a.later.ExtendSession(ctx, pgdb.ExtendSessionParams{
		ID: id, ExpiresAt: until, RefreshedAt: at, RefreshedAddress: by.Address, RefreshedUserAgent: by.UserAgent,
	}))
}

func (a pgTx) BumpSessionGeneration(ctx context.Context, id string) (int, error) {
	gen, err := a.q.BumpSessionGeneration(ctx, id)
	return int(gen), pgError(err)
}

func (a pgTx) ListUserSessions(ctx context.Context, userID int64, now time.Time, limit int) ([]auth.Session, error) {
	rows, err := a.q.ListUserSessions(ctx, pgdb.ListUserSessionsParams{UserID: userID, Now: now, MaxRows: int32(limit)})
	if err != nil {
		return nil, pgError(err)
	}
	out := make([]auth.Session, len(rows))
	for i, r := range rows {
		out[i], _ = pgSession(r, nil)
	}
	return out, nil
}

func (a pgTx) RevokeUserSession(ctx context.Context, userID int64, id, reason string, at time.Time) (bool, error) {
	n, err := a.q.RevokeUserSession(ctx, pgdb.RevokeUserSessionParams{UserID: userID, ID: id, Reason: reason, RevokedAt: at})
	return n > 0, pgError(err)
}

func (a pgTx) RevokeSession(ctx context.Context, id, reason string, at time.Time) error {
	return pgError(a.later.RevokeSession(ctx, pgdb.RevokeSessionParams{ID: id, RevokedAt: at, Reason: reason}))
}

func (a pgTx) RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error) {
	n, err := a.q.RevokeUserSessions(ctx, pgdb.RevokeUserSessionsParams{UserID: userID, RevokedAt: at, Reason: reason})
	return n, pgError(err)
}

func (a pgTx) DeleteExpiredSessions(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredSessions(ctx, pgdb.DeleteExpiredSessionsParams{Before: before, BatchSize: int32(batch)})
	return n, pgError(err)
}

func (a pgTx) InsertRefreshToken(ctx context.Context, t auth.StoredRefreshToken) error {
	return pgError(a.later.InsertRefreshToken(ctx, pgdb.InsertRefreshTokenParams{
		TokenHash: t.Hash, SessionID: t.SessionID, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt,
	}))
}

func (a pgTx) StoredRefreshToken(ctx context.Context, hash []byte) (auth.StoredRefreshToken, error) {
	t, err := a.q.GetStoredRefreshToken(ctx, hash)
	if err != nil {
		return auth.StoredRefreshToken{}, pgError(err)
	}
	return pgRefreshToken(t), nil
}

func pgRefreshToken(t pgdb.RefreshTokenRow) auth.StoredRefreshToken {
	return auth.StoredRefreshToken{
		Hash: t.TokenHash, SessionID: t.SessionID, IssuedAt: t.IssuedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(),
		RetiredAt: optUTC(t.RetiredAt), Successor: t.Successor, ExposedAt: optUTC(t.ExposedAt),
	}
}

func (a pgTx) ExposeRefreshToken(ctx context.Context, hash []byte, at time.Time) error {
	return pgError(a.later.ExposeRefreshToken(ctx, pgdb.ExposeRefreshTokenParams{TokenHash: hash, ExposedAt: at}))
}

func (a pgTx) DeleteExpiredRefreshTokens(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredRefreshTokens(ctx, pgdb.DeleteExpiredRefreshTokensParams{Before: before, BatchSize: int32(batch)})
	return n, pgError(err)
}

func (a pgTx) RecordEvent(ctx context.Context, e auth.SecurityEvent) error {
	return pgError(a.later.InsertSecurityEvent(ctx, pgdb.InsertSecurityEventParams{
		OccurredAt: e.At, Kind: string(e.Kind), UserID: optID(e.UserID), SessionID: e.SessionID,
		RequestID: e.Client.RequestID, ClientAddress: e.Client.Address, UserAgent: e.Client.UserAgent,
		Email: e.Email, EmailKey: eventEmailKey(e.Email), Detail: e.Detail,
	}))
}

func (a pgTx) SecurityEvents(ctx context.Context, q auth.EventQuery) ([]auth.SecurityEvent, error) {
	rows, err := a.q.ListSecurityEvents(ctx, pgdb.ListSecurityEventsParams{
		Since: q.Since, EmailKey: eventEmailKey(q.Email), MaxRows: int32(q.Limit),
	})
	if err != nil {
		return nil, pgError(err)
	}
	out := make([]auth.SecurityEvent, len(rows))
	for i, r := range rows {
		out[i] = auth.SecurityEvent{
			ID: r.ID, At: r.OccurredAt.UTC(), Kind: auth.EventKind(r.Kind), UserID: fromOptID(r.UserID), SessionID: r.SessionID,
			Client: auth.Client{Address: r.ClientAddress, UserAgent: r.UserAgent, RequestID: r.RequestID},
			Email:  r.Email, Detail: r.Detail, UserEmail: r.UserEmail,
		}
	}
	return out, nil
}

func (a pgTx) ThrottleCounters(ctx context.Context, keys [][]byte) ([]auth.ThrottleCounter, error) {
	rows, err := a.q.GetThrottleCounters(ctx, keys)
	return pgCounters(rows, err)
}

// LockThrottleCounters upserts the missing counters and locks them all.
func (a pgTx) LockThrottleCounters(ctx context.Context, keys [][]byte, resetAt time.Time) ([]auth.ThrottleCounter, error) {
	rows, err := a.q.LockThrottleCounters(ctx, pgdb.LockThrottleCountersParams{Keys: keys, ResetAt: resetAt})
	return pgCounters(rows, err)
}

func (a pgTx) PutThrottleCounters(ctx context.Context, counters []auth.ThrottleCounter) error {
	var arg pgdb.PutThrottleCountersParams
	for _, c := range counters {
		arg.Keys = append(arg.Keys, c.Key)
		arg.Failures = append(arg.Failures, int32(min(c.Failures, math.MaxInt32)))
		arg.InFlight = append(arg.InFlight, int32(min(c.InFlight, math.MaxInt32)))
		arg.InFlightUntil = append(arg.InFlightUntil, c.InFlightUntil)
		arg.LockedUntil = append(arg.LockedUntil, c.LockedUntil)
		arg.FamiliarUntil = append(arg.FamiliarUntil, c.FamiliarUntil)
		arg.ResetAt = append(arg.ResetAt, c.ResetAt)
	}
	return pgError(a.later.PutThrottleCounters(ctx, arg))
}

func (a pgTx) DeleteExpiredThrottleCounters(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredThrottleCounters(ctx, pgdb.DeleteExpiredThrottleCountersParams{Before: before, BatchSize: int32(batch)})
	return n, pgError(err)
}

func pgCounters(rows []pgdb.LoginThrottle, err error) ([]auth.ThrottleCounter, error) {
	if err != nil {
		return nil, pgError(err)
	}
	out := make([]auth.ThrottleCounter, len(rows))
	for i, r := range rows {
		out[i] = auth.ThrottleCounter{
			Key: r.Key, Failures: int(r.Failures), InFlight: int(r.InFlight), InFlightUntil: r.InFlightUntil.UTC(),
			LockedUntil: r.LockedUntil.UTC(), FamiliarUntil: r.FamiliarUntil.UTC(), ResetAt: r.ResetAt.UTC(),
		}
	}
	return out, nil
}

func (a pgTx) DeleteEventsBefore(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteSecurityEventsBefore(ctx, pgdb.DeleteSecurityEventsBeforeParams{Before: before, BatchSize: int32(batch)})
	return n, pgError(err)
}
