package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
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
	sqlStore
	db *sql.DB
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the database file at path.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	params := url.Values{}
	params.Add("_pragma", "busy_timeout(10000)")
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "foreign_keys(1)")
	params.Add("_pragma", "synchronous(NORMAL)")
	// SQLite has no SELECT ... FOR UPDATE: taking the write lock when the
	// transaction begins is what serializes concurrent rotations.
	params.Set("_txlock", "immediate")
	// The file holds password hashes: create it readable by the owner only
	// (SQLite gives its -wal and -shm files the same mode).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	f.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	s := &SQLite{db: db}
	s.sqlStore = sqlStore{q: sqliteQueries{sqlitedb.New(db)}, inTx: s.inTx}
	return s, nil
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

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// inTx runs fn in a BEGIN IMMEDIATE transaction, committing only if it returns nil.
func (s *SQLite) inTx(ctx context.Context, fn func(q queries) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sqliteError(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(sqliteQueries{sqlitedb.New(tx)}); err != nil {
		return err
	}
	return sqliteError(tx.Commit())
}

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

func sqliteUser(u sqlitedb.User, err error) (User, error) {
	if err != nil {
		return User{}, sqliteError(err)
	}
	return User{
		ID:           u.ID,
		Email:        u.Email,
		PasswordHash: u.PasswordHash,
		IsActive:     u.IsActive,
		IsStaff:      u.IsStaff,
		IsSuperuser:  u.IsSuperuser,
		DateJoined:   fromMicros(u.DateJoined),
		LastLogin:    optFromMicros(u.LastLogin),
	}, nil
}

func sqliteSession(s sqlitedb.Session, err error) (Session, error) {
	if err != nil {
		return Session{}, sqliteError(err)
	}
	out := Session{
		ID: s.ID, UserID: s.UserID, CreatedAt: fromMicros(s.CreatedAt), ExpiresAt: fromMicros(s.ExpiresAt),
		RevokedAt: optFromMicros(s.RevokedAt),
	}
	if s.RevokedReason != nil {
		out.RevokedReason = *s.RevokedReason
	}
	return out, nil
}

// sqliteQueries adapts the generated SQLite queries to the store's types.
type sqliteQueries struct{ q *sqlitedb.Queries }

func (a sqliteQueries) createUser(ctx context.Context, u NewUser) (User, error) {
	return sqliteUser(a.q.CreateUser(ctx, sqlitedb.CreateUserParams{
		Email: u.Email, PasswordHash: u.PasswordHash, IsActive: u.IsActive, IsStaff: u.IsStaff,
		IsSuperuser: u.IsSuperuser, DateJoined: micros(u.DateJoined),
	}))
}

func (a sqliteQueries) importUser(ctx context.Context, u NewUser) error {
	return sqliteError(a.q.ImportUser(ctx, sqlitedb.ImportUserParams{
		ID: u.ID, Email: u.Email, PasswordHash: u.PasswordHash, IsActive: u.IsActive, IsStaff: u.IsStaff,
		IsSuperuser: u.IsSuperuser, DateJoined: micros(u.DateJoined), LastLogin: optMicros(u.LastLogin),
	}))
}

// syncUserIDSequence is a no-op: AUTOINCREMENT follows inserted ids itself.
func (a sqliteQueries) syncUserIDSequence(context.Context) error { return nil }

func (a sqliteQueries) userByEmail(ctx context.Context, email string) (User, error) {
	return sqliteUser(a.q.GetUserByEmail(ctx, email))
}

func (a sqliteQueries) userByID(ctx context.Context, id int64) (User, error) {
	return sqliteUser(a.q.GetUserByID(ctx, id))
}

func (a sqliteQueries) recordLogin(ctx context.Context, userID int64, at time.Time) error {
	return sqliteError(a.q.RecordLogin(ctx, sqlitedb.RecordLoginParams{ID: userID, LastLogin: micros(at)}))
}

func (a sqliteQueries) replacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error {
	return sqliteError(a.q.ReplacePasswordHash(ctx, sqlitedb.ReplacePasswordHashParams{ID: userID, OldHash: oldHash, NewHash: newHash}))
}

func (a sqliteQueries) setUserActive(ctx context.Context, userID int64, active bool) error {
	return sqliteError(a.q.SetUserActive(ctx, sqlitedb.SetUserActiveParams{ID: userID, IsActive: active}))
}

func (a sqliteQueries) deleteUser(ctx context.Context, userID int64) error {
	return sqliteError(a.q.DeleteUser(ctx, userID))
}

func (a sqliteQueries) createSession(ctx context.Context, s Session) error {
	return sqliteError(a.q.CreateSession(ctx, sqlitedb.CreateSessionParams{
		ID: s.ID, UserID: s.UserID, CreatedAt: micros(s.CreatedAt), ExpiresAt: micros(s.ExpiresAt),
	}))
}

func (a sqliteQueries) session(ctx context.Context, id string) (Session, error) {
	return sqliteSession(a.q.GetSession(ctx, id))
}

func (a sqliteQueries) sessionUser(ctx context.Context, id string) (Session, User, error) {
	row, err := a.q.GetSessionUser(ctx, id)
	if err != nil {
		return Session{}, User{}, sqliteError(err)
	}
	sess, _ := sqliteSession(row.Session, nil)
	user, _ := sqliteUser(row.User, nil)
	return sess, user, nil
}

// lockSession only reads: the transaction already holds SQLite's write lock.
func (a sqliteQueries) lockSession(ctx context.Context, id string) (Session, error) {
	return sqliteSession(a.q.LockSession(ctx, id))
}

func (a sqliteQueries) extendSession(ctx context.Context, id string, until time.Time) error {
	return sqliteError(a.q.ExtendSession(ctx, sqlitedb.ExtendSessionParams{ID: id, ExpiresAt: micros(until)}))
}

func (a sqliteQueries) revokeSession(ctx context.Context, id, reason string, at time.Time) error {
	return sqliteError(a.q.RevokeSession(ctx, sqlitedb.RevokeSessionParams{ID: id, RevokedAt: micros(at), Reason: reason}))
}

func (a sqliteQueries) revokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error) {
	n, err := a.q.RevokeUserSessions(ctx, sqlitedb.RevokeUserSessionsParams{UserID: userID, RevokedAt: micros(at), Reason: reason})
	return n, sqliteError(err)
}

func (a sqliteQueries) deleteExpiredSessions(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredSessions(ctx, sqlitedb.DeleteExpiredSessionsParams{Before: micros(before), BatchSize: int64(batch)})
	return n, sqliteError(err)
}

func (a sqliteQueries) insertRefreshToken(ctx context.Context, t RefreshToken) error {
	return sqliteError(a.q.InsertRefreshToken(ctx, sqlitedb.InsertRefreshTokenParams{
		TokenHash: t.Hash, SessionID: t.SessionID, IssuedAt: micros(t.IssuedAt), ExpiresAt: micros(t.ExpiresAt),
	}))
}

func (a sqliteQueries) refreshToken(ctx context.Context, hash []byte) (RefreshToken, error) {
	t, err := a.q.GetRefreshToken(ctx, hash)
	if err != nil {
		return RefreshToken{}, sqliteError(err)
	}
	return RefreshToken{
		Hash: t.TokenHash, SessionID: t.SessionID, IssuedAt: fromMicros(t.IssuedAt), ExpiresAt: fromMicros(t.ExpiresAt),
		RetiredAt: optFromMicros(t.RetiredAt), Successor: t.Successor,
	}, nil
}

func (a sqliteQueries) retireRefreshToken(ctx context.Context, hash []byte, at time.Time, successor []byte) error {
	return sqliteError(a.q.RetireRefreshToken(ctx, sqlitedb.RetireRefreshTokenParams{TokenHash: hash, RetiredAt: micros(at), Successor: successor}))
}

func (a sqliteQueries) deleteExpiredRefreshTokens(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredRefreshTokens(ctx, sqlitedb.DeleteExpiredRefreshTokensParams{Before: micros(before), BatchSize: int64(batch)})
	return n, sqliteError(err)
}
