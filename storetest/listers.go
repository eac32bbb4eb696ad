package storetest

import (
	"testing"

	"github.com/icpfiling/icpverify"
)

var listInstancesTests = []testCase{
	{"Account", testListInstancesAccount},
	{"Empty", testListInstancesEmpty},
	{"Limit", testListInstancesLimit},
}

var listReservationsTests = []testCase{
	{"Account", testListReservationsAccount},
	{"Empty", testListReservationsEmpty},
	{"Limit", testListReservationsLimit},
}

// instanceLister returns s as an InstanceLister, or skips the subtest.
func instanceLister(t *testing.T, s Store) icpverify.InstanceLister {
	t.Helper()
	l, ok := s.(icpverify.InstanceLister)
	if !ok {
		t.Skipf("storetest: %T does not implement icpverify.InstanceLister, which is optional", s)
	}
	return l
}

// listInstances calls ListInstances and checks that it returns no error,
// distinct instances of account only, at most limit of them; it returns
// them by ID.
func (f *fixture) listInstances(l icpverify.InstanceLister, account string, limit int) map[string]icpverify.Instance {
	f.t.Helper()
	list, err := l.ListInstances(f.ctx, account, limit)
	if err != nil {
		f.t.Fatalf("ListInstances(%q, %d): %v", account, limit, err)
	}
	if len(list) > limit {
		f.t.Errorf("ListInstances(%q, %d) returned %d instances; want at most %d", account, limit, len(list), limit)
	}
	byID := make(map[string]icpverify.Instance, len(list))
	for _, inst := range list {
		if _, dup := byID[inst.ID]; dup {
			f.t.Errorf("ListInstances(%q, %d) returned instance %q twice", account, limit, inst.ID)
		}
		if inst.Account != account {
			f.t.Errorf("ListInstances(%q, %d) returned instance %q of account %q", account, limit, inst.ID, inst.Account)
		}
		byID[inst.ID] = inst
	}
	return byID
}

// testListInstancesAccount: ListInstances lists every instance of the
// account, unchanged, whatever their reservations, and no other account's,
// nor an instance that changed hands.
func testListInstancesAccount(t *testing.T, s Store) {
	l := instanceLister(t, s)
	f := newFixture(t, s)
	account, other := f.k.unicodeAccount(), f.k.account()
	busy := f.put(f.instance(account))
	filed := f.put(f.instance(account))
	idle := f.put(f.instance(account))
	idle.ExpiresAt = baseTime.AddDate(-1, 0, 0)
	f.put(idle)
	moved := f.put(f.instance(account))
	moved.Account = other
	f.put(moved)
	foreign := f.put(f.instance(other))

	s1, s2 := f.k.subject(), f.k.subject()
	f.newReservation(busy.ID, account, s1, bigLimit, 1)
	f.newReservation(busy.ID, other, s2, bigLimit, 2)
	f.complete(f.newReservation(filed.ID, account, s1, bigLimit, 1))
	f.release(f.newReservation(idle.ID, account, s2, bigLimit, 1))
	f.newReservation(foreign.ID, account, s1, bigLimit, 1)

	check := func(account string, want ...icpverify.Instance) {
		t.Helper()
		got := f.listInstances(l, account, 10)
		for _, w := range want {
			g, ok := got[w.ID]
			if !ok {
				t.Errorf("ListInstances(%q, 10) misses instance %q", account, w.ID)
				continue
			}
			if d := instanceDiff(g, w); d != nil {
				t.Errorf("ListInstances(%q, 10): instance %q: %v", account, w.ID, d)
			}
		}
		if len(got) != len(want) {
			t.Errorf("ListInstances(%q, 10) returned %d instances; want %d", account, len(got), len(want))
		}
	}
	check(account, busy, filed, idle)
	check(other, moved, foreign)
}

// testListInstancesEmpty: an account with no instances gets an empty list
// (nil or not) and no error.
func testListInstancesEmpty(t *testing.T, s Store) {
	l := instanceLister(t, s)
	f := newFixture(t, s)
	f.newInstance(f.k.account()) // the store is not empty
	if got := f.listInstances(l, f.k.account(), 10); len(got) != 0 {
		t.Errorf("ListInstances of an account with no instances returned %d; want none", len(got))
	}
}

// testListInstancesLimit: ListInstances returns limit instances when the
// account has more.
func testListInstancesLimit(t *testing.T, s Store) {
	l := instanceLister(t, s)
	f := newFixture(t, s)
	account := f.k.account()
	for range 3 {
		f.newInstance(account)
	}
	for _, limit := range []int{0, 1, 2, 3, 4} {
		if got, want := len(f.listInstances(l, account, limit)), min(limit, 3); got != want {
			t.Errorf("ListInstances(%q, %d) of an account with 3 instances returned %d; want %d", account, limit, got, want)
		}
	}
}

// listReservations calls ListReservations and checks that it returns no
// error, distinct reservations of account only, at most limit of them; it
// returns them by code.
func (f *fixture) listReservations(l icpverify.QuotaStore, account string, limit int) map[string]icpverify.Reservation {
	f.t.Helper()
	list, err := l.ListReservations(f.ctx, account, limit)
	if err != nil {
		f.t.Fatalf("ListReservations(%q, %d): %v", account, limit, err)
	}
	if len(list) > limit {
		f.t.Errorf("ListReservations(%q, %d) returned %d reservations; want at most %d", account, limit, len(list), limit)
	}
	byCode := make(map[string]icpverify.Reservation, len(list))
	for _, r := range list {
		if _, dup := byCode[r.Code]; dup {
			f.t.Errorf("ListReservations(%q, %d) returned code %q twice", account, limit, r.Code)
		}
		if r.Account != account {
			f.t.Errorf("ListReservations(%q, %d) returned code %q of account %q", account, limit, r.Code, r.Account)
		}
		byCode[r.Code] = r
	}
	return byCode
}

// testListReservationsAccount: ListReservations lists the account's
// reservations, filed or not, unchanged, and neither released ones nor
// another account's.
func testListReservationsAccount(t *testing.T, s Store) {
	l := s
	f := newFixture(t, s)
	account, other := f.k.unicodeAccount(), f.k.account()
	owner := f.k.account()
	a, b := f.newInstance(owner), f.newInstance(owner)
	subj := f.k.unicodeSubject()

	open := f.newReservation(a, account, subj, bigLimit, 1)
	filed := f.complete(f.newReservation(a, account, f.k.subject(), bigLimit, 2))
	f.release(f.newReservation(a, account, f.k.subject(), bigLimit, 3))
	elsewhere := f.newReservation(b, account, subj, bigLimit, 1)
	foreign := f.newReservation(a, other, subj, bigLimit, 2)

	check := func(account string, want ...icpverify.Reservation) {
		t.Helper()
		got := f.listReservations(l, account, 10)
		for _, w := range want {
			g, ok := got[w.Code]
			if !ok {
				t.Errorf("ListReservations(%q, 10) misses code %q", account, w.Code)
				continue
			}
			if d := reservationDiff(g, w); d != nil {
				t.Errorf("ListReservations(%q, 10): code %q: %v", account, w.Code, d)
			}
			delete(got, w.Code)
		}
		for code := range got {
			t.Errorf("ListReservations(%q, 10) returned code %q, which it should not", account, code)
		}
	}
	check(account, open, filed, elsewhere)
	check(other, foreign)
}

// testListReservationsEmpty: an account with no reservations gets an empty
// list (nil or not) and no error.
func testListReservationsEmpty(t *testing.T, s Store) {
	l := s
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	f.newReservation(inst, account, f.k.subject(), bigLimit, 1) // the store is not empty
	if got := f.listReservations(l, f.k.account(), 10); len(got) != 0 {
		t.Errorf("ListReservations of an account with no reservations returned %d; want none", len(got))
	}
	// Reservations are listed by their own account, not by the owner of
	// their instance.
	f.newReservation(inst, f.k.account(), f.k.subject(), bigLimit, 2)
	if got := f.listReservations(l, account, 10); len(got) != 1 {
		t.Errorf("ListReservations(%q, 10) returned %d reservations; want 1", account, len(got))
	}
}

// testListReservationsLimit: ListReservations returns limit reservations
// when the account has more.
func testListReservationsLimit(t *testing.T, s Store) {
	l := s
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	for i := range 3 {
		f.newReservation(inst, account, f.k.subject(), bigLimit, i+1)
	}
	for _, limit := range []int{0, 1, 2, 3, 4} {
		if got, want := len(f.listReservations(l, account, limit)), min(limit, 3); got != want {
			t.Errorf("ListReservations(%q, %d) of an account with 3 reservations returned %d; want %d", account, limit, got, want)
		}
	}
}
