package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeTx is a PostgreSQL transaction that saves round trips, which are most
// of what a rotation or a login costs. BEGIN is not sent on its own: it goes
// with the first statement whose answer the transaction needs. Writes whose
// only answer is success (the pgTx methods that use pgTx.later) wait, and go
// with the next statement that needs an answer, or with COMMIT. So a
// rotation (lock and read; write; commit) is two round trips, and a login's
// writes one. A write that fails fails the statement it went with, or the
// commit, and the transaction rolls back as usual.
//
// It implements pgdb.DBTX; deferred writes go through laterTx.
type pipeTx struct {
	conn    *pgx.Conn
	begun   bool          // BEGIN has been sent
	pending []queuedWrite // writes not sent yet, in order
}

type queuedWrite struct {
	sql  string
	args []any
}

// send sends what waits (BEGIN, pending writes) and then sql, in one batch,
// and returns the batch positioned at sql's result.
func (t *pipeTx) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := t.waiting()
	b.Queue(sql, args...)
	return t.sendBatch(ctx, b)
}

// waiting is a batch of what must precede the next statement.
func (t *pipeTx) waiting() *pgx.Batch {
	b := &pgx.Batch{}
	if !t.begun {
		b.Queue("begin")
	}
	for _, w := range t.pending {
		b.Queue(w.sql, w.args...)
	}
	return b
}

// sendBatch sends b, whose last statement is the one asked for, and reads
// the results before it.
func (t *pipeTx) sendBatch(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	before := b.Len() - 1
	t.begun, t.pending = true, nil
	br := t.conn.SendBatch(ctx, b)
	for range before {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, err
		}
	}
	return br, nil
}

func (t *pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	br, err := t.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	return tag, errors.Join(err, br.Close())
}

func (t *pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	br, err := t.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (t *pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	br, err := t.send(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

// commit sends what waits and COMMIT, in one round trip.
func (t *pipeTx) commit(ctx context.Context) error {
	if !t.begun && len(t.pending) == 0 {
		return nil // nothing was asked of the database
	}
	b := t.waiting()
	b.Queue("commit")
	br, err := t.sendBatch(ctx, b)
	if err != nil {
		return err
	}
	_, err = br.Exec()
	return errors.Join(err, br.Close())
}

// rollback ends a transaction that has begun; writes that never left are
// dropped.
func (t *pipeTx) rollback(ctx context.Context) error {
	t.pending = nil
	if !t.begun {
		return nil
	}
	_, err := t.conn.Exec(ctx, "rollback")
	return err
}

// laterTx is the DBTX of deferred writes: Exec queues. Only statements whose
// answer is unused may go through it (sqlc's :exec queries); anything that
// reads goes through the pipeTx itself.
type laterTx struct{ t *pipeTx }

func (l laterTx) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	l.t.pending = append(l.t.pending, queuedWrite{sql: sql, args: args})
	return pgconn.CommandTag{}, nil
}

func (l laterTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return l.t.Query(ctx, sql, args...)
}

func (l laterTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return l.t.QueryRow(ctx, sql, args...)
}

// batchRow reads the one row of a statement sent in a batch, then the rest
// of the batch.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// batchRows are the rows of a statement sent in a batch; closing them reads
// the rest of the batch.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r *batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}
