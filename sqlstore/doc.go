// Package sqlstore keeps the inventory and the quota of package icpverify in
// a SQL database through database/sql: PostgreSQL, MySQL or MariaDB, or
// SQLite. Several processes, each with its own Store on the same database,
// share one quota.
//
//	db, _ := sql.Open("pgx", dsn) // any database/sql driver
//	store, err := sqlstore.New(db, sqlstore.Postgres)
//	if err != nil { ... }
//	if err := store.Migrate(ctx); err != nil { ... }
//	v := icpverify.New(store, store)
//	err = store.PutInstanceContext(ctx, inst) // load the inventory
//
// The package imports no driver: the program does. A Store implements
// icpverify.InstanceStore, QuotaStore, CodeReserver and InstanceLister, and
// is a storetest.Store as it is.
//
// # How the quota holds
//
// Five tables keep the state: instances (with an issued counter of service
// codes), service_codes, reservations (one row per code: the code is the
// primary key; with the account, subject key and website of the application
// it was reserved for, the subject's name as typed, and the application's
// identity, icpverify.Reservation.Application, unique), slots (one row per
// subject key holding a slot on an instance, with the number of its
// reservations there; primary key (instance, subject_key)) and quota (one
// row per instance with the number of its slots, used). Slots are counted per
// subject key, so that two spellings of one name, or one certificate under
// two names, take one slot.
//
// LookupServiceCode reads a code, its instance, its reservation and the
// usage with one join; a Verifier whose InstanceStore and QuotaStore are the
// same Store answers a retry from that read alone, in one round trip. On
// PostgreSQL, ReserveServiceCode is that read, which calls a function
// that makes the writes of Reserve (below) where the code has no
// reservation and the Verifier's guard holds on the rows read: a first
// reservation is then one statement, one round trip. On MySQL and SQLite it is the read, then Reserve.
//
// On PostgreSQL and MySQL, Reserve is one call, in autocommit, of the
// routine <prefix>reserve that Migrate installs (schema version 3), one
// round trip: it inserts the reservation, or, if the code is reserved
// already, answers Held if that reservation is unfiled and for the same
// application (account, subject key and website) on the same instance, and
// Taken otherwise; adds one to the subject key's slot with an upsert, which
// inserts it if the key held none; and, only if the slot is new, adds one to
// the instance's quota row with a conditional increment, used < limit. If
// the increment changes no row the instance is Full: the routine rolls its
// writes back before they commit. On SQLite Reserve first reads the code's
// reservation (a retry is answered there) and otherwise makes the same
// writes in one transaction, rolled back if the instance is Full. Nothing is
// stored. AddServiceCode counts codes the same way, with a conditional
// increment of the instance's issued counter.
//
// Application reads a reservation by its application's identity, through
// the unique index on it. Release and Complete act only on the application
// whose identity they are given: each locks the code's reservation in a
// transaction and goes on only if its Application is theirs, else it
// returns icpverify.ErrNotFound and changes nothing, so that a Release
// retried after the code was reserved anew frees nothing. Release deletes
// an unfiled reservation, takes one off its slot, and if that was the slot's
// last reservation deletes it and takes one off the quota row; it leaves a
// filed one as it is. Complete marks it filed.
//
// A reservation with quotas (icpverify.Reservation.Quotas, schema version
// 9) is made in a transaction of the store's own on every dialect: the
// writes above, then for each quota an upsert of the member's place under
// the quota's key, which counts the reservations that count the member,
// and, only if the place is new, a conditional increment of the key's
// members (members < limit). If that changes no row the quota is full:
// the transaction is rolled back and Reserve reports icpverify.Exceeded
// with the quota's index. The reservation records the places it took, and
// Release frees them all, Complete those UntilFiled, and Deregister, which
// marks a filed reservation deregistered, the others and the subject
// key's slot, keeping the reservation. A reservation without quotas is
// made with the statements of version 8.
//
// Every decision comes from the result of a write on one row identified by
// its primary key (a row inserted or not, updated or not, and the value the
// write left), never from a read that could be stale. The database
// serializes writes on a row with its lock and evaluates each write against
// the row's latest committed version, at any isolation level: a waiting
// writer sees the winner's result (READ COMMITTED, and InnoDB at any level)
// or fails with a serialization error (PostgreSQL's REPEATABLE READ and
// SERIALIZABLE). So of N concurrent calls for the last slot one increments
// used to the limit and the others find no row to change, and two calls that
// insert the same code or the same slot are ordered by the primary key. A
// unique violation, a serialization failure, a deadlock or a busy SQLite
// database runs the whole call again, up to 12 times with jittered backoff,
// starting with the read, which then reports the winner's reservation. The
// read itself sees only committed rows (on MySQL it is a locking read, so
// that READ UNCOMMITTED cannot show it a reservation that will be rolled
// back). SQLite transactions are BEGIN IMMEDIATE: one writer at a time.
//
// Every write other than Reserve's routine runs in a transaction,
// PostgreSQL's at READ COMMITTED, and no COMMIT is sent once the call's
// context has ended. The routine, one statement in autocommit, may still
// commit after its call's context ended; the call then returns the
// context's error, and a retry reports Held. Every call returns when
// its context ends, with the context's error if it had not finished, even
// when the driver does not watch the context during COMMIT: the store then
// leaves the COMMIT to finish in a goroutine of its own. A call that returns an error
// has changed nothing, unless its COMMIT was in flight as the connection
// broke or the context ended, when the outcome is unknown: a retry of the
// call finds it (Reserve reports Held, a retried Verify reports Retry).
//
// # Schema versions
//
// Migrate creates the tables, or upgrades them to SchemaVersion, from any
// number of replicas at once. Version 2 added the subject key and website
// of reservations and keyed the slots by subject key; Migrate upgrades a
// version-1 database in place: each reservation gets the key the Verifier
// gives its name (subject.Key without an ID: "name:" and the canonical
// name), or "v1:" and the name as it was if the name yields no key, and
// website ""; the slots of names that share a key on an instance
// are merged, their holds summed, and each instance's used count is counted
// anew. The README describes the steps, and what a migration cut short on
// MySQL, whose DDL is not transactional, leaves for the next one. Version 3
// installs the routine of Reserve, version 4 an index of the codes by
// instance, version 5, on SQLite only, rebuilds the tables a reservation
// writes as WITHOUT ROWID tables, and version 6 adds the identity of each
// reservation's application, with a new routine of Reserve that stores it;
// it gives every reservation stored before it 32 random lower-case
// hexadecimal digits. Version 7 re-keys the reservations and slots whose
// subject key the Verifier now gives otherwise (a certificate by its number
// whatever its declared type, names under subject.Key's present rules),
// merging the slots of keys that now coincide, as version 2 did. Version 8
// adds the PostgreSQL function that ReserveServiceCode calls and shortens
// MySQL's routine. Version 9 adds the places of quotas (the tables
// quota_keys, quota_places and reservation_quotas) and the columns
// deregistered and quotas of a reservation, false and 0 for every
// reservation stored before it.
//
// # Values
//
// Text fields are at most MaxLen bytes of UTF-8 without NUL, a subject key
// at most MaxSubjectKeyLen, an application's identity 1 to
// MaxApplicationLen ASCII letters and digits, and compared byte for byte (MySQL keeps them as
// VARBINARY, so case and trailing spaces count). Times are kept in UTC to the
// microsecond and come back in UTC; the zero time is NULL. A value the store
// cannot keep faithfully is refused with an error wrapping ErrInvalid; a key
// that cannot be stored is not found.
package sqlstore
