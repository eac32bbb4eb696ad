package storetest

import (
	"strings"
	"testing"

	"github.com/icpfiling/icpverify"
)

var reserveTests = []testCase{
	{"NotFound", testReserveNotFound},
	{"RoundTrip", testReserveRoundTrip},
	{"Retry", testReserveRetry},
	{"Taken", testReserveTaken},
	{"SameSubject", testReserveSameSubject},
	{"SubjectKey", testReserveSubjectKey},
	{"Full", testReserveFull},
	{"LimitConcurrent", testReserveLimitConcurrent},
	{"RetryConcurrent", testReserveRetryConcurrent},
	{"TakenConcurrent", testReserveTakenConcurrent},
}

// testReserveNotFound: a code never reserved has no reservation, and an
// instance no subject holds, known or not, has no usage.
func testReserveNotFound(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	f.newReservation(inst, account, f.k.subject(), bigLimit, 1) // the store is not empty

	f.checkNoReservation(f.k.code(t))
	f.checkNoReservation(f.newCode(inst)) // stored code, not reserved
	f.checkUsage(f.k.instance(), f.k.subject(), 0, false)
	f.checkUsage(f.newInstance(account), f.k.subject(), 0, false)
	f.checkUsage(inst, f.k.subject(), 1, false)
}

// testReserveRoundTrip: Reservation returns what Reserve stored, every field
// unchanged, Filed false.
func testReserveRoundTrip(t *testing.T, s Store) {
	f := newFixture(t, s)
	owner := f.k.account()
	inst := f.newInstance(owner)
	long := f.put(icpverify.Instance{ID: f.k.longInstance(), Account: owner, Status: icpverify.Running}).ID

	a := f.reservation(inst, f.k.unicodeAccount(), f.k.unicodeSubject())
	f.reserve(a, 5, icpverify.Reserved, 1)
	b := f.reservation(long, owner, f.k.subject())
	b.ReservedAt = baseTime.AddDate(0, -2, 3)
	f.reserve(b, 5, icpverify.Reserved, 1)
	f.checkReservation(a)
	f.checkReservation(b)
	f.checkUsage(inst, a.Subject, 1, true)
	f.checkUsage(long, b.Subject, 1, true)
}

// testReserveRetry: reserving a code again for the same application (the
// same account, subject key and website) is Held, whatever its display
// name, time and Application; for another account, subject key or website
// it is Taken. Nothing changes either way: the reservation keeps its first
// Application, which still finds it, and the retry's finds nothing.
func testReserveRetry(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	r := f.newReservation(inst, account, f.k.subject(), 5, 1)
	f.reserve(r, 5, icpverify.Held, 1)

	retry := r
	retry.Subject = f.k.unicodeSubject() // the same key, named otherwise
	retry.ReservedAt = baseTime.AddDate(0, 0, 1)
	retry.Application = f.k.application() // as a new Verify call makes it
	f.reserve(retry, 5, icpverify.Held, 1)
	// Held even when the instance is now full for others.
	f.reserve(retry, 1, icpverify.Held, 1)
	f.checkReservation(r)
	f.checkApplication(r)
	f.checkNoApplication(retry.Application)

	var others []string
	for _, other := range []func(*icpverify.Reservation){
		func(o *icpverify.Reservation) { o.Account = f.k.account() },
		func(o *icpverify.Reservation) { o.SubjectKey = f.k.subject() },
		func(o *icpverify.Reservation) { o.Website = "other.example.com" },
	} {
		o := r
		other(&o)
		f.reserve(o, 5, icpverify.Taken, 1)
		o.Application = f.k.application()
		f.reserve(o, 5, icpverify.Taken, 1)
		others = append(others, o.Application)
	}
	f.checkReservation(r)
	f.checkApplication(r)
	for _, id := range others {
		f.checkNoApplication(id)
	}
	f.checkUsage(inst, r.SubjectKey, 1, true)
}

// testReserveTaken: a code reserved for a subject is Taken for another, and
// nothing changes.
func testReserveTaken(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	r := f.newReservation(inst, account, f.k.subject(), 5, 1)

	other := r
	other.Account = f.k.account()
	other.Subject = f.k.subject()
	other.SubjectKey = other.Subject
	f.reserve(other, 5, icpverify.Taken, 1)
	f.checkReservation(r)
	f.checkUsage(inst, r.Subject, 1, true)
	f.checkUsage(inst, other.Subject, 1, false)
}

// testReserveSameSubject: a subject that holds a slot on an instance
// reserves more codes there without taking another slot, even when the
// instance is full.
func testReserveSameSubject(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	subj, other := f.k.subject(), f.k.subject()
	const limit = 2
	f.newReservation(inst, account, subj, limit, 1)
	second := f.newReservation(inst, account, subj, limit, 1)
	f.checkUsage(inst, subj, 1, true)
	f.newReservation(inst, account, other, limit, 2)
	// Full for others, but subj holds a slot.
	third := f.newReservation(inst, account, subj, limit, 2)
	f.reserve(f.reservation(inst, account, f.k.subject()), limit, icpverify.Full, 2)
	f.checkReservation(second)
	f.checkReservation(third)
	f.checkUsage(inst, subj, 2, true)
	f.checkUsage(inst, other, 2, true)
}

// testReserveFull: when limit subjects hold a slot, another subject is Full
// and nothing is stored; slots are counted per instance.
func testReserveFull(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	const limit = 3
	subjects := make([]string, limit)
	for i := range subjects {
		subjects[i] = f.k.subject()
		f.newReservation(inst, account, subjects[i], limit, i+1)
	}
	late := f.reservation(inst, account, f.k.subject())
	for range 2 {
		f.reserve(late, limit, icpverify.Full, limit)
	}
	f.checkNoReservation(late.Code)
	f.checkUsage(inst, late.Subject, limit, false)
	f.checkUsage(inst, subjects[0], limit, true)

	// Another instance has its own slots.
	other := f.newInstance(account)
	f.newReservation(other, account, subjects[0], 1, 1)
	f.newReservation(other, account, late.Subject, 2, 2)
	f.checkUsage(inst, late.Subject, limit, false)

	// A limit of zero lets no subject in.
	zero := f.newInstance(account)
	r := f.reservation(zero, account, f.k.subject())
	f.reserve(r, 0, icpverify.Full, 0)
	f.checkNoReservation(r.Code)
	f.checkUsage(zero, r.Subject, 0, false)
}

type reserveResult struct {
	outcome icpverify.Outcome
	used    int
	err     error
}

// reserveAll reserves rs[i] in len(rs) goroutines released together.
func reserveAll(f *fixture, rs []icpverify.Reservation, limit int) []reserveResult {
	results := make([]reserveResult, len(rs))
	concurrently(len(rs), func(i int) {
		o, used, err := f.s.Reserve(f.ctx, rs[i], limit)
		results[i] = reserveResult{o, used, err}
	})
	for i, r := range results {
		if r.err != nil {
			f.t.Errorf("concurrent Reserve #%d (code %q, subject %q): %v", i, rs[i].Code, rs[i].Subject, r.err)
		}
	}
	return results
}

// testReserveLimitConcurrent: of 64 subjects reserving at once on an
// instance with 5 slots, exactly 5 get one.
func testReserveLimitConcurrent(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	const n, limit = 64, 5
	rs := make([]icpverify.Reservation, n)
	for i := range rs {
		rs[i] = f.reservation(inst, account, f.k.subject())
	}
	reserved := 0
	for i, r := range reserveAll(f, rs, limit) {
		switch {
		case r.err != nil:
		case r.outcome == icpverify.Reserved && r.used >= 1 && r.used <= limit:
			reserved++
			f.checkReservation(rs[i])
		case r.outcome == icpverify.Full && r.used == limit:
			f.checkNoReservation(rs[i].Code)
		default:
			t.Errorf("concurrent Reserve #%d = %s, used %d; want Reserved with used from 1 to %d, or Full with used %d",
				i, outcome(r.outcome), r.used, limit, limit)
		}
	}
	if reserved != limit {
		t.Errorf("%d subjects reserving at once with limit %d: %d Reserved; want exactly %d", n, limit, reserved, limit)
	}
	f.checkUsage(inst, f.k.subject(), limit, false)
}

// testReserveRetryConcurrent: of 32 reservations of one code for the same
// application made at once, each with its own Application, exactly one is
// Reserved and the others Held; the reservation stored has the winner's
// Application, and only it finds the reservation.
func testReserveRetryConcurrent(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	const n = 32
	r := f.reservation(inst, account, f.k.subject())
	rs := make([]icpverify.Reservation, n)
	for i := range rs {
		rs[i] = r
		rs[i].Application = f.k.application()
	}
	counts := make(map[icpverify.Outcome]int)
	winner := -1
	for i, res := range reserveAll(f, rs, 5) {
		if res.err != nil {
			continue
		}
		counts[res.outcome]++
		if res.outcome == icpverify.Reserved {
			winner = i
		}
		if (res.outcome != icpverify.Reserved && res.outcome != icpverify.Held) || res.used != 1 {
			t.Errorf("concurrent Reserve #%d of the same reservation = %s, used %d; want Reserved or Held, used 1",
				i, outcome(res.outcome), res.used)
		}
	}
	if counts[icpverify.Reserved] != 1 {
		t.Fatalf("%d reservations for one application at once: %d Reserved; want exactly 1", n, counts[icpverify.Reserved])
	}
	f.checkReservation(rs[winner])
	for i, r := range rs {
		if i == winner {
			f.checkApplication(r)
		} else {
			f.checkNoApplication(r.Application)
		}
	}
	f.checkUsage(inst, r.Subject, 1, true)
}

// testReserveTakenConcurrent: of 32 subjects reserving one code at once,
// exactly one gets it and the others get Taken.
func testReserveTakenConcurrent(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	const n = 32
	code := f.newCode(inst)
	rs := make([]icpverify.Reservation, n)
	for i := range rs {
		rs[i] = icpverify.Reservation{Code: code, Instance: inst, Account: account, Subject: f.k.subject(), ReservedAt: baseTime}
		rs[i].SubjectKey, rs[i].Application = rs[i].Subject, f.k.application()
	}
	winner := -1
	for i, res := range reserveAll(f, rs, 5) {
		switch {
		case res.err != nil:
		case res.outcome == icpverify.Reserved && res.used == 1:
			if winner >= 0 {
				t.Errorf("concurrent Reserve of one code: #%d and #%d both Reserved; want exactly one", winner, i)
			}
			winner = i
		case res.outcome == icpverify.Taken && res.used == 1:
		default:
			t.Errorf("concurrent Reserve #%d of one code = %s, used %d; want Reserved or Taken, used 1",
				i, outcome(res.outcome), res.used)
		}
	}
	if winner < 0 {
		t.Fatalf("%d subjects reserving one code at once: none Reserved; want exactly one", n)
	}
	f.checkReservation(rs[winner])
	f.checkUsage(inst, rs[winner].Subject, 1, true)
	for i, r := range rs {
		if i != winner {
			f.checkUsage(inst, r.Subject, 1, false)
			break
		}
	}
}

// testReserveSubjectKey: slots are kept per subject key, not per display
// name: the same key named two ways takes one slot, and two keys with one
// name take two. Usage asks by key.
func testReserveSubjectKey(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	name, other := f.k.unicodeSubject(), f.k.subject()
	key := f.k.subject() + ":" + strings.Repeat("键", 80) // as long as keys get
	key += strings.Repeat("k", 300-len(key))

	a := f.reservation(inst, account, name)
	a.SubjectKey = key
	f.reserve(a, 5, icpverify.Reserved, 1)
	b := f.reservation(inst, account, f.k.subject()) // another name
	b.SubjectKey = key
	f.reserve(b, 5, icpverify.Reserved, 1)
	c := f.reservation(inst, account, name) // the same name
	c.SubjectKey = other
	f.reserve(c, 5, icpverify.Reserved, 2)

	f.checkReservation(a)
	f.checkReservation(b)
	f.checkUsage(inst, key, 2, true)
	f.checkUsage(inst, other, 2, true)
	f.checkUsage(inst, name, 2, false)
	f.release(a)
	f.checkUsage(inst, key, 2, true)
	f.release(b)
	f.checkUsage(inst, key, 1, false)
}
