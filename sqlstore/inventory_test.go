package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/sqlstore"
)

// ownInventory is a provider's own InstanceStore that keeps its service
// codes in a Store's tables, through the Store it embeds, but knows its
// instances itself: Instance answers from its own map, not from the
// Store's copy.
type ownInventory struct {
	*sqlstore.Store
	instances map[string]icpverify.Instance
}

// Instance implements icpverify.InstanceStore from the inventory's own
// instances.
func (o *ownInventory) Instance(_ context.Context, id string) (icpverify.Instance, error) {
	inst, ok := o.instances[id]
	if !ok {
		return icpverify.Instance{}, icpverify.ErrNotFound
	}
	return inst, nil
}

// TestOwnInventoryIsTheInventory gives a Verifier a provider's own
// inventory that keeps its codes in the Store but its instances apart,
// with the Store as the QuotaStore. The Store's copy of the instance says
// it is running; the inventory says it is stopped. The Verifier must take
// the inventory's word: Check, Verify and ServiceCodeStatus read the
// instance from the InstanceStore it was given, never through the Store's
// one-call lookup, which would read the Store's copy.
func TestOwnInventoryIsTheInventory(t *testing.T) {
	s := newDatabase(t, sqlstore.SQLite).store(t)
	ctx := context.Background()
	const owner = "acct-own"
	running := eligible("i-own", owner)
	if err := s.PutInstanceContext(ctx, running); err != nil {
		t.Fatalf("PutInstance: %v", err)
	}
	code, err := icpverify.New(s, s).IssueServiceCode(ctx, running.ID, owner)
	if err != nil {
		t.Fatalf("IssueServiceCode: %v", err)
	}
	req := icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code, Account: owner, Subject: "Acme", SubjectID: certOf("Acme")}

	// The Store alone says the code may serve.
	if _, err := icpverify.New(s, s).Check(ctx, req); err != nil {
		t.Fatalf("Check on the Store alone, whose instance runs: %v", err)
	}

	stopped := running
	stopped.Status = icpverify.Stopped
	own := &ownInventory{Store: s, instances: map[string]icpverify.Instance{stopped.ID: stopped}}
	v := icpverify.New(own, s)

	refusedStopped := func(op string, err error) {
		t.Helper()
		var e *icpverify.Error
		switch {
		case err == nil:
			t.Errorf("%s passed; want a refusal with %s: the inventory's instance is stopped", op, icpverify.ReasonInstanceStopped)
		case !errors.As(err, &e) || !errors.Is(err, icpverify.ErrServiceCodeInvalid):
			t.Errorf("%s: %v; want an *icpverify.Error wrapping ErrServiceCodeInvalid", op, err)
		case e.Reason != icpverify.ReasonInstanceStopped:
			t.Errorf("%s: reason %s (%v); want %s", op, e.Reason, err, icpverify.ReasonInstanceStopped)
		}
	}
	_, err = v.Check(ctx, req)
	refusedStopped("Check", err)
	_, err = v.Verify(ctx, req)
	refusedStopped("Verify", err)
	if r, err := s.Reservation(ctx, code); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("after the refused Verify, Reservation = %+v, %v; want ErrNotFound", r, err)
	}

	st, err := v.ServiceCodeStatus(ctx, code)
	if err != nil {
		t.Fatalf("ServiceCodeStatus: %v", err)
	}
	if st.State != icpverify.CodeInvalid || st.Invalid != icpverify.ReasonInstanceStopped {
		t.Errorf("ServiceCodeStatus: state %q, invalid %q; want %q, %q", st.State, st.Invalid,
			icpverify.CodeInvalid, icpverify.ReasonInstanceStopped)
	}
}
