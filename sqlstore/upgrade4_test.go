package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/sqlstore"
)

// sqliteV4Tables are version 4's SQLite tables that version 5 rebuilds,
// as version 4 left them (schema/sqlite/0001 and 0002), with statements
// that turn a database's tables back into them, rows kept.
var sqliteV4Tables = []string{
	`CREATE TABLE v4_quota (instance TEXT NOT NULL PRIMARY KEY, used INTEGER NOT NULL CHECK (used >= 0)) STRICT`,
	`INSERT INTO v4_quota SELECT instance, used FROM icpverify_quota`,
	`DROP TABLE icpverify_quota`,
	`ALTER TABLE v4_quota RENAME TO icpverify_quota`,
	`CREATE TABLE v4_slots (instance TEXT NOT NULL, subject_key TEXT NOT NULL, holds INTEGER NOT NULL CHECK (holds >= 0),
		PRIMARY KEY (instance, subject_key)) STRICT`,
	`INSERT INTO v4_slots SELECT instance, subject_key, holds FROM icpverify_slots`,
	`DROP TABLE icpverify_slots`,
	`ALTER TABLE v4_slots RENAME TO icpverify_slots`,
	`CREATE TABLE v4_reservations (code TEXT NOT NULL PRIMARY KEY, instance TEXT NOT NULL, account TEXT NOT NULL,
		subject TEXT NOT NULL, filed INTEGER NOT NULL DEFAULT 0 CHECK (filed IN (0, 1)), reserved_at TEXT NULL,
		subject_key TEXT NOT NULL DEFAULT '', website TEXT NOT NULL DEFAULT '') STRICT`,
	`INSERT INTO v4_reservations SELECT code, instance, account, subject, filed, reserved_at, subject_key, website FROM icpverify_reservations`,
	`DROP TABLE icpverify_reservations`,
	`ALTER TABLE v4_reservations RENAME TO icpverify_reservations`,
	`CREATE INDEX icpverify_reservations_account ON icpverify_reservations (account)`,
}

// TestMigrateFromV4 makes a version-4 database with reservations (a
// newer one, where the Verifier reserved codes, one of them filed, with
// its tables turned back into version 4's: on SQLite the three that
// version 5 rebuilt, elsewhere the reservations without the column
// application of version 6; and without the version rows from 5), so that
// the rows hold what version 4 wrote; upgrades it in place with Migrate,
// twice, and checks that the tables are the newest and the Verifier
// answers every reservation as before.
func TestMigrateFromV4(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		db := newDatabase(t, d)
		s := db.store(t)
		v := icpverify.New(s, s, icpverify.WithPolicy(icpverify.ProductECS, benchPolicy))
		reqs := issueCodes(t, s, v, 3)
		var filed string
		for _, req := range reqs[:2] {
			res, err := v.Verify(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			filed = res.Application
		}
		if err := v.Complete(ctx, filed); err != nil {
			t.Fatal(err)
		}
		pool := db.open(t)
		back := []string{"DELETE FROM " + sqlstore.DefaultPrefix + "schema_version WHERE version >= 5"}
		if d == sqlstore.SQLite {
			back = append(sqliteV4Tables, back...)
		} else {
			back = append(back, "ALTER TABLE "+sqlstore.DefaultPrefix+"reservations DROP COLUMN application")
		}
		for _, q := range back {
			if _, err := pool.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		checkWithoutRowid(t, d, pool, false)

		old, err := sqlstore.New(pool, d) // version 4's tables, not migrated
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := old.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		}
		checkVersions(t, old, sqlstore.DefaultPrefix)
		checkWithoutRowid(t, d, pool, true)
		for _, req := range reqs[:2] {
			code, _ := codeformat.Normalize(req.ServiceCode)
			r, err := old.Reservation(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			checkUpgradedApplication(t, old, r)
		}
		checkVerifiedAfterUpgrade(t, old, reqs)
	})
}

// checkWithoutRowid checks, on SQLite, whether the tables quota, slots
// and reservations are WITHOUT ROWID, as want says, and that the index of
// reservations by account is there.
func checkWithoutRowid(t *testing.T, d sqlstore.Dialect, db *sql.DB, want bool) {
	t.Helper()
	if d != sqlstore.SQLite {
		return
	}
	for _, table := range []string{"quota", "slots", "reservations"} {
		var text string
		if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, sqlstore.DefaultPrefix+table).Scan(&text); err != nil {
			t.Fatalf("table %s: %v", table, err)
		}
		if got := strings.Contains(text, "WITHOUT ROWID"); got != want {
			t.Errorf("table %s WITHOUT ROWID = %v; want %v:\n%s", table, got, want, text)
		}
	}
	if !hasIndex(t, d, db, sqlstore.DefaultPrefix+"reservations_account") {
		t.Error("no index of the reservations by account")
	}
}

// checkVerifiedAfterUpgrade verifies reqs through s: the first was
// reserved before the upgrade (a retry), the second filed, the third is
// fresh.
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
