package storetest

import (
	"errors"
	"testing"

	"github.com/icpfiling/icpverify"
)

var deregisterTests = []testCase{
	{"Filed", testDeregisterFiled},
	{"Unfiled", testDeregisterUnfiled},
	{"NotFound", testDeregisterNotFound},
	{"SharedConcurrent", testDeregisterSharedConcurrent},
}

// deregister calls Deregister(r) and fails the subtest unless it returns
// want.
func (f *fixture) deregister(r, want icpverify.Reservation) {
	f.t.Helper()
	got, err := f.s.Deregister(f.ctx, r)
	if err != nil {
		f.t.Fatalf("Deregister(%q): %v", r.Code, err)
	}
	if d := reservationDiff(got, want); d != nil {
		f.t.Errorf("Deregister(%q) returned %v", r.Code, d)
	}
}

// checkReads checks that every read of want's reservation returns it:
// Reservation, Application, ListReservations and, if s is a CodeReserver,
// LookupServiceCode, with the usage wantUsed.
func (f *fixture) checkReads(want icpverify.Reservation, wantUsed int) {
	f.t.Helper()
	f.checkReservation(want)
	f.checkApplication(want)
	got, ok := f.listReservations(f.s, want.Account, bigLimit)[want.Code]
	if !ok {
		f.t.Errorf("ListReservations(%q) misses code %q", want.Account, want.Code)
	} else if d := reservationDiff(got, want); d != nil {
		f.t.Errorf("ListReservations(%q): code %q: %v", want.Account, want.Code, d)
	}
	if l, ok := f.s.(icpverify.CodeReserver); ok {
		f.checkLookupReservation(l, want, wantUsed)
	}
}

// testDeregisterFiled: Deregister of a filed reservation sets
// Deregistered, frees its subject's slot and the places Complete left,
// and keeps the reservation, so that its code stays used: every read
// returns it Deregistered, and Reserve of the code is Taken. Release,
// Complete and Deregister then change nothing.
func testDeregisterFiled(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	p, u := f.k.quotaKey(), f.k.quotaKey()
	mp, mu := f.k.member(), f.k.member()
	r := f.reserveNew(1, quota(p, mp, 1), untilFiled(u, mu, 1))
	f.reserveNew(2)
	filed := f.complete(r)
	f.checkMembers(u, 0)
	f.checkMembers(p, 1, mp)

	gone := filed
	gone.Deregistered = true
	f.deregister(r, gone)
	f.checkUsage(f.inst, r.SubjectKey, 1, false)
	f.checkMembers(p, 0)
	f.checkReads(gone, 1)

	again := r
	again.Application = f.k.application() // a retry of its application
	f.reserve(again, bigLimit, icpverify.Taken, 1)
	again.SubjectKey = f.k.subject() // another application
	f.reserve(again, bigLimit, icpverify.Taken, 1)

	f.release(gone)
	if got, err := s.Complete(f.ctx, r); err != nil || reservationDiff(got, gone) != nil {
		t.Errorf("Complete(%q) of a deregistered reservation = %+v, %v; want it unchanged: %v", r.Code, got, err, reservationDiff(got, gone))
	}
	f.deregister(r, gone)
	f.checkReads(gone, 1)
	f.checkUsage(f.inst, r.SubjectKey, 1, false)
	f.checkMembers(p, 0)
}

// testDeregisterUnfiled: Deregister of a reservation not filed returns it
// as it is and changes nothing; Release then frees it all.
func testDeregisterUnfiled(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	p, u := f.k.quotaKey(), f.k.quotaKey()
	mp, mu := f.k.member(), f.k.member()
	r := f.reserveNew(1, quota(p, mp, 1), untilFiled(u, mu, 1))
	for range 2 {
		f.deregister(r, r)
	}
	f.checkReads(r, 1)
	f.checkUsage(f.inst, r.SubjectKey, 1, true)
	f.checkMembers(p, 1, mp)
	f.checkMembers(u, 1, mu)

	f.release(r)
	f.checkUsage(f.inst, r.SubjectKey, 0, false)
	f.checkMembers(p, 0)
	f.checkMembers(u, 0)
}

// testDeregisterNotFound: Deregister of a code with no reservation, or
// with one for another application, is ErrNotFound and changes nothing.
func testDeregisterNotFound(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	p, mp := f.k.quotaKey(), f.k.member()
	released := f.reserveNew(1)
	f.release(released)
	filed := f.complete(f.reserveNew(1, quota(p, mp, 1)))

	notFound := func(r icpverify.Reservation, what string) {
		t.Helper()
		if got, err := s.Deregister(f.ctx, r); !errors.Is(err, icpverify.ErrNotFound) {
			t.Errorf("Deregister of %s (%+v) = %+v, %v; want an error that is ErrNotFound", what, r, got, err)
		}
	}
	for _, code := range []string{f.k.code(t), f.newCode(f.inst)} {
		notFound(icpverify.Reservation{Code: code, Application: f.k.application()}, "a code never reserved")
	}
	notFound(released, "a released reservation")
	for _, o := range f.otherApplications(filed) {
		notFound(o, "another application's reservation")
	}
	f.checkReads(filed, 1)
	f.checkUsage(f.inst, filed.SubjectKey, 1, true)
	f.checkMembers(p, 1, mp)
}

// testDeregisterSharedConcurrent: a subject's slot and a member's place
// that another reservation counts too stay held when one reservation is
// deregistered, by 32 calls at once: all of them return it Deregistered,
// and it frees one count of each, once.
func testDeregisterSharedConcurrent(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	p, m := f.k.quotaKey(), f.k.member()
	r := f.reserveNew(1, quota(p, m, 1))
	other := f.withQuotas(quota(p, m, 1))
	other.Subject, other.SubjectKey = r.Subject, r.SubjectKey
	f.reserve(other, bigLimit, icpverify.Reserved, 1)
	filed := f.complete(r)
	gone := filed
	gone.Deregistered = true

	const n = 32
	results := make([]icpverify.Reservation, n)
	errs := make([]error, n)
	concurrently(n, func(i int) {
		results[i], errs[i] = s.Deregister(f.ctx, r)
	})
	for i := range n {
		if errs[i] != nil {
			t.Errorf("concurrent Deregister #%d: %v", i, errs[i])
		} else if d := reservationDiff(results[i], gone); d != nil {
			t.Errorf("concurrent Deregister #%d returned %v", i, d)
		}
	}
	f.checkReads(gone, 1)
	f.checkUsage(f.inst, r.SubjectKey, 1, true)
	f.checkMembers(p, 1, m)

	f.release(other)
	f.checkUsage(f.inst, r.SubjectKey, 0, false)
	f.checkMembers(p, 0)
}
