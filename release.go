package icpverify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Withdraw withdraws the application whose identity is application (see
// Result.Application): the subject's slot is free again (unless another of
// its codes holds it) and the code can be used again while it is valid.
// Only the account that made the reservation, or the account that owns the
// code's instance now, may withdraw it, and only while it may still use the
// code. An application that holds no reservation (withdrawn or released
// already, or never made), and one that account may not withdraw, gets an
// *Error wrapping ErrNotFound with ReasonNotReserved, so that a stranger
// learns nothing of it and a retried Withdraw changes nothing; an
// application whose filing is complete gets ErrServiceCodeInvalid with
// ReasonCodeUsed.
//
// Withdraw is the applicant's action. Release and Complete are the
// provider's.
func (v *Verifier) Withdraw(ctx context.Context, application, account string) error {
	return v.settleOp(ctx, OpWithdraw, application, account)
}

// Release frees the reservation of the application whose identity is
// application (see Result.Application), whose filing the provider
// rejected: the subject's slot is free again (unless another of its codes
// holds it) and the code can be used again while it is valid. It acts on
// that application alone: once released, or if it never held a
// reservation, it gets an *Error wrapping ErrNotFound with
// ReasonNotReserved and nothing changes, so a provider may retry a Release
// whose answer was lost, even after the applicant verified again (a new
// application). An application whose filing is complete is not released
// and gets ErrServiceCodeInvalid with ReasonCodeUsed.
//
// Release and Complete are the provider's own actions: never expose them
// to applicants, who withdraw with Withdraw.
func (v *Verifier) Release(ctx context.Context, application string) error {
	return v.settleOp(ctx, OpRelease, application, "")
}

// Complete marks the filing of the application whose identity is
// application as approved: its code is used for good and its subject keeps
// the slot. Completing twice is not an error, so a provider may retry a
// Complete whose answer was lost. An application that holds no
// reservation gets an *Error wrapping ErrNotFound with ReasonNotReserved;
// one whose code is no longer valid (revoked, expired, or its instance
// released, expired or stopped) gets ErrServiceCodeInvalid with its
// Reason, and is not completed.
func (v *Verifier) Complete(ctx context.Context, application string) error {
	return v.settleOp(ctx, OpComplete, application, "")
}

// Deregister records that the provider deregistered the filing of the
// application whose identity is application (see Result.Application):
// where the Profile says FreedOnDeregister, its subject's slot and the
// places it held in the Policy's and Profile's limits are free again
// (unless another code holds them), and its code stays used; elsewhere a
// filed code keeps its slot for good and nothing changes. Deregistering
// twice is not an error. An application that holds no reservation gets an
// *Error wrapping ErrNotFound with ReasonNotReserved; one whose filing is
// not complete gets ErrServiceCodeInvalid with ReasonNotFiled: it is
// released, not deregistered.
//
// Deregister is the provider's action, as Release and Complete are.
func (v *Verifier) Deregister(ctx context.Context, application string) error {
	return v.settleOp(ctx, OpDeregister, application, "")
}

// settleOp runs Withdraw, Release, Complete or Deregister as an operation
// with its Decision; actor is the account that acts, empty for the
// provider.
func (v *Verifier) settleOp(ctx context.Context, op Op, application, actor string) error {
	ctx, start, err := v.begin(ctx, op)
	if err != nil {
		return err
	}
	d := Decision{Op: op, Account: actor}
	err = v.settle(ctx, op, application, actor, start, &d)
	return v.end(ctx, &d, start, err)
}

// settle reads the reservation of an application, checks that op may act
// on it, and releases or completes it; it notes the reservation in d.
func (v *Verifier) settle(ctx context.Context, op Op, application, actor string, now time.Time, d *Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if op == OpWithdraw {
		if e := checkField("account", actor); e != nil {
			return e
		}
	}
	if !validApplication(application) {
		return notReserved(ReasonInvalidRequest, "")
	}
	r, err := v.quotas.Application(ctx, application)
	if errors.Is(err, ErrNotFound) {
		return notReserved("", "")
	}
	if err != nil {
		return fmt.Errorf("icpverify: looking up application: %w", err)
	}
	d.Holder, d.Subject, d.Instance, d.code, d.Application = r.Account, r.Subject, r.Instance, r.Code, r.Application
	if e, err := v.maySettle(ctx, op, r, actor, now); e != nil || err != nil {
		if err != nil {
			return err
		}
		return e
	}
	return v.applySettle(ctx, op, r)
}

// maySettle returns why op may not act on the reservation r, as a refusal,
// or a store's failure to tell: a Withdraw needs an actor who may still use
// the code and made the reservation or owns the instance; a Complete needs
// a code that is still valid.
func (v *Verifier) maySettle(ctx context.Context, op Op, r Reservation, actor string, now time.Time) (*Error, error) {
	switch {
	case op == OpRelease:
		return nil, nil
	case op == OpDeregister && !r.Filed:
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonNotFiled, Instance: r.Instance}, nil
	case op == OpDeregister:
		return nil, nil
	}
	var rec CodeRecord
	err := v.lookupCode(ctx, r.Code, &rec)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	sc, inst := rec.Code, rec.Instance
	switch op {
	case OpWithdraw:
		if err != nil || !v.mayUse(actor, &sc, &inst) || actor != r.Account && actor != ownerOf(sc, inst) {
			return notReserved(ReasonCodeNotOwned, r.Instance), nil
		}
	case OpComplete:
		if err != nil {
			return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeNotFound}, nil
		}
		if r.Filed {
			return nil, nil // completing twice changes nothing
		}
		if e := valid(&sc, &inst, new(v.policy(inst.Product)), now); e != nil {
			return e, nil
		}
	}
	return nil, nil
}

// applySettle releases, completes or deregisters r in the QuotaStore. A
// reservation released since it was read is the application's no longer:
// nothing is reserved for it. An abandoned application's code is revoked
// first where the Profile says AbandonVoidsCode, so that no one reserves
// it between the two writes.
func (v *Verifier) applySettle(ctx context.Context, op Op, r Reservation) error {
	do := QuotaStore.Release
	switch {
	case op == OpDeregister && !v.profile.FreedOnDeregister:
		return nil // a filed code keeps its slot
	case op == OpDeregister:
		do = QuotaStore.Deregister
	case op == OpComplete:
		do = QuotaStore.Complete
	case r.Filed:
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeUsed, Instance: r.Instance}
	case v.profile.AbandonVoidsCode:
		if err := v.instances.RevokeServiceCode(ctx, r.Code); err != nil && !errors.Is(err, ErrNotFound) {
			return storeFailure("voiding the code of an abandoned application", err)
		}
	}
	after, err := do(v.quotas, ctx, r)
	if errors.Is(err, ErrNotFound) {
		if _, err := v.quotas.Application(ctx, r.Application); !errors.Is(err, ErrNotFound) {
			// Still there, or unreadable: the store failed.
			return storeFailure("updating reservation", errors.Join(ErrNotFound, err))
		}
		return notReserved("", "") // released since it was read
	}
	if err != nil {
		return storeFailure("updating reservation", err)
	}
	if (op == OpRelease || op == OpWithdraw) && after.Filed {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeUsed, Instance: r.Instance}
	}
	return nil
}
