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
func (v *Verifier) takeSlot(ctx context.Context, reserve bool, r Reservation, rec CodeRecord, limit int) (Outcome, int, error) {
	if known := rec.Reservation; known.Code == r.Code {
		return outcomeOf(known, r.Instance, r.Subject), rec.Used, nil
	}
	if !reserve {
		return v.peek(ctx, r.Code, r.Instance, r.Subject, limit)
	}
	outcome, used, err := v.quotas.Reserve(ctx, r, limit)
	if err != nil {
		return 0, 0, fmt.Errorf("icpverify: reserving a subject slot: %w", err)
	}
	return outcome, used, nil
}

// outcomeOf is what reserving a code for subject on instance does when the
// code already has the reservation r: Held for the same subject, Taken if r
// serves another one or its filing is complete.
func outcomeOf(r Reservation, instance, subject string) Outcome {
	if r.Filed || r.Subject != subject || r.Instance != instance {
		return Taken
	}
	return Held
}

// peek tells what Reserve would do, changing nothing.
func (v *Verifier) peek(ctx context.Context, code, instance, subject string, limit int) (Outcome, int, error) {
	r, err := v.quotas.Reservation(ctx, code)
	switch {
	case err == nil && outcomeOf(r, instance, subject) == Taken:
		return Taken, 0, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return 0, 0, fmt.Errorf("icpverify: looking up reservation: %w", err)
	}
	used, held, err := v.quotas.Usage(ctx, instance, subject)
	if err != nil {
		return 0, 0, fmt.Errorf("icpverify: reading quota usage: %w", err)
	}
	switch {
	case r.Code != "":
		return Held, used, nil
	case !held && used >= limit:
		return Full, used, nil
	}
	return Reserved, used, nil
}

// takenReason tells a code reserved for another subject from a code whose
// filing is complete, from the reservation rec holds or, if it holds none,
// from the QuotaStore. It runs only on that refusal.
func (v *Verifier) takenReason(ctx context.Context, code string, rec CodeRecord) Reason {
	r := rec.Reservation
	if r.Code != code {
		r, _ = v.quotas.Reservation(ctx, code)
	}
	if r.Filed {
		return ReasonCodeUsed
	}
	return ReasonCodeInUse
}
