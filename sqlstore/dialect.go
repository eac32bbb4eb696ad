package sqlstore

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
)

// Dialect is the SQL dialect of the database a Store uses.
type Dialect int

// The supported dialects. The zero Dialect is none of them.
const (
	// Postgres is PostgreSQL 12 or newer, e.g. through
	// github.com/jackc/pgx/v5/stdlib.
	Postgres Dialect = iota + 1
	// MySQL is MySQL 8.0.16 or newer, or MariaDB 10.5 or newer, with
	// InnoDB tables, e.g. through github.com/go-sql-driver/mysql.
	MySQL
	// SQLite is SQLite 3.37 or newer in a file, e.g. through
	// modernc.org/sqlite.
	SQLite
)

// String returns the dialect's name: "postgres", "mysql" or "sqlite".
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	case SQLite:
		return "sqlite"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// valid reports whether d is one of the supported dialects.
func (d Dialect) valid() bool { return d >= Postgres && d <= SQLite }

// rebind turns the ? placeholders of q into PostgreSQL's $1, $2, ...
// Queries of this package hold no ? inside string literals.
func (d Dialect) rebind(q string) string {
	if d != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// errKind is what a driver error means to the retry logic.
type errKind int

const (
	errOther     errKind = iota
	errUnique            // a unique or primary key violation
	errTransient         // a serialization failure, deadlock, lock wait timeout or busy database: retry
)

// classify reads the code of a driver error without importing any driver:
// pgx's *pgconn.PgError has SQLState(), modernc.org/sqlite's *sqlite.Error
// has Code(), and go-sql-driver/mysql's *mysql.MySQLError has a Number
// field. The error message is the fallback.
func (d Dialect) classify(err error) errKind {
	if err == nil {
		return errOther
	}
	switch d {
	case Postgres:
		var e interface{ SQLState() string }
		if errors.As(err, &e) {
			switch e.SQLState() {
			case "23505":
				return errUnique
			case "40001", "40P01":
				return errTransient
			}
		}
	case MySQL:
		switch mysqlNumber(err) {
		case 1062, 1586: // ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
			return errUnique
		case 1213, 1205, 1020: // deadlock, lock wait timeout, record changed (MariaDB snapshot isolation)
			return errTransient
		}
	case SQLite:
		var e interface{ Code() int }
		if errors.As(err, &e) {
			switch c := e.Code(); {
			case c == 2067 || c == 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
				return errUnique
			case c&0xff == 5 || c&0xff == 6: // SQLITE_BUSY, SQLITE_LOCKED and their extended codes
				return errTransient
			}
		}
		msg := err.Error()
		switch {
		case strings.Contains(msg, "UNIQUE constraint failed"):
			return errUnique
		case strings.Contains(msg, "database is locked"), strings.Contains(msg, "SQLITE_BUSY"):
			return errTransient
		}
	}
	return errOther
}

// mysqlNumber returns the server error number of a MySQL error, or 0.
func mysqlNumber(err error) int {
	if err == nil {
		return 0
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() == reflect.Struct {
			if f := v.FieldByName("Number"); f.IsValid() && f.Kind() == reflect.Uint16 {
				return int(f.Uint())
			}
		}
	}
	// "Error 1062 (23000): Duplicate entry ..."
	msg := err.Error()
	if i := strings.Index(msg, "Error "); i >= 0 {
		rest := msg[i+len("Error "):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if n, e := strconv.Atoi(rest[:j]); e == nil {
			return n
		}
	}
	return 0
}
