package icpverify

import (
	"context"
	"errors"
	"fmt"
)

// takeSlot reserves the subject's slot for r for a Verify (reserve), or
// tells what Reserve would do for a Check, and reports the outcome and the
// subjects holding a slot on the instance. A code whose reservation the
// CodeReserver read with it is decided from that read, without the store.
// It notes in r.Application the application the code is reserved for, if
// it is r's.
func (v *Verifier) takeSlot(ctx context.Context, reserve bool, r *Reservation, rec *CodeRecord, limit int) (Outcome, int, error) {
	if rec.Reservation.Code == r.Code {
		outcome := outcomeOf(&rec.Reservation, r)
		if outcome == Held {
			r.Application = rec.Reservation.Application
		}
		return outcome, rec.Used, nil
	}
	if !reserve {
		return v.peek(ctx, r, limit)
	}
	if r.Application == "" {
		app, err := v.newApplication()
		if err != nil {
			return 0, 0, err
		}
		r.Application = app
	}
	outcome, used, err := v.quotas.Reserve(ctx, *r, limit)
	if err != nil {
		return 0, 0, storeFailure("reserving a subject slot", err)
	}
	if outcome == Held {
		return outcome, used, v.heldApplication(ctx, r)
	}
	return outcome, used, nil
}

// heldApplication notes in r.Application the identity of the reservation
// that Reserve found held for r's application.
func (v *Verifier) heldApplication(ctx context.Context, r *Reservation) error {
	old, err := v.quotas.Reservation(ctx, r.Code)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("icpverify: looking up reservation: %w", err)
	}
	if err != nil || !sameApplication(&old, r) || old.Filed {
		return errHeldChanged
	}
	r.Application = old.Application
	return nil
}

// errHeldChanged is the failure of a Verify whose retry found the
// application's reservation, which was then released or filed before its
// identity was read: the same Verify, made again, gets a true answer.
var errHeldChanged = errors.New("icpverify: the application's reservation changed while it was read; verify again")

// outcomeOf is what reserving a code for r does when the code already has
// the reservation old: Held for the same application, Taken if old serves
// another one or its filing is complete.
func outcomeOf(old, r *Reservation) Outcome {
	if old.Filed || old.Instance != r.Instance || !sameApplication(old, r) {
		return Taken
	}
	return Held
}

// peek tells what Reserve would do with r, changing nothing. It notes in
// r.Application the application that holds the code for r, if one does.
func (v *Verifier) peek(ctx context.Context, r *Reservation, limit int) (Outcome, int, error) {
	old, err := v.quotas.Reservation(ctx, r.Code)
	switch {
	case err == nil && outcomeOf(&old, r) == Taken:
		return Taken, 0, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return 0, 0, fmt.Errorf("icpverify: looking up reservation: %w", err)
	}
	used, held, err := v.quotas.Usage(ctx, r.Instance, r.SubjectKey)
	if err != nil {
		return 0, 0, storeFailure("reading quota usage", err)
	}
	switch {
	case old.Code != "":
		r.Application = old.Application
		return Held, used, nil
	case !held && used >= limit:
		return Full, used, nil
	}
	return Reserved, used, nil
}

// takenReason tells a code reserved for another subject from a code whose
// filing is complete, from the reservation rec holds or, if it holds none,
// from the QuotaStore. It runs only on that refusal.
func (v *Verifier) takenReason(ctx context.Context, code string, rec *CodeRecord) Reason {
	r := rec.Reservation
	if r.Code != code {
		r, _ = v.quotas.Reservation(ctx, code)
	}
	if r.Filed {
		return ReasonCodeUsed
	}
	return ReasonCodeInUse
}

// storeFailure wraps the error of a store call that must find what it acts
// on, as the Verifier has just read it or needs none. Such a call that
// reports ErrNotFound has failed: the error says so but no longer matches
// ErrNotFound, so that it is not taken for a refusal.
func storeFailure(doing string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("icpverify: %s: the store reported not found: %v", doing, err)
	}
	return fmt.Errorf("icpverify: %s: %w", doing, err)
}
