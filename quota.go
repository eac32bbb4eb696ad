package icpverify

import (
	"context"
	"errors"
	"fmt"
)

// takeSlot reserves the subject's slot for r for a Verify (reserve), or
// tells what Reserve would do for a Check, and reports the outcome and the
// subjects holding a slot on the instance. A code whose reservation the
// CodeLookup read with it is decided from that read, without the store.
func (v *Verifier) takeSlot(ctx context.Context, reserve bool, r *Reservation, rec *CodeRecord, limit int) (Outcome, int, error) {
	if rec.Reservation.Code == r.Code {
		return outcomeOf(&rec.Reservation, r), rec.Used, nil
	}
	if !reserve {
		return v.peek(ctx, r, limit)
	}
	outcome, used, err := v.quotas.Reserve(ctx, *r, limit)
	if err != nil {
		return 0, 0, storeFailure("reserving a subject slot", err)
	}
	return outcome, used, nil
}

// outcomeOf is what reserving a code for r does when the code already has
// the reservation old: Held for the same application, Taken if old serves
// another one or its filing is complete.
func outcomeOf(old, r *Reservation) Outcome {
	if old.Filed || old.Instance != r.Instance || !old.SameApplication(*r) {
		return Taken
	}
	return Held
}

// peek tells what Reserve would do with r, changing nothing.
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
