package icpverify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/icpfiling/icpverify/subject"
)

// Request is what an applicant submits for product verification.
type Request struct {
	Product     ProductType // the product type the applicant selected
	ServiceCode string      // the ICP filing service code, as typed
	Account     string      // the applicant's account
	// Subject is the filing subject: the entity the websites are filed
	// for, by name. Without a SubjectID the subject is known by its name,
	// in a canonical form that ignores case, width, spacing and invisible
	// characters; with one, it is only shown.
	Subject string
	// SubjectID is the subject's certificate, by which filing systems
	// tell subjects apart: when given, the subject's slot and the code's
	// binding key on it (see subject.Normalize). Policy.RequireSubjectID
	// makes it mandatory.
	SubjectID subject.ID
	// Website is the domain of the website filed with the code, if the
	// backend knows it: a code files one website, so once reserved for
	// one it cannot be reserved for another. Case, a trailing dot and
	// full-width characters are ignored.
	Website string
}

// Result describes a passed verification.
type Result struct {
	Instance    string      // ID of the instance the code was issued from
	Product     ProductType // its product type
	ServiceCode string      // the code in canonical form
	Subject     string      // the subject the code is reserved for
	// Used is the number of subjects holding a slot on the instance: after
	// the reservation for Verify, as it stands (without this request) for
	// Check.
	Used  int
	Limit int // the instance's subject limit
	// Retry is true if the code was already reserved for the subject
	// before this call, so nothing changed.
	Retry bool
	// Application identifies the application the code is reserved for:
	// an opaque value, new for every reservation and the same for every
	// retry of it. Release, Complete and Withdraw name the application
	// by it. Check reports it only for a code already reserved for the
	// same application.
	Application string
}

// Verify verifies the product of a filing application and, if it passes,
// reserves the subject's slot on the product and binds the service code to
// the subject. It checks, in this order, stopping at the first failure:
//
//  1. the selected product type can be filed (ErrInvalidProduct);
//  2. the service code is well formed and exists (ErrServiceCodeInvalid);
//  3. the selected type is the type of the code's instance (ErrInvalidProduct);
//  4. the code was issued or granted to the account, is not revoked, its
//     instance has not expired or been released, and no other subject uses
//     it (ErrServiceCodeInvalid);
//  5. the instance has a free subject slot (ErrQuotaReached).
//
// A refusal is an *Error; any other error is a store's, wrapped. Verifying
// the same request again succeeds with Result.Retry set and takes no second
// slot.
func (v *Verifier) Verify(ctx context.Context, req Request) (Result, error) {
	return v.verifyOp(ctx, OpVerify, req)
}

// Check runs the checks of Verify and reserves nothing, as for a form's live
// validation. A Check that passes does not promise that a Verify will: the
// last slot may be taken in between.
func (v *Verifier) Check(ctx context.Context, req Request) (Result, error) {
	return v.verifyOp(ctx, OpCheck, req)
}

// verifyOp runs Verify or Check as an operation with its Decision.
func (v *Verifier) verifyOp(ctx context.Context, op Op, req Request) (Result, error) {
	ctx, start, err := v.begin(ctx, op)
	if err != nil {
		return Result{}, err
	}
	res, err := v.verify(ctx, op == OpVerify, &req, start)
	if v.obs.End == nil {
		return res, err
	}
	d := Decision{Op: op, Account: req.Account, Subject: req.Subject, Product: req.Product,
		code: req.ServiceCode, Instance: res.Instance, Used: res.Used, Limit: res.Limit, Application: res.Application}
	if res.ServiceCode != "" {
		d.code = res.ServiceCode
	}
	return res, v.end(ctx, &d, start, err)
}

// verify runs the stages of Verify (reserve) or Check: validate the
// request, read the code, check the code and its instance, take or peek at
// the subject's slot, confirm a new reservation, and conclude.
func (v *Verifier) verify(ctx context.Context, reserve bool, req *Request, now time.Time) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	r, pol, e := v.validate(req)
	if e != nil {
		return Result{}, e
	}
	r.ReservedAt = now
	var rec CodeRecord
	outcome, err := v.readCode(ctx, reserve, &r, &rec, req.Product, pol, now)
	if errors.Is(err, ErrNotFound) {
		return Result{}, unknownCode(req.Product, "", "")
	}
	if err != nil {
		return Result{}, err
	}
	if e := checkCode(req, &rec, pol, now); e != nil {
		if outcome == Reserved {
			r.Instance = rec.Code.Instance
			return Result{}, v.undoReserve(ctx, r, e)
		}
		return Result{}, v.offerAlternatives(ctx, e, *req, now)
	}
	r.Instance = rec.Instance.ID
	used := rec.Used
	if outcome == 0 {
		outcome, used, err = v.takeSlot(ctx, reserve, &r, &rec, pol.SubjectLimit)
		if err != nil {
			return Result{}, err
		}
	}
	if reserve && outcome == Reserved {
		if err := v.confirm(ctx, req, r, pol, now); err != nil {
			return Result{}, err
		}
	}
	res := Result{Instance: r.Instance, Product: rec.Instance.Product, ServiceCode: r.Code,
		Subject: req.Subject, Used: used, Limit: pol.SubjectLimit, Application: r.Application}
	return v.conclude(ctx, outcome, res, req, &rec, now)
}

// validate checks what can be checked of a request offline, in the order
// of Verify, and returns the reservation it asks for, without its instance
// and time, and the policy of the selected product type.
func (v *Verifier) validate(req *Request) (Reservation, Policy, *Error) {
	pol := v.policy(req.Product)
	if !pol.fileable() {
		return Reservation{}, pol, &Error{Err: ErrInvalidProduct, Reason: ReasonProductNotFileable, Selected: req.Product}
	}
	code, ok := v.format.Normalize(req.ServiceCode)
	if !ok {
		return Reservation{}, pol, &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed, Selected: req.Product}
	}
	if e := checkField("account", req.Account); e != nil {
		return Reservation{}, pol, e
	}
	key, e := subjectKeyOf(req, pol)
	if e != nil {
		return Reservation{}, pol, e
	}
	site, e := websiteOf(req)
	if e != nil {
		return Reservation{}, pol, e
	}
	return Reservation{Code: code, Account: req.Account, Subject: req.Subject, SubjectKey: key, Website: site}, pol, nil
}

// readCode reads the service code of r into rec, as lookupCode does. For
// a Verify (reserve) through a CodeReserver it reserves the code for r in
// the same call, where the rules of pol allow it for the selected product
// now, as far as stored data tells, and reports what that did; otherwise,
// and when it reserved nothing, the outcome is 0.
func (v *Verifier) readCode(ctx context.Context, reserve bool, r *Reservation, rec *CodeRecord, product ProductType, pol Policy, now time.Time) (Outcome, error) {
	if !reserve || v.reserver == nil {
		return 0, v.lookupCode(ctx, r.Code, rec)
	}
	app, err := v.newApplication()
	if err != nil {
		return 0, err
	}
	r.Application = app
	var outcome Outcome
	*rec, outcome, err = v.reserver.ReserveServiceCode(ctx, *r, pol.SubjectLimit, guardOf(product, pol, now))
	if errors.Is(err, ErrNotFound) {
		*rec = CodeRecord{}
		return 0, err
	}
	if err != nil {
		*rec = CodeRecord{}
		return 0, storeFailure("reserving a service code", err)
	}
	return outcome, nil
}

// guardOf returns what a CodeReserver checks for a request selecting
// product under pol at now: what checkCode refuses, as far as stored data
// tells.
func guardOf(product ProductType, pol Policy, now time.Time) ReserveGuard {
	g := ReserveGuard{Product: product, ExpiresAfter: now, PublicIP: pol.PublicIPRequired}
	if pol.MinRemaining > 0 {
		g.ExpiresAfter = now.Add(pol.MinRemaining)
	}
	if pol.CodeTTL > 0 {
		g.IssuedAfter = now.Add(-pol.CodeTTL)
	}
	return g
}

// confirm reads the code of the reservation r, just made for req, once
// more, and releases r if the rules no longer allow it: a revocation, a
// withdrawn grant or a change of the instance that the first read did not
// see. Whoever made that change wrote it before reading the code's
// reservation, and the Verifier writes the reservation before this read,
// so on stores that keep the contract of QuotaStore.Reserve one of the two
// sees the other, and no reservation outlives the change. It returns the
// refusal, or a store's failure to read or release.
func (v *Verifier) confirm(ctx context.Context, req *Request, r Reservation, pol Policy, now time.Time) error {
	var rec CodeRecord
	err := v.lookupCode(ctx, r.Code, &rec)
	switch {
	case errors.Is(err, ErrNotFound):
		return v.undoReserve(ctx, r, unknownCode(req.Product, "", ""))
	case err != nil:
		if _, rerr := v.quotas.Release(ctx, r); rerr != nil && !errors.Is(rerr, ErrNotFound) {
			return fmt.Errorf("%w (and releasing the reservation it could not confirm: %v)", err, rerr)
		}
		return err
	}
	if e := checkCode(req, &rec, pol, now); e != nil {
		return v.undoReserve(ctx, r, e)
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

// lookupCode reads a service code and its instance into rec, the zero
// Instance if the inventory does not hold it; a missing code is
// ErrNotFound. Through a CodeReserver (one store holding the inventory and
// the reservations) it reads the code's reservation too, in one call.
//
// A code that does not exist costs the same reads as one that does, an
// instance's included, so that how long a refusal takes tells a stranger
// nothing.
func (v *Verifier) lookupCode(ctx context.Context, code string, rec *CodeRecord) error {
	var err error
	if v.reserver != nil {
		*rec, err = v.reserver.LookupServiceCode(ctx, code)
		switch {
		case errors.Is(err, ErrNotFound):
			*rec = CodeRecord{}
			return err
		case err != nil:
			*rec = CodeRecord{}
			return fmt.Errorf("icpverify: looking up service code: %w", err)
		}
		return nil
	}
	rec.Code, err = v.instances.ServiceCode(ctx, code)
	if errors.Is(err, ErrNotFound) {
		_, _ = v.instances.Instance(ctx, code) // as long as for a code that exists
		return err
	}
	if err != nil {
		return fmt.Errorf("icpverify: looking up service code: %w", err)
	}
	rec.Instance, err = v.instances.Instance(ctx, rec.Code.Instance)
	if errors.Is(err, ErrNotFound) {
		rec.Instance = Instance{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("icpverify: looking up instance: %w", err)
	}
	return nil
}

// checkCode returns why the code read in rec may not serve req now, or nil.
// A code that is neither the applicant's nor granted to them is refused as
// if it did not exist, before anything about its instance is told. Then the
// selected type must be its instance's, and the code must be valid.
func checkCode(req *Request, rec *CodeRecord, pol Policy, now time.Time) *Error {
	sc, inst := rec.Code, rec.Instance
	if !entitled(req.Account, sc, inst) {
		return unknownCode(req.Product, ReasonCodeNotOwned, sc.Instance)
	}
	if inst.ID != "" && inst.Product != req.Product {
		return &Error{Err: ErrInvalidProduct, Reason: ReasonProductMismatch, Instance: inst.ID,
			Selected: req.Product, Actual: inst.Product}
	}
	if e := valid(sc, inst, pol, now); e != nil {
		e.Selected = req.Product
		return e
	}
	return nil
}

// conclude turns the outcome of taking the slot into the Result, or into
// the refusal of a full instance or of a code another subject uses.
func (v *Verifier) conclude(ctx context.Context, outcome Outcome, res Result, req *Request, rec *CodeRecord, now time.Time) (Result, error) {
	switch outcome {
	case Reserved:
		return res, nil
	case Held:
		res.Retry = true
		return res, nil
	case Full:
		e := &Error{Err: ErrQuotaReached, Reason: ReasonQuotaReached, Instance: res.Instance,
			Selected: req.Product, Actual: res.Product, Used: res.Used, Limit: res.Limit}
		return Result{}, v.offerAlternatives(ctx, e, *req, now)
	case Taken:
		return Result{}, &Error{Err: ErrServiceCodeInvalid, Reason: v.takenReason(ctx, res.ServiceCode, rec),
			Instance: res.Instance, Selected: req.Product, Actual: res.Product}
	}
	return Result{}, fmt.Errorf("icpverify: reserving a subject slot: store returned unknown outcome %d", outcome)
}
