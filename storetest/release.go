package storetest

import (
	"errors"
	"testing"

	"github.com/icpfiling/icpverify"
)

var releaseTests = []testCase{
	{"NotFound", testReleaseNotFound},
	{"FreesSlot", testReleaseFreesSlot},
	{"Concurrent", testReleaseConcurrent},
	{"SharedSlot", testReleaseSharedSlot},
	{"Filed", testReleaseFiled},
	{"OtherApplication", testReleaseOtherApplication},
}

var completeTests = []testCase{
	{"NotFound", testCompleteNotFound},
	{"Filed", testCompleteFiled},
	{"OtherApplication", testCompleteOtherApplication},
}

// release calls Release(code) and fails the subtest unless it returns want.
func (f *fixture) release(want icpverify.Reservation) {
	f.t.Helper()
	got, err := f.s.Release(f.ctx, want)
	if err != nil {
		f.t.Fatalf("Release(%q): %v", want.Code, err)
	}
	if d := reservationDiff(got, want); d != nil {
		f.t.Errorf("Release(%q) returned %v", want.Code, d)
	}
}

// complete calls Complete(r.Code) and fails the subtest unless it returns r
// with Filed set.
func (f *fixture) complete(r icpverify.Reservation) icpverify.Reservation {
	f.t.Helper()
	r.Filed = true
	got, err := f.s.Complete(f.ctx, r)
	if err != nil {
		f.t.Fatalf("Complete(%q): %v", r.Code, err)
	}
	if d := reservationDiff(got, r); d != nil {
		f.t.Errorf("Complete(%q) returned %v", r.Code, d)
	}
	return r
}

// checkReleaseNotFound checks that Release(code) returns ErrNotFound.
func (f *fixture) checkReleaseNotFound(code string) {
	f.t.Helper()
	r, err := f.s.Release(f.ctx, icpverify.Reservation{Code: code, Application: f.k.application()})
	if !errors.Is(err, icpverify.ErrNotFound) {
		f.t.Errorf("Release(%q) = %+v, %v; want an error that is ErrNotFound", code, r, err)
	}
}

// checkCompleteNotFound checks that Complete(code) returns ErrNotFound.
func (f *fixture) checkCompleteNotFound(code string) {
	f.t.Helper()
	r, err := f.s.Complete(f.ctx, icpverify.Reservation{Code: code, Application: f.k.application()})
	if !errors.Is(err, icpverify.ErrNotFound) {
		f.t.Errorf("Complete(%q) = %+v, %v; want an error that is ErrNotFound", code, r, err)
	}
}

// testReleaseNotFound: releasing a code that holds no reservation is
// ErrNotFound and stores nothing.
func testReleaseNotFound(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	f.newReservation(inst, account, f.k.subject(), bigLimit, 1) // the store is not empty
	for _, code := range []string{f.k.code(t), f.newCode(inst)} {
		f.checkReleaseNotFound(code)
		f.checkNoReservation(code)
	}
	f.checkUsage(inst, f.k.subject(), 1, false)
}

// testReleaseFreesSlot: Release deletes the reservation, returns it, frees
// its subject's slot, only once; the code can then be reserved again, for
// another application, and only the new one finds it.
func testReleaseFreesSlot(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	const limit = 1
	r := f.newReservation(inst, account, f.k.unicodeSubject(), limit, 1)
	waiting := f.reservation(inst, account, f.k.subject())
	f.reserve(waiting, limit, icpverify.Full, 1)

	f.checkApplication(r)
	f.release(r)
	f.checkNoReservation(r.Code)
	f.checkNoApplication(r.Application)
	f.checkUsage(inst, r.Subject, 0, false)
	f.checkReleaseNotFound(r.Code)
	if got, err := s.Release(f.ctx, r); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("Release(%q) again = %+v, %v; want an error that is ErrNotFound", r.Code, got, err)
	}
	f.checkUsage(inst, r.Subject, 0, false)

	// The slot is free for another subject, and the code for anyone.
	f.reserve(waiting, limit, icpverify.Reserved, 1)
	again := r
	again.Subject, again.SubjectKey = waiting.Subject, waiting.SubjectKey
	again.Application = f.k.application()
	f.reserve(again, limit, icpverify.Reserved, 1)
	f.checkReservation(again)
	f.checkApplication(again)
	f.checkNoApplication(r.Application)
	f.checkUsage(inst, waiting.Subject, 1, true)

	// A Release retried with the first application frees nothing now.
	if got, err := s.Release(f.ctx, r); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("Release(%q) with the application released before = %+v, %v; want an error that is ErrNotFound", r.Code, got, err)
	}
	f.checkReservation(again)
	f.checkUsage(inst, waiting.Subject, 1, true)
}

// testReleaseConcurrent: of 32 releases of one code at once, exactly one
// succeeds, and one slot is freed.
func testReleaseConcurrent(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	stays := f.newReservation(inst, account, f.k.subject(), 5, 1)
	r := f.newReservation(inst, account, f.k.subject(), 5, 2)
	const n = 32
	type result struct {
		r   icpverify.Reservation
		err error
	}
	results := make([]result, n)
	concurrently(n, func(i int) {
		got, err := s.Release(f.ctx, r)
		results[i] = result{got, err}
	})
	released := 0
	for i, res := range results {
		switch {
		case res.err == nil:
			released++
			if d := reservationDiff(res.r, r); d != nil {
				t.Errorf("concurrent Release #%d returned %v", i, d)
			}
		case !errors.Is(res.err, icpverify.ErrNotFound):
			t.Errorf("concurrent Release #%d: %v; want success or an error that is ErrNotFound", i, res.err)
		}
	}
	if released != 1 {
		t.Errorf("%d releases of one code at once: %d succeeded; want exactly 1", n, released)
	}
	f.checkNoReservation(r.Code)
	f.checkReservation(stays)
	f.checkUsage(inst, r.Subject, 1, false)
	f.checkUsage(inst, stays.Subject, 1, true)
}

// testReleaseSharedSlot: a subject keeps its slot until the last of its
// codes on the instance is released.
func testReleaseSharedSlot(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	subj := f.k.subject()
	first := f.newReservation(inst, account, subj, 2, 1)
	second := f.newReservation(inst, account, subj, 2, 1)
	other := f.newReservation(inst, account, f.k.subject(), 2, 2)

	f.release(first)
	f.checkUsage(inst, subj, 2, true)
	f.checkReservation(second)
	// Still full for a newcomer.
	f.reserve(f.reservation(inst, account, f.k.subject()), 2, icpverify.Full, 2)

	f.release(second)
	f.checkUsage(inst, subj, 1, false)
	f.checkReservation(other)
}

// testReleaseFiled: Release of a filed reservation changes nothing and
// returns it with Filed set.
func testReleaseFiled(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	r := f.complete(f.newReservation(inst, account, f.k.subject(), 5, 1))
	for range 2 {
		f.release(r)
	}
	f.checkReservation(r)
	f.checkUsage(inst, r.Subject, 1, true)
	f.reserve(r, 5, icpverify.Taken, 1)
}

// testCompleteNotFound: completing a code that holds no reservation, or no
// longer does, is ErrNotFound and stores nothing.
func testCompleteNotFound(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	released := f.newReservation(inst, account, f.k.subject(), bigLimit, 1)
	f.release(released)
	f.newReservation(inst, account, f.k.subject(), bigLimit, 1) // the store is not empty
	for _, code := range []string{f.k.code(t), f.newCode(inst), released.Code} {
		f.checkCompleteNotFound(code)
		f.checkNoReservation(code)
	}
}

// testCompleteFiled: Complete sets Filed, is idempotent, makes the code
// Taken for everyone, and its subject keeps the slot.
func testCompleteFiled(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	const limit = 1
	open := f.newReservation(inst, account, f.k.subject(), bigLimit, 1)
	r := f.newReservation(inst, f.k.unicodeAccount(), f.k.unicodeSubject(), bigLimit, 2)
	filed := f.complete(r)
	f.checkReservation(filed)
	f.complete(r) // again: nothing changes
	f.checkReservation(filed)
	f.checkReservation(open)

	f.reserve(r, bigLimit, icpverify.Taken, 2)
	other := r
	other.Subject = f.k.subject()
	other.SubjectKey = other.Subject
	f.reserve(other, bigLimit, icpverify.Taken, 2)
	f.checkReservation(filed)
	f.checkUsage(inst, r.Subject, 2, true)

	// The subject keeps its slot: with the other subject's reservation
	// released, the instance is still full for a newcomer, not for it.
	f.release(open)
	f.checkUsage(inst, r.Subject, 1, true)
	f.reserve(f.reservation(inst, account, f.k.subject()), limit, icpverify.Full, 1)
	f.newReservation(inst, account, r.Subject, limit, 1)
}

// otherApplications returns r as other applications would ask for it: the
// same account, subject key and website under another Application, as a
// retry of r's application that reserved no code would; and another
// account, subject key or website, each with an Application of its own;
// and no Application at all.
func (f *fixture) otherApplications(r icpverify.Reservation) []icpverify.Reservation {
	same, a, k, w, none := r, r, r, r, r
	same.Application = f.k.application()
	a.Account, a.Application = f.k.account(), f.k.application()
	k.SubjectKey, k.Application = f.k.subject(), f.k.application()
	w.Website, w.Application = "other.example.com", f.k.application()
	none.Application = ""
	return []icpverify.Reservation{same, a, k, w, none}
}

// testReleaseOtherApplication: Release of a code reserved for another
// application (another Application, even with the same account, subject
// key and website) is ErrNotFound and frees nothing, so that a retried
// Release cannot free a reservation made since.
func testReleaseOtherApplication(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	r := f.newReservation(inst, account, f.k.subject(), 5, 1)
	for _, o := range f.otherApplications(r) {
		got, err := s.Release(f.ctx, o)
		if !errors.Is(err, icpverify.ErrNotFound) {
			t.Errorf("Release of another application's reservation (%+v) = %+v, %v; want an error that is ErrNotFound", o, got, err)
		}
	}
	f.checkReservation(r)
	f.checkApplication(r)
	f.checkUsage(inst, r.SubjectKey, 1, true)
	renamed := r
	renamed.Subject = f.k.unicodeSubject() // the display name is no part of it
	got, err := s.Release(f.ctx, renamed)
	if err != nil {
		t.Fatalf("Release of the same application under another display name: %v", err)
	}
	if d := reservationDiff(got, r); d != nil {
		t.Errorf("Release(%q) returned %v", r.Code, d)
	}
	f.checkUsage(inst, r.SubjectKey, 0, false)
	f.checkNoApplication(r.Application)
}

// testCompleteOtherApplication: Complete of a code reserved for another
// application (another Application, even with the same account, subject
// key and website) is ErrNotFound and files nothing.
func testCompleteOtherApplication(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	r := f.newReservation(inst, account, f.k.subject(), 5, 1)
	for _, o := range f.otherApplications(r) {
		got, err := s.Complete(f.ctx, o)
		if !errors.Is(err, icpverify.ErrNotFound) {
			t.Errorf("Complete of another application's reservation (%+v) = %+v, %v; want an error that is ErrNotFound", o, got, err)
		}
	}
	f.checkReservation(r)
	f.checkApplication(r)
	f.checkUsage(inst, r.SubjectKey, 1, true)
	filed := f.complete(r)
	f.checkApplication(filed)
}
