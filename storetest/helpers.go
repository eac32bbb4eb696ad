package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
)

// Times. Stores may keep times at a coarser precision than time.Time's
// nanoseconds (PostgreSQL and MySQL keep microseconds, some keep seconds),
// and in another location. The suite therefore compares times at second
// precision, with Equal after truncating both to the second, and uses times
// whose fraction of a second (0.25 s and a few nanoseconds) neither rounding
// nor truncating to any precision moves across a whole second. A zero time
// must come back zero.

// baseTime is the time the suite's times are built from. Its location is
// not UTC, so a store that keeps the instant but not the location passes.
var baseTime = time.Date(2031, time.March, 14, 15, 9, 26, 250_535_897, time.FixedZone("UTC+8", 8*60*60))

// sameTime reports whether a and b are the same instant at second
// precision, and both zero or both not.
func sameTime(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() && b.IsZero()
	}
	return a.Truncate(time.Second).Equal(b.Truncate(time.Second))
}

// diff collects the fields in which a value read back differs from the one
// stored.
type diff []string

func (d *diff) field(name string, got, want any) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %#v, want %#v", name, got, want))
	}
}

func (d *diff) time(name string, got, want time.Time) {
	if !sameTime(got, want) {
		*d = append(*d, fmt.Sprintf("%s = %v, want %v (compared at second precision)", name, got, want))
	}
}

func (d diff) String() string { return strings.Join(d, "; ") }

func instanceDiff(got, want icpverify.Instance) diff {
	var d diff
	d.field("ID", got.ID, want.ID)
	d.field("Account", got.Account, want.Account)
	d.field("Product", got.Product, want.Product)
	d.field("Region", got.Region, want.Region)
	d.field("Billing", got.Billing, want.Billing)
	d.field("TermMonths", got.TermMonths, want.TermMonths)
	d.field("PublicIP", got.PublicIP, want.PublicIP)
	d.field("Trial", got.Trial, want.Trial)
	d.field("Status", got.Status, want.Status)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	return d
}

func codeDiff(got, want icpverify.ServiceCode) diff {
	var d diff
	d.field("Code", got.Code, want.Code)
	d.field("Instance", got.Instance, want.Instance)
	d.field("Owner", got.Owner, want.Owner)
	d.field("Grantee", got.Grantee, want.Grantee)
	d.field("Revoked", got.Revoked, want.Revoked)
	d.time("IssuedAt", got.IssuedAt, want.IssuedAt)
	return d
}

func reservationDiff(got, want icpverify.Reservation) diff {
	var d diff
	d.field("Code", got.Code, want.Code)
	d.field("Instance", got.Instance, want.Instance)
	d.field("Account", got.Account, want.Account)
	d.field("Subject", got.Subject, want.Subject)
	d.field("SubjectKey", got.SubjectKey, want.SubjectKey)
	d.field("Website", got.Website, want.Website)
	d.field("Filed", got.Filed, want.Filed)
	d.time("ReservedAt", got.ReservedAt, want.ReservedAt)
	d.field("Application", got.Application, want.Application)
	d.field("Deregistered", got.Deregistered, want.Deregistered)
	return d
}

// outcome names an Outcome in messages.
func outcome(o icpverify.Outcome) string {
	switch o {
	case icpverify.Reserved:
		return "Reserved"
	case icpverify.Held:
		return "Held"
	case icpverify.Full:
		return "Full"
	case icpverify.Taken:
		return "Taken"
	case icpverify.Exceeded:
		return "Exceeded"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// bigLimit is a limit of codes or subjects a subtest never reaches.
const bigLimit = 1000

// fixture is one subtest's store, live context and keys, with helpers that
// set up state and stop the subtest (t.Fatal) if the store fails. They
// must be called from the subtest's goroutine only.
type fixture struct {
	t   *testing.T
	s   Store
	ctx context.Context
	k   keys
}

func newFixture(t *testing.T, s Store) *fixture {
	return &fixture{t: t, s: s, ctx: t.Context(), k: newKeys()}
}

// instance returns a new instance that can issue codes, not yet stored.
func (f *fixture) instance(account string) icpverify.Instance {
	return icpverify.Instance{
		ID:         f.k.instance(),
		Account:    account,
		Product:    icpverify.ProductECS,
		Region:     "cn-hangzhou",
		Billing:    icpverify.Subscription,
		TermMonths: 12,
		PublicIP:   "203.0.113.7",
		Status:     icpverify.Running,
		ExpiresAt:  baseTime.AddDate(1, 0, 0),
	}
}

// put stores inst.
func (f *fixture) put(inst icpverify.Instance) icpverify.Instance {
	f.t.Helper()
	if err := f.s.PutInstanceContext(f.ctx, inst); err != nil {
		f.t.Fatalf("PutInstanceContext(%q): %v", inst.ID, err)
	}
	return inst
}

// newInstance stores a new instance of account and returns its ID.
func (f *fixture) newInstance(account string) string {
	f.t.Helper()
	return f.put(f.instance(account)).ID
}

// serviceCode returns a new service code of inst, not yet stored.
func (f *fixture) serviceCode(inst, owner string) icpverify.ServiceCode {
	f.t.Helper()
	return icpverify.ServiceCode{Code: f.k.code(f.t), Instance: inst, Owner: owner, IssuedAt: baseTime}
}

// newCode stores a new service code of inst, with a limit it does not
// reach, and returns it.
func (f *fixture) newCode(inst string) string {
	f.t.Helper()
	sc := f.serviceCode(inst, "owner-"+f.k.tag)
	if _, added, err := f.s.AddServiceCode(f.ctx, sc, bigLimit); err != nil || !added {
		f.t.Fatalf("AddServiceCode(%q) on instance %q, limit %d = added %v, error %v; want added, no error",
			sc.Code, inst, bigLimit, added, err)
	}
	return sc.Code
}

// reservation returns a reservation of a new stored code of inst for
// subject, with an Application of its own, not yet reserved.
func (f *fixture) reservation(inst, account, subject string) icpverify.Reservation {
	f.t.Helper()
	code := f.newCode(inst)
	return icpverify.Reservation{
		Code:        code,
		Instance:    inst,
		Account:     account,
		Subject:     subject,
		SubjectKey:  subject,
		Website:     strings.ToLower(strings.ReplaceAll(code, "-", "")) + ".example.com",
		ReservedAt:  baseTime,
		Application: f.k.application(),
	}
}

// reserve calls Reserve and fails the subtest unless it reports want and
// wantUsed.
func (f *fixture) reserve(r icpverify.Reservation, limit int, want icpverify.Outcome, wantUsed int) {
	f.t.Helper()
	got, used, err := f.s.Reserve(f.ctx, r, limit)
	if err != nil {
		f.t.Fatalf("Reserve(code %q, subject %q, limit %d): %v", r.Code, r.Subject, limit, err)
	}
	if got != want || used != wantUsed {
		f.t.Fatalf("Reserve(code %q, subject %q, limit %d) = %s, used %d; want %s, used %d",
			r.Code, r.Subject, limit, outcome(got), used, outcome(want), wantUsed)
	}
}

// newReservation stores a reservation of a new code of inst for subject,
// which must be Reserved with the used count wantUsed, and returns it.
func (f *fixture) newReservation(inst, account, subject string, limit, wantUsed int) icpverify.Reservation {
	f.t.Helper()
	r := f.reservation(inst, account, subject)
	f.reserve(r, limit, icpverify.Reserved, wantUsed)
	return r
}

// checkUsage checks Usage(inst, subject).
func (f *fixture) checkUsage(inst, subject string, wantUsed int, wantHeld bool) {
	f.t.Helper()
	used, held, err := f.s.Usage(f.ctx, inst, subject)
	if err != nil {
		f.t.Errorf("Usage(%q, %q): %v", inst, subject, err)
		return
	}
	if used != wantUsed || held != wantHeld {
		f.t.Errorf("Usage(%q, %q) = %d, %v; want %d, %v", inst, subject, used, held, wantUsed, wantHeld)
	}
}

// checkReservation checks that Reservation(want.Code) returns want.
func (f *fixture) checkReservation(want icpverify.Reservation) {
	f.t.Helper()
	got, err := f.s.Reservation(f.ctx, want.Code)
	if err != nil {
		f.t.Errorf("Reservation(%q): %v; want %+v", want.Code, err, want)
		return
	}
	if d := reservationDiff(got, want); d != nil {
		f.t.Errorf("Reservation(%q): %v", want.Code, d)
	}
}

// checkNoReservation checks that Reservation(code) returns ErrNotFound.
func (f *fixture) checkNoReservation(code string) {
	f.t.Helper()
	r, err := f.s.Reservation(f.ctx, code)
	if !errors.Is(err, icpverify.ErrNotFound) {
		f.t.Errorf("Reservation(%q) = %+v, %v; want an error that is ErrNotFound", code, r, err)
	}
}

// checkApplication checks that Application(want.Application) returns want.
func (f *fixture) checkApplication(want icpverify.Reservation) {
	f.t.Helper()
	got, err := f.s.Application(f.ctx, want.Application)
	if err != nil {
		f.t.Errorf("Application(%q): %v; want the reservation of code %q", want.Application, err, want.Code)
		return
	}
	if d := reservationDiff(got, want); d != nil {
		f.t.Errorf("Application(%q): %v", want.Application, d)
	}
}

// checkNoApplication checks that Application(id) returns ErrNotFound.
func (f *fixture) checkNoApplication(id string) {
	f.t.Helper()
	r, err := f.s.Application(f.ctx, id)
	if !errors.Is(err, icpverify.ErrNotFound) {
		f.t.Errorf("Application(%q) = %+v, %v; want an error that is ErrNotFound", id, r, err)
	}
}

// checkCode checks that ServiceCode(want.Code) returns want.
func (f *fixture) checkCode(want icpverify.ServiceCode) {
	f.t.Helper()
	got, err := f.s.ServiceCode(f.ctx, want.Code)
	if err != nil {
		f.t.Errorf("ServiceCode(%q): %v; want %+v", want.Code, err, want)
		return
	}
	if d := codeDiff(got, want); d != nil {
		f.t.Errorf("ServiceCode(%q): %v", want.Code, d)
	}
}

// checkNoCode checks that ServiceCode(code) returns ErrNotFound.
func (f *fixture) checkNoCode(code string) {
	f.t.Helper()
	sc, err := f.s.ServiceCode(f.ctx, code)
	if !errors.Is(err, icpverify.ErrNotFound) {
		f.t.Errorf("ServiceCode(%q) = %+v, %v; want an error that is ErrNotFound", code, sc, err)
	}
}

// checkInstance checks that Instance(want.ID) returns want.
func (f *fixture) checkInstance(want icpverify.Instance) {
	f.t.Helper()
	got, err := f.s.Instance(f.ctx, want.ID)
	if err != nil {
		f.t.Errorf("Instance(%q): %v; want %+v", want.ID, err, want)
		return
	}
	if d := instanceDiff(got, want); d != nil {
		f.t.Errorf("Instance(%q): %v", want.ID, d)
	}
}

// checkIssued checks how many codes inst has issued, by adding one more
// with a limit of want: it must be refused with issued = want. It stores
// nothing if the count is right.
func (f *fixture) checkIssued(inst string, want int) {
	f.t.Helper()
	sc := f.serviceCode(inst, "owner-"+f.k.tag)
	issued, added, err := f.s.AddServiceCode(f.ctx, sc, want)
	if err != nil || added || issued != want {
		f.t.Errorf("AddServiceCode on instance %q with limit %d = issued %d, added %v, error %v; want issued %d, not added, no error (the instance should have issued %d codes)",
			inst, want, issued, added, err, want, want)
	}
}

// concurrently runs f(0), ..., f(n-1) in n goroutines, released together
// once all have started, and returns when all have returned. f must report
// with t.Errorf, never t.Fatal, and keep its results in its own index of a
// slice.
func concurrently(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}
