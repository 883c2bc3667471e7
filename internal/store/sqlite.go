package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ecommerce/auth-service/gen/sqlitedb"
	"github.com/ecommerce/auth-service/internal/auth"
	sqlfiles "github.com/ecommerce/auth-service/sql"
)

// SQLite is the embedded store: one database file, no server. Writers are
// serialized by BEGIN IMMEDIATE transactions and a busy timeout.
type SQLite struct {
	sqliteTx // queries outside any transaction
	db       *sql.DB
}

// OpenSQLite opens (creating if needed) the database file at path.
func OpenSQLite(ctx context.Context, path string, opts ...Option) (*SQLite, error) {
	o := collect(opts)
	params := url.Values{}
	// A writer waits this long for another; past it, ErrUnavailable.
	params.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", max(o.statementTimeout.Milliseconds(), 1)))
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
	// The name is a URI: a '#' or '?' in the path (a test named "x#01")
	// would end it, dropping the parameters and opening another file.
	name := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite", "file:"+name+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	return &SQLite{sqliteTx: sqliteTx{sqlitedb.New(db)}, db: db}, nil
}

// Migrate applies the embedded SQLite migrations.
func (s *SQLite) Migrate(ctx context.Context) error {
	files, err := fs.Sub(sqlfiles.SQLiteMigrations, "sqlite/migrations")
	if err != nil {
		return err
	}
	return migrate(ctx, goose.DialectSQLite3, s.db, files)
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// Ping checks that the database file answers.
func (s *SQLite) Ping(ctx context.Context) error { return sqliteError(s.db.PingContext(ctx)) }

// InTx runs fn in a BEGIN IMMEDIATE transaction, committing only if it returns nil.
func (s *SQLite) InTx(ctx context.Context, fn func(tx auth.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sqliteError(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(sqliteTx{sqlitedb.New(tx)}); err != nil {
		return err
	}
	return sqliteError(tx.Commit())
}

// sqliteError translates driver errors into the domain's store errors.
func sqliteError(err error) error {
	var sqliteErr *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return auth.ErrNotFound
	case errors.As(err, &sqliteErr) && (sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY):
		return fmt.Errorf("%w: %s", auth.ErrConflict, sqliteErr.Error())
	case errors.As(err, &sqliteErr) && sqliteUnavailable(sqliteErr.Code()&0xff),
		errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", auth.ErrUnavailable, err)
	}
	return err
}

// sqliteUnavailable reports whether a primary result code means the database
// could not serve the statement now: another writer held it past the busy
// timeout, or the file could not be read, written or grown.
func sqliteUnavailable(code int) bool {
	switch code {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
		return true
	}
	return false
}

// Times are stored as Unix microseconds (see sql/sqlite/migrations/00001).
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

func sqliteUser(u sqlitedb.User, err error) (auth.User, error) {
	if err != nil {
		return auth.User{}, sqliteError(err)
	}
	return auth.User{
		ID: u.ID, Email: u.Email, PasswordHash: u.PasswordHash,
		IsActive: u.IsActive, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser,
		DateJoined: fromMicros(u.DateJoined), LastLogin: optFromMicros(u.LastLogin), EmailVerifiedAt: optFromMicros(u.EmailVerifiedAt),
	}, nil
}

func sqliteSession(s sqlitedb.Session, err error) (auth.Session, error) {
	if err != nil {
		return auth.Session{}, sqliteError(err)
	}
	out := auth.Session{
		ID: s.ID, UserID: s.UserID, CreatedAt: fromMicros(s.CreatedAt), ExpiresAt: fromMicros(s.ExpiresAt),
		RevokedAt:       optFromMicros(s.RevokedAt),
		CreatedBy:       auth.Client{Address: s.CreatedAddress, UserAgent: s.CreatedUserAgent},
		RefreshedAt:     optFromMicros(s.RefreshedAt),
		RefreshedBy:     auth.Client{Address: s.RefreshedAddress, UserAgent: s.RefreshedUserAgent},
		TokenGeneration: int(s.TokenGeneration),
	}
	if s.RevokedReason != nil {
		out.RevokedReason = *s.RevokedReason
	}
	return out, nil
}

// sqliteTx implements auth.Tx over the generated SQLite queries, on the
// database or in a transaction.
type sqliteTx struct{ q *sqlitedb.Queries }

func (a sqliteTx) CreateUser(ctx context.Context, u auth.User) (auth.User, error) {
	return sqliteUser(a.q.CreateUser(ctx, sqlitedb.CreateUserParams{
		Email: u.Email, EmailKey: auth.EmailKey(u.Email), PasswordHash: u.PasswordHash,
		IsActive: u.IsActive, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser, DateJoined: micros(u.DateJoined),
		EmailVerifiedAt: optMicros(u.EmailVerifiedAt),
	}))
}

func (a sqliteTx) ImportUser(ctx context.Context, u auth.User) error {
	return sqliteError(a.q.ImportUser(ctx, sqlitedb.ImportUserParams{
		ID: u.ID, Email: u.Email, EmailKey: auth.EmailKey(u.Email), PasswordHash: u.PasswordHash,
		IsActive: u.IsActive, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser,
		DateJoined: micros(u.DateJoined), LastLogin: optMicros(u.LastLogin), EmailVerifiedAt: optMicros(u.EmailVerifiedAt),
	}))
}

// SyncUserIDs has nothing to do: AUTOINCREMENT follows inserted ids itself,
// and never hands out a deleted user's id again.
func (a sqliteTx) SyncUserIDs(context.Context) error { return nil }

func (a sqliteTx) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	return sqliteUser(a.q.GetUserByEmailKey(ctx, auth.EmailKey(email)))
}

func (a sqliteTx) UserByID(ctx context.Context, id int64) (auth.User, error) {
	return sqliteUser(a.q.GetUserByID(ctx, id))
}

func (a sqliteTx) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	return sqliteError(a.q.RecordLogin(ctx, sqlitedb.RecordLoginParams{ID: userID, LastLogin: micros(at)}))
}

func (a sqliteTx) ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) (bool, error) {
	n, err := a.q.ReplacePasswordHash(ctx, sqlitedb.ReplacePasswordHashParams{ID: userID, OldHash: oldHash, NewHash: newHash})
	return n > 0, sqliteError(err)
}

func (a sqliteTx) CreateSession(ctx context.Context, s auth.Session) error {
	return sqliteError(a.q.CreateSession(ctx, sqlitedb.CreateSessionParams{
		ID: s.ID, UserID: s.UserID, CreatedAt: micros(s.CreatedAt), ExpiresAt: micros(s.ExpiresAt),
		CreatedAddress: s.CreatedBy.Address, CreatedUserAgent: s.CreatedBy.UserAgent,
	}))
}

func (a sqliteTx) SessionUser(ctx context.Context, id string) (auth.Session, auth.User, error) {
	row, err := a.q.GetSessionUser(ctx, id)
	if err != nil {
		return auth.Session{}, auth.User{}, sqliteError(err)
	}
	sess, _ := sqliteSession(row.Session, nil)
	user, _ := sqliteUser(row.User, nil)
	return sess, user, nil
}

// LockSession only reads: the transaction already holds SQLite's write lock.
func (a sqliteTx) LockSession(ctx context.Context, id string) (auth.Session, error) {
	return sqliteSession(a.q.LockSession(ctx, id))
}

// LockRotation only reads: the transaction already holds SQLite's write
// lock.
func (a sqliteTx) LockRotation(ctx context.Context, sessionID string, tokenHash []byte) (auth.RotationState, error) {
	row, err := a.q.LockRotation(ctx, sqlitedb.LockRotationParams{ID: sessionID, TokenHash: tokenHash})
	if err != nil {
		return auth.RotationState{}, sqliteError(err)
	}
	sess, _ := sqliteSession(row.Session, nil)
	user, _ := sqliteUser(row.User, nil)
	state := auth.RotationState{Session: sess, User: user}
	if row.Roles != "" {
		state.Roles = strings.Split(row.Roles, ",") // role names have no commas
		slices.Sort(state.Roles)
	}
	if row.TokenHash != nil {
		state.Token = &auth.StoredRefreshToken{
			Hash: row.TokenHash, SessionID: *row.TokenSessionID, IssuedAt: fromMicros(*row.TokenIssuedAt),
			ExpiresAt: fromMicros(*row.TokenExpiresAt), RetiredAt: optFromMicros(row.TokenRetiredAt), Successor: row.TokenSuccessor,
			ExposedAt: optFromMicros(row.TokenExposedAt),
		}
	}
	return state, nil
}

// RecordRotation is three statements: SQLite has no data-modifying CTEs,
// and in process they cost no round trip.
func (a sqliteTx) RecordRotation(ctx context.Context, r auth.RotationWrite) error {
	err := a.q.RetireRefreshToken(ctx, sqlitedb.RetireRefreshTokenParams{TokenHash: r.OldHash, RetiredAt: micros(r.At), Successor: r.Successor})
	if err == nil {
		err = a.InsertRefreshToken(ctx, r.Next)
	}
	if err == nil {
		err = a.ExtendSession(ctx, r.Next.SessionID, r.Next.ExpiresAt, r.At, r.By)
	}
	return sqliteError(err)
}

func (a sqliteTx) ExtendSession(ctx context.Context, id string, until, at time.Time, by auth.Client) error {
	return sqliteError(a.q.ExtendSession(ctx, sqlitedb.ExtendSessionParams{
		ID: id, ExpiresAt: micros(until), RefreshedAt: micros(at), RefreshedAddress: by.Address, RefreshedUserAgent: by.UserAgent,
	}))
}

func (a sqliteTx) BumpSessionGeneration(ctx context.Context, id string) (int, error) {
	gen, err := a.q.BumpSessionGeneration(ctx, id)
	return int(gen), sqliteError(err)
}

func (a sqliteTx) ListUserSessions(ctx context.Context, userID int64, now time.Time, limit int) ([]auth.Session, error) {
	rows, err := a.q.ListUserSessions(ctx, sqlitedb.ListUserSessionsParams{UserID: userID, Now: micros(now), MaxRows: int64(limit)})
	if err != nil {
		return nil, sqliteError(err)
	}
	out := make([]auth.Session, len(rows))
	for i, r := range rows {
		out[i], _ = sqliteSession(r, nil)
	}
	return out, nil
}

func (a sqliteTx) RevokeUserSession(ctx context.Context, userID int64, id, reason string, at time.Time) (bool, error) {
	n, err := a.q.RevokeUserSession(ctx, sqlitedb.RevokeUserSessionParams{UserID: userID, ID: id, Reason: reason, RevokedAt: micros(at)})
	return n > 0, sqliteError(err)
}

func (a sqliteTx) RevokeSession(ctx context.Context, id, reason string, at time.Time) error {
	return sqliteError(a.q.RevokeSession(ctx, sqlitedb.RevokeSessionParams{ID: id, RevokedAt: micros(at), Reason: reason}))
}

func (a sqliteTx) RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error) {
	n, err := a.q.RevokeUserSessions(ctx, sqlitedb.RevokeUserSessionsParams{UserID: userID, RevokedAt: micros(at), Reason: reason})
	return n, sqliteError(err)
}

func (a sqliteTx) DeleteExpiredSessions(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredSessions(ctx, sqlitedb.DeleteExpiredSessionsParams{Before: micros(before), BatchSize: int64(batch)})
	return n, sqliteError(err)
}

func (a sqliteTx) InsertRefreshToken(ctx context.Context, t auth.StoredRefreshToken) error {
	return sqliteError(a.q.InsertRefreshToken(ctx, sqlitedb.InsertRefreshTokenParams{
		TokenHash: t.Hash, SessionID: t.SessionID, IssuedAt: micros(t.IssuedAt), ExpiresAt: micros(t.ExpiresAt),
	}))
}

func (a sqliteTx) StoredRefreshToken(ctx context.Context, hash []byte) (auth.StoredRefreshToken, error) {
	t, err := a.q.GetStoredRefreshToken(ctx, hash)
	if err != nil {
		return auth.StoredRefreshToken{}, sqliteError(err)
	}
	return auth.StoredRefreshToken{
		Hash: t.TokenHash, SessionID: t.SessionID, IssuedAt: fromMicros(t.IssuedAt), ExpiresAt: fromMicros(t.ExpiresAt),
		RetiredAt: optFromMicros(t.RetiredAt), Successor: t.Successor, ExposedAt: optFromMicros(t.ExposedAt),
	}, nil
}

func (a sqliteTx) ExposeRefreshToken(ctx context.Context, hash []byte, at time.Time) error {
	return sqliteError(a.q.ExposeRefreshToken(ctx, sqlitedb.ExposeRefreshTokenParams{TokenHash: hash, ExposedAt: micros(at)}))
}

func (a sqliteTx) DeleteExpiredRefreshTokens(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredRefreshTokens(ctx, sqlitedb.DeleteExpiredRefreshTokensParams{Before: micros(before), BatchSize: int64(batch)})
	return n, sqliteError(err)
}

func (a sqliteTx) RecordEvent(ctx context.Context, e auth.SecurityEvent) error {
	return sqliteError(a.q.InsertSecurityEvent(ctx, sqlitedb.InsertSecurityEventParams{
		OccurredAt: micros(e.At), Kind: string(e.Kind), UserID: optID(e.UserID), SessionID: e.SessionID,
		RequestID: e.Client.RequestID, ClientAddress: e.Client.Address, UserAgent: e.Client.UserAgent,
		Email: e.Email, EmailKey: eventEmailKey(e.Email), Detail: e.Detail,
	}))
}

func (a sqliteTx) SecurityEvents(ctx context.Context, q auth.EventQuery) ([]auth.SecurityEvent, error) {
	rows, err := a.q.ListSecurityEvents(ctx, sqlitedb.ListSecurityEventsParams{
		Since: micros(q.Since), EmailKey: eventEmailKey(q.Email), MaxRows: int64(q.Limit),
	})
	if err != nil {
		return nil, sqliteError(err)
	}
	out := make([]auth.SecurityEvent, len(rows))
	for i, r := range rows {
		out[i] = auth.SecurityEvent{
			ID: r.ID, At: fromMicros(r.OccurredAt), Kind: auth.EventKind(r.Kind), UserID: fromOptID(r.UserID), SessionID: r.SessionID,
			Client: auth.Client{Address: r.ClientAddress, UserAgent: r.UserAgent, RequestID: r.RequestID},
			Email:  r.Email, Detail: r.Detail, UserEmail: r.UserEmail,
		}
	}
	return out, nil
}

func (a sqliteTx) ThrottleCounters(ctx context.Context, keys [][]byte) ([]auth.ThrottleCounter, error) {
	rows, err := a.q.GetThrottleCounters(ctx, keys)
	if err != nil {
		return nil, sqliteError(err)
	}
	out := make([]auth.ThrottleCounter, len(rows))
	for i, r := range rows {
		out[i] = sqliteCounter(r)
	}
	return out, nil
}

func (a sqliteTx) DeleteEventsBefore(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteSecurityEventsBefore(ctx, sqlitedb.DeleteSecurityEventsBeforeParams{Before: micros(before), BatchSize: int64(batch)})
	return n, sqliteError(err)
}

// LockThrottleCounters upserts each counter; the BEGIN IMMEDIATE transaction
// it runs in already excludes every other writer.
func (a sqliteTx) LockThrottleCounters(ctx context.Context, keys [][]byte, resetAt time.Time) ([]auth.ThrottleCounter, error) {
	out := make([]auth.ThrottleCounter, 0, len(keys))
	for _, k := range keys {
		r, err := a.q.LockThrottleCounter(ctx, sqlitedb.LockThrottleCounterParams{Key: k, Zero: micros(time.Time{}), ResetAt: micros(resetAt)})
		if err != nil {
			return nil, sqliteError(err)
		}
		out = append(out, sqliteCounter(r))
	}
	return out, nil
}

func (a sqliteTx) PutThrottleCounters(ctx context.Context, counters []auth.ThrottleCounter) error {
	for _, c := range counters {
		err := a.q.PutThrottleCounter(ctx, sqlitedb.PutThrottleCounterParams{
			Key: c.Key, Failures: int64(c.Failures), InFlight: int64(c.InFlight), InFlightUntil: micros(c.InFlightUntil),
			LockedUntil: micros(c.LockedUntil), FamiliarUntil: micros(c.FamiliarUntil), ResetAt: micros(c.ResetAt),
		})
		if err != nil {
			return sqliteError(err)
		}
	}
	return nil
}

func (a sqliteTx) DeleteExpiredThrottleCounters(ctx context.Context, before time.Time, batch int) (int64, error) {
	n, err := a.q.DeleteExpiredThrottleCounters(ctx, sqlitedb.DeleteExpiredThrottleCountersParams{Before: micros(before), BatchSize: int64(batch)})
	return n, sqliteError(err)
}

func sqliteCounter(r sqlitedb.LoginThrottle) auth.ThrottleCounter {
	return auth.ThrottleCounter{
		Key: r.Key, Failures: int(r.Failures), InFlight: int(r.InFlight), InFlightUntil: fromMicros(r.InFlightUntil),
		LockedUntil: fromMicros(r.LockedUntil), FamiliarUntil: fromMicros(r.FamiliarUntil), ResetAt: fromMicros(r.ResetAt),
	}
}
