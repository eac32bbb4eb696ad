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

	// Reserve with quotas (schema version 9): a transaction of the
	// store's own, with the procedure's statements. An upsert's
	// ROW_COUNT() tells a new row (1) from an updated one (2; holds
	// changes whenever the row is there, so the count does not depend on
	// the client's CLIENT_FOUND_ROWS flag); a conditional UPDATE that
	// changes no row finds the instance, or the key, full. The reads are
	// locking reads: never a row that is not committed, or a stale
	// snapshot, whatever the isolation level.
	q.reserveCheck += ` LOCK IN SHARE MODE`
	q.slotTake = `INSERT INTO ${p}slots (instance, subject_key, holds) VALUES (?, ?, 1)
		ON DUPLICATE KEY UPDATE holds = holds + 1`
	q.quotaEnsure = `INSERT INTO ${p}quota (instance, used) VALUES (?, 0) ON DUPLICATE KEY UPDATE used = used`
	q.quotaCount = `UPDATE ${p}quota SET used = used + 1 WHERE instance = ? AND used < ?`
	q.quotaUsedTx += ` LOCK IN SHARE MODE`
	q.placeTake = `INSERT INTO ${p}quota_places (qkey, member, holds) VALUES (?, ?, 1)
		ON DUPLICATE KEY UPDATE holds = holds + 1`
	q.keyEnsure = `INSERT INTO ${p}quota_keys (qkey, members) VALUES (?, 0) ON DUPLICATE KEY UPDATE members = members`
	q.keyCount = `UPDATE ${p}quota_keys SET members = members + 1 WHERE qkey = ? AND members < ?`

	q.reservationForUpdate = reservationLockSelect + ` WHERE code = ? FOR UPDATE`

	// Read by has: ${t} is the table, with its prefix, and ${n} the
	// column or index, both names the package sets.
	q.hasColumn = "SELECT `${n}` FROM `${t}` WHERE FALSE"
	q.hasIndex = "SELECT 1 FROM `${t}` FORCE INDEX (`${n}`) WHERE FALSE"
	q.subjectKeysConflict = ` ON DUPLICATE KEY UPDATE subject = subject`
	q.rekeysConflict = ` ON DUPLICATE KEY UPDATE subject_key = subject_key`
}
