package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// removalHeaders are the comment lines of README.md's "Removing the store"
// that head each dialect's statements.
var removalHeaders = map[string]sqlstore.Dialect{
	"-- PostgreSQL":      sqlstore.Postgres,
	"-- MySQL / MariaDB": sqlstore.MySQL,
	"-- SQLite":          sqlstore.SQLite,
}

// removalStatements returns the statements that README.md's section
// "Removing the store" gives for d, with prefix for ${p}.
func removalStatements(t *testing.T, d sqlstore.Dialect, prefix string) []string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Removing the store\n")
	require.True(t, ok, `README.md has no section "## Removing the store"`)
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "\n```sql\n")
	require.True(t, ok, `"Removing the store" has no sql block`)
	block, _, ok = strings.Cut(block, "\n```\n")
	require.True(t, ok, `"Removing the store": the sql block does not end`)

	var text strings.Builder
	var current sqlstore.Dialect
	seen := false
	for line := range strings.SplitSeq(block, "\n") {
		if h, ok := removalHeaders[strings.TrimSpace(line)]; ok {
			current, seen = h, true
			continue
		}
		if !seen || current != d || strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		text.WriteString(line + "\n")
	}
	var stmts []string
	for stmt := range strings.SplitSeq(text.String(), ";") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			stmts = append(stmts, strings.ReplaceAll(stmt, "${p}", prefix))
		}
	}
	require.NotEmpty(t, stmts, `"Removing the store" gives no statements for %v`, d)
	return stmts
}

// schemaObjects returns every object in the namespace that pool is on,
// one "kind name" string each, sorted: on PostgreSQL the relations
// (tables, indexes, ...), functions, types and constraints of the current
// schema; on MySQL the tables, indexes, constraints, routines, triggers
// and events of the current database; on SQLite the rows of sqlite_master.
func schemaObjects(t *testing.T, pool *sql.DB, d sqlstore.Dialect) []string {
	t.Helper()
	var queries []string
	switch d {
	case sqlstore.Postgres:
		queries = []string{
			`SELECT 'relation ' || relkind::text || ' ' || relname::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace`,
			`SELECT 'function ' || proname::text || '(' || pg_get_function_identity_arguments(oid) || ')' FROM pg_proc WHERE pronamespace = current_schema()::regnamespace`,
			`SELECT 'type ' || typname::text FROM pg_type WHERE typnamespace = current_schema()::regnamespace`,
			`SELECT 'constraint ' || conname::text FROM pg_constraint WHERE connamespace = current_schema()::regnamespace`,
		}
	case sqlstore.MySQL:
		queries = []string{
			`SELECT CONCAT('table ', table_type, ' ', table_name) FROM information_schema.tables WHERE table_schema = DATABASE()`,
			`SELECT CONCAT('index ', table_name, '.', index_name, ' ', seq_in_index) FROM information_schema.statistics WHERE table_schema = DATABASE()`,
			`SELECT CONCAT('constraint ', table_name, '.', constraint_name) FROM information_schema.table_constraints WHERE constraint_schema = DATABASE()`,
			`SELECT CONCAT('routine ', routine_type, ' ', routine_name) FROM information_schema.routines WHERE routine_schema = DATABASE()`,
			`SELECT CONCAT('trigger ', trigger_name) FROM information_schema.triggers WHERE trigger_schema = DATABASE()`,
			`SELECT CONCAT('event ', event_name) FROM information_schema.events WHERE event_schema = DATABASE()`,
		}
	default:
		queries = []string{`SELECT type || ' ' || name || ' on ' || tbl_name FROM sqlite_master`}
	}
	var objs []string
	for _, q := range queries {
		rows, err := pool.QueryContext(context.Background(), q)
		require.NoError(t, err, q)
		for rows.Next() {
			var o string
			require.NoError(t, rows.Scan(&o))
			objs = append(objs, o)
		}
		require.NoError(t, rows.Err(), q)
		rows.Close()
	}
	slices.Sort(objs)
	return objs
}

// TestRemoveStore checks that the statements of README.md's "Removing the
// store" remove everything Migrate creates for a prefix, and nothing of a
// store with another prefix in the same namespace: a store with the
// default prefix is migrated, then one with a prefix of the test's own,
// which is used, closed and removed, twice; the namespace must then hold
// exactly what it held before that store was migrated.
func TestRemoveStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		prefix := randomName("rm_") + "_"
		stmts := removalStatements(t, d, prefix)
		db := newDatabase(t, d)
		ctx := context.Background()
		pool := db.open(t)
		other := db.storeOn(t, pool)
		require.NoError(t, other.PutInstanceContext(ctx, eligible("i-other", "owner")))
		before := schemaObjects(t, pool, d)
		require.NotEmpty(t, before)

		s := db.store(t, sqlstore.WithTablePrefix(prefix))
		v := icpverify.New(s, s)
		require.NoError(t, s.PutInstanceContext(ctx, eligible("i-rm", "owner")))
		code, err := v.IssueServiceCode(ctx, "i-rm", "owner")
		require.NoError(t, err)
		_, err = v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: "owner", Subject: "Example Co., Ltd.", SubjectID: certOf("Example Co., Ltd.")})
		require.NoError(t, err)
		require.NoError(t, s.Close())

		migrated := schemaObjects(t, pool, d)
		var added []string
		for _, o := range migrated {
			if !slices.Contains(before, o) {
				added = append(added, o)
			}
		}
		// The query sees the store's objects: its tables, and on
		// PostgreSQL and MySQL its routine.
		joined := strings.Join(added, "\n")
		for _, table := range []string{"instances", "service_codes", "reservations", "slots", "quota", "schema_version"} {
			assert.Contains(t, joined, " "+prefix+table, "objects of the store before removal")
		}
		if d != sqlstore.SQLite {
			assert.Contains(t, joined, " "+prefix+"reserve", "objects of the store before removal")
		}

		for round := 1; round <= 2; round++ {
			for _, stmt := range stmts {
				_, err := pool.ExecContext(ctx, stmt)
				require.NoError(t, err, "round %d: %s", round, stmt)
			}
		}
		after := schemaObjects(t, pool, d)
		assert.Equal(t, before, after, "the namespace after removal, against before the store with prefix %q was migrated", prefix)
		for _, o := range after {
			assert.NotContains(t, o, prefix, "left after removal")
		}

		// The other store still works.
		_, err = icpverify.New(other, other).IssueServiceCode(ctx, "i-other", "owner")
		assert.NoError(t, err)
	})
}
