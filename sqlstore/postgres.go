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

	// ReserveServiceCode: the lookup and, where the code has no
	// reservation and the guard holds, a call of the function of schema
	// version 3, in one statement in autocommit. The call is a scalar
	// subquery in a CASE, so it runs only when the CASE's condition
	// holds, in a LATERAL subquery that OFFSET 0 keeps from being merged,
	// so that it runs once for the one row of the code. Its answer is an
	// array: {outcome, used}. A retry reads only.
	q.reserveCode = `SELECT ` + lookupCols + `,
		CASE WHEN x.res IS NULL THEN 0 WHEN x.res[1] = 0 THEN 5 ELSE x.res[1] END, COALESCE(x.res[2], 0)
		FROM ` + lookupJoins + `
		CROSS JOIN LATERAL (SELECT CASE WHEN r.code IS NULL AND ` + pgGuard + `
			THEN (SELECT ARRAY[f.o_outcome, f.o_used] FROM ${p}reserve(sc.code, sc.instance, ?::text, ?::text,
				?::text, ?::text, ?::timestamptz, ?::integer, ?::text) f)
			END AS res OFFSET 0) x
		WHERE sc.code = ?`

	q.reservationForUpdate = reservationSelect + ` WHERE code = ? FOR UPDATE`

	// The table in the schema that unqualified names create and find.
	q.hasColumn = `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?)`
	q.subjectKeysConflict = ` ON CONFLICT (subject) DO NOTHING`
	q.rekeysConflict = ` ON CONFLICT (subject_key) DO NOTHING`
}

// pgGuard is icpverify.ReserveGuard on the columns of the code sc and its
// instance i, with the parameters of reserveCodeArgs: account, running,
// product, expires after, issued after, public IP.
const pgGuard = `i.id IS NOT NULL AND ?::text <> '' AND NOT sc.revoked
			AND (i.account = ?::text OR sc.grantee = ?::text AND sc.owner = i.account)
			AND i.status = ?::text AND i.product = ?::text
			AND (i.expires_at IS NULL OR ?::timestamptz IS NULL OR i.expires_at > ?::timestamptz)
			AND (?::timestamptz IS NULL OR sc.issued_at > ?::timestamptz)
			AND (NOT ?::boolean OR i.public_ip <> '')`

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
