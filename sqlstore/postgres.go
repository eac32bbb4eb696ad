package sqlstore

import (
	"context"
	"database/sql"

	"github.com/icpfiling/icpverify"
)

// postgresQueries sets the statements that PostgreSQL runs in its own way
// (placeholders are rebound to $1, $2, ... afterwards).
func postgresQueries(q *queries) {
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
	// The three writes of a reservation in one statement. Each step runs
	// only on the rows the previous one returned, and the database
	// decides each with the row's lock and latest version.
	q.reservePG = `WITH r AS (
		INSERT INTO ${p}reservations (code, instance, account, subject, subject_key, website, filed, reserved_at)
		VALUES (?, ?, ?, ?, ?, ?, FALSE, ?)
		ON CONFLICT (code) DO NOTHING
		RETURNING instance, subject_key
	), s AS (
		INSERT INTO ${p}slots (instance, subject_key, holds)
		SELECT instance, subject_key, 1 FROM r
		ON CONFLICT (instance, subject_key) DO UPDATE SET holds = ${p}slots.holds + 1
		RETURNING holds
	), q AS (
		INSERT INTO ${p}quota (instance, used)
		SELECT r.instance, 1 FROM r, s WHERE s.holds = 1 AND ?::integer > 0
		ON CONFLICT (instance) DO UPDATE SET used = ${p}quota.used + 1
		WHERE ${p}quota.used < ?::integer
		RETURNING used
	)
	SELECT EXISTS (SELECT 1 FROM r), (SELECT holds FROM s), (SELECT used FROM q)`

	q.reservationForUpdate = reservationSelect + ` WHERE code = ? FOR UPDATE`

	// The table in the schema that unqualified names create and find.
	q.hasColumn = `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?)`
	q.subjectKeysConflict = ` ON CONFLICT (subject) DO NOTHING`
}

// reservePostgres runs the writes of reserving r in the transaction q with
// one statement, reservePG: the reservation, then the subject key's slot if the
// reservation was inserted, then the quota if the slot is new. (The
// transaction is READ COMMITTED: see inTx.) It returns the instance's usage
// afterwards, or full if the instance has no free slot, or errRetry if the
// code was reserved concurrently.
func (s *Store) reservePostgres(ctx context.Context, q querier, r icpverify.Reservation, at any, limit int64) (used int, full bool, err error) {
	var inserted bool
	var holds, taken sql.NullInt64
	err = q.QueryRowContext(ctx, s.q.reservePG, r.Code, r.Instance, r.Account, r.Subject, r.SubjectKey, r.Website,
		at, limit, limit).
		Scan(&inserted, &holds, &taken)
	switch {
	case err != nil:
		return 0, false, err
	case !inserted:
		return 0, false, errRetry
	case holds.Int64 > 1:
		// The subject key's slot is shared. The statement's snapshot may
		// predate the slot's commit, which its upsert waited for: read
		// the count anew.
		err := q.QueryRowContext(ctx, s.q.quotaUsed, r.Instance).Scan(&used)
		return used, false, err
	case taken.Valid:
		return int(taken.Int64), false, nil
	}
	return 0, true, nil
}
