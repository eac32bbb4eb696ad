package storetest

import (
	"errors"
	"testing"

	"github.com/icpfiling/icpverify"
)

var instanceTests = []testCase{
	{"NotFound", testInstanceNotFound},
	{"RoundTrip", testInstanceRoundTrip},
	{"Replace", testInstanceReplace},
}

// testInstanceNotFound: an unknown instance is ErrNotFound.
func testInstanceNotFound(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.newInstance(f.k.account()) // the store is not empty
	id := f.k.instance()
	inst, err := s.Instance(f.ctx, id)
	if !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("Instance(%q) of an unknown instance = %+v, %v; want an error that is ErrNotFound", id, inst, err)
	}
}

// testInstanceRoundTrip: Instance returns what PutInstanceContext stored, every
// field unchanged, with Unicode text, a long ID and a zero ExpiresAt.
func testInstanceRoundTrip(t *testing.T, s Store) {
	f := newFixture(t, s)
	full := icpverify.Instance{
		ID:         f.k.instance(),
		Account:    f.k.unicodeAccount(),
		Product:    icpverify.ProductSimpleApplicationServer,
		Region:     "华东1（杭州）",
		Billing:    icpverify.PayAsYouGo,
		TermMonths: 36,
		PublicIP:   "2001:db8::8a2e:370:7334",
		Trial:      true,
		Status:     icpverify.Stopped,
		ExpiresAt:  baseTime,
	}
	long := icpverify.Instance{
		ID:         f.k.longInstance(),
		Account:    f.k.account(),
		Product:    icpverify.ProductECS,
		Region:     "cn-beijing",
		Billing:    icpverify.Subscription,
		TermMonths: 1,
		Status:     icpverify.Released,
		// No PublicIP, and a zero ExpiresAt: it must come back zero.
	}
	typical := f.instance(f.k.account())
	for _, inst := range []icpverify.Instance{full, long, typical} {
		f.put(inst)
	}
	for _, inst := range []icpverify.Instance{full, long, typical} {
		f.checkInstance(inst)
	}
	if got, err := s.Instance(f.ctx, long.ID); err == nil && !got.ExpiresAt.IsZero() {
		t.Errorf("Instance(%q).ExpiresAt = %v; a zero ExpiresAt must come back zero (IsZero)", long.ID, got.ExpiresAt)
	}
}

// testInstanceReplace: PutInstanceContext of a stored ID replaces the instance,
// every field, a non-zero ExpiresAt by a zero one included.
func testInstanceReplace(t *testing.T, s Store) {
	f := newFixture(t, s)
	old := f.put(f.instance(f.k.account()))
	other := f.put(f.instance(old.Account))
	updated := icpverify.Instance{
		ID:         old.ID,
		Account:    f.k.unicodeAccount(),
		Product:    icpverify.ProductSLB,
		Region:     "cn-shanghai",
		Billing:    icpverify.PayAsYouGo,
		TermMonths: old.TermMonths + 12,
		Status:     icpverify.Released,
	}
	f.put(updated)
	f.checkInstance(updated)
	f.checkInstance(other)

	back := old
	back.ExpiresAt = baseTime.AddDate(2, 0, 0)
	f.put(back)
	f.checkInstance(back)
}
