package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// v5Writer writes reservations into a version-5 database as version 5
// did: on PostgreSQL and MySQL with a call of its routine ${p}reserve
// (schema version 3, without an application), on SQLite with the
// statements of its transaction; and files them as its Complete did.
type v5Writer struct {
	t  *testing.T
	d  sqlstore.Dialect
	db *sql.DB
}

// reserve reserves code for the application (account, subject key,
// website) on instance, and fails the test unless it is reserved with the
// instance's usage wantUsed afterwards.
func (w v5Writer) reserve(code, instance, account, subjectKey, website string, wantUsed int) {
	w.t.Helper()
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Microsecond)
	const limit = 5
	p := sqlstore.DefaultPrefix
	var outcome, used int
	var err error
	switch w.d {
	case sqlstore.Postgres:
		err = w.db.QueryRowContext(ctx, `SELECT o_outcome, o_used FROM `+p+`reserve($1::text, $2::text, $3::text,
			$4::text, $5::text, $6::text, $7::timestamptz, $8::integer)`,
			code, instance, account, subjectKey, subjectKey, website, at, limit).Scan(&outcome, &used)
	case sqlstore.MySQL:
		err = w.db.QueryRowContext(ctx, `CALL `+p+`reserve(?, ?, ?, ?, ?, ?, ?, ?)`,
			code, instance, account, subjectKey, subjectKey, website, at, limit).Scan(&outcome, &used)
	default:
		outcome, used, err = w.reserveSQLite(ctx, code, instance, account, subjectKey, website, at.Format("2006-01-02T15:04:05.000000Z"), limit)
	}
	if err != nil || outcome != 1 || used != wantUsed {
		w.t.Fatalf("version 5's reserve of %s = outcome %d, used %d, %v; want 1 (reserved), used %d", code, outcome, used, err, wantUsed)
	}
}

// reserveSQLite makes the writes of version 5's Reserve on SQLite in one
// transaction: the reservation, its subject key's slot, and the slot's
// count on the instance if it is new.
func (w v5Writer) reserveSQLite(ctx context.Context, code, instance, account, subjectKey, website, at string, limit int) (int, int, error) {
	p := sqlstore.DefaultPrefix
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+p+`reservations (code, instance, account, subject, subject_key, website, filed, reserved_at)
		VALUES (?, ?, ?, ?, ?, ?, 0, ?)`, code, instance, account, subjectKey, subjectKey, website, at); err != nil {
		return 0, 0, err
	}
	var holds, used int
	if err := tx.QueryRowContext(ctx, `INSERT INTO `+p+`slots (instance, subject_key, holds) VALUES (?, ?, 1)
		ON CONFLICT (instance, subject_key) DO UPDATE SET holds = `+p+`slots.holds + 1 RETURNING holds`,
		instance, subjectKey).Scan(&holds); err != nil {
		return 0, 0, err
	}
	if holds == 1 {
		err = tx.QueryRowContext(ctx, `INSERT INTO `+p+`quota (instance, used) SELECT ?, 1 WHERE ? > 0
			ON CONFLICT (instance) DO UPDATE SET used = `+p+`quota.used + 1 WHERE `+p+`quota.used < ?
			RETURNING used`, instance, limit, limit).Scan(&used)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT used FROM `+p+`quota WHERE instance = ?`, instance).Scan(&used)
	}
	if err != nil {
		return 0, 0, err
	}
	return 1, used, tx.Commit()
}

// complete files the reservation of code, as version 5's Complete did.
func (w v5Writer) complete(code string) {
	w.t.Helper()
	q := `UPDATE ` + sqlstore.DefaultPrefix + `reservations SET filed = TRUE WHERE code = ?`
	if w.d == sqlstore.Postgres {
		q = `UPDATE ` + sqlstore.DefaultPrefix + `reservations SET filed = TRUE WHERE code = $1`
	}
	if _, err := w.db.ExecContext(context.Background(), q, code); err != nil {
		w.t.Fatalf("filing %s: %v", code, err)
	}
}

// TestMigrateFromV5 makes a database of schema version 5 (Migrate up to 5
// only), writes reservations into it as version 5 did, two of a subject
// key sharing its slot and one of another key, filed, upgrades it in place
// with Migrate, twice, and checks that every reservation got an
// application identity of its own (32 lower-case hexadecimal digits), that
// Application finds each by it, that Release by it frees what it should
// and nothing else, and that a reservation made after the upgrade keeps
// the Application it was given.
func TestMigrateFromV5(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		pool, s := storeAt(t, d, 5)
		var version int
		if err := pool.QueryRowContext(ctx, "SELECT MAX(version) FROM "+sqlstore.DefaultPrefix+"schema_version").Scan(&version); err != nil || version != 5 {
			t.Fatalf("schema version %d, %v; want 5", version, err)
		}
		// The inventory's tables are version 5's in version 6.
		const inst = "i-v5"
		if err := s.PutInstanceContext(ctx, eligible(inst, "acct-owner")); err != nil {
			t.Fatal(err)
		}
		codes := []string{"V5AA-0000-0000-0001", "V5AA-0000-0000-0002", "V5AA-0000-0000-0003", "V5AA-0000-0000-0004"}
		for _, code := range codes {
			if _, _, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: code, Instance: inst, Owner: "acct-owner"}, 100); err != nil {
				t.Fatal(err)
			}
		}
		w := v5Writer{t, d, pool}
		keyA, keyB := "name:subject a", "name:subject b"
		w.reserve(codes[0], inst, "acct-a", keyA, "a.example.com", 1)
		w.reserve(codes[1], inst, "acct-a", keyA, "b.example.com", 1) // shares the slot
		w.reserve(codes[2], inst, "acct-b", keyB, "", 2)
		w.complete(codes[2])

		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		}
		checkVersions(t, s, sqlstore.DefaultPrefix)

		// Every reservation has an identity of its own, found by it.
		apps := map[string]string{} // code -> Application
		seen := map[string]bool{}
		for _, code := range codes[:3] {
			r, err := s.Reservation(ctx, code)
			if err != nil {
				t.Fatalf("Reservation(%s): %v", code, err)
			}
			checkUpgradedApplication(t, s, r)
			if seen[r.Application] {
				t.Errorf("reservation %s: Application %q is another reservation's too", code, r.Application)
			}
			seen[r.Application] = true
			apps[code] = r.Application
		}
		checkUsage := func(wantUsed int, wantA, wantB bool) {
			t.Helper()
			for _, c := range []struct {
				key  string
				want bool
			}{{keyA, wantA}, {keyB, wantB}} {
				used, held, err := s.Usage(ctx, inst, c.key)
				if err != nil || used != wantUsed || held != c.want {
					t.Errorf("Usage(%s, %q) = %d, %v, %v; want %d, %v", inst, c.key, used, held, err, wantUsed, c.want)
				}
			}
		}
		checkUsage(2, true, true)
		// The listers and the lookup read the identity too.
		rec, err := s.LookupServiceCode(ctx, codes[0])
		if err != nil || rec.Reservation.Application != apps[codes[0]] {
			t.Errorf("LookupServiceCode(%s): Application %q, %v; want %q", codes[0], rec.Reservation.Application, err, apps[codes[0]])
		}
		list, err := s.ListReservations(ctx, "acct-a", 10)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListReservations(acct-a) = %d, %v; want 2", len(list), err)
		}
		for _, r := range list {
			if r.Application != apps[r.Code] {
				t.Errorf("ListReservations: %s has Application %q; want %q", r.Code, r.Application, apps[r.Code])
			}
		}
		for code, app := range apps {
			if r, err := s.Reservation(ctx, code); err != nil || r.Application != app {
				t.Errorf("Reservation(%s) = Application %q, %v; want %q", code, r.Application, err, app)
			}
		}

		release := func(code, app string) (icpverify.Reservation, error) {
			return s.Release(ctx, icpverify.Reservation{Code: code, Application: app})
		}
		// Another application, or none, releases nothing.
		for _, app := range []string{newApp(), apps[codes[1]], ""} {
			if _, err := release(codes[0], app); !errors.Is(err, icpverify.ErrNotFound) {
				t.Errorf("Release(%s) with Application %q: %v; want ErrNotFound", codes[0], app, err)
			}
		}
		checkUsage(2, true, true)
		// By its identity: the first of key A's two, which keeps its slot.
		if r, err := release(codes[0], apps[codes[0]]); err != nil || r.Application != apps[codes[0]] || r.Code != codes[0] {
			t.Fatalf("Release(%s) by its Application = %+v, %v", codes[0], r, err)
		}
		if _, err := s.Application(ctx, apps[codes[0]]); !errors.Is(err, icpverify.ErrNotFound) {
			t.Errorf("Application(%q) after its release: %v; want ErrNotFound", apps[codes[0]], err)
		}
		checkUsage(2, true, true)
		if _, err := release(codes[1], apps[codes[1]]); err != nil {
			t.Fatalf("Release(%s) by its Application: %v", codes[1], err)
		}
		checkUsage(1, false, true)
		// The filed one stays, and still holds its slot.
		if r, err := release(codes[2], apps[codes[2]]); err != nil || !r.Filed {
			t.Errorf("Release(%s), filed, by its Application = %+v, %v; want it returned filed", codes[2], r, err)
		}
		if r, err := s.Complete(ctx, icpverify.Reservation{Code: codes[2], Application: apps[codes[2]]}); err != nil || !r.Filed {
			t.Errorf("Complete(%s), filed, by its Application = %+v, %v; want it filed", codes[2], r, err)
		}
		checkUsage(1, false, true)
		checkRows(t, s.DB(), 1, 1)

		// A reservation made after the upgrade keeps its own identity,
		// through Reserve and through ReserveServiceCode.
		fresh := icpverify.Reservation{Code: codes[0], Instance: inst, Account: "acct-c", Subject: "c", SubjectKey: "name:c",
			ReservedAt: time.Now(), Application: newApp()}
		if out, used, err := s.Reserve(ctx, fresh, 5); err != nil || out != icpverify.Reserved || used != 2 {
			t.Fatalf("Reserve after the upgrade = %v, used %d, %v; want Reserved, used 2", out, used, err)
		}
		viaCode := fresh
		viaCode.Code, viaCode.Instance, viaCode.Application = codes[3], "", newApp()
		guard := icpverify.ReserveGuard{Product: icpverify.ProductECS}
		viaCode.Account = "acct-owner"
		if _, out, err := s.ReserveServiceCode(ctx, viaCode, 5, guard); err != nil || out != icpverify.Reserved {
			t.Fatalf("ReserveServiceCode after the upgrade = %v, %v; want Reserved", out, err)
		}
		for _, r := range []icpverify.Reservation{fresh, viaCode} {
			got, err := s.Application(ctx, r.Application)
			if err != nil || got.Code != r.Code || got.Application != r.Application {
				t.Errorf("Application(%q) = %+v, %v; want the reservation of %s", r.Application, got, err, r.Code)
			}
			var stored string
			q := "SELECT application FROM " + sqlstore.DefaultPrefix + "reservations WHERE code = ?"
			if d == sqlstore.Postgres {
				q = "SELECT application FROM " + sqlstore.DefaultPrefix + "reservations WHERE code = $1"
			}
			if err := pool.QueryRowContext(ctx, q, r.Code).Scan(&stored); err != nil || stored != r.Application {
				t.Errorf("the row of %s holds application %q, %v; want %q", r.Code, stored, err, r.Application)
			}
		}
		checkUsage(2, false, true)
		checkRows(t, s.DB(), 3, 3)
	})
}
