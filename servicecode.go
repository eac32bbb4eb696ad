package icpverify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
)

// readCode is the stage of verify that reads a's service code into a.rec
// and checks it against the rules, noting a refusal in a.refusal. A
// Verify through a CodeReserver reserves the code in the same call, where
// the rules allow it as far as stored data tells, and notes what that did
// in a.outcome. A code that does not exist is refused as one that is not
// the applicant's.
func (v *Verifier) readCode(ctx context.Context, a *attempt) error {
	var err error
	if a.reserve && v.reserver != nil && v.oneCall(&a.pol) {
		a.rec, a.outcome, err = v.reserver.ReserveServiceCode(ctx, a.r, a.pol.SubjectLimit, guardOf(a.req.Product, &a.pol, a.now))
		if err != nil && !errors.Is(err, ErrNotFound) {
			err = storeFailure("reserving a service code", err)
		}
	} else {
		err = v.lookupCode(ctx, a.r.Code, &a.rec)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		a.rec, a.outcome = CodeRecord{}, 0
		a.refusal = unknownCode(a.req.Product, "", "")
		return nil
	case err != nil:
		a.rec, a.outcome = CodeRecord{}, 0
		return err
	}
	a.r.Instance = a.rec.Code.Instance
	a.refusal = v.checkCode(&a.req, &a.rec, &a.pol, a.now)
	return nil
}

// guardOf returns what a CodeReserver checks for a request selecting
// product under pol at now: what checkCode refuses, as far as stored data
// tells.
func guardOf(product ProductType, pol *Policy, now time.Time) ReserveGuard {
	g := ReserveGuard{Product: product, ExpiresAfter: now, PublicIP: pol.PublicIPRequired}
	if pol.MinRemaining > 0 {
		g.ExpiresAfter = now.Add(pol.MinRemaining)
	}
	if pol.CodeTTL > 0 {
		g.IssuedAfter = now.Add(-pol.CodeTTL)
	}
	return g
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
func (v *Verifier) checkCode(req *Request, rec *CodeRecord, pol *Policy, now time.Time) *Error {
	sc, inst := &rec.Code, &rec.Instance
	if !v.mayUse(req.Account, sc, inst) {
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

// issueAttempts bounds the draws of a fresh code when the store already
// holds the one drawn.
const issueAttempts = 3

// IssueServiceCode issues a new ICP filing service code from an instance, for
// the account that owns it; another account's instance is refused as one
// that does not exist (ReasonInstanceNotFound). The instance must be
// eligible under its product type's Policy: fileable, a subscription of at least the
// minimum term, in a mainland region, with a public IP, running, unexpired
// and not a trial. A refusal is an *Error wrapping ErrInvalidProduct with
// its Reason; an instance that has issued its Policy.CodeLimit codes gets
// ErrQuotaReached with ReasonCodeLimit. It returns the code in canonical
// form.
func (v *Verifier) IssueServiceCode(ctx context.Context, instanceID, account string) (string, error) {
	return v.IssueServiceCodeTo(ctx, instanceID, account, "")
}

// IssueServiceCodeTo issues a code as IssueServiceCode does, granted to the
// grantee account from the start, as a provider whose codes are granted at
// issue (GrantAtIssue) does; an empty grantee, or the account itself,
// grants it to no one. A grant to another account is refused for a product
// type whose Policy is OwnerOnly (ReasonNotGrantable) and where the
// Profile's MayIssue says no (ReasonGrantNotAllowed).
func (v *Verifier) IssueServiceCodeTo(ctx context.Context, instanceID, account, grantee string) (string, error) {
	ctx, start, err := v.begin(ctx, OpIssue)
	if err != nil {
		return "", err
	}
	d := Decision{Op: OpIssue, Account: account, Instance: instanceID, Grantee: grantee}
	code, err := v.issue(ctx, instanceID, account, grantee, start, &d)
	d.code = code
	return code, v.end(ctx, &d, start, err)
}

// issue issues a code, granted to grantee unless it is empty or account;
// it notes the instance's product type in d.
func (v *Verifier) issue(ctx context.Context, instanceID, account, grantee string, now time.Time, d *Decision) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if e := checkField("instance", instanceID); e != nil {
		return "", e
	}
	if e := checkField("account", account); e != nil {
		return "", e
	}
	if grantee == account {
		grantee = ""
	}
	if grantee != "" {
		if e := checkField("grantee", grantee); e != nil {
			return "", e
		}
	}
	inst, err := v.instances.Instance(ctx, instanceID)
	if errors.Is(err, ErrNotFound) {
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInstanceNotFound, Instance: instanceID}
	}
	if err != nil {
		return "", fmt.Errorf("icpverify: looking up instance: %w", err)
	}
	if inst.Account != account {
		// Another account's instance is refused as one that does not
		// exist.
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInstanceNotFound, Instance: instanceID,
			cause: ReasonNotInstanceOwner, causeInstance: instanceID}
	}
	d.Product = inst.Product
	pol := v.policy(inst.Product)
	if e := v.eligible(inst, account, pol, now); e != nil {
		return "", e
	}
	if err := v.mayGrant(ctx, inst, &pol, account, grantee); err != nil {
		return "", err
	}
	return v.addCode(ctx, inst, pol, grantee, now)
}

// mayGrant returns why the owner of inst, whose product type has the
// policy pol, may not issue a code to grantee or grant one to it (grantee
// is empty, or owner, for the owner's own use), as an *Error, or a
// failure of the Profile's MayIssue; nil if it may.
func (v *Verifier) mayGrant(ctx context.Context, inst Instance, pol *Policy, owner, grantee string) error {
	if grantee != "" && grantee != owner && pol.OwnerOnly {
		return &Error{Err: ErrInvalidProduct, Reason: ReasonNotGrantable, Instance: inst.ID, Actual: inst.Product}
	}
	if v.profile.MayIssue == nil {
		return nil
	}
	ok, err := v.profile.MayIssue(ctx, owner, cmp.Or(grantee, owner))
	if err != nil {
		return storeFailure("asking whether the account may issue codes", err)
	}
	if !ok {
		return &Error{Err: ErrInvalidProduct, Reason: ReasonGrantNotAllowed, Instance: inst.ID, Actual: inst.Product}
	}
	return nil
}

// addCode stores a fresh code for an eligible instance, drawing again if
// the store holds the one drawn.
func (v *Verifier) addCode(ctx context.Context, inst Instance, pol Policy, grantee string, now time.Time) (string, error) {
	for range issueAttempts {
		code, err := v.format.New(v.rand)
		if err != nil {
			return "", fmt.Errorf("icpverify: drawing a service code: %w", err)
		}
		sc := ServiceCode{Code: code, Instance: inst.ID, Owner: inst.Account, Grantee: grantee, IssuedAt: now}
		issued, added, err := v.instances.AddServiceCode(ctx, sc, pol.CodeLimit)
		switch {
		case errors.Is(err, ErrExists):
			continue
		case errors.Is(err, ErrNotFound):
			return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInstanceNotFound, Instance: inst.ID}
		case err != nil:
			return "", fmt.Errorf("icpverify: storing a service code: %w", err)
		case !added:
			return "", &Error{Err: ErrQuotaReached, Reason: ReasonCodeLimit, Instance: inst.ID,
				Actual: inst.Product, Used: issued, Limit: pol.CodeLimit}
		}
		return code, nil
	}
	return "", fmt.Errorf("icpverify: storing a service code: %d draws all existed: %w", issueAttempts, ErrExists)
}

// GrantServiceCode lets the grantee account use a code, as when a code is
// handed to the company that files the website; an empty grantee withdraws
// the grant. owner must own the code's instance now; otherwise the code is
// refused as if it did not exist (ReasonCodeNotFound). A code that is no
// longer valid (revoked, expired, or its instance released, expired,
// stopped or without a public IP) cannot be granted. A reservation that the
// former grantee holds, unfiled, is released, as no one entitled to the
// code holds it any more.
//
// Under a Profile whose Grant is GrantAtIssue, a code's grant never
// changes: GrantServiceCode is refused with ReasonGrantFixed, and
// IssueServiceCodeTo names the grantee. A product type whose Policy is
// OwnerOnly grants to no one (ReasonNotGrantable), and the Profile's
// MayIssue may refuse a grantee (ReasonGrantNotAllowed).
func (v *Verifier) GrantServiceCode(ctx context.Context, code, owner, grantee string) error {
	op := OpGrant
	if grantee == "" {
		op = OpUngrant
	}
	ctx, start, err := v.begin(ctx, op)
	if err != nil {
		return err
	}
	d := Decision{Op: op, Account: owner, Grantee: grantee, code: code}
	return v.end(ctx, &d, start, v.grant(ctx, code, owner, grantee, start, &d))
}

// grant grants a code or withdraws its grant; it notes the code's instance
// in d.
func (v *Verifier) grant(ctx context.Context, code, owner, grantee string, now time.Time, d *Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, ok := v.format.Normalize(code)
	if !ok {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed}
	}
	if e := checkField("owner", owner); e != nil {
		return e
	}
	if grantee != "" {
		if e := checkField("grantee", grantee); e != nil {
			return e
		}
	}
	var rec CodeRecord
	err := v.lookupCode(ctx, c, &rec)
	if errors.Is(err, ErrNotFound) {
		return unknownCode("", "", "")
	}
	if err != nil {
		return err
	}
	sc, inst := rec.Code, rec.Instance
	d.Instance = sc.Instance
	if grantee == "" && owner == ownerOf(sc, inst) && sc.Owner == owner {
		d.Grantee = sc.Grantee // the grant withdrawn
	}
	if owner != ownerOf(sc, inst) {
		return unknownCode("", ReasonCodeNotOwned, sc.Instance)
	}
	if v.profile.Grant == GrantAtIssue {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonGrantFixed, Instance: sc.Instance, Actual: inst.Product}
	}
	pol := v.policy(inst.Product)
	if grantee != "" {
		if e := valid(&sc, &inst, &pol, now); e != nil {
			return e
		}
		if err := v.mayGrant(ctx, inst, &pol, owner, grantee); err != nil {
			return err
		}
	}
	if err := v.instances.GrantServiceCode(ctx, c, owner, grantee); err != nil {
		return storeFailure("granting service code", err)
	}
	return v.releaseUnentitled(ctx, rec, owner, grantee)
}

// releaseUnentitled releases the unfiled reservation of the code read in
// rec if its account is neither the owner, who acts, nor the grantee.
func (v *Verifier) releaseUnentitled(ctx context.Context, rec CodeRecord, owner, grantee string) error {
	r, err := v.reservationOf(ctx, rec.Code.Code)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	case r.Filed || r.Account == owner || r.Account == grantee:
		return nil
	}
	_, err = v.releaseFor(ctx, owner, r, ReasonCodeNotOwned)
	return err
}

// RevokeServiceCode invalidates a code for good, as the provider does: it
// can no longer be verified, granted or completed. Its unfiled reservation,
// if any, is released; a filed one stays, as the filing was approved. A code
// that does not exist gets an *Error with ReasonCodeNotFound. Like Release,
// it is the provider's action: never expose it to applicants.
func (v *Verifier) RevokeServiceCode(ctx context.Context, code string) error {
	ctx, start, err := v.begin(ctx, OpRevoke)
	if err != nil {
		return err
	}
	d := Decision{Op: OpRevoke, code: code}
	return v.end(ctx, &d, start, v.revoke(ctx, code, &d))
}

// revoke revokes a code and releases its unfiled reservation.
func (v *Verifier) revoke(ctx context.Context, code string, d *Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, ok := v.format.Normalize(code)
	if !ok {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed}
	}
	err := v.instances.RevokeServiceCode(ctx, c)
	if errors.Is(err, ErrNotFound) {
		return unknownCode("", "", "")
	}
	if err != nil {
		return fmt.Errorf("icpverify: revoking service code: %w", err)
	}
	r, err := v.reservationOf(ctx, c)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	d.Holder, d.Subject, d.Instance, d.Application = r.Account, r.Subject, r.Instance, r.Application
	if r.Filed {
		return nil
	}
	_, err = v.releaseFor(ctx, "", r, ReasonCodeRevoked)
	return err
}

// reservationOf reads the reservation of a code, once its code was
// written: a code without one is ErrNotFound.
func (v *Verifier) reservationOf(ctx context.Context, code string) (Reservation, error) {
	r, err := v.quotas.Reservation(ctx, code)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Reservation{}, fmt.Errorf("icpverify: looking up reservation: %w", err)
	}
	return r, err
}
