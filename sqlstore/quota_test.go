package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// quotaRes returns a reservation of code on instance for its own account
// and subject key, with the quotas qs.
func quotaRes(code, instance string, qs ...icpverify.Quota) icpverify.Reservation {
	return icpverify.Reservation{Code: code, Instance: instance, Account: "acct-" + code, Subject: "S " + code,
		SubjectKey: "key:" + code, ReservedAt: time.Now(), Application: newApp(), Quotas: qs}
}

// reserveWant reserves r with the slot limit limit and fails t unless
// Reserve reports want and, but for Held and Taken, the usage or index
// wantN.
func reserveWant(t *testing.T, s *sqlstore.Store, r icpverify.Reservation, limit int, want icpverify.Outcome, wantN int) {
	t.Helper()
	out, n, err := s.Reserve(context.Background(), r, limit)
	if err != nil || out != want || n != wantN {
		t.Fatalf("Reserve(%s) = %v, %d, %v; want %v, %d", r.Code, out, n, err, want, wantN)
	}
}

// places returns the members of each quota key as the rows hold them, and
// checks them against each other and against the places the reservations
// hold: every key's members is the number of its places, every place's
// holds the number of reservations that hold it, and no place is empty.
func places(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	ctx := context.Background()
	p := sqlstore.DefaultPrefix
	one := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := one(`SELECT COUNT(*) FROM ` + p + `quota_keys k WHERE k.members <> (SELECT COUNT(*) FROM ` + p + `quota_places pl WHERE pl.qkey = k.qkey)`); n != 0 {
		t.Errorf("%d quota keys disagree with their places", n)
	}
	if n := one(`SELECT COUNT(*) FROM ` + p + `quota_places pl WHERE pl.qkey NOT IN (SELECT qkey FROM ` + p + `quota_keys)`); n != 0 {
		t.Errorf("%d places have no key row", n)
	}
	if n := one(`SELECT COUNT(*) FROM ` + p + `quota_places pl WHERE pl.holds <> (SELECT COUNT(*) FROM ` + p + `reservation_quotas rq WHERE rq.qkey = pl.qkey AND rq.member = pl.member)`); n != 0 {
		t.Errorf("%d places disagree with the reservations that hold them", n)
	}
	if n := one(`SELECT COUNT(*) FROM ` + p + `quota_places WHERE holds <= 0`); n != 0 {
		t.Errorf("%d places are held by no reservation", n)
	}
	if n := one(`SELECT COUNT(*) FROM ` + p + `reservation_quotas rq WHERE NOT EXISTS (SELECT 1 FROM ` + p + `reservations r WHERE r.code = rq.code)`); n != 0 {
		t.Errorf("%d places are held by reservations that are gone", n)
	}
	rows, err := db.QueryContext(ctx, `SELECT qkey, members FROM `+p+`quota_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int{}
	for rows.Next() {
		var key string
		var n int
		if err := rows.Scan(&key, &n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			m[key] = n
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantPlaces fails t unless the quota keys have the members want (keys
// not in want none).
func wantPlaces(t *testing.T, db *sql.DB, want map[string]int) {
	t.Helper()
	got := places(t, db)
	if len(got) != len(want) {
		t.Errorf("members of the quota keys = %v; want %v", got, want)
		return
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("members of the quota keys = %v; want %v", got, want)
			return
		}
	}
}

// TestQuotaExceeded checks the order of Reserve's checks with quotas: a
// retry is Held and another application's code Taken whatever the quotas,
// a full instance is Full before any quota, and of the quotas full the
// first in r.Quotas is reported, with nothing stored.
func TestQuotaExceeded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newDatabase(t, d).store(t)
		q := func(key, member string, limit int) icpverify.Quota {
			return icpverify.Quota{Key: key, Member: member, Limit: limit}
		}
		// "a" has one member, "b" none, "z" one: with a limit of 1,
		// "a" and "z" are full for any other member.
		first := quotaRes("C-1", "i-1", q("z", "m1", 1), q("a", "m1", 1))
		reserveWant(t, s, first, 5, icpverify.Reserved, 1)
		wantPlaces(t, s.DB(), map[string]int{"a": 1, "z": 1})

		// Full quotas, in an order other than their keys': the first
		// in r.Quotas is reported, and nothing is stored.
		r := quotaRes("C-2", "i-1", q("b", "m2", 1), q("z", "m2", 1), q("a", "m2", 1))
		reserveWant(t, s, r, 5, icpverify.Exceeded, 1)
		r.Quotas = []icpverify.Quota{q("b", "m2", 1), q("a", "m2", 1), q("z", "m2", 1)}
		reserveWant(t, s, r, 5, icpverify.Exceeded, 1)
		r.Quotas = []icpverify.Quota{q("a", "m2", 1)}
		reserveWant(t, s, r, 5, icpverify.Exceeded, 0)
		if _, err := s.Reservation(ctx, r.Code); !errorsIsNotFound(err) {
			t.Errorf("Reservation after Exceeded: %v; want ErrNotFound", err)
		}
		if used, held, err := s.Usage(ctx, "i-1", r.SubjectKey); err != nil || used != 1 || held {
			t.Errorf("Usage after Exceeded = %d, %v, %v; want 1, not held", used, held, err)
		}
		wantPlaces(t, s.DB(), map[string]int{"a": 1, "z": 1})

		// A limit of 0 or less admits no new member; a member that holds a
		// place is admitted whatever the limit.
		r.Quotas = []icpverify.Quota{q("b", "m2", 0)}
		reserveWant(t, s, r, 5, icpverify.Exceeded, 0)
		r.Quotas = []icpverify.Quota{q("b", "m2", -3)}
		reserveWant(t, s, r, 5, icpverify.Exceeded, 0)
		r.Quotas = []icpverify.Quota{q("b", "m2", 1), q("a", "m1", 0), q("z", "m1", 1)}
		reserveWant(t, s, r, 5, icpverify.Reserved, 2)
		wantPlaces(t, s.DB(), map[string]int{"a": 1, "b": 1, "z": 1})

		// The instance full comes before the quotas.
		r = quotaRes("C-3", "i-1", q("a", "m3", 1))
		reserveWant(t, s, r, 2, icpverify.Full, 2)
		// A retry, or another application, before the quotas and the
		// instance: Held, Taken.
		retry := first
		retry.Quotas = []icpverify.Quota{q("a", "m9", 1)}
		reserveWant(t, s, retry, 1, icpverify.Held, 2)
		other := quotaRes("C-1", "i-1", q("a", "m9", 1))
		other.Account = "another account"
		reserveWant(t, s, other, 1, icpverify.Taken, 2)
		wantPlaces(t, s.DB(), map[string]int{"a": 1, "b": 1, "z": 1})
		checkRows(t, s.DB(), 2, 2)

		// ReserveServiceCode reports Exceeded and the index as Reserve.
		if err := s.PutInstanceContext(ctx, eligible("i-2", "owner")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: "C-4", Instance: "i-2", Owner: "owner"}, 10); err != nil {
			t.Fatal(err)
		}
		guard := icpverify.ReserveGuard{Product: icpverify.ProductECS, ExpiresAfter: time.Now()}
		viaCode := quotaRes("C-4", "", q("b", "m4", 5), q("a", "m4", 1))
		viaCode.Account = "owner"
		rec, out, err := s.ReserveServiceCode(ctx, viaCode, 5, guard)
		if err != nil || out != icpverify.Exceeded || rec.Used != 1 || rec.Code.Code != "C-4" {
			t.Errorf("ReserveServiceCode of a full quota = %v, used %d, code %q, %v; want Exceeded, 1, C-4", out, rec.Used, rec.Code.Code, err)
		}
		viaCode.Quotas[1].Limit = 2
		if rec, out, err = s.ReserveServiceCode(ctx, viaCode, 5, guard); err != nil || out != icpverify.Reserved || rec.Used != 1 {
			t.Errorf("ReserveServiceCode = %v, used %d, %v; want Reserved, 1", out, rec.Used, err)
		}
		if rec, out, err = s.ReserveServiceCode(ctx, viaCode, 5, guard); err != nil || out != 0 || rec.Reservation.Application != viaCode.Application {
			t.Errorf("ReserveServiceCode again = %v, %+v, %v; want 0 and the reservation", out, rec.Reservation, err)
		}
		wantPlaces(t, s.DB(), map[string]int{"a": 2, "b": 2, "z": 1})
	})
}

// TestQuotaInvalid checks that quotas the store cannot keep are refused
// with ErrInvalid, and nothing stored, and that empty keys and members
// are kept.
func TestQuotaInvalid(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s := newDatabase(t, d).store(t)
		long := string(make([]byte, sqlstore.MaxSubjectKeyLen+1))
		for _, qs := range [][]icpverify.Quota{
			{{Key: "a", Member: "m", Limit: 1}, {Key: "a", Member: "n", Limit: 2}},
			{{Key: "a", Member: "bad\x00", Limit: 1}},
			{{Key: "a", Member: "\xff", Limit: 1}},
			{{Key: long, Member: "m", Limit: 1}},
			{{Key: "a", Member: long, Limit: 1}},
		} {
			r := quotaRes("C-1", "i-1", qs...)
			if out, _, err := s.Reserve(context.Background(), r, 5); !errors.Is(err, sqlstore.ErrInvalid) {
				t.Errorf("Reserve with quotas %+v = %v, %v; want ErrInvalid", qs, out, err)
			}
		}
		checkRows(t, s.DB(), 0, 0)
		wantPlaces(t, s.DB(), map[string]int{})
		// Empty keys and members are values like any other.
		r := quotaRes("C-1", "i-1", icpverify.Quota{Key: "", Member: "", Limit: 1}, icpverify.Quota{Key: "a", Member: "", Limit: 1})
		reserveWant(t, s, r, 5, icpverify.Reserved, 1)
		wantPlaces(t, s.DB(), map[string]int{"": 1, "a": 1})
	})
}

// TestQuotaText checks that keys and members are kept as they are, byte
// for byte, whatever they hold: PostgreSQL's Reserve binds them as the
// text of array literals, which must quote and escape them.
func TestQuotaText(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newDatabase(t, d).store(t)
		texts := []string{`a"b`, `c\d`, `\"`, `{e,f}`, ` g `, "NULL", "null", `"`, "h\ni\tj", "中文", "}", "(1,2)"}
		var qs []icpverify.Quota
		for i, text := range texts {
			qs = append(qs, icpverify.Quota{Key: text, Member: texts[len(texts)-1-i], Limit: math.MaxInt, UntilFiled: i%2 == 0})
		}
		r := quotaRes("C-1", "i-1", qs...)
		reserveWant(t, s, r, 5, icpverify.Reserved, 1)
		for _, q := range qs {
			if members, held, err := s.Places(ctx, q.Key, q.Member); err != nil || members != 1 || !held {
				t.Errorf("Places(%q, %q) = %d, %v, %v; want 1, held", q.Key, q.Member, members, held, err)
			}
		}
		// The first full quota by index, though its key is not the first.
		full := quotaRes("C-2", "i-1", icpverify.Quota{Key: "zz", Member: "m", Limit: 1},
			icpverify.Quota{Key: `a"b`, Member: "m", Limit: 1}, icpverify.Quota{Key: "NULL", Member: "m", Limit: 1})
		reserveWant(t, s, full, 5, icpverify.Exceeded, 1)
		if _, err := s.Complete(ctx, r); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{}
		for i, q := range qs {
			if i%2 == 1 {
				want[q.Key] = 1
			}
		}
		wantPlaces(t, s.DB(), want)
		if _, err := s.Deregister(ctx, r); err != nil {
			t.Fatal(err)
		}
		wantPlaces(t, s.DB(), map[string]int{})
	})
}

// TestQuotaMalformedPlaces checks that Release reports places the rows do
// not agree on, a place or a key's row gone, as a malformed quota, and
// changes nothing.
func TestQuotaMalformedPlaces(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newDatabase(t, d).store(t)
		for i, table := range []string{"quota_places", "quota_keys"} {
			r := quotaRes(fmt.Sprintf("C-%d", i), fmt.Sprintf("i-%d", i), icpverify.Quota{Key: "a" + table, Member: "m", Limit: 1},
				icpverify.Quota{Key: "b" + table, Member: "m", Limit: 1})
			reserveWant(t, s, r, 5, icpverify.Reserved, 1)
			if _, err := s.DB().ExecContext(ctx, `DELETE FROM `+sqlstore.DefaultPrefix+table+` WHERE qkey = 'b`+table+`'`); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Release(ctx, r); err == nil || !strings.Contains(err.Error(), "malformed quota") {
				t.Errorf("Release with the row of %s gone: %v; want a malformed quota", table, err)
			}
			if _, err := s.Reservation(ctx, r.Code); err != nil {
				t.Errorf("Reservation after the failed Release: %v", err)
			}
			if members, held, err := s.Places(ctx, "a"+table, "m"); err != nil || members != 1 || !held {
				t.Errorf("Places after the failed Release = %d, %v, %v; want 1, held", members, held, err)
			}
		}
	})
}

// TestQuotaMembers checks that a member's place is counted once, by as
// many reservations as count it, and freed with the last.
func TestQuotaMembers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newDatabase(t, d).store(t)
		// Two subjects per account: the subject key is the member.
		subjects := func(code, key string) icpverify.Reservation {
			r := quotaRes(code, "i-"+code, icpverify.Quota{Key: "subjects/account:A", Member: key, Limit: 2})
			r.Account, r.SubjectKey = "A", key
			return r
		}
		a1, a2, b1 := subjects("C-1", "s1"), subjects("C-2", "s1"), subjects("C-3", "s2")
		for _, r := range []icpverify.Reservation{a1, a2, b1} {
			reserveWant(t, s, r, 5, icpverify.Reserved, 1)
		}
		wantPlaces(t, s.DB(), map[string]int{"subjects/account:A": 2})
		c := subjects("C-4", "s3")
		reserveWant(t, s, c, 5, icpverify.Exceeded, 0)
		// s1 still holds its place after one of its reservations goes,
		// and a third of its reservations shares it.
		if _, err := s.Release(ctx, a1); err != nil {
			t.Fatal(err)
		}
		reserveWant(t, s, c, 5, icpverify.Exceeded, 0)
		a3 := subjects("C-5", "s1")
		reserveWant(t, s, a3, 5, icpverify.Reserved, 1)
		wantPlaces(t, s.DB(), map[string]int{"subjects/account:A": 2})
		// Gone with the last.
		for _, r := range []icpverify.Reservation{a2, a3} {
			if _, err := s.Release(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		wantPlaces(t, s.DB(), map[string]int{"subjects/account:A": 1})
		reserveWant(t, s, c, 5, icpverify.Reserved, 1)
		wantPlaces(t, s.DB(), map[string]int{"subjects/account:A": 2})
		checkRows(t, s.DB(), 2, 2)
	})
}

// TestQuotaFreeing checks what Release, Complete and Deregister free: the
// places the reservation took, whatever quotas the caller passes; Complete
// those UntilFiled, once; Deregister the slot and the rest, once, keeping
// the reservation, which reads Deregistered.
func TestQuotaFreeing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newDatabase(t, d).store(t)
		if err := s.PutInstanceContext(ctx, eligible("i-1", "A")); err != nil {
			t.Fatal(err)
		}
		qs := func(code string) []icpverify.Quota {
			return []icpverify.Quota{
				{Key: "sites/account:A", Member: code, Limit: 10},
				{Key: "filings/account:A", Member: code, Limit: 10, UntilFiled: true},
				{Key: "subjects/account:A", Member: "key:" + code, Limit: 10},
			}
		}
		reserve := func(code string) icpverify.Reservation {
			t.Helper()
			if _, _, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: code, Instance: "i-1", Owner: "A"}, 10); err != nil {
				t.Fatal(err)
			}
			r := quotaRes(code, "i-1", qs(code)...)
			r.Account = "A"
			if out, _, err := s.Reserve(ctx, r, 5); err != nil || out != icpverify.Reserved {
				t.Fatalf("Reserve(%s) = %v, %v", code, out, err)
			}
			return r
		}
		released, filed, other := reserve("C-1"), reserve("C-2"), reserve("C-3")
		wantPlaces(t, s.DB(), map[string]int{"sites/account:A": 3, "filings/account:A": 3, "subjects/account:A": 3})
		wantUsed := func(want int) {
			t.Helper()
			if used, _, err := s.Usage(ctx, "i-1", "none"); err != nil || used != want {
				t.Errorf("Usage = %d, %v; want %d", used, err, want)
			}
		}
		wantUsed(3)

		// Deregister of a reservation not filed changes nothing.
		got, err := s.Deregister(ctx, released)
		if err != nil || got.Filed || got.Deregistered || got.Application != released.Application {
			t.Errorf("Deregister not filed = %+v, %v; want it as it is", got, err)
		}
		// Release frees every place it took, whatever quotas the caller
		// passes now.
		r := released
		r.Quotas = []icpverify.Quota{{Key: "other", Member: "x", Limit: 1}}
		if _, err := s.Release(ctx, r); err != nil {
			t.Fatal(err)
		}
		wantPlaces(t, s.DB(), map[string]int{"sites/account:A": 2, "filings/account:A": 2, "subjects/account:A": 2})
		wantUsed(2)

		// Complete frees the places UntilFiled, once.
		for range 2 {
			got, err := s.Complete(ctx, icpverify.Reservation{Code: filed.Code, Application: filed.Application})
			if err != nil || !got.Filed || got.Deregistered {
				t.Fatalf("Complete = %+v, %v; want filed", got, err)
			}
			wantPlaces(t, s.DB(), map[string]int{"sites/account:A": 2, "filings/account:A": 1, "subjects/account:A": 2})
		}
		// A filed reservation is not released.
		if got, err := s.Release(ctx, filed); err != nil || !got.Filed {
			t.Errorf("Release of a filed reservation = %+v, %v; want it filed", got, err)
		}
		wantUsed(2)

		// Deregister frees the slot and the other places, once, and the
		// reservation stays.
		for range 2 {
			got, err := s.Deregister(ctx, icpverify.Reservation{Code: filed.Code, Application: filed.Application})
			if err != nil || !got.Filed || !got.Deregistered || got.Code != filed.Code || got.SubjectKey != filed.SubjectKey {
				t.Fatalf("Deregister = %+v, %v; want filed and deregistered", got, err)
			}
			wantPlaces(t, s.DB(), map[string]int{"sites/account:A": 1, "filings/account:A": 1, "subjects/account:A": 1})
			wantUsed(1)
		}
		// Every read tells it deregistered.
		if got, err := s.Reservation(ctx, filed.Code); err != nil || !got.Deregistered || !got.Filed {
			t.Errorf("Reservation = %+v, %v; want filed and deregistered", got, err)
		}
		if got, err := s.Application(ctx, filed.Application); err != nil || !got.Deregistered {
			t.Errorf("Application = %+v, %v; want deregistered", got, err)
		}
		if rec, err := s.LookupServiceCode(ctx, filed.Code); err != nil || !rec.Reservation.Deregistered || rec.Used != 1 {
			t.Errorf("LookupServiceCode = %+v, %v; want deregistered, used 1", rec, err)
		}
		list, err := s.ListReservations(ctx, "A", 10)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListReservations = %v, %v; want 2", list, err)
		}
		for _, r := range list {
			if r.Deregistered != (r.Code == filed.Code) {
				t.Errorf("ListReservations: %s deregistered %v", r.Code, r.Deregistered)
			}
		}
		if got, err := s.Reservation(ctx, other.Code); err != nil || got.Deregistered {
			t.Errorf("Reservation of another = %+v, %v; want not deregistered", got, err)
		}
		// Its code stays used; release leaves it.
		again := quotaRes(filed.Code, "i-1", qs(filed.Code)...)
		reserveWant(t, s, again, 5, icpverify.Taken, 1)
		if got, err := s.Release(ctx, filed); err != nil || !got.Deregistered {
			t.Errorf("Release of a deregistered reservation = %+v, %v", got, err)
		}
		if _, err := s.Complete(ctx, filed); err != nil {
			t.Errorf("Complete of a deregistered reservation: %v", err)
		}
		wantPlaces(t, s.DB(), map[string]int{"sites/account:A": 1, "filings/account:A": 1, "subjects/account:A": 1})

		// Not found: no reservation, another application's.
		for _, r := range []icpverify.Reservation{
			{Code: "C-none", Application: newApp()},
			{Code: other.Code, Application: newApp()},
			{Code: other.Code, Application: "not valid!"},
		} {
			if _, err := s.Deregister(ctx, r); !errorsIsNotFound(err) {
				t.Errorf("Deregister(%s, %s): %v; want ErrNotFound", r.Code, r.Application, err)
			}
		}

		// Deregistered once filed: the slot of a subject key that
		// another reservation shares stays.
		shared := quotaRes("C-4", "i-1")
		shared.SubjectKey = other.SubjectKey
		reserveWant(t, s, shared, 5, icpverify.Reserved, 1)
		if _, err := s.Complete(ctx, other); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Deregister(ctx, other); err != nil {
			t.Fatal(err)
		}
		if used, held, err := s.Usage(ctx, "i-1", other.SubjectKey); err != nil || used != 1 || !held {
			t.Errorf("Usage of a key another reservation shares = %d, %v, %v; want 1, held", used, held, err)
		}
		wantPlaces(t, s.DB(), map[string]int{})
	})
}

// TestQuotaRace races 64 reservations of codes on 8 instances for the last
// place of a quota, on every dialect: exactly one wins.
func TestQuotaRace(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		raceQuota(t, newDatabase(t, d), false)
	})
}

// TestGaleraQuotaRace is TestQuotaRace on a Galera cluster, the racers'
// pools on its nodes in turn. Of the 64 reservations that share one
// member's place, all of which write that place's row, some may give up
// after the store's retries of certification conflicts (a row that every
// call writes is as hot on a Galera cluster as a slot that every call
// shares): each of those must have stored nothing, and the places must
// count the others.
func TestGaleraQuotaRace(t *testing.T) {
	galeraNodes(t)
	raceQuota(t, newGaleraDatabase(t), true)
}

// raceQuota races 64 reservations for the last place of a quota, from 4
// replicas on db, half with Reserve and half with ReserveServiceCode, each
// with a quota that has room first: exactly one wins, the others are told
// Exceeded and the full quota's index, and no place is taken but the
// winner's. Then 64 reservations that share one member's place race for
// the last place: all win (or, if hot is set, all but those that fail,
// which store nothing), and take one place. Then every reservation is
// released from 64 goroutines (if hot is set, those that fail, having
// freed nothing, once more one by one), and every place is free.
func raceQuota(t *testing.T, db *database, hot bool) {
	const (
		racers    = 64
		instances = 8
		replicas  = 4
	)
	ctx := context.Background()
	stores := make([]*sqlstore.Store, replicas)
	for i := range stores {
		stores[i] = db.store(t)
		stores[i].DB().SetMaxOpenConns(8) // 32 in all, of a server others share
	}
	s := stores[0]
	var codes []string
	for i := range instances {
		id := fmt.Sprintf("i-race-%d", i)
		if err := s.PutInstanceContext(ctx, eligible(id, "owner")); err != nil {
			t.Fatal(err)
		}
		for j := range 2 * racers / instances {
			code := fmt.Sprintf("RACE-%d-%02d", i, j)
			if _, _, err := s.AddServiceCode(ctx, icpverify.ServiceCode{Code: code, Instance: id, Owner: "owner"}, 1000); err != nil {
				t.Fatal(err)
			}
			codes = append(codes, code)
		}
	}
	guard := icpverify.ReserveGuard{Product: icpverify.ProductECS, ExpiresAfter: time.Now()}
	res := func(i int, member string) icpverify.Reservation {
		r := quotaRes(codes[i], fmt.Sprintf("i-race-%d", i/(2*racers/instances)),
			icpverify.Quota{Key: "roomy", Member: codes[i], Limit: 1000},
			icpverify.Quota{Key: "tight", Member: member, Limit: 3})
		r.Account = "owner"
		return r
	}
	// race reserves the codes first to first+racers-1 at once, the
	// member of i member(i), and returns the reservations made, and those
	// that failed if failing is allowed.
	race := func(first int, member func(int) string, failing bool) (won, failed []icpverify.Reservation) {
		t.Helper()
		var (
			mu   sync.Mutex
			g    errgroup
			gate = make(chan struct{})
		)
		for i := first; i < first+racers; i++ {
			g.Go(func() error {
				r := res(i, member(i))
				st := stores[i%replicas]
				<-gate
				var out icpverify.Outcome
				var n int
				var err error
				if i%2 == 0 {
					out, n, err = st.Reserve(ctx, r, 1000)
				} else {
					var rec icpverify.CodeRecord
					r.Instance = ""
					rec, out, err = st.ReserveServiceCode(ctx, r, 1000, guard)
					n = rec.Used
				}
				switch {
				case err != nil && failing:
					mu.Lock()
					failed = append(failed, r)
					mu.Unlock()
				case err != nil:
					return fmt.Errorf("reserving %s: %w", r.Code, err)
				case out == icpverify.Reserved:
					mu.Lock()
					won = append(won, r)
					mu.Unlock()
				case out != icpverify.Exceeded || n != 1:
					return fmt.Errorf("reserving %s = %v, %d; want Reserved, or Exceeded and 1", r.Code, out, n)
				}
				return nil
			})
		}
		close(gate)
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		return won, failed
	}

	// Two members hold places of "tight" before the race.
	for i, m := range []string{"m-a", "m-b"} {
		r := res(racers+i, m)
		r.Code = fmt.Sprintf("PRE-%d", i)
		r.Quotas[0].Member = r.Code
		if out, _, err := s.Reserve(ctx, r, 1000); err != nil || out != icpverify.Reserved {
			t.Fatalf("Reserve before the race = %v, %v", out, err)
		}
	}
	won, _ := race(0, func(i int) string { return codes[i] }, false)
	if len(won) != 1 {
		t.Fatalf("%d reservations won the last place, want exactly 1", len(won))
	}
	wantPlaces(t, s.DB(), map[string]int{"roomy": 3, "tight": 3})
	checkRows(t, s.DB(), 3, 3)

	// The winner's release frees the place, which 64 reservations of one
	// member then share.
	if _, err := s.Release(ctx, won[0]); err != nil {
		t.Fatal(err)
	}
	wantPlaces(t, s.DB(), map[string]int{"roomy": 2, "tight": 2})
	won, failed := race(racers, func(int) string { return "m-shared" }, hot)
	if len(won) == 0 || len(won)+len(failed) != racers {
		t.Fatalf("%d of %d reservations of one member won, %d failed; want all to win", len(won), racers, len(failed))
	}
	if len(failed) > 0 {
		t.Logf("%d of %d reservations of one member gave up", len(failed), racers)
	}
	for _, r := range failed {
		if _, err := s.Reservation(ctx, r.Code); !errorsIsNotFound(err) {
			t.Errorf("Reservation(%s) after a Reserve that failed: %v; want ErrNotFound", r.Code, err)
		}
	}
	wantPlaces(t, s.DB(), map[string]int{"roomy": len(won) + 2, "tight": 3})
	checkRows(t, s.DB(), len(won)+2, len(won)+2)

	var (
		g     errgroup
		mu    sync.Mutex
		again []icpverify.Reservation
	)
	for i, r := range won {
		g.Go(func() error {
			_, err := stores[i%replicas].Release(ctx, r)
			if err != nil && hot {
				// It freed nothing: once more, alone.
				mu.Lock()
				again = append(again, r)
				mu.Unlock()
				return nil
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(again) > 0 {
		t.Logf("%d of %d releases gave up", len(again), len(won))
		wantPlaces(t, s.DB(), map[string]int{"roomy": len(again) + 2, "tight": 3})
	}
	for _, r := range again {
		if _, err := s.Release(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	wantPlaces(t, s.DB(), map[string]int{"roomy": 2, "tight": 2})
	checkRows(t, s.DB(), 2, 2)
}
