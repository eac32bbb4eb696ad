package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
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

	q.reserveInsert = `INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at, application)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`
	upsertQueries(q)

	q.reservationForUpdate = reservationLockSelect + ` WHERE code = ?`

	q.hasColumn = `SELECT EXISTS (SELECT 1 FROM pragma_table_info(?) WHERE name = ?)`
	q.subjectKeysConflict = ` ON CONFLICT (subject) DO NOTHING`
	q.rekeysConflict = ` ON CONFLICT (subject_key) DO NOTHING`
}

// upsertQueries sets the statements of SQLite's Reserve, with or without
// quotas: the check of the code's reservation, read outside the
// transaction, and upserts with RETURNING.
func upsertQueries(q *queries) {
	q.reserveCheck = `SELECT r.instance, r.account, r.subject_key, r.website, r.filed,
		COALESCE((SELECT u.used FROM ${p}quota u WHERE u.instance = ?), 0)
		FROM ${p}reservations r WHERE r.code = ?`
	// A reservation with the number of its quotas (schema version 9).
	q.reserveInsertQuotas = `INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at, application, quotas)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`
	q.slotTake = `INSERT INTO ${p}slots (instance, subject_key, holds) VALUES (?, ?, 1)
		ON CONFLICT (instance, subject_key) DO UPDATE SET holds = ${p}slots.holds + 1
		RETURNING holds`
	// A conditional upsert: it returns the new count, or no row if the
	// instance is full.
	q.quotaTake = `INSERT INTO ${p}quota (instance, used) SELECT ?, 1 WHERE ? > 0
		ON CONFLICT (instance) DO UPDATE SET used = ${p}quota.used + 1 WHERE ${p}quota.used < ?
		RETURNING used`
	// The place of a member under a quota key, as the slot of a subject
	// key: it returns the reservations that count the member, 1 for a new
	// member.
	q.placeTake = `INSERT INTO ${p}quota_places (qkey, member, holds) VALUES (?, ?, 1)
		ON CONFLICT (qkey, member) DO UPDATE SET holds = ${p}quota_places.holds + 1
		RETURNING holds`
	// A new member of a quota key, as a new slot on an instance: it
	// returns the new number of members, or no row if the key is full.
	q.keyTake = `INSERT INTO ${p}quota_keys (qkey, members) SELECT ?, 1 WHERE ? > 0
		ON CONFLICT (qkey) DO UPDATE SET members = ${p}quota_keys.members + 1 WHERE ${p}quota_keys.members < ?
		RETURNING members`
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
