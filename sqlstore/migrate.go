package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// schemaFS holds the migrations, schema/<dialect>/NNNN_name.sql, applied in
// the order of NNNN. ${p} in them is the table prefix.
//
//go:embed schema
var schemaFS embed.FS

type migration struct {
	version int
	name    string
	steps   []step
}

// step is a part of a migration file: the statements that follow a line
// "-- step NAME", or the statements of a file that has no such line (name
// ""). A named step runs as its stepRule says.
type step struct {
	name  string
	stmts []string
}

// migrations returns the migrations of d in order.
func (s *Store) migrations() ([]migration, error) {
	dir := path.Join("schema", s.d.String())
	entries, err := fs.ReadDir(schemaFS, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("sqlstore: bad migration file name %s", name)
		}
		text, err := fs.ReadFile(schemaFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		steps := splitSteps(strings.ReplaceAll(string(text), "${p}", s.prefix))
		for _, st := range steps {
			if _, ok := stepRules[st.name]; !ok && st.name != "" {
				return nil, fmt.Errorf("sqlstore: migration %s: unknown step %q", name, st.name)
			}
		}
		ms = append(ms, migration{version: v, name: name, steps: steps})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("sqlstore: migration %s: want version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// stepPrefix starts the line that names a step of a migration file.
const stepPrefix = "-- step "

// routineStart and routineEnd are the lines around a statement that holds
// statements of its own, a routine's body: it runs as one statement, with
// its lines as they are, up to the line routineEnd.
const (
	routineStart = "-- routine"
	routineEnd   = "-- end routine"
)

// splitSteps splits a migration into steps, each headed by a line
// "-- step NAME", and each step into statements: it drops other "--"
// comment lines and cuts after each line that ends with a semicolon, except
// between the lines routineStart and routineEnd, whose text is one
// statement. Statements before the first step line form a step named "".
func splitSteps(text string) []step {
	var out []step
	cur := step{}
	var b strings.Builder
	routine := false
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case routine && t == routineEnd:
			cur.stmts = append(cur.stmts, strings.TrimSuffix(strings.TrimSpace(b.String()), ";"))
			b.Reset()
			routine = false
			continue
		case routine:
			b.WriteString(line)
			b.WriteByte('\n')
			continue
		case t == routineStart:
			routine = true
			continue
		}
		if name, ok := strings.CutPrefix(t, stepPrefix); ok {
			if cur.name != "" || len(cur.stmts) > 0 {
				out = append(out, cur)
			}
			cur = step{name: strings.TrimSpace(name)}
			continue
		}
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			cur.stmts = append(cur.stmts, strings.TrimSuffix(strings.TrimSpace(b.String()), ";"))
			b.Reset()
		}
	}
	if rest := strings.TrimSpace(b.String()); rest != "" {
		cur.stmts = append(cur.stmts, rest)
	}
	if cur.name != "" || len(cur.stmts) > 0 {
		out = append(out, cur)
	}
	return out
}

// SchemaVersion is the version of the newest schema this package knows.
const SchemaVersion = 9

// Migrate creates the store's tables, or brings them up to SchemaVersion.
// It is idempotent, records each version applied in the table
// <prefix>schema_version, and is safe to run from several processes at
// once:
//
//   - PostgreSQL runs all of it in one transaction that first takes
//     pg_advisory_xact_lock on a key derived from the schema and prefix;
//     DDL is transactional there, so a failure leaves nothing behind.
//   - MySQL cannot roll back DDL: Migrate pins one connection, takes
//     GET_LOCK on it (a session lock, released on that same connection, or
//     by the server if the connection dies) and runs statements that are
//     idempotent by themselves (CREATE TABLE IF NOT EXISTS, with the
//     indexes inline), or steps it skips once they are done (see
//     stepRules), recording the version with an upsert; so a migration cut
//     short is taken up by the next.
//   - SQLite runs all of it in one BEGIN IMMEDIATE transaction.
//
// Version 2 upgrades a version-1 database in place, with its data: each
// reservation gets the subject key the Verifier gives its name,
// subject.Key(name, subject.ID{}), or "v1:" and the name as it was for a
// name that yields no key, and the website ""; the slots of names that now
// share a key on an instance are merged, their holds summed, and each
// instance's used count is counted anew. Version 6
// gives every reservation stored before it an application identity of its
// own, 32 random lower-case hexadecimal digits. Version 7 re-keys every
// reservation and slot whose key the Verifier now gives otherwise (a
// certificate by its number whatever its declared type, names under the
// new rules of subject.Key), merges the slots of keys that now coincide on
// an instance, their holds summed, and counts each instance's slots anew.
// Version 9 adds the tables of the places that reservations take in their
// quotas, and the columns deregistered and quotas of a reservation, both
// with a default (false and 0) that every reservation stored before it
// takes: it holds no place, and Release, Complete and Deregister free its
// slot as before.
//
// If the recorded version is current it returns at once, without DDL or
// lock, so a role with only SELECT, INSERT, UPDATE and DELETE on the tables
// may call it. It fails if the database's schema is newer than this package.
func (s *Store) Migrate(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	return s.migrate(ctx, ms)
}

// migrate is Migrate with the migrations ms, the first len(ms) versions.
func (s *Store) migrate(ctx context.Context, ms []migration) error {
	// Up to date already: no DDL, no lock, so that a role that may
	// only read and write the tables can call it too.
	var current int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+s.prefix+`schema_version`).Scan(&current); err == nil {
		switch {
		case current == len(ms):
			return nil
		case current > len(ms):
			return fmt.Errorf("sqlstore: Migrate (%s, prefix %q): the database has schema version %d, newer than this package's %d", s.d, s.prefix, current, len(ms))
		}
	}
	var run func(context.Context, []migration) error
	switch s.d {
	case Postgres:
		run = s.migratePostgres
	case MySQL:
		run = s.migrateMySQL
	default:
		run = s.migrateSQLite
	}
	if err := run(ctx, ms); err != nil {
		return fmt.Errorf("sqlstore: Migrate (%s, prefix %q): %w", s.d, s.prefix, err)
	}
	return nil
}

// versionTable returns the statement that creates the table recording
// the schema versions applied.
func (s *Store) versionTable() string {
	switch s.d {
	case Postgres:
		return `CREATE TABLE IF NOT EXISTS ` + s.prefix + `schema_version (
			version    INTEGER     NOT NULL PRIMARY KEY,
			applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`
	case MySQL:
		return `CREATE TABLE IF NOT EXISTS ` + s.prefix + `schema_version (
			version    INT         NOT NULL PRIMARY KEY,
			applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB`
	}
	return `CREATE TABLE IF NOT EXISTS ` + s.prefix + `schema_version (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) STRICT`
}

// apply runs the migrations newer than the recorded version on q.
func (s *Store) apply(ctx context.Context, q querier, ms []migration) error {
	if _, err := q.ExecContext(ctx, s.versionTable()); err != nil {
		return fmt.Errorf("creating %sschema_version: %w", s.prefix, err)
	}
	var current int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+s.prefix+`schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("the database has schema version %d, newer than this package's %d", current, len(ms))
	}
	record := sqlText(s.d, s.prefix, `INSERT INTO ${p}schema_version (version) VALUES (?)`)
	if s.d == MySQL {
		// Another replica may have recorded it in the meantime.
		record += ` ON DUPLICATE KEY UPDATE version = version`
	}
	for _, m := range ms[current:] {
		for _, st := range m.steps {
			if err := s.runStep(ctx, q, st); err != nil {
				where := m.name
				if st.name != "" {
					where += ", step " + st.name
				}
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		if _, err := q.ExecContext(ctx, record, m.version); err != nil {
			return fmt.Errorf("%s: recording version: %w", m.name, err)
		}
	}
	return nil
}

// migratePostgres applies ms on PostgreSQL in one transaction (inTx's:
// READ COMMITTED whatever the server's default, since at REPEATABLE READ
// the snapshot would be taken by the lock statement, before a concurrent
// migration's commit, and miss its version row), after taking a
// transaction-scoped advisory lock.
func (s *Store) migratePostgres(ctx context.Context, ms []migration) error {
	return s.inTx(ctx, func(q querier) (bool, error) {
		// A transaction-scoped lock: released by COMMIT or ROLLBACK on
		// the transaction's own connection, whatever the pool does.
		if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('icpverify.sqlstore'), hashtext(current_schema() || '.' || $1))`, s.prefix); err != nil {
			return false, fmt.Errorf("taking the migration lock: %w", err)
		}
		if err := s.apply(ctx, q, ms); err != nil {
			return false, err
		}
		return true, nil
	})
}

// mysqlLockWait is how long Migrate waits for another replica's migration.
const mysqlLockWait = 60 * time.Second

// migrateMySQL applies ms on MySQL, whose DDL is not transactional, with
// statements that are idempotent by themselves, on one pinned connection
// that holds a GET_LOCK session lock meanwhile.
func (s *Store) migrateMySQL(ctx context.Context, ms []migration) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	// GET_LOCK is held by the session, so everything runs on this one
	// pinned connection. Lock names are at most 64 characters.
	name := `CONCAT('icpverify:', SHA1(CONCAT(DATABASE(), '.', ?)))`
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(`+name+`, ?)`, s.prefix, int(mysqlLockWait/time.Second)).Scan(&got); err != nil {
		conn.Close()
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		conn.Close()
		return errors.New("taking the migration lock: timed out waiting for another migration")
	}
	err = s.apply(ctx, conn, ms)
	// Release the lock even if ctx has ended, but return by its
	// deadline: the release then goes on without the call.
	_ = finish(ctx, func() error {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `DO RELEASE_LOCK(`+name+`)`, s.prefix); err != nil {
			// Closing the session releases the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		return conn.Close()
	})
	return err
}

// migrateSQLite applies ms on SQLite in one BEGIN IMMEDIATE transaction.
func (s *Store) migrateSQLite(ctx context.Context, ms []migration) error {
	return s.retry(ctx, func() error {
		return s.inSQLiteTx(ctx, func(q querier) (bool, error) {
			return true, s.apply(ctx, q, ms)
		})
	})
}
