package sqlstore_test

import (
	"context"
	"testing"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// TestMigrateFromV2 makes a version-2 database with a reservation (a
// version-3 one without its routine and its version row), upgrades it in
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
		for _, q := range []string{drop, "DELETE FROM " + sqlstore.DefaultPrefix + "schema_version WHERE version = 3"} {
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
