package storetest

import (
	"errors"
	"testing"

	"github.com/icpfiling/icpverify"
)

var lookupTests = []testCase{
	{"RoundTrip", testLookupRoundTrip},
	{"NotFound", testLookupNotFound},
}

// testLookupRoundTrip: LookupServiceCode returns what ServiceCode and
// Instance return, grant included, and the code's reservation and usage
// once it has one.
func testLookupRoundTrip(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newFixture(t, s)
	owner := f.k.unicodeAccount()
	inst := f.put(f.instance(owner))
	sc := f.serviceCode(inst.ID, owner)
	if _, added, err := s.AddServiceCode(f.ctx, sc, bigLimit); err != nil || !added {
		t.Fatalf("AddServiceCode(%q) = added %v, error %v; want added, no error", sc.Code, added, err)
	}
	sc.Grantee = f.k.unicodeAccount()
	if err := s.GrantServiceCode(f.ctx, sc.Code, sc.Owner, sc.Grantee); err != nil {
		t.Fatalf("GrantServiceCode(%q): %v", sc.Code, err)
	}
	rec, err := l.LookupServiceCode(f.ctx, sc.Code)
	if err != nil {
		t.Fatalf("LookupServiceCode(%q): %v", sc.Code, err)
	}
	if d := codeDiff(rec.Code, sc); len(d) > 0 {
		t.Errorf("LookupServiceCode(%q) code: %s", sc.Code, d)
	}
	if d := instanceDiff(rec.Instance, inst); len(d) > 0 {
		t.Errorf("LookupServiceCode(%q) instance: %s", sc.Code, d)
	}
	if rec.Reservation.Code != "" {
		t.Errorf("LookupServiceCode(%q) of a code never reserved: reservation %+v; want none", sc.Code, rec.Reservation)
	}

	// Reserved, filed, released: the lookup follows.
	r := icpverify.Reservation{Code: sc.Code, Instance: inst.ID, Account: sc.Grantee, Subject: f.k.unicodeSubject(), ReservedAt: baseTime}
	r.SubjectKey, r.Application = r.Subject, f.k.application()
	f.reserve(r, 5, icpverify.Reserved, 1)
	f.checkLookupReservation(l, r, 1)
	r = f.complete(r)
	f.checkLookupReservation(l, r, 1)
}

// checkLookupReservation checks the reservation and usage LookupServiceCode
// reads of r's code.
func (f *fixture) checkLookupReservation(l icpverify.CodeReserver, want icpverify.Reservation, wantUsed int) {
	f.t.Helper()
	rec, err := l.LookupServiceCode(f.ctx, want.Code)
	if err != nil {
		f.t.Fatalf("LookupServiceCode(%q): %v", want.Code, err)
	}
	if d := reservationDiff(rec.Reservation, want); len(d) > 0 {
		f.t.Errorf("LookupServiceCode(%q) reservation: %s", want.Code, d)
	}
	if rec.Used != wantUsed {
		f.t.Errorf("LookupServiceCode(%q) used = %d; want %d", want.Code, rec.Used, wantUsed)
	}
}

// testLookupNotFound: an unknown code is ErrNotFound.
func testLookupNotFound(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newFixture(t, s)
	code := f.k.code(t)
	if _, err := l.LookupServiceCode(f.ctx, code); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("LookupServiceCode(%q) of an unknown code: error %v; want ErrNotFound", code, err)
	}
}
