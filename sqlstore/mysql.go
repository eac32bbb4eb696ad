package sqlstore

import (
	"context"

	"github.com/icpfiling/icpverify"
)

// mysqlQueries sets the statements that MySQL and MariaDB run in their own
// way: ON DUPLICATE KEY UPDATE for upserts, a duplicate-key error
// (ER_DUP_ENTRY) for an insert that conflicts, and locking reads
// wherever a read decides something.
func mysqlQueries(q *queries) {
	q.putInstance = `INSERT INTO ${p}instances (` + instanceCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE account = VALUES(account), product = VALUES(product),
		region = VALUES(region), billing = VALUES(billing), term_months = VALUES(term_months),
		public_ip = VALUES(public_ip), trial = VALUES(trial), status = VALUES(status),
		expires_at = VALUES(expires_at)`
	// A locking read, as reserveCheck's: never a reservation that is not
	// committed, whatever the isolation level.
	q.lookupCode += ` LOCK IN SHARE MODE`
	// Not a dirty read of an instance being stored, at READ UNCOMMITTED:
	// it decides ErrNotFound.
	q.issuedOf += ` LOCK IN SHARE MODE`
	q.codeInsert = `INSERT INTO ${p}service_codes (code, instance, owner, grantee, revoked, issued_at)
		VALUES (?, ?, ?, ?, ?, ?)`

	// A locking read: it reads the latest committed rows, waiting for a
	// transaction that is writing them, whatever the session's isolation
	// level (a plain read could see an uncommitted reservation at READ
	// UNCOMMITTED, or miss the count of one just committed at REPEATABLE
	// READ). Both rows are in the locking read, so the count agrees with
	// the reservation.
	q.reserveCheck = `SELECT r.instance, r.account, r.subject_key, r.website, r.filed, COALESCE(u.used, 0)
		FROM ${p}reservations r LEFT JOIN ${p}quota u ON u.instance = ?
		WHERE r.code = ? LOCK IN SHARE MODE`
	q.reserveInsert = `INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	q.slotTake = `INSERT INTO ${p}slots (instance, subject_key, holds) VALUES (?, ?, 1)
		ON DUPLICATE KEY UPDATE holds = holds + 1`
	q.quotaEnsure = `INSERT INTO ${p}quota (instance, used) VALUES (?, 0) ON DUPLICATE KEY UPDATE used = used`
	q.quotaTake = `UPDATE ${p}quota SET used = used + 1 WHERE instance = ? AND used < ?`

	q.reservationForUpdate = reservationSelect + ` WHERE code = ? FOR UPDATE`

	q.hasColumn = `SELECT EXISTS (SELECT 1 FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?)`
	q.subjectKeysConflict = ` ON DUPLICATE KEY UPDATE subject = subject`
}

// reserveMySQL runs the writes of reserving r in the transaction q: it
// inserts the reservation, takes the subject key's slot, and if the slot is
// new counts it on the instance's quota row (created first if missing) with
// a conditional increment. It returns the instance's usage afterwards, or
// full if the instance has no free slot, or errRetry if the code was
// reserved concurrently.
func (s *Store) reserveMySQL(ctx context.Context, q querier, r icpverify.Reservation, at any, limit int64) (used int, full bool, err error) {
	if err := s.insertReservation(ctx, q, r, at); err != nil {
		return 0, false, err
	}
	// 1 row affected: the slot is inserted, it is new; 2: updated.
	n, err := affected(q.ExecContext(ctx, s.q.slotTake, r.Instance, r.SubjectKey))
	if err != nil {
		return 0, false, err
	}
	if n != 1 {
		used, err := s.sharedSlotUsage(ctx, q, r.Instance)
		return used, false, err
	}
	if _, err := q.ExecContext(ctx, s.q.quotaEnsure, r.Instance); err != nil {
		return 0, false, err
	}
	n, err = affected(q.ExecContext(ctx, s.q.quotaTake, r.Instance, limit))
	if err != nil {
		return 0, false, err
	}
	if n == 0 {
		return 0, true, nil
	}
	err = q.QueryRowContext(ctx, s.q.quotaUsed, r.Instance).Scan(&used)
	return used, false, err
}
