package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
)

var listServiceCodesTests = []testCase{
	{"RoundTrip", testListCodesRoundTrip},
	{"Empty", testListCodesEmpty},
	{"Limit", testListCodesLimit},
	{"Reservation", testListCodesReservation},
	{"Cancelled", testListCodesCancelled},
}

// listCodes calls ListServiceCodes and checks that it returns no error,
// distinct codes of inst only, at most limit of them, in order: by IssuedAt
// (at second precision, see sameTime) and then by code. It returns them.
func (f *fixture) listCodes(l icpverify.InstanceLister, inst string, limit int) []icpverify.ServiceCode {
	f.t.Helper()
	list, err := l.ListServiceCodes(f.ctx, inst, limit)
	if err != nil {
		f.t.Fatalf("ListServiceCodes(%q, %d): %v", inst, limit, err)
	}
	if len(list) > limit {
		f.t.Errorf("ListServiceCodes(%q, %d) returned %d codes; want at most %d", inst, limit, len(list), limit)
	}
	seen := make(map[string]bool, len(list))
	for i, sc := range list {
		if seen[sc.Code] {
			f.t.Errorf("ListServiceCodes(%q, %d) returned code %q twice", inst, limit, sc.Code)
		}
		seen[sc.Code] = true
		if sc.Instance != inst {
			f.t.Errorf("ListServiceCodes(%q, %d) returned code %q of instance %q", inst, limit, sc.Code, sc.Instance)
		}
		if i > 0 && !codeBefore(list[i-1], sc) {
			f.t.Errorf("ListServiceCodes(%q, %d): code %q (issued %v) comes after %q (issued %v); want them by IssuedAt, then Code",
				inst, limit, sc.Code, sc.IssuedAt, list[i-1].Code, list[i-1].IssuedAt)
		}
	}
	return list
}

// codeBefore reports whether a may be listed before b: it was issued
// earlier, at second precision, or in the same second with a smaller code.
// A code issued at the zero time comes first.
func codeBefore(a, b icpverify.ServiceCode) bool {
	ta, tb := a.IssuedAt.Truncate(time.Second), b.IssuedAt.Truncate(time.Second)
	switch {
	case a.IssuedAt.IsZero() || b.IssuedAt.IsZero():
		if a.IssuedAt.IsZero() != b.IssuedAt.IsZero() {
			return a.IssuedAt.IsZero()
		}
	case !ta.Equal(tb):
		return ta.Before(tb)
	}
	return a.Code < b.Code
}

// addCode stores sc, which must be added.
func (f *fixture) addCode(sc icpverify.ServiceCode) icpverify.ServiceCode {
	f.t.Helper()
	if _, added, err := f.s.AddServiceCode(f.ctx, sc, bigLimit); err != nil || !added {
		f.t.Fatalf("AddServiceCode(%q) = added %v, error %v; want added, no error", sc.Code, added, err)
	}
	return sc
}

// checkListedCodes checks that got holds the codes of want, in that order,
// unchanged.
func (f *fixture) checkListedCodes(got, want []icpverify.ServiceCode) {
	f.t.Helper()
	if len(got) != len(want) {
		codes := make([]string, len(got))
		for i, sc := range got {
			codes[i] = sc.Code
		}
		f.t.Errorf("ListServiceCodes returned %d codes %q; want %d", len(got), codes, len(want))
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Code != w.Code {
			f.t.Errorf("ListServiceCodes: code %d is %q; want %q", i, g.Code, w.Code)
			continue
		}
		if d := codeDiff(g, w); d != nil {
			f.t.Errorf("ListServiceCodes: code %q: %v", w.Code, d)
		}
	}
}

// testListCodesRoundTrip: ListServiceCodes lists every code of the
// instance, revoked or granted, unchanged, in the order they were issued
// (a code issued at the zero time first; codes issued at once by code), and
// no other instance's.
func testListCodesRoundTrip(t *testing.T, s Store) {
	l := instanceLister(t, s)
	f := newFixture(t, s)
	owner := f.k.unicodeAccount()
	inst := f.put(f.instance(owner))
	other := f.put(f.instance(owner))

	at := func(sec int) icpverify.ServiceCode {
		sc := f.serviceCode(inst.ID, owner)
		sc.IssuedAt = baseTime.Add(time.Duration(sec) * time.Second)
		return sc
	}
	late, early, mid := at(3), at(1), at(2)
	late.Grantee = f.k.account()
	zero := at(0)
	zero.IssuedAt = time.Time{}
	same1, same2 := at(5), at(5)
	if same2.Code < same1.Code {
		same1, same2 = same2, same1
	}
	for _, sc := range []icpverify.ServiceCode{late, same2, early, zero, mid, same1} {
		f.addCode(sc)
	}
	f.addCode(f.serviceCode(other.ID, owner))
	if err := s.RevokeServiceCode(f.ctx, mid.Code); err != nil {
		t.Fatalf("RevokeServiceCode(%q): %v", mid.Code, err)
	}
	mid.Revoked = true

	f.checkListedCodes(f.listCodes(l, inst.ID, 10), []icpverify.ServiceCode{zero, early, mid, late, same1, same2})
}

// testListCodesEmpty: an instance with no codes, and one the store does not
// hold, get an empty list (nil or not) and no error.
func testListCodesEmpty(t *testing.T, s Store) {
	l := instanceLister(t, s)
	f := newFixture(t, s)
	account := f.k.account()
	f.newCode(f.newInstance(account)) // the store is not empty
	if got := f.listCodes(l, f.newInstance(account), 10); len(got) != 0 {
		t.Errorf("ListServiceCodes of an instance with no codes returned %d; want none", len(got))
	}
	if got := f.listCodes(l, f.k.instance(), 10); len(got) != 0 {
		t.Errorf("ListServiceCodes of an unknown instance returned %d; want none", len(got))
	}
}

// testListCodesLimit: ListServiceCodes returns the first limit codes issued
// when the instance has more.
func testListCodesLimit(t *testing.T, s Store) {
	l := instanceLister(t, s)
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	want := make([]icpverify.ServiceCode, 3)
	for i := range want {
		want[i] = f.serviceCode(inst, account)
		want[i].IssuedAt = baseTime.Add(time.Duration(i) * time.Hour)
	}
	for _, i := range []int{2, 0, 1} {
		f.addCode(want[i])
	}
	for _, limit := range []int{0, 1, 2, 3, 4} {
		n := min(limit, 3)
		got := f.listCodes(l, inst, limit)
		if len(got) != n {
			t.Errorf("ListServiceCodes(%q, %d) of an instance with 3 codes returned %d; want %d", inst, limit, len(got), n)
			continue
		}
		f.checkListedCodes(got, want[:n])
	}
}

// testListCodesReservation: a code is listed whatever its reservation:
// none, unfiled, filed, or none again once released.
func testListCodesReservation(t *testing.T, s Store) {
	l := instanceLister(t, s)
	f := newFixture(t, s)
	owner, applicant := f.k.account(), f.k.unicodeAccount()
	inst := f.newInstance(owner)
	free := f.addCode(f.serviceCode(inst, "owner-"+f.k.tag))
	open := f.newReservation(inst, applicant, f.k.unicodeSubject(), bigLimit, 1)
	filed := f.complete(f.newReservation(inst, applicant, f.k.subject(), bigLimit, 2))
	released := f.newReservation(inst, f.k.account(), f.k.subject(), bigLimit, 3)
	f.release(released)

	got := f.listCodes(l, inst, 10)
	listed := make(map[string]bool, len(got))
	for _, sc := range got {
		listed[sc.Code] = true
	}
	for _, code := range []string{free.Code, open.Code, filed.Code, released.Code} {
		if !listed[code] {
			t.Errorf("ListServiceCodes(%q, 10) misses code %q", inst, code)
		}
	}
	if len(got) != 4 {
		t.Errorf("ListServiceCodes(%q, 10) returned %d codes; want 4", inst, len(got))
	}
}

// testListCodesCancelled: with a cancelled context ListServiceCodes returns
// an error.
func testListCodesCancelled(t *testing.T, s Store) {
	l := instanceLister(t, s)
	f := newFixture(t, s)
	inst := f.newInstance(f.k.account())
	f.newCode(inst)
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	if list, err := l.ListServiceCodes(ctx, inst, 10); err == nil {
		t.Errorf("ListServiceCodes with a cancelled context = %d codes, no error; want an error", len(list))
	}
}
