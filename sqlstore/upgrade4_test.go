package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// verifierOnlyLookups hides ReserveServiceCode from the Verifier, which
// then reserves as version 4 did: LookupServiceCode, then Reserve.
type verifierOnlyLookups struct{ icpverify.CodeLookup }

// TestMigrateFromV4 makes a version-4 database (a newer one without the
// procedures of version 5 and its version row) with reservations written
// the way version 4 writes them (LookupServiceCode, then the routine of
// Reserve), one of them filed, upgrades it in place with Migrate, twice,
// and checks that ReserveServiceCode then answers every one of them and
// reserves a fresh code.
func TestMigrateFromV4(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		db := newDatabase(t, d)
		s := db.store(t)
		reqs := issueCodes(t, s, icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy)), 3)
		old := icpverify.New(s, verifierOnlyLookups{s}, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
		for _, req := range reqs[:2] {
			if _, err := old.Verify(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		if err := old.Complete(ctx, reqs[1].ServiceCode); err != nil {
			t.Fatal(err)
		}

		fresh := db.open(t)
		drops := map[sqlstore.Dialect][]string{sqlstore.MySQL: {
			"DROP PROCEDURE " + sqlstore.DefaultPrefix + "reserve_code",
			"DROP PROCEDURE " + sqlstore.DefaultPrefix + "reserve_into",
		}}[d]
		for _, q := range append(drops, "DELETE FROM "+sqlstore.DefaultPrefix+"schema_version WHERE version >= 5") {
			if _, err := fresh.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		s2, err := sqlstore.New(fresh, d)
		if err != nil {
			t.Fatal(err)
		}
		if d == sqlstore.MySQL {
			r := icpverify.Reservation{Code: mustNormalize(t, reqs[2].ServiceCode), Account: reqs[2].Account, SubjectKey: "k"}
			if _, _, err := s2.ReserveServiceCode(ctx, r, 5, icpverify.ReserveGuard{}); err == nil || errors.Is(err, icpverify.ErrNotFound) {
				t.Fatalf("ReserveServiceCode on version 4: %v; want the procedure missing", err)
			}
		}
		for range 2 {
			if err := s2.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		}
		checkVersions(t, s2, sqlstore.DefaultPrefix)
		checkVerifiedAfterUpgrade(t, s2, reqs)
	})
}

// checkVerifiedAfterUpgrade verifies reqs through s's ReserveServiceCode:
// the first was reserved by version 4 (a retry), the second filed, the
// third is fresh.
func checkVerifiedAfterUpgrade(t *testing.T, s *sqlstore.Store, reqs []icpverify.Request) {
	t.Helper()
	ctx := context.Background()
	v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
	if res, err := v.Verify(ctx, reqs[0]); err != nil || !res.Retry || res.Used != 2 {
		t.Errorf("the version-4 reservation after the upgrade: Verify = %+v, %v; want a retry, 2 used", res, err)
	}
	_, err := v.Verify(ctx, reqs[1])
	var e *icpverify.Error
	if !errors.As(err, &e) || e.Reason != icpverify.ReasonCodeUsed {
		t.Errorf("the filed version-4 reservation after the upgrade: Verify error %v; want code_used", err)
	}
	if res, err := v.Verify(ctx, reqs[2]); err != nil || res.Retry || res.Used != 3 {
		t.Errorf("a first reservation after the upgrade: Verify = %+v, %v; want 3 used", res, err)
	}
	checkRows(t, s.DB(), 3, 3)
}
