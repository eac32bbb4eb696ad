package storetest

import (
	"strings"
	"testing"

	"github.com/icpfiling/icpverify"
)

var applicationTests = []testCase{
	{"RoundTrip", testApplicationRoundTrip},
	{"NotFound", testApplicationNotFound},
	{"Released", testApplicationReleased},
}

// testApplicationRoundTrip: Application finds a reservation by the
// Application it was reserved with, kept as it was given (up to 64
// letters and digits, upper and lower case), filed or not.
func testApplicationRoundTrip(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	a := f.newReservation(inst, account, f.k.unicodeSubject(), 5, 1)
	b := f.reservation(inst, f.k.unicodeAccount(), f.k.subject())
	b.Application = f.k.longApplication()
	f.reserve(b, 5, icpverify.Reserved, 2)
	f.checkApplication(a)
	f.checkApplication(b)
	f.checkReservation(b)

	b = f.complete(b)
	f.checkApplication(b)
	f.checkApplication(a)
}

// testApplicationNotFound: an Application never reserved with, or one
// that differs from a reservation's only in case or by a digit, finds
// nothing.
func testApplicationNotFound(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	r := f.reservation(inst, account, f.k.subject())
	r.Application = f.k.longApplication()
	f.reserve(r, 5, icpverify.Reserved, 1) // the store is not empty
	f.checkNoApplication(f.k.application())
	f.checkNoApplication(strings.ToUpper(r.Application))
	f.checkNoApplication(strings.ToLower(r.Application))
	f.checkNoApplication(r.Application[:63])
	f.checkNoApplication(r.Application[:63] + "0")
	f.checkApplication(r)
}

// testApplicationReleased: once released, a reservation's Application
// finds nothing, also after its code is reserved again for another
// application, which its own Application then finds; a filed
// reservation, which Release leaves, is still found.
func testApplicationReleased(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.newInstance(account)
	r := f.newReservation(inst, account, f.k.subject(), 5, 1)
	f.checkApplication(r)
	f.release(r)
	f.checkNoApplication(r.Application)

	again := r
	again.Application = f.k.application()
	f.reserve(again, 5, icpverify.Reserved, 1)
	f.checkNoApplication(r.Application)
	f.checkApplication(again)
	f.checkReservation(again)

	filed := f.complete(again)
	f.release(filed)
	f.checkApplication(filed)
}
