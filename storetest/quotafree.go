package storetest

import (
	"errors"
	"testing"

	"github.com/icpfiling/icpverify"
)

// testQuotaRelease: Release of an unfiled reservation frees its slot and
// every place it holds, UntilFiled or not; a Release that finds nothing
// frees nothing, not even a place that another reservation took since.
func testQuotaRelease(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	a, b := f.k.quotaKey(), f.k.quotaKey()
	ma, mb := f.k.member(), f.k.member()
	r := f.reserveNew(1, quota(a, ma, 1), untilFiled(b, mb, 1))
	f.release(r)
	f.checkUsage(f.inst, r.SubjectKey, 0, false)
	f.checkMembers(a, 0)
	f.checkMembers(b, 0)

	f.reserveNew(1, quota(a, ma, 1), untilFiled(b, mb, 1))
	if got, err := s.Release(f.ctx, r); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("Release(%q) again = %+v, %v; want an error that is ErrNotFound", r.Code, got, err)
	}
	f.checkMembers(a, 1, ma)
	f.checkMembers(b, 1, mb)
}

// testQuotaComplete: Complete frees the places of a reservation's
// UntilFiled quotas, only once, and keeps its slot and its other places,
// which a Release of the filed reservation does not free either.
func testQuotaComplete(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	u, shared, p := f.k.quotaKey(), f.k.quotaKey(), f.k.quotaKey()
	mu, ms, mp := f.k.member(), f.k.member(), f.k.member()
	r := f.reserveNew(1, untilFiled(u, mu, 1), untilFiled(shared, ms, 1), quota(p, mp, 1))
	other := f.reserveNew(2, untilFiled(shared, ms, 1)) // counts ms too

	filed := f.complete(r)
	f.checkMembers(u, 0)
	f.checkMembers(shared, 1, ms)
	f.checkMembers(p, 1, mp)
	f.checkUsage(f.inst, r.SubjectKey, 2, true)

	f.complete(r) // again: frees nothing more
	f.checkMembers(shared, 1, ms)
	f.release(filed) // filed: frees nothing
	f.checkMembers(p, 1, mp)
	f.checkMembers(shared, 1, ms)
	f.checkUsage(f.inst, r.SubjectKey, 2, true)
	f.checkReservation(filed)

	f.release(other)
	f.checkMembers(shared, 0)
	f.checkMembers(p, 1, mp)
}
