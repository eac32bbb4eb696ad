package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/icpfiling/icpverify"
)

// sqliteQueries sets the statements that SQLite runs in its own way. Its
// upserts are PostgreSQL's, with RETURNING; it has no FOR UPDATE, and
// needs none: a write transaction holds the database's write lock from its
// BEGIN IMMEDIATE.
func sqliteQueries(q *queries) {
	q.putInstance = `INSERT INTO ${p}instances (` + instanceCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET account = excluded.account, product = excluded.product,
		region = excluded.region, billing = excluded.billing, term_months = excluded.term_months,
		public_ip = excluded.public_ip, trial = excluded.trial, status = excluded.status,
		expires_at = excluded.expires_at`
	q.codeInsert = `INSERT INTO ${p}service_codes (code, instance, owner, grantee, revoked, issued_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`

	q.reserveCheck = `SELECT r.instance, r.account, r.subject_key, r.website, r.filed,
		COALESCE((SELECT u.used FROM ${p}quota u WHERE u.instance = ?), 0)
		FROM ${p}reservations r WHERE r.code = ?`
	q.reserveInsert = `INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at, application)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`
	q.slotTake = `INSERT INTO ${p}slots (instance, subject_key, holds) VALUES (?, ?, 1)
		ON CONFLICT (instance, subject_key) DO UPDATE SET holds = ${p}slots.holds + 1
		RETURNING holds`
	// A conditional upsert: it returns the new count, or no row if the
	// instance is full.
	q.quotaTake = `INSERT INTO ${p}quota (instance, used) SELECT ?, 1 WHERE ? > 0
		ON CONFLICT (instance) DO UPDATE SET used = ${p}quota.used + 1 WHERE ${p}quota.used < ?
		RETURNING used`

	q.reservationForUpdate = reservationSelect + ` WHERE code = ?`

	q.hasColumn = `SELECT EXISTS (SELECT 1 FROM pragma_table_info(?) WHERE name = ?)`
	q.subjectKeysConflict = ` ON CONFLICT (subject) DO NOTHING`
	q.rekeysConflict = ` ON CONFLICT (subject_key) DO NOTHING`
}

// reserveSQLite runs the writes of reserving r in the transaction q: it
// inserts the reservation, takes the subject key's slot, and if the slot is
// new counts it on the instance's quota row with a conditional upsert. It
// returns the instance's usage afterwards, or full if the instance has no
// free slot, or errRetry if the code was reserved concurrently.
func (s *Store) reserveSQLite(ctx context.Context, q querier, r icpverify.Reservation, at any, limit int64) (used int, full bool, err error) {
	if err := s.insertReservation(ctx, q, r, at); err != nil {
		return 0, false, err
	}
	var holds int
	if err := q.QueryRowContext(ctx, s.q.slotTake, r.Instance, r.SubjectKey).Scan(&holds); err != nil {
		return 0, false, err
	}
	if holds != 1 {
		used, err := s.sharedSlotUsage(ctx, q, r.Instance)
		return used, false, err
	}
	err = q.QueryRowContext(ctx, s.q.quotaTake, r.Instance, limit, limit).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, true, nil
	}
	return used, false, err
}

// inSQLiteTx is inTx on SQLite: the transaction is BEGIN IMMEDIATE on a
// pinned connection, and the Store's writers take turns.
func (s *Store) inSQLiteTx(ctx context.Context, fn func(q querier) (bool, error)) error {
	// SQLite has one writer at a time. Writers of this Store queue here,
	// handing over at once, rather than poll the file lock with the busy
	// handler's sleeps; writers of other processes still meet the busy
	// timeout.
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	conn, err := s.beginImmediate(ctx)
	if err != nil {
		<-s.writer
		return err
	}
	commit, err := fn(conn)
	if err == nil && commit {
		return finish(ctx, func() error { return s.endSQLiteTx(ctx, conn, true) })
	}
	_ = finish(ctx, func() error { return s.endSQLiteTx(ctx, conn, false) })
	return err
}

// beginImmediate pins a connection and begins a write transaction on it.
func (s *Store) beginImmediate(ctx context.Context) (*sql.Conn, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// endSQLiteTx ends the transaction that inSQLiteTx began on conn: it
// commits it if commit is true and ctx has not ended, else (or if the
// COMMIT fails) rolls it back. Then it returns conn to the pool and hands
// the write lock over to the Store's next writer. It returns the error
// that prevented the commit.
func (s *Store) endSQLiteTx(ctx context.Context, conn *sql.Conn, commit bool) error {
	defer func() { <-s.writer }()
	defer conn.Close()
	var err error
	if commit {
		if err = ctx.Err(); err == nil {
			if _, err = conn.ExecContext(ctx, "COMMIT"); err == nil {
				return nil
			}
		}
	}
	// Roll back even if ctx is done. If that fails too, the connection
	// may still be in the transaction: discard it.
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return err
}
