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
	pool *pgxpool.Pool
	q    *pgdb.Queries
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
	return &Postgres{pool: pool, q: pgdb.New(pool)}, nil
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

// Ping checks that the database answers.
func (p *Postgres) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }

// Close releases the pool.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
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

// inTx runs fn in a transaction, committing only if it returns nil.
func (p *Postgres) inTx(ctx context.Context, fn func(q *pgdb.Queries) error) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		return fn(p.q.WithTx(tx))
	})
}

// optUTC returns *t in UTC. pgx scans timestamptz in time.Local; the store
// returns UTC from both adapters, as SQLite's fromMicros does.
func optUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func pgUser(u pgdb.User) User {
	return User{
		ID:           u.ID,
		Email:        u.Email,
		PasswordHash: u.PasswordHash,
		IsActive:     u.IsActive,
		IsStaff:      u.IsStaff,
		IsSuperuser:  u.IsSuperuser,
		DateJoined:   u.DateJoined.UTC(),
		LastLogin:    optUTC(u.LastLogin),
	}
}

func pgSession(s pgdb.Session) Session {
	out := Session{ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(), RevokedAt: optUTC(s.RevokedAt)}
	if s.RevokedReason != nil {
		out.RevokedReason = *s.RevokedReason
	}
	return out
}

func pgRefreshToken(t pgdb.RefreshToken) RefreshToken {
	return RefreshToken{Hash: t.TokenHash, SessionID: t.SessionID, IssuedAt: t.IssuedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(), RetiredAt: optUTC(t.RetiredAt)}
}

// CreateUser inserts a user with a new id.
func (p *Postgres) CreateUser(ctx context.Context, u NewUser) (User, error) {
	row, err := p.q.CreateUser(ctx, pgdb.CreateUserParams{
		Email:        u.Email,
		PasswordHash: u.PasswordHash,
		IsActive:     u.IsActive,
		IsStaff:      u.IsStaff,
		IsSuperuser:  u.IsSuperuser,
		DateJoined:   u.DateJoined,
	})
	if err != nil {
		return User{}, pgError(err)
	}
	return pgUser(row), nil
}

// UserByEmail finds a user by email, ignoring case.
func (p *Postgres) UserByEmail(ctx context.Context, email string) (User, error) {
	row, err := p.q.GetUserByEmail(ctx, email)
	if err != nil {
		return User{}, pgError(err)
	}
	return pgUser(row), nil
}

// UserByID finds a user by id.
func (p *Postgres) UserByID(ctx context.Context, id int64) (User, error) {
	row, err := p.q.GetUserByID(ctx, id)
	if err != nil {
		return User{}, pgError(err)
	}
	return pgUser(row), nil
}

// RecordLogin sets the user's last_login.
func (p *Postgres) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	return pgError(p.q.RecordLogin(ctx, pgdb.RecordLoginParams{ID: userID, LastLogin: at}))
}

// ReplacePasswordHash swaps oldHash for newHash if it is still oldHash.
func (p *Postgres) ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error {
	return pgError(p.q.ReplacePasswordHash(ctx, pgdb.ReplacePasswordHashParams{ID: userID, OldHash: oldHash, NewHash: newHash}))
}

// SetUserActive activates or deactivates a user.
func (p *Postgres) SetUserActive(ctx context.Context, userID int64, active bool) error {
	return pgError(p.q.SetUserActive(ctx, pgdb.SetUserActiveParams{ID: userID, IsActive: active}))
}

// DeleteUser deletes a user and, by cascade, their sessions.
func (p *Postgres) DeleteUser(ctx context.Context, userID int64) error {
	return pgError(p.q.DeleteUser(ctx, userID))
}

// ImportUsers inserts users with their ids in one transaction.
func (p *Postgres) ImportUsers(ctx context.Context, users []NewUser) (ImportResult, error) {
	var res ImportResult
	err := p.inTx(ctx, func(q *pgdb.Queries) error {
		for _, u := range users {
			existing, err := q.GetUserByID(ctx, u.ID)
			switch {
			case err == nil:
				if !sameEmail(existing.Email, u.Email) {
					return fmt.Errorf("%w: user %d exists with another email", ErrConflict, u.ID)
				}
				res.Unchanged++
				continue
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
			err = q.ImportUser(ctx, pgdb.ImportUserParams{
				ID:           u.ID,
				Email:        u.Email,
				PasswordHash: u.PasswordHash,
				IsActive:     u.IsActive,
				IsStaff:      u.IsStaff,
				IsSuperuser:  u.IsSuperuser,
				DateJoined:   u.DateJoined,
				LastLogin:    u.LastLogin,
			})
			if err != nil {
				return fmt.Errorf("user %d: %w", u.ID, pgError(err))
			}
			res.Created++
		}
		return q.SyncUserIDSequence(ctx)
	})
	if err != nil {
		return ImportResult{}, pgError(err)
	}
	return res, nil
}

// CreateSession stores a session and its first refresh token.
func (p *Postgres) CreateSession(ctx context.Context, s Session, first RefreshToken) error {
	return pgError(p.inTx(ctx, func(q *pgdb.Queries) error {
		err := q.CreateSession(ctx, pgdb.CreateSessionParams{ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt})
		if err != nil {
			return err
		}
		return q.InsertRefreshToken(ctx, pgdb.InsertRefreshTokenParams{
			TokenHash: first.Hash, SessionID: s.ID, IssuedAt: first.IssuedAt, ExpiresAt: first.ExpiresAt,
		})
	}))
}

// Session finds a session by id.
func (p *Postgres) Session(ctx context.Context, id string) (Session, error) {
	row, err := p.q.GetSession(ctx, id)
	if err != nil {
		return Session{}, pgError(err)
	}
	return pgSession(row), nil
}

// RefreshToken finds a stored refresh token by its hash.
func (p *Postgres) RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error) {
	row, err := p.q.GetRefreshToken(ctx, hash)
	if err != nil {
		return RefreshToken{}, pgError(err)
	}
	return pgRefreshToken(row), nil
}

// RotateRefreshToken applies a rotation under a row lock on the session, so
// concurrent refreshes of one session, from any process, run one at a time.
func (p *Postgres) RotateRefreshToken(ctx context.Context, r Rotation) error {
	var reused bool
	err := p.inTx(ctx, func(q *pgdb.Queries) error {
		sess, err := q.LockSession(ctx, r.SessionID)
		if err != nil {
			return err
		}
		tok, err := q.GetRefreshToken(ctx, r.OldHash)
		if err != nil {
			return err
		}
		step, err := decideRotation(r, pgSession(sess), pgRefreshToken(tok))
		if err != nil {
			return err
		}
		switch step {
		case stepRevoke:
			reused = true
			return q.RevokeSession(ctx, pgdb.RevokeSessionParams{ID: r.SessionID, RevokedAt: r.Now, Reason: ReasonReuse})
		case stepRetireAndAdd:
			if err := q.RetireRefreshToken(ctx, pgdb.RetireRefreshTokenParams{TokenHash: r.OldHash, RetiredAt: r.Now}); err != nil {
				return err
			}
		}
		err = q.InsertRefreshToken(ctx, pgdb.InsertRefreshTokenParams{
			TokenHash: r.Next.Hash, SessionID: r.SessionID, IssuedAt: r.Next.IssuedAt, ExpiresAt: r.Next.ExpiresAt,
		})
		if err != nil {
			return err
		}
		return q.ExtendSession(ctx, pgdb.ExtendSessionParams{ID: r.SessionID, ExpiresAt: r.Next.ExpiresAt})
	})
	if err != nil {
		return pgError(err)
	}
	if reused {
		return ErrTokenReused
	}
	return nil
}

// RevokeSession revokes one session.
func (p *Postgres) RevokeSession(ctx context.Context, id, reason string, at time.Time) error {
	return pgError(p.q.RevokeSession(ctx, pgdb.RevokeSessionParams{ID: id, RevokedAt: at, Reason: reason}))
}

// RevokeUserSessions revokes every live session of a user.
func (p *Postgres) RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error) {
	n, err := p.q.RevokeUserSessions(ctx, pgdb.RevokeUserSessionsParams{UserID: userID, RevokedAt: at, Reason: reason})
	return n, pgError(err)
}

// DeleteExpired removes one batch of expired sessions and refresh tokens.
func (p *Postgres) DeleteExpired(ctx context.Context, before time.Time, batch int) (int64, error) {
	tokens, err := p.q.DeleteExpiredRefreshTokens(ctx, pgdb.DeleteExpiredRefreshTokensParams{Before: before, BatchSize: int32(batch)})
	if err != nil {
		return 0, pgError(err)
	}
	sessions, err := p.q.DeleteExpiredSessions(ctx, pgdb.DeleteExpiredSessionsParams{Before: before, BatchSize: int32(batch)})
	return tokens + sessions, pgError(err)
}
