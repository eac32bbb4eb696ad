package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/icpfiling/icpverify/sqlstore"
)

const (
	postgresEnv = "ICPVERIFY_POSTGRES_DSN"
	mysqlEnv    = "ICPVERIFY_MYSQL_DSN"
)

var dialects = []sqlstore.Dialect{sqlstore.Postgres, sqlstore.MySQL, sqlstore.SQLite}

// database is one fresh, empty database namespace of a dialect: a
// PostgreSQL schema, a MySQL database or a SQLite file. It is dropped when
// the test ends.
type database struct {
	d    sqlstore.Dialect
	name string // the schema, database or file
	dsn  string // DSN of the namespace
	// admin is a pool on the server outside the namespace (nil for
	// SQLite), for killing connections and dropping the namespace.
	admin *sql.DB
	// nodes are the DSNs of the namespace on each node of a Galera
	// cluster, if it is on one; open takes them in turn.
	nodes []string
	next  atomic.Int64
}

// randomName returns prefix followed by 12 random hexadecimal digits.
func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// skipUnlessAvailable skips t if the server of d is not configured.
func skipUnlessAvailable(t testing.TB, d sqlstore.Dialect) {
	t.Helper()
	switch d {
	case sqlstore.Postgres:
		if os.Getenv(postgresEnv) == "" {
			t.Skip(postgresEnv + " not set; set it to a PostgreSQL DSN to run the PostgreSQL tests, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
		}
	case sqlstore.MySQL:
		if os.Getenv(mysqlEnv) == "" {
			t.Skip(mysqlEnv + " not set; set it to a MySQL/MariaDB DSN to run the MySQL tests, e.g. root@tcp(127.0.0.1:3306)/test?parseTime=true&interpolateParams=true")
		}
	}
}

// newDatabase makes a fresh namespace of dialect d, or skips t.
func newDatabase(t testing.TB, d sqlstore.Dialect) *database {
	t.Helper()
	skipUnlessAvailable(t, d)
	ctx := context.Background()
	switch d {
	case sqlstore.Postgres:
		base := os.Getenv(postgresEnv)
		admin := openDB(t, "pgx", base)
		schema := randomName("icpv_test_")
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("creating schema: %v", err)
		}
		t.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("dropping schema %s: %v", schema, err)
			}
		})
		// The application name finds the namespace's sessions.
		dsn := withParam(t, sqlstore.Postgres, withSearchPath(t, base, schema), "application_name", schema)
		return &database{d: d, name: schema, dsn: dsn, admin: admin}
	case sqlstore.MySQL:
		base := os.Getenv(mysqlEnv)
		admin := openDB(t, "mysql", base)
		cfg, err := mysql.ParseDSN(base)
		if err != nil {
			t.Fatalf("%s: %v", mysqlEnv, err)
		}
		name := randomName("icpv_test_")
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatalf("creating database: %v", err)
		}
		t.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name); err != nil {
				t.Errorf("dropping database %s: %v", name, err)
			}
		})
		cfg.DBName = name
		return &database{d: d, name: name, dsn: cfg.FormatDSN(), admin: admin}
	default:
		path := filepath.Join(t.TempDir(), "icp.db")
		return &database{d: d, name: path, dsn: sqliteDSN(path)}
	}
}

// sqliteDSN is the modernc.org/sqlite DSN the tests and example use.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
}

// withSearchPath adds search_path to a PostgreSQL DSN, URL or key=value.
func withSearchPath(t testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("%s: %v", postgresEnv, err)
		}
		if u.Query().Has("search_path") {
			t.Fatalf("%s: has a search_path already", postgresEnv)
		}
		// Appended as it is: re-encoding the query would turn the
		// spaces of an options parameter into "+", which pgx keeps.
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "search_path=" + schema
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// withParam returns dsn, a DSN of dialect d as a user writes it (with
// parameters or without), with the parameter key set to value: through
// mysql.ParseDSN and FormatDSN for MySQL (where a parameter that is not the
// driver's is a system variable set on each connection), as a URL query
// parameter or a keyword/value pair for PostgreSQL.
func withParam(t testing.TB, d sqlstore.Dialect, dsn, key, value string) string {
	t.Helper()
	if d == sqlstore.MySQL {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("parsing the DSN %q: %v", dsn, err)
		}
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params[key] = value
		return cfg.FormatDSN()
	}
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		v := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value)
		return strings.TrimSpace(dsn) + " " + key + "='" + v + "'"
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parsing the DSN %q: %v", dsn, err)
	}
	// Appended as it is, not re-encoded: see withSearchPath.
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += url.QueryEscape(key) + "=" + url.PathEscape(value)
	return u.String()
}

// driverName returns the name the tests' driver of d is registered as.
func driverName(d sqlstore.Dialect) string {
	switch d {
	case sqlstore.Postgres:
		return "pgx"
	case sqlstore.MySQL:
		return "mysql"
	}
	return "sqlite"
}

// openDB opens a pool with the driver registered as driver, and sets it up
// as setUpDB does.
func openDB(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("sql.Open(%s): %v", driver, err)
	}
	return setUpDB(t, db)
}

// setUpDB sizes the pool db, closes it when the test ends, and connects.
func setUpDB(t testing.TB, db *sql.DB) *sql.DB {
	t.Helper()
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(time.Minute)
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return db
}

// open returns a new pool on the namespace: one replica. On a Galera
// cluster each pool is on the next node.
func (db *database) open(t testing.TB) *sql.DB {
	t.Helper()
	dsn := db.dsn
	if len(db.nodes) > 0 {
		dsn = db.nodes[int(db.next.Add(1)-1)%len(db.nodes)]
	}
	return openDB(t, driverName(db.d), dsn)
}

// store returns a Store on a new pool on the namespace, migrated.
func (db *database) store(t testing.TB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	return db.storeOn(t, db.open(t), opts...)
}

// storeOn returns a Store on pool, a pool on the namespace, migrated.
func (db *database) storeOn(t testing.TB, pool *sql.DB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(pool, db.d, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// forEachDialect runs f as a subtest per dialect; servers not configured
// are skipped.
func forEachDialect(t *testing.T, f func(t *testing.T, d sqlstore.Dialect)) {
	for _, d := range dialects {
		t.Run(d.String(), func(t *testing.T) {
			skipUnlessAvailable(t, d)
			f(t, d)
		})
	}
}
