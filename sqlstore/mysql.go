package sqlstore

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
	// A locking read, as the reserve procedure's: never a reservation that is not
	// committed, whatever the isolation level.
	q.lookupCode += ` LOCK IN SHARE MODE`
	// Not a dirty read of an instance being stored, at READ UNCOMMITTED:
	// it decides ErrNotFound.
	q.issuedOf += ` LOCK IN SHARE MODE`
	q.codeInsert = `INSERT INTO ${p}service_codes (code, instance, owner, grantee, revoked, issued_at)
		VALUES (?, ?, ?, ?, ?, ?)`

	// The procedure of schema version 6 (schema/mysql/0006_*.sql): one
	// round trip, in a transaction it begins and commits itself.
	q.reserveCall = `CALL ${p}reserve(?, ?, ?, ?, ?, ?, ?, ?, ?)`

	// Reserve with quotas (schema version 9): the procedure
	// ${p}reserve_quotas (schema/mysql/0009_*.sql), one round trip, in a
	// transaction of its own.
	q.reserveQuotasCall = `CALL ${p}reserve_quotas(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// Release, Complete and Deregister free a reservation's places
	// with one call of the procedure ${p}free_places, in their
	// transaction.
	q.freePlaces = `CALL ${p}free_places(?, ?)`

	q.reservationForUpdate = reservationLockSelect + ` WHERE code = ? FOR UPDATE`

	// Read by has: ${t} is the table, with its prefix, and ${n} the
	// column or index, both names the package sets.
	q.hasColumn = "SELECT `${n}` FROM `${t}` WHERE FALSE"
	q.hasIndex = "SELECT 1 FROM `${t}` FORCE INDEX (`${n}`) WHERE FALSE"
	q.subjectKeysConflict = ` ON DUPLICATE KEY UPDATE subject = subject`
	q.rekeysConflict = ` ON DUPLICATE KEY UPDATE subject_key = subject_key`
}
