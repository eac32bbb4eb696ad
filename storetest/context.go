package storetest

import (
	"context"
	"testing"

	"github.com/icpfiling/icpverify"
)

var contextTests = []testCase{
	{"Cancelled", testContextCancelled},
}

// testContextCancelled: every method called with a cancelled context returns
// an error and changes nothing.
func testContextCancelled(t *testing.T, s Store) {
	f := newFixture(t, s)
	account := f.k.account()
	inst := f.put(f.instance(account))
	free := f.serviceCode(inst.ID, account)
	if _, added, err := s.AddServiceCode(f.ctx, free, bigLimit); err != nil || !added {
		t.Fatalf("AddServiceCode(%q) = added %v, error %v; want added, no error", free.Code, added, err)
	}
	held := f.newReservation(inst.ID, account, f.k.subject(), bigLimit, 1)

	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	fail := func(method string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s with a cancelled context succeeded; want an error", method)
		}
	}

	_, err := s.Instance(ctx, inst.ID)
	fail("Instance", err)
	_, err = s.ServiceCode(ctx, free.Code)
	fail("ServiceCode", err)
	added := f.serviceCode(inst.ID, account)
	_, _, err = s.AddServiceCode(ctx, added, bigLimit)
	fail("AddServiceCode", err)
	err = s.GrantServiceCode(ctx, free.Code, free.Owner, f.k.account())
	fail("GrantServiceCode", err)
	err = s.RevokeServiceCode(ctx, free.Code)
	fail("RevokeServiceCode", err)
	newcomer := icpverify.Reservation{Code: free.Code, Instance: inst.ID, Account: account, Subject: f.k.subject(), ReservedAt: baseTime}
	newcomer.SubjectKey, newcomer.Application = newcomer.Subject, f.k.application()
	callQuotas(ctx, s, fail, held, newcomer)

	// Nothing changed.
	f.checkInstance(inst)
	f.checkCode(free)         // neither granted nor revoked
	f.checkNoCode(added.Code) // not added
	f.checkIssued(inst.ID, 2)
	f.checkNoReservation(free.Code) // not reserved
	f.checkReservation(held)        // neither released nor filed nor deregistered
	f.checkApplication(held)
	f.checkNoApplication(newcomer.Application)
	f.checkUsage(inst.ID, held.Subject, 1, true)
	f.checkUsage(inst.ID, newcomer.Subject, 1, false)
}

// callQuotas calls every method of the QuotaStore, and the listers s has,
// with ctx, asking to reserve newcomer and to read and settle held, and
// hands each error to fail.
func callQuotas(ctx context.Context, s Store, fail func(string, error), held, newcomer icpverify.Reservation) {
	_, _, err := s.Reserve(ctx, newcomer, bigLimit)
	fail("Reserve", err)
	_, err = s.Reservation(ctx, held.Code)
	fail("Reservation", err)
	_, err = s.Application(ctx, held.Application)
	fail("Application", err)
	_, _, err = s.Usage(ctx, held.Instance, held.Subject)
	fail("Usage", err)
	_, _, err = s.Places(ctx, "sites/account:"+held.Account, held.Code)
	fail("Places", err)
	_, err = s.Release(ctx, held)
	fail("Release", err)
	_, err = s.Complete(ctx, held)
	fail("Complete", err)
	_, err = s.Deregister(ctx, held)
	fail("Deregister", err)
	if l, ok := s.(icpverify.InstanceLister); ok {
		_, err = l.ListInstances(ctx, held.Account, 10)
		fail("ListInstances", err)
	}
	_, err = s.ListReservations(ctx, held.Account, 10)
	fail("ListReservations", err)
}
