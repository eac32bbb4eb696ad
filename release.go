package icpverify

import (
	"context"
	"errors"
	"fmt"
)

// Release undoes the reservation of a code whose application was withdrawn
// or rejected: the subject's slot is free again (unless another of its codes
// holds it) and the code can be used again while its instance is valid. A
// code that holds no reservation gets an *Error wrapping ErrNotFound with
// ReasonNotReserved; a code whose filing is complete is not released and
// gets ErrServiceCodeInvalid with ReasonCodeUsed.
//
// Release and Complete act on the code alone: the caller decides who may
// withdraw or approve a filing.
func (v *Verifier) Release(ctx context.Context, code string) error {
	return v.endReservation(ctx, OpRelease, code, QuotaStore.Release)
}

// Complete marks the filing that uses a code as approved: the code is used
// for good and its subject keeps the slot. Completing twice is not an error.
// A code that holds no reservation gets an *Error wrapping ErrNotFound with
// ReasonNotReserved.
func (v *Verifier) Complete(ctx context.Context, code string) error {
	return v.endReservation(ctx, OpComplete, code, QuotaStore.Complete)
}

// storeOp is QuotaStore.Release or QuotaStore.Complete.
type storeOp func(QuotaStore, context.Context, string) (Reservation, error)

// endReservation runs Release or Complete as an operation with its
// Decision.
func (v *Verifier) endReservation(ctx context.Context, op Op, code string, do storeOp) error {
	start, err := v.begin()
	if err != nil {
		return err
	}
	r, err := v.applyToReservation(ctx, op, code, do)
	d := Decision{Op: op, Account: r.Account, Subject: r.Subject, Instance: r.Instance, Code: code}
	return v.end(&d, start, err)
}

// applyToReservation runs Release or Complete on the reservation of a typed
// code and returns the reservation as the store left it.
func (v *Verifier) applyToReservation(ctx context.Context, op Op, code string, do storeOp) (Reservation, error) {
	if err := ctx.Err(); err != nil {
		return Reservation{}, err
	}
	c, ok := NormalizeServiceCode(code)
	if !ok {
		return Reservation{}, &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed}
	}
	r, err := do(v.quotas, ctx, c)
	if errors.Is(err, ErrNotFound) {
		return Reservation{}, &Error{Err: ErrNotFound, Reason: ReasonNotReserved}
	}
	if err != nil {
		return Reservation{}, fmt.Errorf("icpverify: updating reservation: %w", err)
	}
	if op == OpRelease && r.Filed {
		return r, &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeUsed, Instance: r.Instance}
	}
	return r, nil
}
