package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/icpfiling/icpverify/sqlstore"
)

// databaseURLEnv names the environment variable --database-url defaults to.
const databaseURLEnv = "ICPVERIFY_DATABASE_URL"

// dbFlags are the flags every subcommand takes.
type dbFlags struct {
	url, prefix string
}

// usageErr is an error of the user's input, reported with exit status 2.
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

// target is a database to open: a driver, its DSN (or a connector) and the
// store's dialect.
type target struct {
	dialect   sqlstore.Dialect
	driver    string
	dsn       string
	connector *mysql.Config // MySQL: opened through a connector
}

// badURL is a usage error about a database URL.
func badURL(format string, a ...any) (target, error) {
	return target{}, &usageErr{fmt.Sprintf(format, a...)}
}

// parseDatabaseURL turns a database URL into a target; an error is the
// user's, a *usageErr.
func parseDatabaseURL(raw string) (target, error) {
	if raw == "" {
		return badURL("no database: set --database-url or $%s (postgres://…, mysql://…, sqlite:PATH)", databaseURLEnv)
	}
	if isMySQLDSN(raw) {
		return mysqlDSNTarget(raw)
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return badURL("database URL %q has no scheme: want postgres://…, postgresql://…, mysql://…, sqlite:PATH or a MySQL DSN, user:pass@tcp(host:3306)/db", redact(raw))
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return postgresTarget(raw)
	case "mysql":
		return mysqlTarget(raw)
	case "sqlite":
		return sqliteTarget(raw, rest)
	}
	return badURL("unsupported database URL scheme %q: want postgres://…, postgresql://…, mysql://…, sqlite:PATH or a MySQL DSN, user:pass@tcp(host:3306)/db", scheme)
}

// mysqlDSN splits raw as the MySQL driver reads its DSNs,
// [user[:password]@][net[(addr)]]/dbname[?params]: userinfo is what comes
// before the last '@' that comes before the last '/'. It reports whether
// raw is of that form, with a network the driver knows (tcp, tcp4, tcp6
// or unix) or none after a user ("root@/db", the local server).
func mysqlDSN(raw string) (userinfo, rest string, ok bool) {
	slash := strings.LastIndexByte(raw, '/')
	if slash < 0 {
		return "", "", false
	}
	at := strings.LastIndexByte(raw[:slash], '@')
	network, addr, paren := strings.Cut(raw[at+1:slash], "(")
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
		if paren && !strings.HasSuffix(addr, ")") {
			return "", "", false
		}
	case "":
		if at < 0 || paren {
			return "", "", false
		}
	default:
		return "", "", false
	}
	if at < 0 {
		return "", raw, true
	}
	return raw[:at], raw[at+1:], true
}

// isMySQLDSN reports whether raw is a DSN of the MySQL driver rather than
// a URL: of its form, with no "//" after a scheme, and no sqlite: path.
func isMySQLDSN(raw string) bool {
	scheme, rest, _ := strings.Cut(raw, ":")
	_, _, ok := mysqlDSN(raw)
	return ok && !strings.HasPrefix(rest, "//") && !strings.EqualFold(scheme, "sqlite")
}

// mysqlDSNTarget is the target of the MySQL driver's own DSN, as
// sqlstore's callers open it: the driver parses it.
func mysqlDSNTarget(raw string) (target, error) {
	cfg, err := mysql.ParseDSN(raw)
	if err != nil {
		return badURL("MySQL DSN %q: %v", redact(raw), redactErr(err, raw))
	}
	if cfg.DBName == "" {
		return badURL("MySQL DSN %q names no database: want user:pass@tcp(host:3306)/DATABASE", redact(raw))
	}
	_, query, _ := strings.Cut(raw[strings.LastIndexByte(raw, '/'):], "?")
	if q, err := url.ParseQuery(query); err != nil || !q.Has("interpolateParams") {
		cfg.InterpolateParams = true // one round trip per statement
	}
	return target{dialect: sqlstore.MySQL, driver: "mysql", connector: cfg}, nil
}

// postgresTarget is the target of a postgres:// URL, which pgx reads as
// it is.
func postgresTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return badURL("database URL: %v", redactErr(err, raw))
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return badURL("database URL %q names no host", redact(raw))
	}
	return target{dialect: sqlstore.Postgres, driver: "pgx", dsn: raw}, nil
}

// mysqlTarget is the target of a mysql:// URL: the driver's Config, with
// its parameters parsed by the driver.
func mysqlTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return badURL("database URL: %v", redactErr(err, raw))
	}
	q := u.Query()
	socket := q.Get("socket")
	q.Del("socket")
	if u.Host == "" && socket == "" {
		return badURL("database URL %q names no host: want mysql://user:pass@host:port/DATABASE, or ?socket=PATH for a unix socket", redact(raw))
	}
	if socket != "" && u.Host != "" && u.Host != "localhost" {
		return badURL("database URL %q names both a host and a socket: want mysql://user:pass@localhost/DATABASE?socket=PATH", redact(raw))
	}
	netAddr := "tcp(" + u.Host + ")"
	if u.Port() == "" {
		netAddr = "tcp(" + net.JoinHostPort(u.Hostname(), "3306") + ")"
	}
	if socket != "" {
		netAddr = "unix(" + socket + ")"
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return badURL("database URL %q: want mysql://user:pass@host:port/DATABASE", redact(raw))
	}
	// The driver parses its own parameters (and keeps others as system
	// variables); user and password are set apart so that no character of
	// theirs needs escaping.
	cfg, err := mysql.ParseDSN(netAddr + "/" + url.PathEscape(db) + "?" + q.Encode())
	if err != nil {
		return badURL("database URL %q: %v", redact(raw), err)
	}
	cfg.DBName = db
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	if !q.Has("interpolateParams") {
		cfg.InterpolateParams = true // one round trip per statement
	}
	return target{dialect: sqlstore.MySQL, driver: "mysql", connector: cfg}, nil
}

// sqliteTarget is the target of a sqlite: URL, whose rest after the scheme
// is a relative path or, after "//", an absolute one.
func sqliteTarget(raw, path string) (target, error) {
	if strings.HasPrefix(path, "//") {
		// sqlite:///abs/path: an empty authority, an absolute path.
		if !strings.HasPrefix(path, "///") {
			return badURL("database URL %q: want sqlite:relative/path or sqlite:///absolute/path", raw)
		}
		path = path[2:]
	}
	if path == "" {
		return badURL("database URL %q names no file", raw)
	}
	if strings.ContainsAny(path, "?#") || path == ":memory:" {
		return badURL("database URL %q: want the path of a file, without parameters", raw)
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	return target{dialect: sqlstore.SQLite, driver: "sqlite", dsn: dsn}, nil
}

// redact hides the password of a URL or a MySQL DSN, for messages.
func redact(raw string) string {
	if userinfo, rest, _ := mysqlDSN(raw); isMySQLDSN(raw) {
		if user, _, hasPassword := strings.Cut(userinfo, ":"); hasPassword {
			return user + ":xxxxx@" + rest
		}
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			if j := strings.Index(raw, "://"); j >= 0 && j < i {
				return raw[:j+3] + "…" + raw[i:]
			}
		}
		return raw
	}
	return u.Redacted()
}

// redactErr is err with the password of raw hidden.
func redactErr(err error, raw string) string {
	msg := strings.ReplaceAll(err.Error(), raw, redact(raw))
	if p := password(raw); p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
}

// password is the password of a URL or a MySQL DSN; "" if it has none.
func password(raw string) string {
	if userinfo, _, _ := mysqlDSN(raw); isMySQLDSN(raw) {
		_, p, _ := strings.Cut(userinfo, ":")
		return p
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		p, _ := u.User.Password()
		return p
	}
	return ""
}

// open opens the database the flags name and a Store on it, checking the
// connection. The returned function closes both.
func (f *dbFlags) open(ctx context.Context, getenv func(string) string) (*sqlstore.Store, func(), error) {
	raw := f.url
	if raw == "" {
		raw = getenv(databaseURLEnv)
	}
	t, err := parseDatabaseURL(raw)
	if err != nil {
		return nil, nil, err
	}
	var db *sql.DB
	if t.connector != nil {
		c, err := mysql.NewConnector(t.connector)
		if err != nil {
			return nil, nil, &usageErr{fmt.Sprintf("database URL: %v", err)}
		}
		db = sql.OpenDB(c)
	} else {
		db, err = sql.Open(t.driver, t.dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("opening the database: %v", redactErr(err, raw))
		}
	}
	db.SetMaxOpenConns(4)
	store, err := sqlstore.New(db, t.dialect, sqlstore.WithTablePrefix(f.prefix))
	if err != nil {
		db.Close()
		return nil, nil, &usageErr{err.Error()}
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("connecting to %s: %v", redact(raw), redactErr(err, raw))
	}
	return store, func() { store.Close(); db.Close() }, nil
}

// openMigrated opens the store for subcommand name as openStore does, and
// checks that its tables are at the schema version of this command: if
// they are missing or older, it fails with "run migrate first".
func openMigrated(ctx context.Context, e *env, name string, f *dbFlags) (*sqlstore.Store, func(), int) {
	s, closeFn, status := openStore(ctx, e, name, f)
	if s == nil {
		return nil, nil, status
	}
	v, err := schemaVersion(ctx, s, f.prefix)
	switch {
	case err != nil:
	case v == 0:
		err = fmt.Errorf("the database has no icpverify tables (prefix %q): run migrate first", f.prefix)
	case v < sqlstore.SchemaVersion:
		err = fmt.Errorf("the tables (prefix %q) are at schema version %d, older than this command's %d: run migrate first", f.prefix, v, sqlstore.SchemaVersion)
	case v > sqlstore.SchemaVersion:
		err = fmt.Errorf("the tables (prefix %q) are at schema version %d, newer than this command's %d: use a newer icpverify", f.prefix, v, sqlstore.SchemaVersion)
	}
	if err != nil {
		closeFn()
		return nil, nil, failure(e, name, err)
	}
	return s, closeFn, 0
}

// openStore opens the store for subcommand name, reporting a failure on
// e.stderr; it returns the exit status if it failed.
func openStore(ctx context.Context, e *env, name string, f *dbFlags) (*sqlstore.Store, func(), int) {
	s, closeFn, err := f.open(ctx, e.getenv)
	if err != nil {
		var ue *usageErr
		if errors.As(err, &ue) {
			return nil, nil, usageError(e, name, "%v", err)
		}
		return nil, nil, failure(e, name, err)
	}
	return s, closeFn, 0
}
