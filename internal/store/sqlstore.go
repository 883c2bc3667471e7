package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// queries is one database's sqlc-generated queries, spoken in the store's own
// types and sentinel errors. Each adapter implements it over its generated
// package; everything above it, the transactions included, is written once.
type queries interface {
	createUser(ctx context.Context, u NewUser) (User, error)
	importUser(ctx context.Context, u NewUser) error
	// syncUserIDSequence moves the id generator past imported ids.
	syncUserIDSequence(ctx context.Context) error
	userByEmail(ctx context.Context, email string) (User, error)
	userByID(ctx context.Context, id int64) (User, error)
	recordLogin(ctx context.Context, userID int64, at time.Time) error
	replacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error
	setUserActive(ctx context.Context, userID int64, active bool) error
	deleteUser(ctx context.Context, userID int64) error

	createSession(ctx context.Context, s Session) error
	session(ctx context.Context, id string) (Session, error)
	sessionUser(ctx context.Context, id string) (Session, User, error)
	// lockSession reads a session and holds it until the transaction ends.
	lockSession(ctx context.Context, id string) (Session, error)
	extendSession(ctx context.Context, id string, until time.Time) error
	revokeSession(ctx context.Context, id, reason string, at time.Time) error
	revokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error)
	deleteExpiredSessions(ctx context.Context, before time.Time, batch int) (int64, error)

	insertRefreshToken(ctx context.Context, t RefreshToken) error
	refreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	retireRefreshToken(ctx context.Context, hash []byte, at time.Time, successor []byte) error
	deleteExpiredRefreshTokens(ctx context.Context, before time.Time, batch int) (int64, error)
}

// sqlStore implements Store's data methods over an adapter's queries.
type sqlStore struct {
	// q runs queries outside any transaction.
	q queries
	// inTx runs fn in one transaction, committing only if it returns nil.
	inTx func(ctx context.Context, fn func(q queries) error) error
}

// CreateUser inserts a user with a new id.
func (s sqlStore) CreateUser(ctx context.Context, u NewUser) (User, error) {
	return s.q.createUser(ctx, u)
}

// UserByEmail finds a user by email, ignoring case.
func (s sqlStore) UserByEmail(ctx context.Context, email string) (User, error) {
	return s.q.userByEmail(ctx, email)
}

// UserByID finds a user by id.
func (s sqlStore) UserByID(ctx context.Context, id int64) (User, error) { return s.q.userByID(ctx, id) }

// ReplacePasswordHash swaps oldHash for newHash if it is still oldHash.
func (s sqlStore) ReplacePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error {
	return s.q.replacePasswordHash(ctx, userID, oldHash, newHash)
}

// SetUserActive activates or deactivates a user.
func (s sqlStore) SetUserActive(ctx context.Context, userID int64, active bool) error {
	return s.q.setUserActive(ctx, userID, active)
}

// DeleteUser deletes a user and, by cascade, their sessions.
func (s sqlStore) DeleteUser(ctx context.Context, userID int64) error {
	return s.q.deleteUser(ctx, userID)
}

// ImportUsers inserts users with their ids in one transaction.
func (s sqlStore) ImportUsers(ctx context.Context, users []NewUser) (ImportResult, error) {
	var res ImportResult
	err := s.inTx(ctx, func(q queries) error {
		for _, u := range users {
			existing, err := q.userByID(ctx, u.ID)
			switch {
			case err == nil:
				if !sameEmail(existing.Email, u.Email) {
					return fmt.Errorf("%w: user %d exists with another email", ErrConflict, u.ID)
				}
				res.Unchanged++
				continue
			case !errors.Is(err, ErrNotFound):
				return err
			}
			if err := q.importUser(ctx, u); err != nil {
				return fmt.Errorf("user %d: %w", u.ID, err)
			}
			res.Created++
		}
		return q.syncUserIDSequence(ctx)
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// CreateSession stores a session and its first refresh token and records the
// login, in one transaction: a login either happens whole or not at all.
func (s sqlStore) CreateSession(ctx context.Context, sess Session, first RefreshToken) error {
	return s.inTx(ctx, func(q queries) error {
		if err := q.createSession(ctx, sess); err != nil {
			return err
		}
		first.SessionID = sess.ID
		if err := q.insertRefreshToken(ctx, first); err != nil {
			return err
		}
		return q.recordLogin(ctx, sess.UserID, sess.CreatedAt)
	})
}

// Session finds a session by id.
func (s sqlStore) Session(ctx context.Context, id string) (Session, error) {
	return s.q.session(ctx, id)
}

// SessionUser returns a session and its user in one round trip.
func (s sqlStore) SessionUser(ctx context.Context, sessionID string) (Session, User, error) {
	return s.q.sessionUser(ctx, sessionID)
}

// RefreshToken finds a stored refresh token by its hash.
func (s sqlStore) RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error) {
	return s.q.refreshToken(ctx, hash)
}

// RotateRefreshToken applies decideRotation's rules in one transaction that
// first locks the session, so concurrent rotations of one session, from any
// process, run one at a time.
func (s sqlStore) RotateRefreshToken(ctx context.Context, r Rotation) ([]byte, error) {
	var (
		replayed []byte
		reused   bool
	)
	err := s.inTx(ctx, func(q queries) error {
		sess, err := q.lockSession(ctx, r.SessionID)
		if err != nil {
			return err
		}
		tok, err := q.refreshToken(ctx, r.OldHash)
		if err != nil {
			return err
		}
		step, err := decideRotation(r, sess, tok)
		if err != nil {
			return err
		}
		switch step {
		case stepReplay:
			replayed = tok.Successor
			return nil
		case stepRevoke:
			reused = true
			return q.revokeSession(ctx, r.SessionID, ReasonReuse, r.Now)
		}
		if err := q.retireRefreshToken(ctx, r.OldHash, r.Now, r.Successor); err != nil {
			return err
		}
		next := r.Next
		next.SessionID = r.SessionID
		if err := q.insertRefreshToken(ctx, next); err != nil {
			return err
		}
		return q.extendSession(ctx, r.SessionID, next.ExpiresAt)
	})
	switch {
	case err != nil:
		return nil, err
	case reused:
		return nil, ErrReuseDetected
	}
	return replayed, nil
}

// RevokeSession revokes one session; revoking a revoked session is a no-op.
func (s sqlStore) RevokeSession(ctx context.Context, id, reason string, at time.Time) error {
	return s.q.revokeSession(ctx, id, reason, at)
}

// RevokeUserSessions revokes every live session of a user.
func (s sqlStore) RevokeUserSessions(ctx context.Context, userID int64, reason string, at time.Time) (int64, error) {
	return s.q.revokeUserSessions(ctx, userID, reason, at)
}

// DeleteExpired removes one batch of expired refresh tokens and one of expired
// sessions (whose remaining tokens go with them).
func (s sqlStore) DeleteExpired(ctx context.Context, before time.Time, batch int) (int64, error) {
	tokens, err := s.q.deleteExpiredRefreshTokens(ctx, before, batch)
	if err != nil {
		return 0, err
	}
	sessions, err := s.q.deleteExpiredSessions(ctx, before, batch)
	return tokens + sessions, err
}
