package sqlstore

// queries holds the statements of a Store, with its table prefix and its
// dialect's placeholders. Every value is bound as a parameter. The
// statements that read the same on every dialect are set by
// portableQueries; the others by postgresQueries (postgres.go),
// mysqlQueries (mysql.go) or sqliteQueries (sqlite.go). A statement a
// dialect does not run is empty.
type queries struct {
	// Instances.
	putInstance, instance, listInstances string

	// Service codes.
	serviceCode, lookupCode, codeCount, issuedOf, codeInsert string
	grant, revoke, codeExists                                string

	// Reserve: reserveCall, the routine of schema version 3, on
	// PostgreSQL and MySQL; on SQLite reserveCheck, then reserveInsert,
	// slotTake and quotaTake in a transaction. ReserveServiceCode:
	// reserveCode, on PostgreSQL.
	reserveCall, reserveCheck          string
	reserveCode                        string
	reserveInsert, slotTake, quotaTake string
	quotaUsed, usage, places           string

	// Reserve with quotas (schema version 9): on PostgreSQL and MySQL
	// reserveQuotasCall, the routine ${p}reserve_quotas; on SQLite
	// reserveCheck, then in a transaction reserveInsertQuotas, slotTake,
	// quotaTake or quotaUsed, and for each quota placeTake and, for a new
	// member, keyTake.
	reserveQuotasCall, reserveInsertQuotas, placeTake, keyTake string

	// Reservations: reads, Release, Complete and Deregister, and the
	// places of a reservation's quotas that they free.
	reservation, reservationForUpdate, listReservations   string
	application                                           string
	releaseDelete, slotUnhold, slotRemoveEmpty, quotaFree string
	complete, deregister                                  string
	resQuotas, resQuotasUntilFiled                        string
	resQuotasDelete, resQuotasDeleteUntilFiled            string
	placeUnhold, placeRemoveEmpty, keyFree                string
	// On PostgreSQL and MySQL: freePlaces, a call of the routine
	// ${p}free_places (schema version 9), instead of resQuotas and
	// the statements that free each place.
	freePlaces string

	// Migrate: whether a table has a column; the subjects of the
	// version-1 tables, a page at a time, and how a key stored already is
	// left alone; the subject keys of the version-6 tables, a page at a
	// time, and how a key re-keyed already is left alone.
	hasColumn, hasIndex, v1Subjects, v1SlotSubjects, subjectKeysConflict string
	v6Keys, v6SlotKeys, rekeysConflict                                   string
}

// lookupSelect reads a service code, its instance, its reservation and the
// reservation's instance's usage in one round trip; a row that is missing
// reads as empty columns. Statements add their WHERE.
const lookupSelect = `SELECT ` + lookupCols + ` FROM ` + lookupJoins

// lookupCols are the columns of lookupSelect, in the order LookupServiceCode
// scans them.
const lookupCols = `COALESCE(i.id, ''), COALESCE(i.account, ''), COALESCE(i.product, ''),
		COALESCE(i.region, ''), COALESCE(i.billing, ''), COALESCE(i.term_months, 0),
		COALESCE(i.public_ip, ''), COALESCE(i.trial, FALSE), COALESCE(i.status, ''), i.expires_at,
		sc.code, sc.instance, sc.owner, sc.grantee, sc.revoked, sc.issued_at,
		COALESCE(r.code, ''), COALESCE(r.instance, ''), COALESCE(r.account, ''), COALESCE(r.subject, ''),
		COALESCE(r.subject_key, ''), COALESCE(r.website, ''),
		COALESCE(r.filed, FALSE), r.reserved_at, COALESCE(r.application, ''),
		COALESCE(r.deregistered, FALSE), COALESCE(u.used, 0)`

// lookupJoins are the tables of lookupSelect.
const lookupJoins = `${p}service_codes sc
		LEFT JOIN ${p}instances i ON i.id = sc.instance
		LEFT JOIN ${p}reservations r ON r.code = sc.code
		LEFT JOIN ${p}quota u ON u.instance = r.instance`

// reservationSelect selects reservationCols of the reservations.
const reservationSelect = `SELECT ` + reservationCols + ` FROM ${p}reservations`

// reservationLockSelect selects reservationCols of the reservations and
// the number of quotas each was made with, for Release, Complete and
// Deregister.
const reservationLockSelect = `SELECT ` + reservationCols + `, quotas FROM ${p}reservations`

// sameApplication is the condition that a reservation row is for the
// application whose identity (icpverify.Reservation.Application) is bound
// after it.
const sameApplication = ` AND application = ?`

// buildQueries returns the statements of dialect d, with the table prefix
// and the placeholders of d.
func buildQueries(d Dialect, prefix string) queries {
	q := portableQueries()
	switch d {
	case Postgres:
		postgresQueries(&q)
	case MySQL:
		mysqlQueries(&q)
	case SQLite:
		sqliteQueries(&q)
	}
	for _, p := range q.all() {
		*p = sqlText(d, prefix, *p)
	}
	return q
}

// all returns a pointer to each statement of q.
func (q *queries) all() []*string {
	return []*string{
		&q.putInstance, &q.instance, &q.listInstances,
		&q.serviceCode, &q.lookupCode, &q.codeCount, &q.issuedOf, &q.codeInsert,
		&q.grant, &q.revoke, &q.codeExists,
		&q.reserveCall, &q.reserveCheck, &q.reserveCode, &q.reserveInsert, &q.slotTake, &q.quotaTake,
		&q.quotaUsed, &q.usage, &q.places,
		&q.reservation, &q.reservationForUpdate, &q.listReservations, &q.application,
		&q.reserveQuotasCall, &q.reserveInsertQuotas, &q.placeTake, &q.keyTake,
		&q.releaseDelete, &q.slotUnhold, &q.slotRemoveEmpty, &q.quotaFree, &q.complete, &q.deregister,
		&q.resQuotas, &q.resQuotasUntilFiled, &q.resQuotasDelete, &q.resQuotasDeleteUntilFiled,
		&q.placeUnhold, &q.placeRemoveEmpty, &q.keyFree, &q.freePlaces,
		&q.hasColumn, &q.hasIndex, &q.v1Subjects, &q.v1SlotSubjects, &q.subjectKeysConflict,
		&q.v6Keys, &q.v6SlotKeys, &q.rekeysConflict,
	}
}

// portableQueries returns the statements that PostgreSQL, MySQL and SQLite
// all run as they are written here, with ${p} for the table prefix and ?
// for the placeholders.
func portableQueries() queries {
	var q queries
	q.instance = `SELECT ` + instanceCols + ` FROM ${p}instances WHERE id = ?`
	q.listInstances = `SELECT ` + instanceCols + ` FROM ${p}instances WHERE account = ? ORDER BY id LIMIT ?`

	q.serviceCode = `SELECT code, instance, owner, grantee, revoked, issued_at FROM ${p}service_codes WHERE code = ?`
	// The code, its instance, its reservation and the reservation's
	// instance's usage in one round trip; a row that is missing reads as
	// empty columns.
	q.lookupCode = lookupSelect + ` WHERE sc.code = ?`
	q.codeCount = `UPDATE ${p}instances SET issued = issued + 1 WHERE id = ? AND issued < ?`
	q.issuedOf = `SELECT issued FROM ${p}instances WHERE id = ?`
	q.grant = `UPDATE ${p}service_codes SET owner = ?, grantee = ? WHERE code = ?`
	q.revoke = `UPDATE ${p}service_codes SET revoked = ? WHERE code = ?`
	q.codeExists = `SELECT 1 FROM ${p}service_codes WHERE code = ?`

	q.quotaUsed = `SELECT used FROM ${p}quota WHERE instance = ?`
	q.usage = `SELECT COALESCE((SELECT used FROM ${p}quota WHERE instance = ?), 0),
		EXISTS (SELECT 1 FROM ${p}slots WHERE instance = ? AND subject_key = ?)`
	q.places = `SELECT COALESCE((SELECT members FROM ${p}quota_keys WHERE qkey = ?), 0),
		EXISTS (SELECT 1 FROM ${p}quota_places WHERE qkey = ? AND member = ? AND holds > 0)`

	q.reservation = reservationSelect + ` WHERE code = ?`
	q.application = reservationSelect + ` WHERE application = ?`
	q.listReservations = reservationSelect + ` WHERE account = ? ORDER BY code LIMIT ?`
	q.releaseDelete = `DELETE FROM ${p}reservations WHERE code = ?` + sameApplication
	q.slotUnhold = `UPDATE ${p}slots SET holds = holds - 1 WHERE instance = ? AND subject_key = ?`
	q.slotRemoveEmpty = `DELETE FROM ${p}slots WHERE instance = ? AND subject_key = ? AND holds <= 0`
	q.quotaFree = `UPDATE ${p}quota SET used = used - 1 WHERE instance = ? AND used > 0`
	// Only a reservation not filed yet: a row changed is one filed now,
	// whose places UntilFiled are freed.
	q.complete = `UPDATE ${p}reservations SET filed = ? WHERE code = ?` + sameApplication + ` AND filed = ?`
	q.deregister = `UPDATE ${p}reservations SET deregistered = ? WHERE code = ?` + sameApplication

	// The places a reservation holds, read once it is locked: only the
	// transaction that holds its lock writes them.
	q.resQuotas = `SELECT qkey, member FROM ${p}reservation_quotas WHERE code = ?`
	q.resQuotasUntilFiled = q.resQuotas + ` AND until_filed = ?`
	q.resQuotasDelete = `DELETE FROM ${p}reservation_quotas WHERE code = ?`
	q.resQuotasDeleteUntilFiled = q.resQuotasDelete + ` AND until_filed = ?`
	// A place is freed as a slot is: one reservation less on the member's
	// place, and if that was its last, the place deleted and one member
	// less on the key.
	q.placeUnhold = `UPDATE ${p}quota_places SET holds = holds - 1 WHERE qkey = ? AND member = ?`
	q.placeRemoveEmpty = `DELETE FROM ${p}quota_places WHERE qkey = ? AND member = ? AND holds <= 0`
	q.keyFree = `UPDATE ${p}quota_keys SET members = members - 1 WHERE qkey = ? AND members > 0`

	// The version-1 tables, in the order of their primary keys.
	q.v1Subjects = `SELECT code, subject FROM ${p}reservations WHERE code > ? ORDER BY code LIMIT ?`
	q.v1SlotSubjects = `SELECT instance, subject FROM ${p}slots
		WHERE (instance, subject) > (?, ?) ORDER BY instance, subject LIMIT ?`
	// The version-6 tables, in the order of their primary keys.
	q.v6Keys = `SELECT code, subject_key FROM ${p}reservations WHERE code > ? ORDER BY code LIMIT ?`
	q.v6SlotKeys = `SELECT instance, subject_key FROM ${p}slots
		WHERE (instance, subject_key) > (?, ?) ORDER BY instance, subject_key LIMIT ?`
	return q
}
