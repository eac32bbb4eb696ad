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
//
// The package imports no driver: the program does.
//
// # How the quota holds
//
// Five tables keep the state: instances (with an issued counter of service
// codes), service_codes, reservations (one row per code: the code is the
// primary key), slots (one row per subject holding a slot on an instance,
// with the number of its reservations there; primary key (instance,
// subject)) and quota (one row per instance with the number of its slots,
// used).
//
// LookupServiceCode reads a code, its instance, its reservation and the
// usage with one join; a Verifier whose InstanceStore and QuotaStore are the
// same Store answers a retry from that read alone, in one round trip.
//
// Reserve first reads the code's reservation: a retry is answered there,
// Held or Taken, in one round trip. Otherwise one transaction inserts the
// reservation; adds one to the subject's slot with an upsert, which inserts
// it if the subject held none; and, only if the slot is new, adds one to the
// instance's quota row with a conditional increment, used < limit. If the
// increment changes no row the instance is Full: the transaction is rolled
// back and nothing is stored. Release deletes the reservation, takes one off
// the slot, and if that was the slot's last reservation deletes it and takes
// one off the quota row. AddServiceCode counts codes the same way, with a
// conditional increment of the instance's issued counter.
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
// Every write runs in a transaction, PostgreSQL's at READ COMMITTED, and no
// COMMIT is sent once the call's context has ended. Every call returns when
// its context ends, with the context's error if it had not finished, even
// when the driver does not watch the context during COMMIT: the store then
// leaves the COMMIT to finish in a goroutine of its own. A call that returns an error
// has changed nothing, unless its COMMIT was in flight as the connection
// broke or the context ended, when the outcome is unknown: a retry of the
// call finds it (Reserve reports Held, a retried Verify reports Retry).
//
// # Values
//
// Text fields are at most MaxLen bytes of UTF-8 without NUL, and compared
// byte for byte (MySQL keeps them as VARBINARY, so case and trailing spaces
// count). Times are kept in UTC to the microsecond and come back in UTC; the
// zero time is NULL. A value the store cannot keep faithfully is refused with
// an error wrapping ErrInvalid; a key that cannot be stored is not found.
package sqlstore
