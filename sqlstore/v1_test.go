package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// v1DB writes rows as version 1 of the store did, with the statements it
// ran, copied here from sqlstore as it was at commit c272249
// (sqlstore/queries.go, postgres.go, mysql.go, sqlite.go and migrate.go),
// with the default table prefix. The upgrade tests make a version-1
// database with it.
type v1DB struct {
	t  testing.TB
	d  sqlstore.Dialect
	db *sql.DB
}

// The version-1 statements every dialect ran as they are.
const (
	v1CodeCount = `UPDATE ${p}instances SET issued = issued + 1 WHERE id = ? AND issued < ?`
	v1Complete  = `UPDATE ${p}reservations SET filed = ? WHERE code = ?`
	v1Delete    = `DELETE FROM ${p}reservations WHERE code = ?`
	v1SlotDrop  = `UPDATE ${p}slots SET holds = holds - 1 WHERE instance = ? AND subject = ?`
	v1SlotDel   = `DELETE FROM ${p}slots WHERE instance = ? AND subject = ? AND holds <= 0`
	v1QuotaFree = `UPDATE ${p}quota SET used = used - 1 WHERE instance = ? AND used > 0`
	v1Select    = `SELECT code, instance, account, subject, filed, reserved_at FROM ${p}reservations WHERE code = ?`
)

// The version-1 statements of PostgreSQL.
const (
	v1PutInstancePG = `INSERT INTO ${p}instances (id, account, product, region, billing, term_months, public_ip, trial, status, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET account = excluded.account, product = excluded.product,
		region = excluded.region, billing = excluded.billing, term_months = excluded.term_months,
		public_ip = excluded.public_ip, trial = excluded.trial, status = excluded.status,
		expires_at = excluded.expires_at`
	v1CodeInsertPG = `INSERT INTO ${p}service_codes (code, instance, owner, grantee, revoked, issued_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`
	v1ReservePG = `WITH r AS (
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
)

// The version-1 statements of MySQL.
const (
	v1PutInstanceMySQL = `INSERT INTO ${p}instances (id, account, product, region, billing, term_months, public_ip, trial, status, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE account = VALUES(account), product = VALUES(product),
		region = VALUES(region), billing = VALUES(billing), term_months = VALUES(term_months),
		public_ip = VALUES(public_ip), trial = VALUES(trial), status = VALUES(status),
		expires_at = VALUES(expires_at)`
	v1CodeInsertMySQL = `INSERT INTO ${p}service_codes (code, instance, owner, grantee, revoked, issued_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	v1ReserveInsertMySQL = `INSERT INTO ${p}reservations (code, instance, account, subject, filed, reserved_at)
		VALUES (?, ?, ?, ?, ?, ?)`
	v1SlotTakeMySQL = `INSERT INTO ${p}slots (instance, subject, holds) VALUES (?, ?, 1)
		ON DUPLICATE KEY UPDATE holds = holds + 1`
	v1QuotaEnsureMySQL = `INSERT INTO ${p}quota (instance, used) VALUES (?, 0) ON DUPLICATE KEY UPDATE used = used`
	v1QuotaTakeMySQL   = `UPDATE ${p}quota SET used = used + 1 WHERE instance = ? AND used < ?`
)

// The version-1 statements of SQLite.
const (
	v1ReserveInsertSQLite = `INSERT INTO ${p}reservations (code, instance, account, subject, filed, reserved_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`
	v1SlotTakeSQLite = `INSERT INTO ${p}slots (instance, subject, holds) VALUES (?, ?, 1)
		ON CONFLICT (instance, subject) DO UPDATE SET holds = ${p}slots.holds + 1
		RETURNING holds`
	v1QuotaTakeSQLite = `INSERT INTO ${p}quota (instance, used) SELECT ?, 1 WHERE ? > 0
		ON CONFLICT (instance) DO UPDATE SET used = ${p}quota.used + 1 WHERE ${p}quota.used < ?
		RETURNING used`
)

// v1VersionTable is the statement version 1 created its version table
// with (migrate.go's versionTable).
func v1VersionTable(d sqlstore.Dialect) string {
	switch d {
	case sqlstore.Postgres:
		return `CREATE TABLE IF NOT EXISTS ${p}schema_version (
			version    INTEGER     NOT NULL PRIMARY KEY,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`
	case sqlstore.MySQL:
		return `CREATE TABLE IF NOT EXISTS ${p}schema_version (
			version    INT         NOT NULL PRIMARY KEY,
			applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB`
	}
	return `CREATE TABLE IF NOT EXISTS ${p}schema_version (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) STRICT`
}

// newV1DB creates the version-1 schema in db's namespace, as version 1's
// Migrate did: the version table, the statements of
// schema/<dialect>/0001_init.sql (still embedded, and read here from the
// package's directory), and the version recorded.
func newV1DB(t testing.TB, db *database) *v1DB {
	t.Helper()
	v := &v1DB{t: t, d: db.d, db: db.open(t)}
	text, err := os.ReadFile(filepath.Join("schema", db.d.String(), "0001_init.sql"))
	if err != nil {
		t.Fatal(err)
	}
	v.exec(v1VersionTable(db.d))
	var b strings.Builder
	for line := range strings.Lines(string(text)) {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		b.WriteString(line)
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			v.exec(strings.TrimSuffix(strings.TrimSpace(b.String()), ";"))
			b.Reset()
		}
	}
	v.exec(`INSERT INTO ${p}schema_version (version) VALUES (?)`, 1)
	return v
}

// sql returns q with the default prefix and the dialect's placeholders.
func (v *v1DB) sql(q string) string {
	q = strings.ReplaceAll(q, "${p}", sqlstore.DefaultPrefix)
	if v.d != sqlstore.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// exec runs q with args, outside a transaction.
func (v *v1DB) exec(q string, args ...any) {
	v.t.Helper()
	if _, err := v.db.ExecContext(context.Background(), v.sql(q), args...); err != nil {
		v.t.Fatalf("%s: %v", q, err)
	}
}

// timeArg is version 1's value of a time column: NULL for the zero time,
// else UTC to the microsecond, as text on MySQL and SQLite.
func (v *v1DB) timeArg(at time.Time) any {
	if at.IsZero() {
		return nil
	}
	at = at.UTC().Truncate(time.Microsecond)
	switch v.d {
	case sqlstore.SQLite:
		return at.Format("2006-01-02T15:04:05.000000Z")
	case sqlstore.MySQL:
		return at.Format("2006-01-02 15:04:05.000000")
	}
	return at
}

// inTx runs f in a transaction and commits it; it fails the test on an
// error.
func (v *v1DB) inTx(f func(tx *sql.Tx) error) {
	v.t.Helper()
	if err := v.tx(f); err != nil {
		v.t.Fatalf("version-1 transaction: %v", err)
	}
}

// tx runs f in a transaction and commits it, or rolls it back if f
// returns an error.
func (v *v1DB) tx(f func(tx *sql.Tx) error) error {
	var opts *sql.TxOptions // MySQL: the server's default level
	if v.d == sqlstore.Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	// SQLite: version 1 began with BEGIN IMMEDIATE; the tests write from
	// one goroutine, so a deferred transaction does the same.
	tx, err := v.db.BeginTx(context.Background(), opts)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// putInstance stores inst with version 1's putInstance.
func (v *v1DB) putInstance(inst icpverify.Instance) {
	v.t.Helper()
	q := v1PutInstancePG
	if v.d == sqlstore.MySQL {
		q = v1PutInstanceMySQL
	}
	v.inTx(func(tx *sql.Tx) error {
		_, err := tx.Exec(v.sql(q), inst.ID, inst.Account, string(inst.Product), inst.Region, string(inst.Billing),
			int64(inst.TermMonths), inst.PublicIP, inst.Trial, string(inst.Status), v.timeArg(inst.ExpiresAt))
		return err
	})
}

// addCode stores sc as version 1's AddServiceCode did, with a limit of
// 100 codes.
func (v *v1DB) addCode(sc icpverify.ServiceCode) {
	v.t.Helper()
	insert := v1CodeInsertPG // SQLite's too
	if v.d == sqlstore.MySQL {
		insert = v1CodeInsertMySQL
	}
	v.inTx(func(tx *sql.Tx) error {
		if err := v.one(tx.Exec(v.sql(v1CodeCount), sc.Instance, 100)); err != nil {
			return err
		}
		return v.one(tx.Exec(v.sql(insert), sc.Code, sc.Instance, sc.Owner, sc.Grantee, sc.Revoked, v.timeArg(sc.IssuedAt)))
	})
}

// one returns an error unless a statement changed one row.
func (v *v1DB) one(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%d rows affected, %v; want 1", n, err)
	}
	return nil
}

// reserve reserves code on instance for subject, as version 1's Reserve
// did for a code not reserved yet, with a limit of 100 subjects.
func (v *v1DB) reserve(code, instance, account, subject string, at time.Time) {
	v.t.Helper()
	if err := v.tryReserve(code, instance, account, subject, at); err != nil {
		v.t.Fatalf("version-1 reservation: %v", err)
	}
}

// tryReserve is reserve, returning its error.
func (v *v1DB) tryReserve(code, instance, account, subject string, at time.Time) error {
	const limit = 100
	return v.tx(func(tx *sql.Tx) error {
		switch v.d {
		case sqlstore.Postgres:
			var inserted bool
			var holds, used sql.NullInt64
			err := tx.QueryRow(v.sql(v1ReservePG), code, instance, account, subject, v.timeArg(at), limit, limit).
				Scan(&inserted, &holds, &used)
			if err == nil && (!inserted || holds.Int64 == 1 && !used.Valid) {
				err = fmt.Errorf("reservePG = %v, %v, %v", inserted, holds, used)
			}
			return err
		case sqlstore.MySQL:
			return v.reserveMySQL(tx, code, instance, account, subject, at, limit)
		}
		return v.reserveSQLite(tx, code, instance, account, subject, at, limit)
	})
}

// reserveMySQL runs version 1's writes of a reservation on MySQL.
func (v *v1DB) reserveMySQL(tx *sql.Tx, code, instance, account, subject string, at time.Time, limit int) error {
	if err := v.one(tx.Exec(v.sql(v1ReserveInsertMySQL), code, instance, account, subject, false, v.timeArg(at))); err != nil {
		return err
	}
	res, err := tx.Exec(v.sql(v1SlotTakeMySQL), instance, subject)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil // a slot the subject held
	}
	if _, err := tx.Exec(v.sql(v1QuotaEnsureMySQL), instance); err != nil {
		return err
	}
	return v.one(tx.Exec(v.sql(v1QuotaTakeMySQL), instance, limit))
}

// reserveSQLite runs version 1's writes of a reservation on SQLite.
func (v *v1DB) reserveSQLite(tx *sql.Tx, code, instance, account, subject string, at time.Time, limit int) error {
	if err := v.one(tx.Exec(v.sql(v1ReserveInsertSQLite), code, instance, account, subject, false, v.timeArg(at))); err != nil {
		return err
	}
	var holds, used int
	if err := tx.QueryRow(v.sql(v1SlotTakeSQLite), instance, subject).Scan(&holds); err != nil || holds != 1 {
		return err
	}
	return tx.QueryRow(v.sql(v1QuotaTakeSQLite), instance, limit, limit).Scan(&used)
}

// release releases the reservation of code as version 1's Release did.
func (v *v1DB) release(code string) {
	v.t.Helper()
	forUpdate := " FOR UPDATE"
	if v.d == sqlstore.SQLite {
		forUpdate = ""
	}
	v.inTx(func(tx *sql.Tx) error {
		var instance, subject string
		var filed bool
		var at any
		err := tx.QueryRow(v.sql(v1Select+forUpdate), code).Scan(&code, &instance, new(string), &subject, &filed, &at)
		if err != nil || filed {
			return err
		}
		if err := v.one(tx.Exec(v.sql(v1Delete), code)); err != nil {
			return err
		}
		if err := v.one(tx.Exec(v.sql(v1SlotDrop), instance, subject)); err != nil {
			return err
		}
		res, err := tx.Exec(v.sql(v1SlotDel), instance, subject)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return v.one(tx.Exec(v.sql(v1QuotaFree), instance))
	})
}

// complete marks the reservation of code filed, as version 1's Complete
// did.
func (v *v1DB) complete(code string) {
	v.t.Helper()
	v.inTx(func(tx *sql.Tx) error {
		return v.one(tx.Exec(v.sql(v1Complete), true, code))
	})
}
