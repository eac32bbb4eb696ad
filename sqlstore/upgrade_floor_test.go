package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// reserveCodeVersion is the schema version that adds PostgreSQL's
// function ${p}reserve_code and MySQL's shorter procedure ${p}reserve.
const reserveCodeVersion = 8

// TestMigrateToReserveCode makes a database of the version before
// reserveCodeVersion, writes reservations into it as that version did
// (Reserve runs the same statement there: the function ${p}reserve of
// version 6 on PostgreSQL, the CALL of version 6's procedure on MySQL, the
// same transaction on SQLite; version 7 changed none of them): two of one subject key sharing its slot,
// one of another key, and an instance filled to its limit. It upgrades the
// database in place with Migrate, twice, then checks that
// ReserveServiceCode and Reserve take the old rows as they are: a retry
// reads the old reservation, the key's slot is shared, the full instance
// stays full and the other keeps its last free slot, releasing the old
// reservations frees their slot, and a replica of the version before
// (PostgreSQL's ${p}reserve, MySQL's procedure with its arguments) still
// reserves after the upgrade.
func TestMigrateToReserveCode(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		pool, s := storeAt(t, d, reserveCodeVersion-1)
		const limit = 3
		inst, full := "i-floor", "i-floor-full"
		codes := issueFixedCodes(t, s, inst, "FLAA", 7)
		fullCodes := issueFixedCodes(t, s, full, "FLFF", 4)
		keyA, keyB := "name:subject a", "name:subject b"
		old := func(code, instance, account, key string, wantUsed int) icpverify.Reservation {
			t.Helper()
			r := icpverify.Reservation{Code: code, Instance: instance, Account: account, Subject: key,
				SubjectKey: key, ReservedAt: time.Now(), Application: newApp()}
			if out, used, err := s.Reserve(ctx, r, limit); err != nil || out != icpverify.Reserved || used != wantUsed {
				t.Fatalf("Reserve(%s) before the upgrade = %v, used %d, %v; want Reserved, used %d", code, out, used, err, wantUsed)
			}
			return r
		}
		a0 := old(codes[0], inst, "acct-owner", keyA, 1)
		a1 := old(codes[1], inst, "acct-owner", keyA, 1) // shares the slot
		old(codes[2], inst, "acct-owner", keyB, 2)
		for i, key := range []string{"name:f1", "name:f2", "name:f3"} {
			old(fullCodes[i], full, "acct-owner", key, i+1)
		}

		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		}
		checkVersions(t, s, sqlstore.DefaultPrefix)

		guard := icpverify.ReserveGuard{Product: icpverify.ProductECS, ExpiresAfter: time.Now()}
		viaCode := func(code, key string) icpverify.Reservation {
			return icpverify.Reservation{Code: code, Account: "acct-owner", Subject: key, SubjectKey: key,
				ReservedAt: time.Now(), Application: newApp()}
		}
		reserveCode := func(r icpverify.Reservation, want icpverify.Outcome, wantUsed int) icpverify.CodeRecord {
			t.Helper()
			rec, out, err := s.ReserveServiceCode(ctx, r, limit, guard)
			if err != nil || out != want || (want != 0 && rec.Used != wantUsed) {
				t.Fatalf("ReserveServiceCode(%s, %s) = %v, used %d, %v; want %v, used %d", r.Code, r.SubjectKey, out, rec.Used, err, want, wantUsed)
			}
			return rec
		}
		// A retry of an old reservation reads it, and reserves nothing.
		if rec := reserveCode(viaCode(codes[0], keyA), 0, 0); rec.Reservation.Application != a0.Application || rec.Used != 2 {
			t.Errorf("ReserveServiceCode of the old reservation read %+v, used %d; want its Application %q, used 2",
				rec.Reservation, rec.Used, a0.Application)
		}
		// Key A shares the slot its old reservations hold; a new key takes
		// the last free slot; the next is refused, and so is any on the
		// instance filled before the upgrade.
		reserveCode(viaCode(codes[3], keyA), icpverify.Reserved, 2)
		reserveCode(viaCode(codes[4], "name:c"), icpverify.Reserved, 3)
		reserveCode(viaCode(codes[5], "name:d"), icpverify.Full, 3)
		reserveCode(viaCode(fullCodes[3], "name:d"), icpverify.Full, 3)
		late := icpverify.Reservation{Code: fullCodes[3], Instance: full, Account: "acct-owner", Subject: "d",
			SubjectKey: "name:d", ReservedAt: time.Now(), Application: newApp()}
		if out, used, err := s.Reserve(ctx, late, limit); err != nil || out != icpverify.Full || used != limit {
			t.Errorf("Reserve on the instance filled before the upgrade = %v, used %d, %v; want Full, used %d", out, used, err, limit)
		}
		// Releasing key A's reservations, old and new, frees its slot.
		for _, r := range []icpverify.Reservation{a0, a1} {
			if _, err := s.Release(ctx, r); err != nil {
				t.Fatalf("Release(%s), reserved before the upgrade: %v", r.Code, err)
			}
		}
		if used, held, err := s.Usage(ctx, inst, keyA); err != nil || used != 3 || !held {
			t.Errorf("Usage(%s, key A) after releasing its old reservations = %d, %v, %v; want 3, held", inst, used, held, err)
		}
		rec, err := s.LookupServiceCode(ctx, codes[3])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Release(ctx, rec.Reservation); err != nil {
			t.Fatalf("Release(%s): %v", codes[3], err)
		}
		reserveCode(viaCode(codes[5], "name:d"), icpverify.Reserved, 3)
		checkRows(t, s.DB(), 6, 6)

		// A replica of the version before reserves as it did.
		if d != sqlstore.SQLite {
			if outcome, used := reserveAsVersion6(t, d, pool, codes[6], inst, "name:e", 4); outcome != 1 || used != 4 {
				t.Errorf("version 6's routine after the upgrade = outcome %d, used %d; want 1 (reserved), used 4", outcome, used)
			}
			checkRows(t, s.DB(), 7, 7)
		}
	})
}

// issueFixedCodes stores an eligible instance id owned by "acct-owner"
// and n codes on it, prefix-0000-0000-000i, and returns the codes.
func issueFixedCodes(t *testing.T, s *sqlstore.Store, id, prefix string, n int) []string {
	t.Helper()
	ctx := context.Background()
	if err := s.PutInstanceContext(ctx, eligible(id, "acct-owner")); err != nil {
		t.Fatal(err)
	}
	codes := make([]string, n)
	for i := range codes {
		codes[i] = prefix + "-0000-0000-000" + string(rune('0'+i))
		if _, _, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: codes[i], Instance: id, Owner: "acct-owner",
			IssuedAt: time.Now()}, 100); err != nil {
			t.Fatal(err)
		}
	}
	return codes
}

// reserveAsVersion6 reserves code on instance for key with the routine
// ${p}reserve as the store of schema versions 6 and 7 called it, with the
// limit, and
// returns the outcome and usage it answered.
func reserveAsVersion6(t *testing.T, d sqlstore.Dialect, db *sql.DB, code, instance, key string, limit int) (int, int) {
	t.Helper()
	ctx := context.Background()
	p := sqlstore.DefaultPrefix
	at := time.Now().UTC().Truncate(time.Microsecond)
	var outcome, used int
	var err error
	if d == sqlstore.Postgres {
		err = db.QueryRowContext(ctx, `SELECT o_outcome, o_used FROM `+p+`reserve($1::text, $2::text, $3::text,
			$4::text, $5::text, $6::text, $7::timestamptz, $8::integer, $9::text)`,
			code, instance, "acct-owner", key, key, "", at, limit, newApp()).Scan(&outcome, &used)
	} else {
		err = db.QueryRowContext(ctx, `CALL `+p+`reserve(?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			code, instance, "acct-owner", key, key, "", at.Format("2006-01-02 15:04:05.000000"), limit, newApp()).Scan(&outcome, &used)
	}
	if err != nil {
		t.Fatalf("version 6's routine: %v", err)
	}
	return outcome, used
}
