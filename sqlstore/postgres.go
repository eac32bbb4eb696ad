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

	// The function of schema version 6 (schema/postgres/0006_*.sql),
	// in autocommit: one round trip, one commit.
	q.reserveCall = `SELECT o_outcome, o_used FROM ${p}reserve(?::text, ?::text, ?::text, ?::text,
		?::text, ?::text, ?::timestamptz, ?::integer, ?::text)`

	// ReserveServiceCode (schema version 8): the lookup and, where the
	// code has no reservation and the guard holds on the rows it read, a
	// call of the function ${p}reserve_code, in one statement in
	// autocommit. The call is in a CASE in the select list of the one row
	// of the code, so that it runs only when the CASE's condition holds,
	// and once. Its answer is an array, {outcome, used}. A retry reads
	// only.
	q.reserveCode = `SELECT ` + lookupCols + `,
		CASE WHEN r.code IS NULL AND ` + pgGuard + `
			THEN ${p}reserve_code($1::text, sc.instance, $2::text, $3::text, $4::text, $5::text,
				$6::timestamptz, $7::integer, $8::text) END
		FROM ` + lookupJoins + ` WHERE sc.code = $1::text`

	// Reserve with quotas (schema version 9): the function
	// ${p}reserve_quotas (schema/postgres/0009_*.sql), in autocommit, or
	// in a transaction at READ COMMITTED where the sessions run at
	// another level. The quotas are arrays, bound as the text of array
	// literals (see pgArray), which every driver binds as it binds text.
	q.reserveQuotasCall = `SELECT o_outcome, o_used FROM ${p}reserve_quotas(?::text, ?::text, ?::text, ?::text,
		?::text, ?::text, ?::timestamptz, ?::integer, ?::text, ?::text[], ?::text[], ?::bigint[],
		?::boolean[], ?::integer[])`
	// Release, Complete and Deregister free a reservation's places
	// with one call of the function ${p}free_places, in their
	// transaction.
	q.freePlaces = `SELECT ${p}free_places(?::text, ?::boolean)`

	q.reservationForUpdate = reservationLockSelect + ` WHERE code = ? FOR UPDATE`

	// The table in the schema that unqualified names create and find.
	q.hasColumn = `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?)`
	q.subjectKeysConflict = ` ON CONFLICT (subject) DO NOTHING`
	q.rekeysConflict = ` ON CONFLICT (subject_key) DO NOTHING`
}

// pgGuard is icpverify.ReserveGuard on the columns of the code sc and its
// instance i, with the parameters of reserveCodeArgs: $2 the account, $9
// the status Running, $10 the product, $11 the time the instance must end
// after, $12 the time the code must be issued after, $13 whether a public
// IP is needed.
const pgGuard = `i.id IS NOT NULL AND $2::text <> '' AND NOT sc.revoked
			AND (i.account = $2::text OR sc.grantee = $2::text AND sc.owner = i.account)
			AND i.status = $9::text AND i.product = $10::text
			AND (i.expires_at IS NULL OR $11::timestamptz IS NULL OR i.expires_at > $11::timestamptz)
			AND ($12::timestamptz IS NULL OR sc.issued_at > $12::timestamptz)
			AND (NOT $13::boolean OR i.public_ip <> '')`

// pgNotReadCommitted is the SQLSTATE that the function
// ${p}reserve_quotas raises, before any write, when its transaction does
// not run at READ COMMITTED.
const pgNotReadCommitted = "ICPV4"

// pgFull is the SQLSTATE that the functions ${p}reserve and
// ${p}reserve_code raise, rolling their statement back, when the instance
// has no free slot.
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
