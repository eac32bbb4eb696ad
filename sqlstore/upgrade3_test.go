package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/sqlstore"
)

// TestMigrateFromV2 makes a version-2 database with a reservation (a
// newer one without its routine and the version rows from 3), upgrades it in
// place with Migrate, twice, and checks that the reservation stays and
// that Reserve works through the routine.
func TestMigrateFromV2(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		db := newDatabase(t, d)
		s := db.store(t)
		v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
		reqs := issueCodes(t, s, v, 2)
		if _, err := v.Verify(ctx, reqs[0]); err != nil {
			t.Fatal(err)
		}
		drop := map[sqlstore.Dialect]string{
			sqlstore.Postgres: "DROP FUNCTION " + sqlstore.DefaultPrefix + "reserve",
			sqlstore.MySQL:    "DROP PROCEDURE " + sqlstore.DefaultPrefix + "reserve",
		}[d]
		fresh := db.open(t)
		for _, q := range []string{drop, "DELETE FROM " + sqlstore.DefaultPrefix + "schema_version WHERE version >= 3"} {
			if q == "" {
				continue
			}
			if _, err := fresh.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		s2 := db.storeOn(t, fresh) // Migrate from version 2
		if err := s2.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		checkVersions(t, s2, sqlstore.DefaultPrefix)
		v2 := icpverify.New(s2, s2, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
		if res, err := v2.Verify(ctx, reqs[0]); err != nil || !res.Retry || res.Used != 1 {
			t.Errorf("the version-2 reservation after the upgrade: Verify = %+v, %v; want a retry, 1 used", res, err)
		}
		if res, err := v2.Verify(ctx, reqs[1]); err != nil || res.Retry || res.Used != 2 {
			t.Errorf("a first reservation after the upgrade: Verify = %+v, %v; want 2 used", res, err)
		}
		checkRows(t, s2.DB(), 2, 2)
	})
}

// TestMigrateFromV3 makes a version-3 database (a newer one without the
// index of version 4 and its version row), upgrades it in place with
// Migrate, twice, and checks that the index is there and an instance's
// codes are listed.
func TestMigrateFromV3(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		db := newDatabase(t, d)
		s := db.store(t)
		v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
		reqs := issueCodes(t, s, v, 3)
		index := sqlstore.DefaultPrefix + "service_codes_instance"
		drop := "DROP INDEX " + index
		if d == sqlstore.MySQL {
			drop = "ALTER TABLE " + sqlstore.DefaultPrefix + "service_codes DROP INDEX " + index
		}
		fresh := db.open(t)
		for _, q := range []string{drop, "DELETE FROM " + sqlstore.DefaultPrefix + "schema_version WHERE version >= 4"} {
			if _, err := fresh.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if hasIndex(t, d, fresh, index) {
			t.Fatal("the index is still there")
		}
		s2 := db.storeOn(t, fresh)
		for range 2 {
			if err := s2.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		}
		checkVersions(t, s2, sqlstore.DefaultPrefix)
		if !hasIndex(t, d, fresh, index) {
			t.Error("Migrate from version 3 made no index of the codes by instance")
		}
		sc, err := s2.ServiceCode(ctx, mustNormalize(t, reqs[0].ServiceCode))
		if err != nil {
			t.Fatal(err)
		}
		codes, err := s2.ListServiceCodes(ctx, sc.Instance, 10)
		if err != nil || len(codes) != 3 {
			t.Errorf("ListServiceCodes after the upgrade = %d codes, %v; want 3", len(codes), err)
		}
	})
}

// hasIndex reports whether the database of db has the index name.
func hasIndex(t *testing.T, d sqlstore.Dialect, db *sql.DB, name string) bool {
	t.Helper()
	q := map[sqlstore.Dialect]string{
		sqlstore.Postgres: `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1)`,
		sqlstore.MySQL:    `SELECT EXISTS (SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = ?)`,
		sqlstore.SQLite:   `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?)`,
	}[d]
	var has bool
	if err := db.QueryRowContext(context.Background(), q, name).Scan(&has); err != nil {
		t.Fatalf("looking for index %s: %v", name, err)
	}
	return has
}

// mustNormalize returns the canonical form of a code of the default format.
func mustNormalize(t *testing.T, code string) string {
	t.Helper()
	c, ok := codeformat.Normalize(code)
	if !ok {
		t.Fatalf("%q is not a code", code)
	}
	return c
}
