package storetest

import (
	"errors"
	"testing"

	"github.com/icpfiling/icpverify"
)

// quotaRacers is how many reservations race in the concurrent subtests of
// quotas.
const quotaRacers = 64

// testQuotaLastPlaceConcurrent: of 64 reservations racing through Reserve
// for the last place of a quota, each with its own code, subject and
// member, exactly one is Reserved; the others are Exceeded and take no
// place, in that quota or in the one before it.
func testQuotaLastPlaceConcurrent(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	raceLastPlace(f, "Reserve", func(r icpverify.Reservation) (icpverify.Outcome, int, error) {
		return s.Reserve(f.ctx, r, bigLimit)
	})
}

// testQuotaReserveCodeConcurrent: as testQuotaLastPlaceConcurrent, through
// ReserveServiceCode.
func testQuotaReserveCodeConcurrent(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newQuotaFixture(t, s)
	raceLastPlace(f, "ReserveServiceCode", func(r icpverify.Reservation) (icpverify.Outcome, int, error) {
		rec, got, err := l.ReserveServiceCode(f.ctx, r, bigLimit, openGuard())
		return got, rec.Used, err
	})
}

// raceLastPlace races quotaRacers reservations, made with reserve, for the
// last place of a quota with a Limit of 3, and checks that exactly one
// wins, and that the quota then has 3 members and its winner's release
// frees exactly one place.
func raceLastPlace(f *quotaFixture, method string, reserve func(icpverify.Reservation) (icpverify.Outcome, int, error)) {
	t := f.t
	const limit = 3
	k, free := f.k.quotaKey(), f.k.quotaKey()
	var holders []string
	for i := range limit - 1 {
		r := f.reserveNew(i+1, quota(k, f.k.member(), limit))
		holders = append(holders, r.Quotas[0].Member)
	}
	rs := make([]icpverify.Reservation, quotaRacers)
	for i := range rs {
		rs[i] = f.withQuotas(quota(free, f.k.member(), bigLimit), quota(k, f.k.member(), limit))
	}
	results := make([]reserveResult, len(rs))
	concurrently(len(rs), func(i int) {
		o, used, err := reserve(rs[i])
		results[i] = reserveResult{o, used, err}
	})
	winner, won := -1, 0
	for i, res := range results {
		switch {
		case res.err != nil:
			t.Errorf("concurrent %s #%d (code %q): %v", method, i, rs[i].Code, res.err)
		case res.outcome == icpverify.Reserved && res.used == limit:
			winner = i
			won++
		case res.outcome == icpverify.Exceeded && res.used == 1:
		default:
			t.Errorf("concurrent %s #%d for the last place of quota %q = %s, %d; want Reserved with usage %d, or Exceeded with index 1",
				method, i, k, outcome(res.outcome), res.used, limit)
		}
	}
	if won != 1 {
		t.Fatalf("%d reservations racing through %s for the last place of a quota with Limit %d: %d Reserved; want exactly 1",
			quotaRacers, method, limit, won)
	}
	w := rs[winner]
	w.Instance = f.inst
	f.checkReservation(w)
	f.checkUsage(f.inst, f.k.subject(), limit, false)
	f.checkMembers(k, limit, append(holders, w.Quotas[1].Member)...)
	f.checkMembers(free, 1, w.Quotas[0].Member)
	f.release(w)
	f.checkMembers(k, limit-1, holders...)
	f.checkMembers(free, 0)
}

// testQuotaSameMemberConcurrent: 64 reservations racing for a quota with
// a Limit of 1 and no members, each with its own code and subject but all
// for the same member, are all Reserved: the member takes one place,
// which is freed only when the last of them is released, whether they are
// released one by one or at once.
func testQuotaSameMemberConcurrent(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	k, m := f.k.quotaKey(), f.k.member()
	rs := make([]icpverify.Reservation, quotaRacers)
	for i := range rs {
		rs[i] = f.withQuotas(quota(k, m, 1))
	}
	for i, res := range reserveAll(f.fixture, rs, bigLimit) {
		if res.err == nil && (res.outcome != icpverify.Reserved || res.used < 1 || res.used > quotaRacers) {
			t.Errorf("concurrent Reserve #%d for member %q of quota %q = %s, %d; want Reserved, with usage from 1 to %d",
				i, m, k, outcome(res.outcome), res.used, quotaRacers)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	f.checkMembers(k, 1, m)

	errs := make([]error, len(rs)-1)
	concurrently(len(errs), func(i int) {
		_, errs[i] = s.Release(f.ctx, rs[i])
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Release of reservations of quota %q: %v", k, err)
	}
	f.checkMembers(k, 1, m)
	f.release(rs[len(rs)-1])
	f.checkMembers(k, 0)
	f.checkUsage(f.inst, rs[0].SubjectKey, 0, false)
}
