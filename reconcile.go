package icpverify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ReconcileInstance brings the reservations of an instance's service codes
// in line with the inventory, after the provider changed the instance
// there: moved it to another account, stopped, released or renewed it,
// let it expire, or removed its public IP. It releases every unfiled
// reservation the rules no longer allow, because the code is no longer
// valid (see CodeStatus.Invalid) or because the reservation's account is
// neither the instance's owner now nor the grantee of a grant that owner
// made, and keeps filed ones. Each release is recorded in a Decision of its
// own (Op OpRelease, with its Cause). It reports how many it released.
//
// An instance the inventory no longer holds counts as released, so its
// codes' unfiled reservations are all released. A Verify that races with
// the change and the reconciliation reserves nothing that outlives them:
// it reads the code again once it has reserved it (see QuotaStore.Reserve).
//
// It needs an InstanceStore that is an InstanceLister; with another it returns
// an error wrapping errors.ErrUnsupported. It reads at most 1000 codes of
// the instance. It is the provider's action: never expose it to
// applicants.
func (v *Verifier) ReconcileInstance(ctx context.Context, instanceID string) (released int, err error) {
	ctx, start, err := v.begin(ctx, OpReconcile)
	if err != nil {
		return 0, err
	}
	d := Decision{Op: OpReconcile, Instance: instanceID}
	released, err = v.reconcile(ctx, instanceID, start, &d)
	return released, v.end(ctx, &d, start, err)
}

// reconcile releases the unfiled reservations of an instance's codes that
// the rules no longer allow; it notes the instance's product type in d.
func (v *Verifier) reconcile(ctx context.Context, instanceID string, now time.Time, d *Decision) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if e := checkField("instance", instanceID); e != nil {
		return 0, e
	}
	l := v.lister
	if l == nil {
		return 0, fmt.Errorf("icpverify: ReconcileInstance: the InstanceStore cannot list service codes: %w", errors.ErrUnsupported)
	}
	inst, err := v.instances.Instance(ctx, instanceID)
	switch {
	case errors.Is(err, ErrNotFound):
		inst = Instance{}
	case err != nil:
		return 0, fmt.Errorf("icpverify: looking up instance: %w", err)
	}
	d.Product = inst.Product
	codes, err := l.ListServiceCodes(ctx, instanceID, maxListed)
	if err != nil {
		return 0, fmt.Errorf("icpverify: listing service codes: %w", err)
	}
	pol := v.policy(inst.Product)
	released := 0
	for _, sc := range codes[:min(len(codes), maxListed)] {
		if sc.Instance != instanceID || sc.Code == "" {
			continue
		}
		r, err := v.reservationOf(ctx, sc.Code)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return released, err
		}
		cause := v.disallowed(r, sc, inst, pol, now)
		if r.Filed || cause == "" {
			continue
		}
		ok, err := v.releaseFor(ctx, "", r, cause)
		if err != nil {
			return released, err
		}
		if ok {
			released++
		}
	}
	return released, nil
}

// disallowed returns why the rules no longer allow the reservation r of
// the code sc of inst under pol now, or "" if they do.
func (v *Verifier) disallowed(r Reservation, sc ServiceCode, inst Instance, pol Policy, now time.Time) Reason {
	if e := valid(&sc, &inst, &pol, now); e != nil {
		return e.Reason
	}
	if !v.mayUse(r.Account, &sc, &inst) {
		return ReasonCodeNotOwned
	}
	return ""
}
