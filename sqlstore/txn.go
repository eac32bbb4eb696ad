package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// querier is what a Store runs statements on: a *sql.DB, a *sql.Tx or a
// *sql.Conn in a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// maxAttempts bounds how often an operation is run again after a transient
// failure: a unique violation, a serialization failure, a deadlock, a lock
// wait timeout or a busy SQLite database.
const maxAttempts = 12

// errRetry is returned inside a transaction to roll it back and run the
// whole operation again.
var errRetry = errors.New("sqlstore: concurrent change, retrying")

// errContention is returned when an operation still met concurrent changes
// after maxAttempts runs.
var errContention = errors.New("sqlstore: too much contention: gave up after retrying")

// retry runs op until it succeeds, fails for good or has run maxAttempts
// times. op is run again when it returns errRetry or an error the dialect
// classifies as transient or as a unique violation.
func (s *Store) retry(ctx context.Context, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		if !errors.Is(err, errRetry) && s.d.classify(err) == errOther {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			if errors.Is(err, errRetry) {
				return cerr
			}
			return err
		}
		if attempt >= maxAttempts {
			return fmt.Errorf("%w: %w", errContention, err)
		}
		// Exponential backoff with full jitter: 0.5ms, 1ms, ... 32ms.
		d := time.Duration(rand.Int64N(int64(250*time.Microsecond) << min(attempt, 7)))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// inTx runs fn in a write transaction and commits it if fn returns true
// and no error, else rolls it back. Every write of the Store runs in one,
// even a single statement: a statement sent in autocommit mode may still
// commit after its context has ended (the server notices a dropped
// connection only once the statement is done), while a transaction whose
// COMMIT was never sent is rolled back.
//
// inTx returns by ctx's deadline: the drivers stop a statement when its
// context ends, inTx sends no COMMIT once ctx has ended, and it waits for
// the COMMIT or ROLLBACK with finish, which gives up when ctx ends. A
// COMMIT in flight when ctx ended may still commit; the call then returns
// ctx's error, and a retry finds what the COMMIT did.
//
// On SQLite the transaction is BEGIN IMMEDIATE on a pinned connection, so
// that it takes the write lock first and waits for it with the connection's
// busy timeout, whatever the DSN says. On PostgreSQL it is READ COMMITTED:
// the statements need no more, and at REPEATABLE READ or SERIALIZABLE
// contended ones would fail with serialization errors, to be retried; it
// costs nothing, "begin isolation level read committed" is one round trip.
// On MySQL it is at the server's default level (setting one would cost a
// round trip), which InnoDB's writes ignore: they read the latest version.
func (s *Store) inTx(ctx context.Context, fn func(q querier) (commit bool, err error)) error {
	var opts *sql.TxOptions
	switch s.d {
	case SQLite:
		return s.inSQLiteTx(ctx, fn)
	case Postgres:
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	commit, err := fn(tx)
	if err == nil && commit {
		err = ctx.Err()
	}
	if err != nil || !commit {
		_ = finish(ctx, tx.Rollback)
		return err
	}
	return finish(ctx, tx.Commit)
}

// finish runs end, which ends a transaction with its COMMIT or ROLLBACK
// (or a session, releasing its lock), and returns end's error; but if ctx
// ends first it returns ctx's error at once. end then runs on in a
// goroutine, which ends when end returns.
//
// Drivers need not watch the context while a transaction ends, and some do
// not: database/sql's Tx.Commit and Rollback take none, and
// go-sql-driver/mysql does not watch it during COMMIT, so that a call
// would wait for a server that answers late, or not at all, past its
// deadline.
func finish(ctx context.Context, end func() error) error {
	if ctx.Done() == nil {
		return end() // ctx never ends
	}
	done := make(chan error, 1)
	go func() { done <- end() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done: // it ended as well: its answer is known
		return err
	default:
		return ctx.Err()
	}
}

// affected returns the rows affected by a statement.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
