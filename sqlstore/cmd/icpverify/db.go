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
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return badURL("database URL %q has no scheme: want postgres://…, postgresql://…, mysql://… or sqlite:PATH", redact(raw))
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return postgresTarget(raw)
	case "mysql":
		return mysqlTarget(raw)
	case "sqlite":
		return sqliteTarget(raw, rest)
	}
	return badURL("unsupported database URL scheme %q: want postgres://…, postgresql://…, mysql://… or sqlite:PATH", scheme)
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

// redact hides the password of a URL, for messages.
func redact(raw string) string {
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
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return strings.ReplaceAll(msg, raw, redact(raw))
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
