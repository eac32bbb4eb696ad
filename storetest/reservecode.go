package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
)

var reserveCodeTests = []testCase{
	{"Guard", testReserveCodeGuard},
	{"Reserves", testReserveCodeReserves},
	{"Reserved", testReserveCodeReserved},
	{"Full", testReserveCodeFull},
	{"NotFound", testReserveCodeNotFound},
	{"LimitConcurrent", testReserveCodeLimitConcurrent},
	{"Cancelled", testReserveCodeCancelled},
}

// codeReserver returns s as a CodeReserver, or skips the subtest.
func codeReserver(t *testing.T, s Store) icpverify.CodeReserver {
	t.Helper()
	r, ok := s.(icpverify.CodeReserver)
	if !ok {
		t.Skipf("storetest: %T does not implement icpverify.CodeReserver, which is optional", s)
	}
	return r
}

// openGuard is a guard that the fixture's instances and codes meet.
func openGuard() icpverify.ReserveGuard {
	return icpverify.ReserveGuard{Product: icpverify.ProductECS, ExpiresAfter: baseTime, PublicIP: true}
}

// guardCase is a code, an instance and a guard, changed from ones that
// meet it.
type guardCase struct {
	name  string
	allow bool
	set   func(f *fixture, inst *icpverify.Instance, sc *icpverify.ServiceCode, g *icpverify.ReserveGuard, account *string)
}

var guardCases = []guardCase{
	{"meets it", true, nil},
	{"revoked", false, func(_ *fixture, _ *icpverify.Instance, sc *icpverify.ServiceCode, _ *icpverify.ReserveGuard, _ *string) {
		sc.Revoked = true
	}},
	{"issued at IssuedAfter", false, func(_ *fixture, _ *icpverify.Instance, sc *icpverify.ServiceCode, g *icpverify.ReserveGuard, _ *string) {
		g.IssuedAfter = sc.IssuedAt
	}},
	{"issued after IssuedAfter", true, func(_ *fixture, _ *icpverify.Instance, sc *icpverify.ServiceCode, g *icpverify.ReserveGuard, _ *string) {
		g.IssuedAfter = sc.IssuedAt.Add(-time.Second)
	}},
	{"stopped", false, func(_ *fixture, inst *icpverify.Instance, _ *icpverify.ServiceCode, _ *icpverify.ReserveGuard, _ *string) {
		inst.Status = icpverify.Stopped
	}},
	{"released", false, func(_ *fixture, inst *icpverify.Instance, _ *icpverify.ServiceCode, _ *icpverify.ReserveGuard, _ *string) {
		inst.Status = icpverify.Released
	}},
	{"another product", false, func(_ *fixture, _ *icpverify.Instance, _ *icpverify.ServiceCode, g *icpverify.ReserveGuard, _ *string) {
		g.Product = icpverify.ProductSimpleApplicationServer
	}},
	{"no public IP", false, func(_ *fixture, inst *icpverify.Instance, _ *icpverify.ServiceCode, _ *icpverify.ReserveGuard, _ *string) {
		inst.PublicIP = ""
	}},
	{"no public IP, none required", true, func(_ *fixture, inst *icpverify.Instance, _ *icpverify.ServiceCode, g *icpverify.ReserveGuard, _ *string) {
		inst.PublicIP, g.PublicIP = "", false
	}},
	{"ends at ExpiresAfter", false, func(_ *fixture, inst *icpverify.Instance, _ *icpverify.ServiceCode, g *icpverify.ReserveGuard, _ *string) {
		g.ExpiresAfter = inst.ExpiresAt
	}},
	{"ends before ExpiresAfter", false, func(_ *fixture, inst *icpverify.Instance, _ *icpverify.ServiceCode, g *icpverify.ReserveGuard, _ *string) {
		g.ExpiresAfter = inst.ExpiresAt.AddDate(0, 0, 1)
	}},
	{"ends a second after ExpiresAfter", true, func(_ *fixture, inst *icpverify.Instance, _ *icpverify.ServiceCode, g *icpverify.ReserveGuard, _ *string) {
		g.ExpiresAfter = inst.ExpiresAt.Add(-time.Second)
	}},
	{"never ends", true, func(_ *fixture, inst *icpverify.Instance, _ *icpverify.ServiceCode, g *icpverify.ReserveGuard, _ *string) {
		inst.ExpiresAt, g.ExpiresAfter = time.Time{}, baseTime.AddDate(100, 0, 0)
	}},
	{"another account", false, func(f *fixture, _ *icpverify.Instance, _ *icpverify.ServiceCode, _ *icpverify.ReserveGuard, account *string) {
		*account = f.k.account()
	}},
	{"the grantee", true, func(f *fixture, _ *icpverify.Instance, sc *icpverify.ServiceCode, _ *icpverify.ReserveGuard, account *string) {
		sc.Grantee = f.k.unicodeAccount()
		*account = sc.Grantee
	}},
	{"the grantee of a former owner", false, func(f *fixture, _ *icpverify.Instance, sc *icpverify.ServiceCode, _ *icpverify.ReserveGuard, account *string) {
		sc.Owner, sc.Grantee = f.k.account(), f.k.account()
		*account = sc.Grantee
	}},
}

// testReserveCodeGuard: ReserveServiceCode reserves a code only when the
// guard holds (icpverify.ReserveGuard.Allows), and returns the record
// either way. Every condition of the guard is tried alone.
func testReserveCodeGuard(t *testing.T, s Store) {
	l := codeReserver(t, s)
	for _, c := range guardCases {
		f := newFixture(t, s)
		owner := f.k.account()
		inst := f.instance(owner)
		sc := f.serviceCode(inst.ID, owner)
		g, account := openGuard(), owner
		if c.set != nil {
			c.set(f, &inst, &sc, &g, &account)
		}
		if want := g.Allows(account, sc, inst); want != c.allow {
			t.Fatalf("%s: the case is wrong: Allows = %v", c.name, want)
		}
		f.put(inst)
		f.storeCode(sc)
		r := icpverify.Reservation{Code: sc.Code, Account: account, Subject: f.k.subject(), ReservedAt: baseTime}
		r.SubjectKey, r.Application = r.Subject, f.k.application()
		rec, got, err := l.ReserveServiceCode(f.ctx, r, 5, g)
		if err != nil {
			t.Fatalf("%s: ReserveServiceCode(%q): %v", c.name, sc.Code, err)
		}
		if d := append(codeDiff(rec.Code, sc), instanceDiff(rec.Instance, inst)...); len(d) > 0 {
			t.Errorf("%s: ReserveServiceCode(%q) record: %s", c.name, sc.Code, d)
		}
		if !c.allow {
			if got != 0 {
				t.Errorf("%s: ReserveServiceCode(%q) outcome %s; want 0, nothing reserved", c.name, sc.Code, outcome(got))
			}
			f.checkNoReservation(sc.Code)
			continue
		}
		if got != icpverify.Reserved || rec.Used != 1 {
			t.Errorf("%s: ReserveServiceCode(%q) = %s, used %d; want Reserved, used 1", c.name, sc.Code, outcome(got), rec.Used)
		}
		r.Instance = inst.ID
		f.checkReservation(r)
	}
}

// storeCode stores sc with its grant and revocation.
func (f *fixture) storeCode(sc icpverify.ServiceCode) {
	f.t.Helper()
	f.addCode(sc)
	if sc.Grantee != "" {
		if err := f.s.GrantServiceCode(f.ctx, sc.Code, sc.Owner, sc.Grantee); err != nil {
			f.t.Fatalf("GrantServiceCode(%q): %v", sc.Code, err)
		}
	}
	if sc.Revoked {
		if err := f.s.RevokeServiceCode(f.ctx, sc.Code); err != nil {
			f.t.Fatalf("RevokeServiceCode(%q): %v", sc.Code, err)
		}
	}
}

// testReserveCodeReserves: a reservation made by ReserveServiceCode is one
// Reserve would make: it takes the subject key's slot, shares it with the
// key's other codes, and counts in the usage.
func testReserveCodeReserves(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newFixture(t, s)
	owner := f.k.account()
	inst := f.newInstance(owner)
	first := f.newReservation(inst, owner, f.k.subject(), 5, 1)
	for _, tc := range []struct {
		subjectKey string
		wantUsed   int
	}{{first.SubjectKey, 1}, {f.k.subject(), 2}} {
		r := f.reservation(inst, owner, f.k.unicodeSubject())
		r.SubjectKey, r.Instance = tc.subjectKey, "" // the store finds the instance
		rec, got, err := l.ReserveServiceCode(f.ctx, r, 5, openGuard())
		if err != nil || got != icpverify.Reserved || rec.Used != tc.wantUsed {
			t.Fatalf("ReserveServiceCode(%q) = %s, used %d, error %v; want Reserved, used %d",
				r.Code, outcome(got), rec.Used, err, tc.wantUsed)
		}
		r.Instance = inst
		f.checkReservation(r)
		f.checkUsage(inst, tc.subjectKey, tc.wantUsed, true)
	}
}

// testReserveCodeReserved: a code reserved already is not reserved again,
// for its application or another, even when the guard does not hold: the
// outcome is 0 and the record holds the reservation and its usage.
func testReserveCodeReserved(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newFixture(t, s)
	owner := f.k.account()
	inst := f.newInstance(owner)
	r := f.newReservation(inst, owner, f.k.subject(), 5, 1)
	other := r
	other.Account, other.SubjectKey, other.Application = owner, f.k.subject(), f.k.application()
	closed := openGuard()
	closed.Product = icpverify.ProductCDN
	for _, try := range []icpverify.Reservation{r, other} {
		for _, g := range []icpverify.ReserveGuard{openGuard(), closed} {
			try.Instance = ""
			rec, got, err := l.ReserveServiceCode(f.ctx, try, 5, g)
			if err != nil || got != 0 {
				t.Fatalf("ReserveServiceCode(%q) of a reserved code = %s, error %v; want 0, no error", r.Code, outcome(got), err)
			}
			if d := reservationDiff(rec.Reservation, r); len(d) > 0 || rec.Used != 1 {
				t.Errorf("ReserveServiceCode(%q) of a reserved code: reservation %s, used %d; want used 1", r.Code, d, rec.Used)
			}
		}
	}
	f.checkReservation(r)
	f.checkUsage(inst, other.SubjectKey, 1, false)
}

// testReserveCodeFull: on a full instance a new subject key gets Full, with
// the usage, and nothing is stored; a key holding a slot still reserves.
func testReserveCodeFull(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newFixture(t, s)
	owner := f.k.account()
	inst := f.newInstance(owner)
	const limit = 2
	a := f.newReservation(inst, owner, f.k.subject(), limit, 1)
	f.newReservation(inst, owner, f.k.subject(), limit, 2)

	r := f.reservation(inst, owner, f.k.subject())
	rec, got, err := l.ReserveServiceCode(f.ctx, r, limit, openGuard())
	if err != nil || got != icpverify.Full || rec.Used != limit {
		t.Fatalf("ReserveServiceCode(%q) on a full instance = %s, used %d, error %v; want Full, used %d",
			r.Code, outcome(got), rec.Used, err, limit)
	}
	f.checkNoReservation(r.Code)
	f.checkUsage(inst, r.SubjectKey, limit, false)

	r.SubjectKey = a.SubjectKey
	if _, got, err = l.ReserveServiceCode(f.ctx, r, limit, openGuard()); err != nil || got != icpverify.Reserved {
		t.Fatalf("ReserveServiceCode(%q) for a key holding a slot = %s, error %v; want Reserved", r.Code, outcome(got), err)
	}
	f.checkUsage(inst, a.SubjectKey, limit, true)
}

// testReserveCodeNotFound: a code the store does not hold is ErrNotFound,
// and nothing is stored.
func testReserveCodeNotFound(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newFixture(t, s)
	owner := f.k.account()
	inst := f.newInstance(owner)
	r := icpverify.Reservation{Code: f.k.code(t), Account: owner, Subject: f.k.subject(), ReservedAt: baseTime}
	r.SubjectKey, r.Application = r.Subject, f.k.application()
	if _, got, err := l.ReserveServiceCode(f.ctx, r, 5, openGuard()); !errors.Is(err, icpverify.ErrNotFound) || got != 0 {
		t.Errorf("ReserveServiceCode(%q) of an unknown code = %s, error %v; want 0, ErrNotFound", r.Code, outcome(got), err)
	}
	f.checkNoReservation(r.Code)
	f.checkUsage(inst, r.SubjectKey, 0, false)
}

// testReserveCodeLimitConcurrent: 64 subjects race for the last 3 slots of
// an instance, each with its own code; exactly 3 win.
func testReserveCodeLimitConcurrent(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newFixture(t, s)
	owner := f.k.account()
	inst := f.newInstance(owner)
	const limit, racers = 5, 64
	for i := range limit - 3 {
		f.newReservation(inst, owner, f.k.subject(), limit, i+1)
	}
	rs := make([]icpverify.Reservation, racers)
	for i := range rs {
		rs[i] = f.reservation(inst, owner, f.k.subject())
	}
	var won, full, failed atomic.Int32
	concurrently(racers, func(i int) {
		_, got, err := l.ReserveServiceCode(f.ctx, rs[i], limit, openGuard())
		switch {
		case err != nil:
			failed.Add(1)
			t.Errorf("ReserveServiceCode(%q): %v", rs[i].Code, err)
		case got == icpverify.Reserved:
			won.Add(1)
		case got == icpverify.Full:
			full.Add(1)
		default:
			t.Errorf("ReserveServiceCode(%q) = %s; want Reserved or Full", rs[i].Code, outcome(got))
		}
	})
	if won.Load() != 3 || full.Load() != racers-3 {
		t.Errorf("%d racers for 3 slots: %d reserved, %d full, %d failed; want 3 reserved", racers, won.Load(), full.Load(), failed.Load())
	}
	f.checkUsage(inst, f.k.subject(), limit, false)
}

// testReserveCodeCancelled: with a cancelled context ReserveServiceCode
// returns an error and reserves nothing.
func testReserveCodeCancelled(t *testing.T, s Store) {
	l := codeReserver(t, s)
	f := newFixture(t, s)
	owner := f.k.account()
	inst := f.newInstance(owner)
	r := f.reservation(inst, owner, f.k.subject())
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	if _, _, err := l.ReserveServiceCode(ctx, r, 5, openGuard()); err == nil {
		t.Errorf("ReserveServiceCode(%q) with a cancelled context succeeded; want an error", r.Code)
	}
	f.checkNoReservation(r.Code)
}
