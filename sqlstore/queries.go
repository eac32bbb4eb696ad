package sqlstore

// queries holds the statements of a Store, with its table prefix and its
// dialect's placeholders. Every value is bound as a parameter.
type queries struct {
	putInstance, instance, listInstances                            string
	serviceCode, codeCount, issuedOf, codeInsert, grant, codeExists string
	lookupCode                                                      string

	reserveCheck, reservePG                         string
	reserveInsert, slotTake, quotaEnsure, quotaTake string
	quotaUsed, usage                                string

	reservation, reservationForUpdate, listReservations string
	releaseDelete, slotDrop, slotDelete, quotaFree      string
	complete                                            string
}

func buildQueries(d Dialect, prefix string) queries {
	var q queries
	upsert := func(conflict, set string) string {
		if d == MySQL {
			return " ON DUPLICATE KEY UPDATE " + set
		}
		return " ON CONFLICT (" + conflict + ") DO UPDATE SET " + set
	}
	doNothing := func(conflict string) string {
		if d == MySQL {
			return "" // a duplicate is an error, ER_DUP_ENTRY
		}
		return " ON CONFLICT (" + conflict + ") DO NOTHING"
	}
	excluded := func(col string) string {
		if d == MySQL {
			return col + " = VALUES(" + col + ")"
		}
		return col + " = excluded." + col
	}
	forUpdate := " FOR UPDATE"
	if d == SQLite {
		forUpdate = "" // the transaction holds the write lock already
	}

	q.putInstance = `INSERT INTO ${p}instances (` + instanceCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)` + upsert("id",
		excluded("account")+", "+excluded("product")+", "+excluded("region")+", "+
			excluded("billing")+", "+excluded("term_months")+", "+excluded("public_ip")+", "+
			excluded("trial")+", "+excluded("status")+", "+excluded("expires_at"))
	q.instance = `SELECT ` + instanceCols + ` FROM ${p}instances WHERE id = ?`
	q.listInstances = `SELECT i.id, i.account, i.product, i.region, i.billing, i.term_months,
		i.public_ip, i.trial, i.status, i.expires_at, COALESCE(q.used, 0)
		FROM ${p}instances i LEFT JOIN ${p}quota q ON q.instance = i.id
		WHERE i.account = ? ORDER BY i.id LIMIT ?`

	q.serviceCode = `SELECT code, instance, owner, grantee, revoked, issued_at FROM ${p}service_codes WHERE code = ?`
	// The code, its instance, its reservation and the reservation's
	// instance's usage in one round trip; a row that is missing reads as
	// empty columns.
	q.lookupCode = `SELECT COALESCE(i.id, ''), COALESCE(i.account, ''), COALESCE(i.product, ''),
		COALESCE(i.region, ''), COALESCE(i.billing, ''), COALESCE(i.term_months, 0),
		COALESCE(i.public_ip, ''), COALESCE(i.trial, FALSE), COALESCE(i.status, ''), i.expires_at,
		sc.code, sc.instance, sc.owner, sc.grantee, sc.revoked, sc.issued_at,
		COALESCE(r.code, ''), COALESCE(r.instance, ''), COALESCE(r.account, ''), COALESCE(r.subject, ''),
		COALESCE(r.filed, FALSE), r.reserved_at, COALESCE(u.used, 0)
		FROM ${p}service_codes sc
		LEFT JOIN ${p}instances i ON i.id = sc.instance
		LEFT JOIN ${p}reservations r ON r.code = sc.code
		LEFT JOIN ${p}quota u ON u.instance = r.instance
		WHERE sc.code = ?`
	if d == MySQL {
		// A locking read, as reserveCheck's: never a reservation that
		// is not committed, whatever the isolation level.
		q.lookupCode += ` LOCK IN SHARE MODE`
	}
	q.codeCount = `UPDATE ${p}instances SET issued = issued + 1 WHERE id = ? AND issued < ?`
	q.issuedOf = `SELECT issued FROM ${p}instances WHERE id = ?`
	if d == MySQL {
		// Not a dirty read of an instance being stored, at READ
		// UNCOMMITTED: it decides ErrNotFound.
		q.issuedOf += ` LOCK IN SHARE MODE`
	}
	q.codeInsert = `INSERT INTO ${p}service_codes (code, instance, owner, grantee, revoked, issued_at)
		VALUES (?, ?, ?, ?, ?, ?)` + doNothing("code")
	q.grant = `UPDATE ${p}service_codes SET grantee = ? WHERE code = ?`
	q.codeExists = `SELECT 1 FROM ${p}service_codes WHERE code = ?`

	q.reserveCheck = `SELECT r.instance, r.subject, r.filed,
		COALESCE((SELECT u.used FROM ${p}quota u WHERE u.instance = ?), 0)
		FROM ${p}reservations r WHERE r.code = ?`
	if d == MySQL {
		// A locking read: it reads the latest committed rows, waiting
		// for a transaction that is writing them, whatever the
		// session's isolation level (a plain read could see an
		// uncommitted reservation at READ UNCOMMITTED, or miss the
		// count of one just committed at REPEATABLE READ). Both rows
		// are in the locking read, so the count agrees with the
		// reservation.
		q.reserveCheck = `SELECT r.instance, r.subject, r.filed, COALESCE(u.used, 0)
			FROM ${p}reservations r LEFT JOIN ${p}quota u ON u.instance = ?
			WHERE r.code = ? LOCK IN SHARE MODE`
	}
	// PostgreSQL: the three writes of a reservation in one statement.
	// Each step runs only on the rows the previous one returned, and the
	// database decides each with the row's lock and latest version.
	q.reservePG = `WITH r AS (
		INSERT INTO ${p}reservations (code, instance, account, subject, filed, reserved_at)
		VALUES (?, ?, ?, ?, FALSE, ?)
		ON CONFLICT (code) DO NOTHING
		RETURNING instance, subject
	), s AS (
		INSERT INTO ${p}slots (instance, subject, holds)
		SELECT instance, subject, 1 FROM r
		ON CONFLICT (instance, subject) DO UPDATE SET holds = ${p}slots.holds + 1
		RETURNING holds
	), q AS (
		INSERT INTO ${p}quota (instance, used)
		SELECT r.instance, 1 FROM r, s WHERE s.holds = 1 AND ?::integer > 0
		ON CONFLICT (instance) DO UPDATE SET used = ${p}quota.used + 1
		WHERE ${p}quota.used < ?::integer
		RETURNING used
	)
	SELECT EXISTS (SELECT 1 FROM r), (SELECT holds FROM s), (SELECT used FROM q)`
	q.reserveInsert = `INSERT INTO ${p}reservations (code, instance, account, subject, filed, reserved_at)
		VALUES (?, ?, ?, ?, ?, ?)` + doNothing("code")
	switch d {
	case MySQL:
		q.slotTake = `INSERT INTO ${p}slots (instance, subject, holds) VALUES (?, ?, 1)
			ON DUPLICATE KEY UPDATE holds = holds + 1`
		q.quotaEnsure = `INSERT INTO ${p}quota (instance, used) VALUES (?, 0) ON DUPLICATE KEY UPDATE used = used`
		q.quotaTake = `UPDATE ${p}quota SET used = used + 1 WHERE instance = ? AND used < ?`
	default:
		q.slotTake = `INSERT INTO ${p}slots (instance, subject, holds) VALUES (?, ?, 1)
			ON CONFLICT (instance, subject) DO UPDATE SET holds = ${p}slots.holds + 1
			RETURNING holds`
		q.quotaTake = `INSERT INTO ${p}quota (instance, used) SELECT ?, 1 WHERE ? > 0
			ON CONFLICT (instance) DO UPDATE SET used = ${p}quota.used + 1 WHERE ${p}quota.used < ?
			RETURNING used`
	}
	q.quotaUsed = `SELECT used FROM ${p}quota WHERE instance = ?`
	q.usage = `SELECT COALESCE((SELECT used FROM ${p}quota WHERE instance = ?), 0),
		EXISTS (SELECT 1 FROM ${p}slots WHERE instance = ? AND subject = ?)`

	const reservationSelect = `SELECT ` + reservationCols + ` FROM ${p}reservations`
	q.reservation = reservationSelect + ` WHERE code = ?`
	q.reservationForUpdate = q.reservation + forUpdate
	q.listReservations = reservationSelect + ` WHERE account = ? ORDER BY code LIMIT ?`
	q.releaseDelete = `DELETE FROM ${p}reservations WHERE code = ?`
	q.slotDrop = `UPDATE ${p}slots SET holds = holds - 1 WHERE instance = ? AND subject = ?`
	q.slotDelete = `DELETE FROM ${p}slots WHERE instance = ? AND subject = ? AND holds <= 0`
	q.quotaFree = `UPDATE ${p}quota SET used = used - 1 WHERE instance = ? AND used > 0`
	q.complete = `UPDATE ${p}reservations SET filed = ? WHERE code = ?`

	for _, p := range []*string{
		&q.putInstance, &q.instance, &q.listInstances,
		&q.serviceCode, &q.lookupCode, &q.codeCount, &q.issuedOf, &q.codeInsert, &q.grant, &q.codeExists,
		&q.reserveCheck, &q.reservePG, &q.reserveInsert, &q.slotTake, &q.quotaEnsure, &q.quotaTake,
		&q.quotaUsed, &q.usage,
		&q.reservation, &q.reservationForUpdate, &q.listReservations,
		&q.releaseDelete, &q.slotDrop, &q.slotDelete, &q.quotaFree, &q.complete,
	} {
		*p = sqlText(d, prefix, *p)
	}
	return q
}
