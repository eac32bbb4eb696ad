package icpverify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Withdraw withdraws an application: the subject's slot is free again
// (unless another of its codes holds it) and the code can be used again
// while it is valid. Only the account that made the reservation, or the
// account that owns the code's instance now, may withdraw it, and only
// while it may still use the code. A code that holds no reservation, and
// one whose reservation account may not withdraw, gets an *Error wrapping
// ErrNotFound with ReasonNotReserved, so that a stranger learns nothing of
// it; a code whose filing is complete gets ErrServiceCodeInvalid with
// ReasonCodeUsed.
//
// Withdraw is the applicant's action. Release and Complete are the
// provider's.
func (v *Verifier) Withdraw(ctx context.Context, code, account string) error {
	return v.settleOp(ctx, OpWithdraw, code, account)
}

// Release frees the reservation of a code whose application the provider
// rejected: the subject's slot is free again (unless another of its codes
// holds it) and the code can be used again while it is valid. A code that
// holds no reservation gets an *Error wrapping ErrNotFound with
// ReasonNotReserved; a code whose filing is complete is not released and
// gets ErrServiceCodeInvalid with ReasonCodeUsed.
//
// Release and Complete are the provider's own actions, on the code alone:
// never expose them to applicants, who withdraw with Withdraw. They act on
// whatever application holds the code when they run: a provider that
// retries after losing the answer of an earlier call, when the code may
// have been reserved again in between, uses ReleaseApplication and
// CompleteApplication instead, which name the application.
func (v *Verifier) Release(ctx context.Context, code string) error {
	return v.settleOp(ctx, OpRelease, code, "")
}

// Complete marks the filing that uses a code as approved: the code is used
// for good and its subject keeps the slot. Completing twice is not an error.
// A code that holds no reservation gets an *Error wrapping ErrNotFound with
// ReasonNotReserved; a code that is no longer valid (revoked, expired, or
// its instance released, expired or stopped) gets ErrServiceCodeInvalid
// with its Reason, and is not completed. Like Release, it completes
// whatever application holds the code now; CompleteApplication names the
// application, for a provider that retries after a lost answer.
func (v *Verifier) Complete(ctx context.Context, code string) error {
	return v.settleOp(ctx, OpComplete, code, "")
}

// ReleaseApplication is Release for one application: the one req names,
// by the fields Verify binds the code with (ServiceCode, Account, Subject
// or SubjectID, and Website), each read and keyed as Verify does, so that
// the request the provider verified names it, and so does a subject
// spelled otherwise with the same key. req.Product is not read: the
// reservation names its instance, and a provider must be able to reject
// an application whatever its product type's Policy says now.
//
// It releases the code's reservation only if it is that application (see
// Reservation.SameApplication). A code that holds no reservation, or one
// for another application, gets an *Error wrapping ErrNotFound with
// ReasonNotReserved, and nothing changes; so a provider may retry a
// ReleaseApplication whose answer was lost, even if another application
// reserved the code in between. (If the same application reserved it
// again, as an applicant resubmitting does, that is the application named,
// and the retry releases it.) A request Verify would refuse as malformed (a bad
// code, account, subject, certificate or website) is refused the same way;
// a code whose filing is complete gets ErrServiceCodeInvalid with
// ReasonCodeUsed, as with Release.
//
// It is the provider's own action: never expose it to applicants.
func (v *Verifier) ReleaseApplication(ctx context.Context, req Request) error {
	return v.settleAppOp(ctx, OpRelease, &req)
}

// CompleteApplication is Complete for one application: the one req names,
// read as ReleaseApplication reads it. It completes the code's reservation
// only if it is that application; a code that holds no reservation, or one
// for another application, gets an *Error wrapping ErrNotFound with
// ReasonNotReserved, and nothing changes. Completing twice is not an error,
// so a provider may retry a CompleteApplication whose answer was lost. As
// with Complete, a code that is no longer valid gets ErrServiceCodeInvalid
// with its Reason, and is not completed.
//
// It is the provider's own action: never expose it to applicants.
func (v *Verifier) CompleteApplication(ctx context.Context, req Request) error {
	return v.settleAppOp(ctx, OpComplete, &req)
}

// settleAppOp runs ReleaseApplication or CompleteApplication as an
// operation with its Decision, which records the subject asked for until
// the application's reservation is read.
func (v *Verifier) settleAppOp(ctx context.Context, op Op, req *Request) error {
	start, err := v.begin()
	if err != nil {
		return err
	}
	d := Decision{Op: op, Subject: req.Subject, Code: req.ServiceCode}
	return v.end(&d, start, v.settleApp(ctx, op, req, start, &d), false)
}

// settleApp reads the application req names and releases or completes the
// code's reservation if it is that application.
func (v *Verifier) settleApp(ctx context.Context, op Op, req *Request, now time.Time, d *Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	want, e := v.application(req)
	if e != nil {
		return e
	}
	return v.settleCode(ctx, op, want.Code, "", &want, now, d)
}

// application returns the reservation req names, without its instance and
// time, as validate reads it for Verify but for the product type. Without
// a SubjectID the subject is keyed by its name, whatever the type's
// Policy.RequireSubjectID: a request that names its subject otherwise than
// Verify did names another application.
func (v *Verifier) application(req *Request) (Reservation, *Error) {
	code, ok := v.format.Normalize(req.ServiceCode)
	if !ok {
		return Reservation{}, &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed}
	}
	if e := checkField("account", req.Account); e != nil {
		return Reservation{}, e
	}
	key, e := subjectKeyOf(req, Policy{})
	if e != nil {
		return Reservation{}, e
	}
	site, e := websiteOf(req)
	if e != nil {
		return Reservation{}, e
	}
	return Reservation{Code: code, Account: req.Account, Subject: req.Subject, SubjectKey: key, Website: site}, nil
}

// settleOp runs Withdraw, Release or Complete as an operation with its
// Decision; actor is the account that acts, empty for the provider.
func (v *Verifier) settleOp(ctx context.Context, op Op, code, actor string) error {
	start, err := v.begin()
	if err != nil {
		return err
	}
	d := Decision{Op: op, Account: actor, Code: code}
	return v.end(&d, start, v.settle(ctx, op, code, actor, start, &d), false)
}

// settle reads the reservation of a typed code, checks that op may act on
// it, and releases or completes it; it notes the reservation in d.
func (v *Verifier) settle(ctx context.Context, op Op, code, actor string, now time.Time, d *Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, ok := v.format.Normalize(code)
	if !ok {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed}
	}
	if op == OpWithdraw {
		if e := checkField("account", actor); e != nil {
			return e
		}
	}
	return v.settleCode(ctx, op, c, actor, nil, now, d)
}

// settleCode reads the reservation of a canonical code, checks that op may
// act on it, and, if want is not nil, that it is want's application, and
// releases or completes it; it notes the reservation in d. If the
// reservation was released and reserved anew by the same application
// while it was settled, it starts over once.
func (v *Verifier) settleCode(ctx context.Context, op Op, code, actor string, want *Reservation, now time.Time, d *Decision) error {
	err := v.settleOnce(ctx, op, code, actor, want, now, d)
	if errors.Is(err, errRaced) {
		err = v.settleOnce(ctx, op, code, actor, want, now, d)
	}
	if errors.Is(err, errRaced) {
		// Twice: a store that reports ErrNotFound for what it holds.
		return storeFailure("updating reservation", ErrNotFound)
	}
	return err
}

// settleOnce is one attempt of settleCode. It returns errRaced if the
// store found no reservation to settle but one for the same application is
// there when read again.
func (v *Verifier) settleOnce(ctx context.Context, op Op, code, actor string, want *Reservation, now time.Time, d *Decision) error {
	r, err := v.quotas.Reservation(ctx, code)
	if errors.Is(err, ErrNotFound) {
		return notReserved("", "")
	}
	if err != nil {
		return fmt.Errorf("icpverify: looking up reservation: %w", err)
	}
	if want != nil && !r.SameApplication(*want) {
		d.Holder = r.Account // d.Subject stays the one asked for
		return otherApplication(r)
	}
	d.Holder, d.Subject, d.Instance = r.Account, r.Subject, r.Instance
	if e, err := v.maySettle(ctx, op, r, actor, now); e != nil || err != nil {
		if err != nil {
			return err
		}
		return e
	}
	return v.applySettle(ctx, op, r)
}

// errRaced is what applySettle returns when the store reported the
// reservation it was given gone, yet the same application holds the code
// when it is read again: released and reserved anew in between, or a store
// that failed. settleCode tells them apart by trying again.
var errRaced = errors.New("icpverify: the reservation changed while it was settled")

// otherApplication is the refusal of ReleaseApplication or
// CompleteApplication when the code's reservation r is another
// application's: that of a code with no reservation, with the true cause
// for the Decision.
func otherApplication(r Reservation) *Error {
	if r.Filed {
		return notReserved(ReasonCodeUsed, r.Instance)
	}
	return notReserved(ReasonCodeInUse, r.Instance)
}

// maySettle returns why op may not act on the reservation r, as a refusal,
// or a store's failure to tell: a Withdraw needs an actor who may still use
// the code and made the reservation or owns the instance; a Complete needs
// a code that is still valid.
func (v *Verifier) maySettle(ctx context.Context, op Op, r Reservation, actor string, now time.Time) (*Error, error) {
	if op == OpRelease {
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
		if err != nil || !entitled(actor, sc, inst) || actor != r.Account && actor != ownerOf(sc, inst) {
			return notReserved(ReasonCodeNotOwned, r.Instance), nil
		}
	case OpComplete:
		if err != nil {
			return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeNotFound}, nil
		}
		if r.Filed {
			return nil, nil // completing twice changes nothing
		}
		if e := valid(sc, inst, v.policy(inst.Product), now); e != nil {
			return e, nil
		}
	}
	return nil, nil
}

// applySettle releases or completes r in the QuotaStore.
func (v *Verifier) applySettle(ctx context.Context, op Op, r Reservation) error {
	if r.Filed && op != OpComplete {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeUsed, Instance: r.Instance}
	}
	do := QuotaStore.Release
	if op == OpComplete {
		do = QuotaStore.Complete
	}
	after, err := do(v.quotas, ctx, r)
	if errors.Is(err, ErrNotFound) {
		if v.replaced(ctx, r) {
			// Released, or released and reserved anew by another
			// application, since it was read: this call comes after.
			return notReserved("", "")
		}
		return errRaced
	}
	if err != nil {
		return storeFailure("updating reservation", err)
	}
	if op != OpComplete && after.Filed {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeUsed, Instance: r.Instance}
	}
	return nil
}

// replaced reports whether the reservation of r.Code is no longer r's
// application, as read now. A store that reports ErrNotFound for a
// reservation that is still there has failed instead.
func (v *Verifier) replaced(ctx context.Context, r Reservation) bool {
	cur, err := v.quotas.Reservation(ctx, r.Code)
	return errors.Is(err, ErrNotFound) || err == nil && !cur.SameApplication(r)
}
