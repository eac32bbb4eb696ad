package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// quotasVersion is the schema version that adds the places of quotas and
// deregistered reservations.
const quotasVersion = 9

// TestMigrateToQuotas makes a database of the version before
// quotasVersion and writes reservations into it as that version did
// (Reserve without quotas runs the same statements as before: the routine
// ${p}reserve on PostgreSQL and MySQL, the same transaction on SQLite; a
// filing completed by version 8's UPDATE): two of one subject key sharing
// its slot, one of another key, one filed, and an instance filled to its
// limit. It upgrades the database in place with Migrate, twice, and once
// more after forgetting the version (a MySQL migration cut short), then
// checks that the old reservations read as they were and not
// Deregistered, through every read; that they release, complete and
// deregister, freeing their slots as they should; that the full instance
// stays full; and that reservations with quotas are made beside them.
func TestMigrateToQuotas(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		pool, s := storeAt(t, d, quotasVersion-1)
		const limit = 3
		inst, full := "i-v8", "i-v8-full"
		codes := issueFixedCodes(t, s, inst, "V8AA", 6)
		fullCodes := issueFixedCodes(t, s, full, "V8FF", 4)
		keyA, keyB, keyF := "name:subject a", "name:subject b", "name:subject f"
		old := func(code, instance, key string, wantUsed int) icpverify.Reservation {
			t.Helper()
			r := icpverify.Reservation{Code: code, Instance: instance, Account: "acct-owner", Subject: key,
				SubjectKey: key, ReservedAt: time.Now().UTC().Truncate(time.Microsecond), Application: newApp()}
			if out, used, err := s.Reserve(ctx, r, limit); err != nil || out != icpverify.Reserved || used != wantUsed {
				t.Fatalf("Reserve(%s) before the upgrade = %v, used %d, %v; want Reserved, used %d", code, out, used, err, wantUsed)
			}
			return r
		}
		a0 := old(codes[0], inst, keyA, 1)
		a1 := old(codes[1], inst, keyA, 1) // shares the slot
		b := old(codes[2], inst, keyB, 2)
		f := old(codes[3], inst, keyF, 3)
		for i, key := range []string{"name:f1", "name:f2", "name:f3"} {
			old(fullCodes[i], full, key, i+1)
		}
		// Version 8's Complete.
		if _, err := pool.ExecContext(ctx, rebind(d, "UPDATE "+sqlstore.DefaultPrefix+"reservations SET filed = ? WHERE code = ? AND application = ?"),
			true, f.Code, f.Application); err != nil {
			t.Fatal(err)
		}
		f.Filed = true

		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		}
		checkVersions(t, s, sqlstore.DefaultPrefix)
		// A migration cut short after its steps ran (MySQL runs DDL
		// outside transactions) runs again: the columns are there, the
		// tables too.
		if _, err := pool.ExecContext(ctx, "DELETE FROM "+sqlstore.DefaultPrefix+"schema_version WHERE version >= 9"); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		checkVersions(t, s, sqlstore.DefaultPrefix)
		checkRows(t, s.DB(), 7, 7)

		// Every read returns the old reservations as they were, not
		// deregistered.
		for _, r := range []icpverify.Reservation{a0, a1, b, f} {
			got, err := s.Reservation(ctx, r.Code)
			if err != nil || got.Deregistered || got.Filed != r.Filed || got.Application != r.Application ||
				got.SubjectKey != r.SubjectKey || !got.ReservedAt.Equal(r.ReservedAt) {
				t.Errorf("Reservation(%s) after the upgrade = %+v, %v; want %+v", r.Code, got, err, r)
			}
			if got, err := s.Application(ctx, r.Application); err != nil || got.Code != r.Code || got.Deregistered {
				t.Errorf("Application(%s) after the upgrade = %+v, %v", r.Application, got, err)
			}
			rec, err := s.LookupServiceCode(ctx, r.Code)
			if err != nil || rec.Reservation.Application != r.Application || rec.Reservation.Deregistered || rec.Used != 3 {
				t.Errorf("LookupServiceCode(%s) after the upgrade = %+v, %v; want its reservation, used 3", r.Code, rec, err)
			}
		}
		list, err := s.ListReservations(ctx, "acct-owner", 10)
		if err != nil || len(list) != 7 {
			t.Fatalf("ListReservations after the upgrade = %d, %v; want 7", len(list), err)
		}
		for _, r := range list {
			if r.Deregistered {
				t.Errorf("ListReservations after the upgrade: %s deregistered", r.Code)
			}
		}

		// The full instance stays full, with quotas or without.
		late := icpverify.Reservation{Code: fullCodes[3], Instance: full, Account: "acct-owner", Subject: "g",
			SubjectKey: "name:g", ReservedAt: time.Now(), Application: newApp()}
		reserveWant(t, s, late, limit, icpverify.Full, limit)
		late.Quotas = []icpverify.Quota{{Key: "k", Member: "g", Limit: 5}}
		reserveWant(t, s, late, limit, icpverify.Full, limit)

		// The filed one deregisters: its slot is freed, and a reservation
		// with quotas takes it.
		got, err := s.Deregister(ctx, f)
		if err != nil || !got.Deregistered || !got.Filed {
			t.Fatalf("Deregister of a reservation filed before the upgrade = %+v, %v", got, err)
		}
		if used, held, err := s.Usage(ctx, inst, keyF); err != nil || used != 2 || held {
			t.Errorf("Usage after Deregister = %d, %v, %v; want 2, not held", used, held, err)
		}
		withQuotas := icpverify.Reservation{Code: codes[4], Instance: inst, Account: "acct-new", Subject: "c",
			SubjectKey: "name:c", ReservedAt: time.Now(), Application: newApp(),
			Quotas: []icpverify.Quota{{Key: "subjects/account:acct-new", Member: "name:c", Limit: 1, UntilFiled: true}}}
		reserveWant(t, s, withQuotas, limit, icpverify.Reserved, 3)
		wantPlaces(t, s.DB(), map[string]int{"subjects/account:acct-new": 1})

		// The old unfiled ones complete and release: key A's slot is freed
		// with its last reservation.
		if got, err := s.Complete(ctx, b); err != nil || !got.Filed || got.Deregistered {
			t.Errorf("Complete of a reservation made before the upgrade = %+v, %v", got, err)
		}
		for i, r := range []icpverify.Reservation{a0, a1} {
			if got, err := s.Release(ctx, r); err != nil || got.Filed || got.Code != r.Code {
				t.Fatalf("Release(%s), reserved before the upgrade = %+v, %v", r.Code, got, err)
			}
			if used, held, err := s.Usage(ctx, inst, keyA); err != nil || used != 3-i || held != (i == 0) {
				t.Errorf("Usage after releasing %d of key A's = %d, %v, %v; want %d, held %v", i+1, used, held, err, 3-i, i == 0)
			}
		}
		if _, err := s.Complete(ctx, withQuotas); err != nil {
			t.Fatal(err)
		}
		wantPlaces(t, s.DB(), map[string]int{})
		checkRows(t, s.DB(), 6, 6)
	})
}
