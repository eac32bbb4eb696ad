package icpverify

import (
	"context"
	"errors"
	"fmt"
)

// takeSlot is the stage of verify that takes the subject's slot for a
// Verify, or tells what Reserve would do for a Check, noting the outcome,
// the subjects holding a slot on the instance and, for a full instance or
// a code another application holds, the refusal in a. A reservation the
// rules refuse is released again (undoReserve); a new one is confirmed
// (confirm).
func (v *Verifier) takeSlot(ctx context.Context, a *attempt) error {
	switch {
	case a.refusal != nil && a.outcome == Reserved:
		return v.undoReserve(ctx, a.r, a.refusal)
	case a.refusal != nil:
		return nil
	}
	if err := v.slot(ctx, a); err != nil {
		return err
	}
	switch a.outcome {
	case Reserved:
		if a.reserve {
			return v.confirm(ctx, a)
		}
	case Full:
		a.refusal = &Error{Err: ErrQuotaReached, Reason: ReasonQuotaReached, Instance: a.r.Instance,
			Selected: a.req.Product, Actual: a.rec.Instance.Product, Used: a.used, Limit: a.pol.SubjectLimit}
	case Taken:
		a.refusal = &Error{Err: ErrServiceCodeInvalid, Reason: v.takenReason(ctx, a.r.Code, &a.rec),
			Instance: a.r.Instance, Selected: a.req.Product, Actual: a.rec.Instance.Product}
	case Exceeded:
		if a.used < 0 || a.used >= len(a.r.Quotas) {
			return fmt.Errorf("icpverify: reserving a subject slot: store reported quota %d of %d exceeded", a.used, len(a.r.Quotas))
		}
		a.refusal = exceeded(a.r.Quotas[a.used], a.r.Instance, a.req.Product, a.rec.Instance.Product)
	case Held:
		// A retry: the reservation stands as it was confirmed before.
	default:
		return fmt.Errorf("icpverify: reserving a subject slot: store returned unknown outcome %d", a.outcome)
	}
	return nil
}

// slot notes in a what reserving its code did, or would do for a Check,
// and the subjects holding a slot on the instance: from what the
// CodeReserver did or read with the code, or else from the QuotaStore.
func (v *Verifier) slot(ctx context.Context, a *attempt) error {
	var err error
	switch {
	case a.outcome == Held:
		// Reserved by a racer for the same application meanwhile.
		a.used = a.rec.Used
		return v.heldApplication(ctx, &a.r)
	case a.outcome != 0:
		a.used = a.rec.Used
	case a.rec.Reservation.Code == a.r.Code:
		a.outcome, a.used = outcomeOf(&a.rec.Reservation, &a.r), a.rec.Used
		if a.outcome == Held {
			a.r.Application = a.rec.Reservation.Application
		}
	case !a.reserve:
		err = v.peekSlot(ctx, a)
	default:
		err = v.reserve(ctx, a)
	}
	return err
}

// reserve reserves the code of a through the QuotaStore.
func (v *Verifier) reserve(ctx context.Context, a *attempt) error {
	var err error
	a.r.Quotas = quotasOf(&a.r, &a.rec.Instance, &a.pol, &v.profile)
	a.outcome, a.used, err = v.quotas.Reserve(ctx, a.r, a.pol.SubjectLimit)
	if err != nil {
		return storeFailure("reserving a subject slot", err)
	}
	if a.outcome == Held {
		return v.heldApplication(ctx, &a.r)
	}
	return nil
}

// confirm reads the code of the reservation just made for a once more,
// and releases it if the rules no longer allow it: a revocation, a
// withdrawn grant or a change of the instance that the first read did not
// see. Whoever made that change wrote it before reading the code's
// reservation, and the Verifier writes the reservation before this read,
// so on stores that keep the contract of QuotaStore.Reserve one of the two
// sees the other, and no reservation outlives the change. It returns the
// refusal, or a store's failure to read or release.
func (v *Verifier) confirm(ctx context.Context, a *attempt) error {
	var rec CodeRecord
	err := v.lookupCode(ctx, a.r.Code, &rec)
	switch {
	case errors.Is(err, ErrNotFound):
		return v.undoReserve(ctx, a.r, unknownCode(a.req.Product, "", ""))
	case err != nil:
		if _, rerr := v.quotas.Release(ctx, a.r); rerr != nil && !errors.Is(rerr, ErrNotFound) {
			return fmt.Errorf("%w (and releasing the reservation it could not confirm: %v)", err, rerr)
		}
		return err
	}
	if e := v.checkCode(&a.req, &rec, &a.pol, a.now); e != nil {
		return v.undoReserve(ctx, a.r, e)
	}
	return nil
}

// undoReserve releases the reservation r that was made for a code the
// rules refuse, e, and returns e. A store's guard that is looser than the
// rules gets here, as does a change confirm saw; if the release fails, the
// error says so and a retry of the Verify releases it again.
func (v *Verifier) undoReserve(ctx context.Context, r Reservation, e *Error) error {
	if _, err := v.releaseFor(ctx, r.Account, r, e.trueReason()); err != nil {
		return fmt.Errorf("icpverify: releasing a reservation the rules refuse (%v): %w", e, err)
	}
	return e
}

// releaseFor releases r on behalf of actor (empty for the provider),
// because the rules no longer allow it (cause), records the release in a
// Decision of its own, and reports whether it released it. A reservation
// gone or replaced since it was read, or filed since, needs nothing more.
func (v *Verifier) releaseFor(ctx context.Context, actor string, r Reservation, cause Reason) (bool, error) {
	after, err := v.releaseObserved(ctx, actor, r, cause)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("icpverify: releasing reservation: %w", err)
	case after.Filed:
		return false, nil
	}
	return true, nil
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

// peekSlot notes in a what Reserve would do for a Check: the outcome, and
// the subjects holding a slot on the instance or, for a quota it would
// exceed, the quota's index.
func (v *Verifier) peekSlot(ctx context.Context, a *attempt) error {
	var err error
	a.outcome, a.used, err = v.peek(ctx, &a.r, a.pol.SubjectLimit)
	if err != nil || a.outcome != Reserved {
		return err
	}
	a.r.Quotas = quotasOf(&a.r, &a.rec.Instance, &a.pol, &v.profile)
	i, err := v.peekQuotas(ctx, a.r.Quotas)
	if err == nil && i >= 0 {
		a.outcome, a.used = Exceeded, i
	}
	return err
}

// peekQuotas returns the index of the first of qs that a reservation
// would exceed, as Reserve would report it, or -1.
func (v *Verifier) peekQuotas(ctx context.Context, qs []Quota) (int, error) {
	for i, q := range qs {
		members, held, err := v.quotas.Places(ctx, q.Key, q.Member)
		if err != nil {
			return 0, storeFailure("reading a quota's places", err)
		}
		if !held && members >= q.Limit {
			return i, nil
		}
	}
	return -1, nil
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

// conclude is the last stage of verify: it turns a into its Result, or
// into its refusal, offering alternatives with a refusal that has them.
func (v *Verifier) conclude(ctx context.Context, a *attempt) (Result, error) {
	if a.refusal != nil {
		return Result{}, v.offerAlternatives(ctx, a.refusal, a.req, a.now)
	}
	return Result{Instance: a.r.Instance, Product: a.rec.Instance.Product, ServiceCode: a.r.Code,
		Subject: a.req.Subject, Used: a.used, Limit: a.pol.SubjectLimit,
		Retry: a.outcome == Held, Application: a.r.Application}, nil
}
