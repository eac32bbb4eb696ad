package storetest

import (
	"testing"

	"github.com/icpfiling/icpverify"
)

var quotaTests = []testCase{
	{"Takes", testQuotaTakes},
	{"Exceeded", testQuotaExceeded},
	{"SameMember", testQuotaSameMember},
	{"Order", testQuotaOrder},
	{"Release", testQuotaRelease},
	{"Complete", testQuotaComplete},
	{"ReserveServiceCode", testQuotaReserveCode},
	{"LastPlaceConcurrent", testQuotaLastPlaceConcurrent},
	{"ReserveServiceCodeConcurrent", testQuotaReserveCodeConcurrent},
	{"SameMemberConcurrent", testQuotaSameMemberConcurrent},
}

// quotaFixture is a fixture with an account, an instance for the
// subtest's reservations, and another for the probes that count the
// members of a quota (see checkMembers).
type quotaFixture struct {
	*fixture
	account string
	inst    string
	probes  string
}

func newQuotaFixture(t *testing.T, s Store) *quotaFixture {
	f := newFixture(t, s)
	account := f.k.account()
	return &quotaFixture{fixture: f, account: account, inst: f.newInstance(account), probes: f.newInstance(account)}
}

// quota returns a quota, not UntilFiled.
func quota(key, member string, limit int) icpverify.Quota {
	return icpverify.Quota{Key: key, Member: member, Limit: limit}
}

// untilFiled returns a quota that is UntilFiled.
func untilFiled(key, member string, limit int) icpverify.Quota {
	return icpverify.Quota{Key: key, Member: member, Limit: limit, UntilFiled: true}
}

// withQuotas returns a reservation of a new code of the fixture's instance
// for a new subject, counting toward qs, not yet reserved.
func (f *quotaFixture) withQuotas(qs ...icpverify.Quota) icpverify.Reservation {
	f.t.Helper()
	r := f.reservation(f.inst, f.account, f.k.subject())
	r.Quotas = qs
	return r
}

// reserveNew reserves a new code of the fixture's instance for a new
// subject, counting toward qs, with no limit of subjects; it must be
// Reserved with the usage wantUsed.
func (f *quotaFixture) reserveNew(wantUsed int, qs ...icpverify.Quota) icpverify.Reservation {
	f.t.Helper()
	r := f.withQuotas(qs...)
	f.reserve(r, bigLimit, icpverify.Reserved, wantUsed)
	return r
}

// exceeded calls Reserve and fails the subtest unless it reports Exceeded
// with the index want.
func (f *fixture) exceeded(r icpverify.Reservation, limit, want int) {
	f.t.Helper()
	got, i, err := f.s.Reserve(f.ctx, r, limit)
	if err != nil {
		f.t.Fatalf("Reserve(code %q, limit %d) with %d quotas: %v", r.Code, limit, len(r.Quotas), err)
	}
	if got != icpverify.Exceeded || i != want {
		f.t.Fatalf("Reserve(code %q, limit %d) with %d quotas = %s, %d; want Exceeded, %d: the index of the first full quota (%q)",
			r.Code, limit, len(r.Quotas), outcome(got), i, want, r.Quotas[want].Key)
	}
}

// probe reserves a new code of the probe instance for a new subject,
// counting toward the one quota {key, member, limit}, and releases it again
// if it is Reserved. It returns the outcome, which must be Reserved or
// Exceeded.
func (f *quotaFixture) probe(key, member string, limit int) icpverify.Outcome {
	f.t.Helper()
	r := f.reservation(f.probes, f.account, f.k.subject())
	r.Quotas = []icpverify.Quota{quota(key, member, limit)}
	got, _, err := f.s.Reserve(f.ctx, r, bigLimit)
	if err != nil {
		f.t.Fatalf("Reserve of a probe of quota %q: %v", key, err)
	}
	switch got {
	case icpverify.Reserved:
		if _, err := f.s.Release(f.ctx, r); err != nil {
			f.t.Fatalf("Release of a probe of quota %q: %v", key, err)
		}
	case icpverify.Exceeded:
	default:
		f.t.Errorf("Reserve of a probe of quota %q, Limit %d = %s; want Reserved or Exceeded", key, limit, outcome(got))
	}
	return got
}

// checkMembers checks that exactly want members hold a place under key,
// holders among them, with probes (see probe): a new member must be
// Exceeded under a Limit of want (if want > 0) and Reserved under want+1,
// and each holder Reserved under want, as a member holding a place is.
// Places must tell the same.
func (f *quotaFixture) checkMembers(key string, want int, holders ...string) {
	f.t.Helper()
	f.checkPlaces(key, f.k.member(), want, false)
	for _, m := range holders {
		f.checkPlaces(key, m, want, true)
	}
	if want > 0 && f.probe(key, f.k.member(), want) == icpverify.Reserved {
		f.t.Errorf("quota %q: a new member is Reserved under a Limit of %d; want Exceeded: %d member(s) should hold a place, fewer do",
			key, want, want)
	}
	if got := f.probe(key, f.k.member(), want+1); got != icpverify.Reserved {
		f.t.Errorf("quota %q: a new member under a Limit of %d is %s; want Reserved: %d member(s) should hold a place, more do",
			key, want+1, outcome(got), want)
	}
	for _, m := range holders {
		if got := f.probe(key, m, want); got != icpverify.Reserved {
			f.t.Errorf("quota %q: member %q under a Limit of %d is %s; want Reserved: it should be one of the %d member(s) holding a place",
				key, m, want, outcome(got), want)
		}
	}
}

// checkPlaces checks that Places reports want members under key, and
// whether member is one of them.
func (f *quotaFixture) checkPlaces(key, member string, want int, wantHeld bool) {
	f.t.Helper()
	got, held, err := f.s.Places(f.ctx, key, member)
	if err != nil || got != want || held != wantHeld {
		f.t.Errorf("Places(quota %q, member %q) = %d, %v, %v; want %d, %v, no error", key, member, got, held, err, want, wantHeld)
	}
}

// testQuotaTakes: a reservation takes a place in each of its quotas beside
// its slot, keys and members of 300 bytes too; a quota counts the
// members of every instance and account.
func testQuotaTakes(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	a, b, c := f.k.quotaKey(), long300(f.k.quotaKey()), f.k.quotaKey()
	m, mb := long300(f.k.member()), f.k.member()
	r := f.reserveNew(1, quota(a, m, 2), quota(b, mb, 1), untilFiled(c, m, 5))
	f.checkReservation(r)
	f.checkApplication(r)
	f.checkUsage(f.inst, r.SubjectKey, 1, true)
	f.checkMembers(a, 1, m)
	f.checkMembers(b, 1, mb)
	f.checkMembers(c, 1, m)

	other := f.reservation(f.newInstance(f.k.account()), f.k.account(), f.k.subject())
	m2 := f.k.member()
	other.Quotas = []icpverify.Quota{quota(a, m2, 2)}
	f.reserve(other, bigLimit, icpverify.Reserved, 1)
	f.checkMembers(a, 2, m, m2)
	f.checkMembers(b, 1, mb)
}

// testQuotaExceeded: when one of a reservation's quotas has its Limit of
// members, none of them the reservation's, Reserve reports Exceeded with
// the index of the first such quota in place of the usage, and stores
// nothing: the code stays unreserved, no slot is taken, and no place in
// the other quotas. A Limit of 0 lets no member in.
func testQuotaExceeded(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	a, b, c, zero := f.k.quotaKey(), f.k.quotaKey(), f.k.quotaKey(), f.k.quotaKey()
	hb := f.reserveNew(1, quota(b, f.k.member(), 1))
	hc := f.reserveNew(2, quota(c, f.k.member(), 1))

	ma, mb, mc := f.k.member(), f.k.member(), f.k.member()
	r := f.withQuotas(quota(a, ma, 3), quota(b, mb, 1), quota(c, mc, 1))
	for range 2 {
		f.exceeded(r, bigLimit, 1)
	}
	r.Quotas = []icpverify.Quota{quota(a, ma, 3), quota(b, mb, 2), quota(c, mc, 1)}
	f.exceeded(r, bigLimit, 2)
	r.Quotas = []icpverify.Quota{untilFiled(c, mc, 1), quota(a, ma, 3)}
	f.exceeded(r, bigLimit, 0)
	r.Quotas = []icpverify.Quota{quota(a, ma, 3), quota(zero, mc, 0)}
	f.exceeded(r, bigLimit, 1)
	f.checkNoReservation(r.Code)
	f.checkNoApplication(r.Application)
	f.checkUsage(f.inst, r.SubjectKey, 2, false)
	f.checkMembers(a, 0)
	f.checkMembers(b, 1, hb.Quotas[0].Member)
	f.checkMembers(c, 1, hc.Quotas[0].Member)

	// With room in every quota, it is Reserved.
	f.release(hb)
	f.release(hc)
	r.Quotas = []icpverify.Quota{quota(a, ma, 3), quota(b, mb, 1), quota(c, mc, 1)}
	f.reserve(r, bigLimit, icpverify.Reserved, 1)
	f.checkMembers(b, 1, mb)
}

// testQuotaSameMember: a member that holds a place under a key, through
// another code of another subject, takes no second place: it is Reserved
// even when the quota has its Limit of members, and holds its place until
// the last reservation counting it is released.
func testQuotaSameMember(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	k, m, m2 := f.k.quotaKey(), f.k.member(), f.k.member()
	first := f.reserveNew(1, quota(k, m, 1))
	second := f.reserveNew(2, quota(k, m, 1))
	f.exceeded(f.withQuotas(quota(k, f.k.member(), 1)), bigLimit, 0)
	f.checkMembers(k, 1, m)
	third := f.reserveNew(3, quota(k, m2, 2))
	f.checkMembers(k, 2, m, m2)

	f.release(first)
	f.checkMembers(k, 2, m, m2)
	f.release(second)
	f.checkMembers(k, 1, m2)
	f.release(third)
	f.checkMembers(k, 0)
}

// testQuotaOrder: Reserve asks the code first, then the subject's slot,
// then the quotas: a retry is Held and another application's code Taken
// even when a quota is full, and an instance with no slot for a new
// subject is Full even when a quota is full too; a subject that holds a
// slot there gets Exceeded.
func testQuotaOrder(t *testing.T, s Store) {
	f := newQuotaFixture(t, s)
	const limit = 2
	k, m := f.k.quotaKey(), f.k.member()
	held := f.reserveNew(1, quota(k, m, 1))
	retry := held
	retry.Quotas = []icpverify.Quota{quota(k, f.k.member(), 1)}
	retry.Application = f.k.application()
	f.reserve(retry, limit, icpverify.Held, 1)
	retry.SubjectKey = f.k.subject()
	f.reserve(retry, limit, icpverify.Taken, 1)

	f.reserveNew(2)
	full := f.withQuotas(quota(k, f.k.member(), 1))
	f.reserve(full, limit, icpverify.Full, limit)
	f.checkNoReservation(full.Code)
	full.SubjectKey = held.SubjectKey
	f.exceeded(full, limit, 0)
	f.checkNoReservation(full.Code)
	f.checkReservation(held)
	f.checkMembers(k, 1, m)
}

// testQuotaReserveCode: ReserveServiceCode keeps the reservation's quotas
// as Reserve does: Full first, then Exceeded with the index of the first
// full quota in rec.Used, storing nothing, and with room it takes the
// places.
func testQuotaReserveCode(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newQuotaFixture(t, s)
	a, b := f.k.quotaKey(), f.k.quotaKey()
	ma, mb := f.k.member(), f.k.member()
	f.reserveNew(1, quota(b, mb, 1))
	f.reserveNew(2)

	r := f.withQuotas(quota(a, ma, 2), quota(b, f.k.member(), 1))
	r.Instance = "" // the store finds it
	for _, c := range []struct {
		limit int
		want  icpverify.Outcome
		used  int
	}{{bigLimit, icpverify.Exceeded, 1}, {2, icpverify.Full, 2}} {
		rec, got, err := l.ReserveServiceCode(f.ctx, r, c.limit, openGuard())
		if err != nil || got != c.want || rec.Used != c.used {
			t.Errorf("ReserveServiceCode(%q, limit %d) with the 2nd quota full = %s, used %d, error %v; want %s, used %d",
				r.Code, c.limit, outcome(got), rec.Used, err, outcome(c.want), c.used)
		}
	}
	f.checkNoReservation(r.Code)
	f.checkUsage(f.inst, r.SubjectKey, 2, false)
	f.checkMembers(a, 0)

	r.Quotas[1].Member = mb // holds a place: takes no other
	rec, got, err := l.ReserveServiceCode(f.ctx, r, bigLimit, openGuard())
	if err != nil || got != icpverify.Reserved || rec.Used != 3 {
		t.Fatalf("ReserveServiceCode(%q) with room in its quotas = %s, used %d, error %v; want Reserved, used 3",
			r.Code, outcome(got), rec.Used, err)
	}
	r.Instance = f.inst
	f.checkReservation(r)
	f.checkMembers(a, 1, ma)
	f.checkMembers(b, 1, mb)
	f.release(r)
	f.checkMembers(a, 0)
	f.checkMembers(b, 1, mb)
}
