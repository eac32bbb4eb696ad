// Package storetest checks that a store keeps the contracts of
// icpverify.InstanceStore and icpverify.QuotaStore, and of the optional
// icpverify.CodeReserver and icpverify.InstanceLister.
//
// A store author calls Run from a test of the store's own package, with a
// function that returns a new, empty store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store {
//			s := mystore.Open(t.Context(), dsn)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.Benchmark(b, func(b *testing.B) storetest.Store {
//			return mystore.Open(b.Context(), dsn)
//		})
//	}
//
// Every subtest draws its own random instance IDs, accounts, subjects and
// service codes (from crypto/rand), so several subtests, or several runs of
// the suite, may share one database: nothing needs to be emptied between
// them. The store returned for a subtest only has to hold no data under
// those keys.
//
// A store whose method to load inventory has another shape is wrapped in a
// small adapter type. The adapter should embed the store, so that the
// optional interfaces (CodeReserver, InstanceLister) are promoted and the
// suite tests them too:
//
//	type adapter struct{ *mystore.Store }
//
//	func (a adapter) PutInstanceContext(ctx context.Context, inst icpverify.Instance) error {
//		return a.Store.Load(ctx, []icpverify.Instance{inst})
//	}
//
// The suite fails a subtest with t.Errorf or t.Fatalf and never uses
// t.Parallel, so newStore may use t.Setenv, t.Chdir and the like. Its
// concurrent subtests start up to 64 goroutines on one store.
//
// # What the suite assumes
//
// It asks of a store only what the doc comments of package icpverify
// promise, and reads them as follows where they leave room:
//
//   - Data is used as the Verifier uses it: every service code is a
//     canonical code (see codeformat.Normalize) stored with
//     AddServiceCode on an instance stored with PutInstanceContext before it is
//     reserved, so a store whose tables reference each other (foreign keys)
//     passes. IDs, accounts and subjects may be up to 200 bytes of UTF-8,
//     and subject keys up to 300.
//   - Times (Instance.ExpiresAt, ServiceCode.IssuedAt,
//     Reservation.ReservedAt) are compared at second precision: truncated
//     to the second, then with time.Time.Equal. A store may keep them to
//     the microsecond, or the second, and in any location; the suite's
//     times lie a quarter of a second past a whole second, so neither
//     rounding nor truncating moves them across one. A zero time must come
//     back zero (IsZero).
//   - With a cancelled context every method of InstanceStore, QuotaStore
//     and the listers returns an error, of any kind, and changes nothing.
//     PutInstanceContext is not tested with one.
//   - ListInstances and ListReservations return exactly limit items when
//     the account has more, and may return nil for an account with none;
//     ListServiceCodes likewise, for an instance.
//   - Reservation.Application is compared byte for byte: an ID that
//     differs from a stored one only in case finds nothing. Every
//     reservation the suite makes has an Application of its own, 32
//     lower-case hexadecimal digits as the Verifier's, or up to 64
//     letters and digits.
//   - The places of Quotas are counted through Reserve, and Places must
//     agree: to count the members holding a place under a key, the suite
//     reserves probes, each a new code of an instance of their own for a
//     new subject, counting toward that one quota, and releases those that
//     are Reserved. Quota
//     keys and members are up to 300 bytes of UTF-8, and a Limit of 0 lets
//     no member in. Reservations read back are not expected to hold their
//     Quotas; their Deregistered is compared as every other field.
//   - The outcome of AddServiceCode for a code that is already stored, on
//     an instance that has reached its limit, is not checked: the contract
//     does not say whether that is ErrExists or not added.
//
// # Providers' rules
//
// The group Profiles runs each rule of the profiles of package profile
// through an icpverify.Verifier on the store, with the rule's row of the
// providers' research in its name; a rule that counts races 64 Verify
// calls for its last place, of which exactly one must pass. Its instances
// have the product types of package profile, public IPs in the
// documentation prefix 2001:db8::/32, and mainland regions of the
// profile's naming ("cn-hangzhou", or "ap-guangzhou" for Tencent's).
package storetest

import (
	"context"
	"testing"

	"github.com/icpfiling/icpverify"
)

// Store is what the suite tests: a store that keeps both the inventory
// (icpverify.InstanceStore) and the reservations (icpverify.QuotaStore), and
// that can load instances into its inventory.
//
// If the store also implements icpverify.CodeReserver or
// icpverify.InstanceLister, the suite tests those methods as well; if not,
// their subtests are skipped.
type Store interface {
	icpverify.InstanceStore
	icpverify.QuotaStore

	// PutInstanceContext adds inst to the inventory, or replaces the
	// instance with the same ID, as icpverify.MemoryStore's does. The
	// suite calls it with a live context only: it does not check how a
	// store treats a cancelled one.
	PutInstanceContext(ctx context.Context, inst icpverify.Instance) error
}

// Run runs the conformance suite against the stores newStore returns. Each
// subtest, run with t.Run, calls newStore once and works on its own random
// keys. newStore should fail the test itself (t.Fatal) if it cannot make a
// store; returning nil fails the subtest.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Helper()
	if newStore == nil {
		t.Fatal("storetest: Run called with a nil newStore")
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					s := newStore(t)
					if s == nil {
						t.Fatal("storetest: newStore returned nil")
					}
					c.run(t, s)
				})
			}
		})
	}
}

// group is a named list of subtests.
type group struct {
	name  string
	cases []testCase
}

// testCase is one subtest: it gets a fresh store.
type testCase struct {
	name string
	run  func(t *testing.T, s Store)
}

// groups lists every subtest of Run, by group.
var groups = []group{
	{"Instance", instanceTests},
	{"ServiceCode", serviceCodeTests},
	{"Reserve", reserveTests},
	{"Release", releaseTests},
	{"Complete", completeTests},
	{"Quota", quotaTests},
	{"Deregister", deregisterTests},
	{"Application", applicationTests},
	{"Context", contextTests},
	{"ListInstances", listInstancesTests},
	{"ListReservations", listReservationsTests},
	{"LookupServiceCode", lookupTests},
	{"ReserveServiceCode", reserveCodeTests},
	{"ListServiceCodes", listServiceCodesTests},
	{"Profiles", profileTests},
}
