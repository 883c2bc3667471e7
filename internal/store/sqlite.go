package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ecommerce/auth-service/gen/sqlitedb"
	sqlfiles "github.com/ecommerce/auth-service/sql"
)

// SQLite is the embedded store: one database file, no server. Writers are
// serialized by BEGIN IMMEDIATE transactions and a busy timeout.
type SQLite struct {
	db *sql.DB
	q  *sqlitedb.Queries
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the database file at path.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	params := url.Values{}
	params.Add("_pragma", "busy_timeout(10000)")
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "foreign_keys(1)")
	params.Add("_pragma", "synchronous(NORMAL)")
	params.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	return &SQLite{db: db, q: sqlitedb.New(db)}, nil
}

// Migrate applies the embedded SQLite migrations.
func (s *SQLite) Migrate(ctx context.Context) error {
	migrations, err := fs.Sub(sqlfiles.SQLiteMigrations, "sqlite/migrations")
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectSQLite3, s.db, migrations)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *SQLite) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// sqliteError translates driver errors into the package's sentinel errors.
func sqliteError(err error) error {
	var sqliteErr *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case errors.As(err, &sqliteErr) && (sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return fmt.Errorf("%w: %s", ErrConflict, sqliteErr.Error())
	}
	return err
}

func (s *SQLite) inTx(ctx context.Context, fn func(q *sqlitedb.Queries) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(s.q.WithTx(tx)); err != nil {
		return err
	}
	return tx.Commit()
}

// micros and fromMicros convert between time.Time and the stored Unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func optMicros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := micros(*t)
	return &v
}

func optFromMicros(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMicros(*v)
	return &t
}

func sqliteUser(u sqlitedb.User) User {
	return User{
		ID:           u.ID,
		Email:        u.Email,
		PasswordHash: u.PasswordHash,
		IsActive:     u.IsActive,
		IsStaff:      u.IsStaff,
		IsSuperuser:  u.IsSuperuser,
		DateJoined:   fromMicros(u.DateJoined),
		LastLogin:    optFromMicros(u.LastLogin),
	}
}

func sqliteSession(s sqlitedb.Session) Session {
	out := Session{
		ID: s.ID, UserID: s.UserID, CreatedAt: fromMicros(s.CreatedAt), ExpiresAt: fromMicros(s.ExpiresAt),
		RevokedAt: optFromMicros(s.RevokedAt),
	}
	if s.RevokedReason != nil {
		out.RevokedReason = *s.RevokedReason
	}
	return out
}

func sqliteRefreshToken(t sqlitedb.RefreshToken) RefreshToken {
	return RefreshToken{
		Hash: t.TokenHash, SessionID: t.SessionID, IssuedAt: fromMicros(t.IssuedAt), ExpiresAt: fromMicros(t.ExpiresAt),
		RetiredAt: optFromMicros(t.RetiredAt),
	}
}

// CreateUser inserts a user with a new id.
func (s *SQLite) CreateUser(ctx context.Context, u NewUser) (User, error) {
	row, err := s.q.CreateUser(ctx, sqlitedb.CreateUserParams{
		Email:        u.Email,
		PasswordHash: u.PasswordHash,
		IsActive:     u.IsActive,
		IsStaff:      u.IsStaff,
		IsSuperuser:  u.IsSuperuser,
		DateJoined:   micros(u.DateJoined),
	})
	if err != nil {
		return User{}, sqliteError(err)
	}
	return sqliteUser(row), nil
}

// UserByEmail finds a user by email, ignoring (ASCII) case.
func (s *SQLite) UserByEmail(ctx context.Context, email string) (User, error) {
	row, err := s.q.GetUserByEmail(ctx, email)
	if err != nil {
		return User{}, sqliteError(err)
	}
	return sqliteUser(row), nil
}

// UserByID finds a user by id.
func (s *SQLite) UserByID(ctx context.Context, id int64) (User, error) {
	row, err := s.q.GetUserByID(ctx, id)
	if err != nil {
		return User{}, sqliteError(err)
	}
	return sqliteUser(row), nil
}

// RecordLogin sets the user's last_login.
func (s *SQLite) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	return sqliteError(s.q.RecordLogin(ctx, sqlitedb.RecordLoginParams{ID: userID, LastLogin: micros(at)}))
}

// ReplacePasswordHash swaps oldHash for newHash if it is still oldHash.
func (s *SQLite) ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error {
	return sqliteError(s.q.ReplacePasswordHash(ctx, sqlitedb.ReplacePasswordHashParams{ID: userID, OldHash: oldHash, NewHash: newHash}))
}

// SetUserActive activates or deactivates a user.
func (s *SQLite) SetUserActive(ctx context.Context, userID int64, active bool) error {
	return sqliteError(s.q.SetUserActive(ctx, sqlitedb.SetUserActiveParams{ID: userID, IsActive: active}))
}

// DeleteUser deletes a user and, by cascade, their sessions.
func (s *SQLite) DeleteUser(ctx context.Context, userID int64) error {
	return sqliteError(s.q.DeleteUser(ctx, userID))
}

// ImportUsers inserts users with their ids in one transaction.
func (s *SQLite) ImportUsers(ctx context.Context, users []NewUser) (ImportResult, error) {
	var res ImportResult
	err := s.inTx(ctx, func(q *sqlitedb.Queries) error {
		for _, u := range users {
			existing, err := q.GetUserByID(ctx, u.ID)
			switch {
			case err == nil:
				if !sameEmail(existing.Email, u.Email) {
					return fmt.Errorf("%w: user %d exists with another email", ErrConflict, u.ID)
				}
				res.Unchanged++
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			err = q.ImportUser(ctx, sqlitedb.ImportUserParams{
				ID:           u.ID,
				Email:        u.Email,
				PasswordHash: u.PasswordHash,
				IsActive:     u.IsActive,
				IsStaff:      u.IsStaff,
				IsSuperuser:  u.IsSuperuser,
				DateJoined:   micros(u.DateJoined),
				LastLogin:    optMicros(u.LastLogin),
			})
			if err != nil {
				return fmt.Errorf("user %d: %w", u.ID, sqliteError(err))
			}
			res.Created++
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, sqliteError(err)
	}
	return res, nil
}

// CreateSession stores a session and its first refresh token.
func (s *SQLite) CreateSession(ctx context.Context, sess Session, first RefreshToken) error {
	return sqliteError(s.inTx(ctx, func(q *sqlitedb.Queries) error {
		err := q.CreateSession(ctx, sqlitedb.CreateSessionParams{
			ID: sess.ID, UserID: sess.UserID, CreatedAt: micros(sess.CreatedAt), ExpiresAt: micros(sess.ExpiresAt),
		})
		if err != nil {
			return err
		}
		return q.InsertRefreshToken(ctx, sqlitedb.InsertRefreshTokenParams{
			TokenHash: first.Hash, SessionID: sess.ID, IssuedAt: micros(first.IssuedAt), ExpiresAt: micros(first.ExpiresAt),
		})
	}))
}

// Session finds a session by id.
func (s *SQLite) Session(ctx context.Context, id string) (Session, error) {
	row, err := s.q.GetSession(ctx, id)
	if err != nil {
		return Session{}, sqliteError(err)
	}
	return sqliteSession(row), nil
}

// RefreshToken finds a stored refresh token by its hash.
func (s *SQLite) RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error) {
	row, err := s.q.GetRefreshToken(ctx, hash)
	if err != nil {
		return RefreshToken{}, sqliteError(err)
	}
	return sqliteRefreshToken(row), nil
}

// RotateRefreshToken applies a rotation in a BEGIN IMMEDIATE transaction,
// which holds SQLite's write lock from the first read.
func (s *SQLite) RotateRefreshToken(ctx context.Context, r Rotation) error {
	var reused bool
	err := s.inTx(ctx, func(q *sqlitedb.Queries) error {
		sess, err := q.LockSession(ctx, r.SessionID)
		if err != nil {
			return err
		}
		tok, err := q.GetRefreshToken(ctx, r.OldHash)
		if err != nil {
			return err
		}
		step, err := decideRotation(r, sqliteSession(sess), sqliteRefreshToken(tok))
		if err != nil {
			return err
		}
		switch step {
		case stepRevoke:
			reused = true
			return q.RevokeSession(ctx, sqlitedb.RevokeSessionParams{ID: r.SessionID, RevokedAt: micros(r.Now), Reason: ReasonReuse})
		case stepRetireAndAdd:
			if err := q.RetireRefreshToken(ctx, sqlitedb.RetireRefreshTokenParams{TokenHash: r.OldHash, RetiredAt: micros(r.Now)}); err != nil {
				return err
			}
		}
		err = q.InsertRefreshToken(ctx, sqlitedb.InsertRefreshTokenParams{
			TokenHash: r.Next.Hash, SessionID: r.SessionID, IssuedAt: micros(r.Next.IssuedAt), ExpiresAt: micros(r.Next.ExpiresAt),
		})
		if err != nil {
			return err
		}
		return q.ExtendSession(ctx, sqlitedb.ExtendSessionParams{ID: r.SessionID, ExpiresAt: micros(r.Next.ExpiresAt)})
	})
	if err != nil {
		return sqliteError(err)
	}
	if reused {
		return ErrTokenReused
	}
	return nil
}

// RevokeSession revokes one session.
func (s *SQLite) RevokeSession(ctx context.Context, id, reason string, at time.Time) error {
	return sqliteError(s.q.RevokeSession(ctx, sqlitedb.RevokeSessionParams{ID: id, RevokedAt: micros(at), Reason: reason}))
}

// RevokeUserSessions revokes every live session of a user.
func (s *SQLite) RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error) {
	n, err := s.q.RevokeUserSessions(ctx, sqlitedb.RevokeUserSessionsParams{UserID: userID, RevokedAt: micros(at), Reason: reason})
	return n, sqliteError(err)
}

// DeleteExpired removes one batch of expired sessions and refresh tokens.
func (s *SQLite) DeleteExpired(ctx context.Context, before time.Time, batch int) (int64, error) {
	tokens, err := s.q.DeleteExpiredRefreshTokens(ctx, sqlitedb.DeleteExpiredRefreshTokensParams{Before: micros(before), BatchSize: int64(batch)})
	if err != nil {
		return 0, sqliteError(err)
	}
	sessions, err := s.q.DeleteExpiredSessions(ctx, sqlitedb.DeleteExpiredSessionsParams{Before: micros(before), BatchSize: int64(batch)})
	return tokens + sessions, sqliteError(err)
}
