package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ecommerce/auth-service/gen/pgdb"
	sqlfiles "github.com/ecommerce/auth-service/sql"
)

// Postgres is the production store: a pgx connection pool.
type Postgres struct {
	sqlStore
	pool *pgxpool.Pool
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the database at url (a postgres:// URL) and checks
// that it answers. It returns an error naming the cause if it does not.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse PostgreSQL URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	p := &Postgres{pool: pool}
	p.sqlStore = sqlStore{q: pgQueries{pgdb.New(pool)}, inTx: p.inTx}
	return p, nil
}

// Migrate applies the embedded migrations. A PostgreSQL advisory lock makes
// replicas that start together migrate one at a time.
func (p *Postgres) Migrate(ctx context.Context) error {
	migrations, err := fs.Sub(sqlfiles.PostgresMigrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(p.pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close releases the pool.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// inTx runs fn in a transaction, committing only if it returns nil.
func (p *Postgres) inTx(ctx context.Context, fn func(q queries) error) error {
	return pgError(pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		return fn(pgQueries{pgdb.New(tx)})
	}))
}

// pgError translates driver errors into the package's sentinel errors.
func pgError(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
	}
	return err
}

// optUTC returns t in UTC: pgx reads timestamptz in the local zone.
func optUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func pgUser(u pgdb.User, err error) (User, error) {
	if err != nil {
		return User{}, pgError(err)
	}
	return User{
		ID:           u.ID,
		Email:        u.Email,
		PasswordHash: u.PasswordHash,
		IsActive:     u.IsActive,
		IsStaff:      u.IsStaff,
		IsSuperuser:  u.IsSuperuser,
		DateJoined:   u.DateJoined.UTC(),
		LastLogin:    optUTC(u.LastLogin),
	}, nil
}

func pgSession(s pgdb.Session, err error) (Session, error) {
	if err != nil {
		return Session{}, pgError(err)
	}
	out := Session{
		ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(),
		RevokedAt: optUTC(s.RevokedAt),
	}
	if s.RevokedReason != nil {
		out.RevokedReason = *s.RevokedReason
	}
	return out, nil
}

// pgQueries adapts the generated PostgreSQL queries to the store's types.
type pgQueries struct{ q *pgdb.Queries }

func (a pgQueries) createUser(ctx context.Context, u NewUser) (User, error) {
	return pgUser(a.q.CreateUser(ctx, pgdb.CreateUserParams{
		Email: u.Email, PasswordHash: u.PasswordHash, IsActive: u.IsActive, IsStaff: u.IsStaff,
		IsSuperuser: u.IsSuperuser, DateJoined: u.DateJoined,
	}))
}

func (a pgQueries) importUser(ctx context.Context, u NewUser) error {
	return pgError(a.q.ImportUser(ctx, pgdb.ImportUserParams{
		ID: u.ID, Email: u.Email, PasswordHash: u.PasswordHash, IsActive: u.IsActive, IsStaff: u.IsStaff,
		IsSuperuser: u.IsSuperuser, DateJoined: u.DateJoined, LastLogin: u.LastLogin,
	}))
}

func (a pgQueries) syncUserIDSequence(ctx context.Context) error {
	return pgError(a.q.SyncUserIDSequence(ctx))
}

func (a pgQueries) userByEmail(ctx context.Context, email string) (User, error) {
	return pgUser(a.q.GetUserByEmail(ctx, email))
}

func (a pgQueries) userByID(ctx context.Context, id int64) (User, error) {
	return pgUser(a.q.GetUserByID(ctx, id))
}

func (a pgQueries) recordLogin(ctx context.Context, userID int64, at time.Time) error {
	return pgError(a.q.RecordLogin(ctx, pgdb.RecordLoginParams{ID: userID, LastLogin: at}))
}

func (a pgQueries) replacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error {
	return pgError(a.q.ReplacePasswordHash(ctx, pgdb.ReplacePasswordHashParams{ID: userID, OldHash: oldHash, NewHash: newHash}))
}

func (a pgQueries) setUserActive(ctx context.Context, userID int64, active bool) error {
	return pgError(a.q.SetUserActive(ctx, pgdb.SetUserActiveParams{ID: userID, IsActive: active}))
}

func (a pgQueries) deleteUser(ctx context.Context, userID int64) error {
	return pgError(a.q.DeleteUser(ctx, userID))
}

func (a pgQueries) createSession(ctx context.Context, s Session) error {
	return pgError(a.q.CreateSession(ctx, pgdb.CreateSessionParams{ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt}))
}

func (a pgQueries) session(ctx context.Context, id string) (Session, error) {
	return pgSession(a.q.GetSession(ctx, id))
}

func (a pgQueries) sessionUser(ctx context.Context, id string) (Session, User, error) {
	row, err := a.q.GetSessionUser(ctx, id)
	if err != nil {
		return Session{}, User{}, pgError(err)
	}
	sess, _ := pgSession(row.Session, nil)
	user, _ := pgUser(row.User, nil)
	return sess, user, nil
}

func (a pgQueries) lockSession(ctx context.Context, id string) (Session, error) {
	return pgSession(a.q.LockSession(ctx, id))
}

func (a pgQueries) extendSession(ctx context.Context, id string, until time.Time) error {
	return pgError(a.q.ExtendSession(ctx, pgdb.ExtendSessionParams{ID: id, ExpiresAt: until}))
}

func (a pgQueries) revokeSession(ctx context.Context, id, reason string, at time.Time) error {
	return pgError(a.q.RevokeSession(ctx, pgdb.RevokeSessionParams{ID: id, RevokedAt: at, Reason: reason}))
}

func (a pgQueries) revokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error) {
	n, err := a.q.RevokeUserSessions(ctx, pgdb.RevokeUserSessionsParams{UserID: userID, RevokedAt: at, Reason: reason})
	return n, pgError(err)
}

func (a pgQueries) deleteExpiredSessions(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredSessions(ctx, pgdb.DeleteExpiredSessionsParams{Before: before, BatchSize: int32(batch)})
	return n, pgError(err)
}

func (a pgQueries) insertRefreshToken(ctx context.Context, t RefreshToken) error {
	return pgError(a.q.InsertRefreshToken(ctx, pgdb.InsertRefreshTokenParams{
		TokenHash: t.Hash, SessionID: t.SessionID, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt,
	}))
}

func (a pgQueries) refreshToken(ctx context.Context, hash []byte) (RefreshToken, error) {
	t, err := a.q.GetRefreshToken(ctx, hash)
	if err != nil {
		return RefreshToken{}, pgError(err)
	}
	return RefreshToken{
		Hash: t.TokenHash, SessionID: t.SessionID, IssuedAt: t.IssuedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(),
		RetiredAt: optUTC(t.RetiredAt), Successor: t.Successor,
	}, nil
}

func (a pgQueries) retireRefreshToken(ctx context.Context, hash []byte, at time.Time, successor []byte) error {
	return pgError(a.q.RetireRefreshToken(ctx, pgdb.RetireRefreshTokenParams{TokenHash: hash, RetiredAt: at, Successor: successor}))
}

func (a pgQueries) deleteExpiredRefreshTokens(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredRefreshTokens(ctx, pgdb.DeleteExpiredRefreshTokensParams{Before: before, BatchSize: int32(batch)})
	return n, pgError(err)
}
