package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// TestMigrateFromV6 makes a database of schema version 6 (Migrate up to 6
// only), reserves codes in it under the subject keys the Verifier of
// version 6 gave (version 7 changes no table, routine or statement of the
// store: the store's Reserve writes the rows version 6 wrote), upgrades it
// in place with Migrate, twice, and checks that every reservation and slot
// has the key the Verifier gives now, that the slots of keys that now
// coincide are merged with their holds summed, that each instance's usage
// is counted anew, and that the reservations release as they should.
func TestMigrateFromV6(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		pool, s := storeAt(t, d, 6)
		const i1, i2 = "i-v6-1", "i-v6-2"
		for _, id := range []string{i1, i2} {
			if err := s.PutInstanceContext(ctx, eligible(id, "acct-owner")); err != nil {
				t.Fatal(err)
			}
		}
		// Version 6's keys, in the order reserved, with the key each has
		// now. The slots of i-v6-1 go from 9 to 6, those of i-v6-2 from 2
		// to 1.
		rows := []struct {
			instance, old, now string
		}{
			{i1, "id:uscc:91110000600037341L", "id:600037341"},
			{i1, "id:other:91110000600037341L", "id:600037341"}, // the USCC declared as another certificate
			{i1, "id:resident_id:44011320141005001X", "id:44011320141005001X"},
			{i1, "id:other:44011320141005001X", "id:44011320141005001X"},
			{i1, "name:杭州示例 科技有限公司", "name:杭州示例科技有限公司"},
			{i1, "name:杭州示例科技有限公司", "name:杭州示例科技有限公司"}, // a key of both versions
			{i1, "name:example co., ltd.", "name:example co.,ltd."},
			{i1, "v1:\x01odd", "v1:\x01odd"},                          // version 1's key of a name it refused: kept
			{i1, "name:\u2800", "name:\u2800"},                        // a name now empty: kept
			{i2, "id:other:110105491231002", "id:11010519491231002X"}, // a first-generation resident ID
			{i2, "id:resident_id:11010519491231002X", "id:11010519491231002X"},
		}
		codes := make([]string, len(rows))
		apps := make([]string, len(rows))
		for i, r := range rows {
			codes[i], apps[i] = "V6AA-0000-0000-"+string(rune('A'+i))+"000", newApp()
			if _, _, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: codes[i], Instance: r.instance, Owner: "acct-owner"}, 100); err != nil {
				t.Fatal(err)
			}
			res := icpverify.Reservation{Code: codes[i], Instance: r.instance, Account: "acct-a", Subject: "S",
				SubjectKey: r.old, ReservedAt: time.Now(), Application: apps[i]}
			if out, _, err := s.Reserve(ctx, res, 20); err != nil || out != icpverify.Reserved {
				t.Fatalf("version 6's Reserve of %q = %v, %v", r.old, out, err)
			}
		}
		// Version 6's Complete: the store's reads of version 9 name a
		// column version 6 does not have.
		if _, err := pool.ExecContext(ctx, rebind(d, "UPDATE "+sqlstore.DefaultPrefix+"reservations SET filed = ? WHERE code = ? AND application = ?"),
			true, codes[0], apps[0]); err != nil {
			t.Fatal(err)
		}
		wantUsed := func(instance string, want int) {
			t.Helper()
			if used, _, err := s.Usage(ctx, instance, "none"); err != nil || used != want {
				t.Errorf("Usage(%s) = %d, %v; want %d", instance, used, err, want)
			}
		}
		wantUsed(i1, 9)
		wantUsed(i2, 2)

		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
		}
		checkVersions(t, s, sqlstore.DefaultPrefix)
		wantUsed(i1, 6)
		wantUsed(i2, 1)
		// A migration cut short after its re-keying committed (MySQL runs
		// DDL outside transactions) runs every step again: they find
		// nothing left to re-key.
		if _, err := s.DB().ExecContext(ctx, "DELETE FROM "+sqlstore.DefaultPrefix+"schema_version WHERE version >= 7"); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		checkVersions(t, s, sqlstore.DefaultPrefix)
		wantUsed(i1, 6)
		wantUsed(i2, 1)
		checkRows(t, s.DB(), len(rows), len(rows))
		for i, r := range rows {
			got, err := s.Reservation(ctx, codes[i])
			if err != nil || got.SubjectKey != r.now || got.Application != apps[i] {
				t.Errorf("Reservation(%s) = key %q, application %q, %v; want %q, %q", codes[i], got.SubjectKey, got.Application, err, r.now, apps[i])
			}
			if _, held, err := s.Usage(ctx, r.instance, r.now); err != nil || !held {
				t.Errorf("Usage(%s, %q): held %v, %v; want held", r.instance, r.now, held, err)
			}
			if r.old != r.now {
				if _, held, err := s.Usage(ctx, r.instance, r.old); err != nil || held {
					t.Errorf("Usage(%s, %q): held %v, %v; want the old key free", r.instance, r.old, held, err)
				}
			}
		}
		holds := map[string]int{}
		rs, err := s.DB().QueryContext(ctx, "SELECT instance, subject_key, holds FROM "+sqlstore.DefaultPrefix+"slots")
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var inst, key string
			var n int
			if err := rs.Scan(&inst, &key, &n); err != nil {
				t.Fatal(err)
			}
			holds[inst+" "+key] = n
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{
			i1 + " id:600037341": 2, i1 + " id:44011320141005001X": 2, i1 + " name:杭州示例科技有限公司": 2,
			i1 + " name:example co.,ltd.": 1, i1 + " v1:\x01odd": 1, i1 + " name:\u2800": 1,
			i2 + " id:11010519491231002X": 2,
		}
		if len(holds) != len(want) {
			t.Errorf("slots %v; want %v", holds, want)
		}
		for k, n := range want {
			if holds[k] != n {
				t.Errorf("slot %q holds %d; want %d", k, holds[k], n)
			}
		}

		// A merged slot is freed when its last reservation is: the
		// USCC's two (the first filed, so it stays) and the first
		// resident ID's two.
		release := func(i int) {
			t.Helper()
			if _, err := s.Release(ctx, icpverify.Reservation{Code: codes[i], Application: apps[i]}); err != nil {
				t.Fatalf("Release(%s): %v", codes[i], err)
			}
		}
		release(1)
		wantUsed(i1, 6)
		release(2)
		wantUsed(i1, 6)
		release(3)
		wantUsed(i1, 5)
		release(9)
		release(10)
		wantUsed(i2, 0)
		// A new reservation under a key that was merged shares its slot.
		fresh := icpverify.Reservation{Code: codes[2], Instance: i1, Account: "acct-b", Subject: "S", SubjectKey: "id:600037341",
			ReservedAt: time.Now(), Application: newApp()}
		if out, used, err := s.Reserve(ctx, fresh, 5); err != nil || out != icpverify.Reserved || used != 5 {
			t.Errorf("Reserve under a merged key = %v, used %d, %v; want Reserved, used 5", out, used, err)
		}
		checkRows(t, s.DB(), len(rows)-4, len(rows)-4)
	})
}
