package sqlstore

import "errors"

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

	// The function of schema version 3 (schema/postgres/0003_*.sql),
	// in autocommit: one round trip, one commit.
	q.reserveCall = `SELECT o_outcome, o_used FROM ${p}reserve(?::text, ?::text, ?::text, ?::text,
		?::text, ?::text, ?::timestamptz, ?::integer)`

	q.reservationForUpdate = reservationSelect + ` WHERE code = ? FOR UPDATE`

	// The table in the schema that unqualified names create and find.
	q.hasColumn = `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?)`
	q.subjectKeysConflict = ` ON CONFLICT (subject) DO NOTHING`
}

// pgFull is the SQLSTATE that the function ${p}reserve raises, rolling
// its statement back, when the instance has no free slot.
const pgFull = "ICPV1"

// pgState returns the SQLSTATE of a PostgreSQL error (pgx's
// *pgconn.PgError has SQLState()), or "".
func pgState(err error) string {
	var e interface{ SQLState() string }
	if errors.As(err, &e) {
		return e.SQLState()
	}
	return ""
}
