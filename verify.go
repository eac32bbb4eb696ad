package icpverify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"reflect"
	"time"
	"unicode/utf8"
)

// maxField bounds the length in bytes of an account, subject or instance ID.
const maxField = 256

// Request is what an applicant submits for product verification.
type Request struct {
	Product     ProductType // the product type the applicant selected
	ServiceCode string      // the ICP filing service code, as typed
	Account     string      // the applicant's account
	Subject     string      // the filing subject: the entity the websites are filed for
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
}

// Verifier verifies the product behind ICP filing applications. Its methods
// are safe for concurrent use; the quota holds across every Verifier and
// process that shares its QuotaStore.
type Verifier struct {
	instances InstanceStore
	quotas    QuotaStore
	now       func() time.Time
	mainland  func(region string) bool
	policies  map[ProductType]Policy
	rand      io.Reader
	obs       *observerQueue // nil without an Observer
	lookup    CodeLookup     // instances, if it is one
	shared    bool           // instances and quotas are one store
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithClock sets the clock the Verifier reads to decide whether an instance
// has expired and to stamp codes and reservations. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// WithPolicy sets the policy of a product type, replacing its DefaultPolicy.
// A policy with a positive SubjectLimit and CodeLimit makes any type
// fileable; the zero Policy makes it not fileable.
func WithPolicy(p ProductType, pol Policy) Option {
	return func(v *Verifier) { v.policies[p] = pol }
}

// WithMainland sets the test of Policy.MainlandOnly, for a provider whose
// region IDs differ from the default Mainland.
func WithMainland(mainland func(region string) bool) Option {
	return func(v *Verifier) {
		if mainland != nil {
			v.mainland = mainland
		}
	}
}

// New returns a Verifier that reads instances and service codes from
// instances and keeps reservations in quotas. One MemoryStore can serve as
// both. A Verifier with an Observer (WithObserver) runs a goroutine until
// Close.
func New(instances InstanceStore, quotas QuotaStore, opts ...Option) *Verifier {
	v := &Verifier{
		instances: instances,
		quotas:    quotas,
		now:       time.Now,
		mainland:  Mainland,
		rand:      rand.Reader,
		policies: map[ProductType]Policy{
			ProductECS:                     DefaultPolicy(ProductECS),
			ProductSimpleApplicationServer: DefaultPolicy(ProductSimpleApplicationServer),
		},
	}
	for _, o := range opts {
		if o != nil {
			o(v)
		}
	}
	v.lookup, _ = instances.(CodeLookup)
	v.shared = sameStore(instances, quotas)
	return v
}

// sameStore reports whether a and b are the same store.
func sameStore(a InstanceStore, b QuotaStore) bool {
	if a == nil || b == nil {
		return false
	}
	t := reflect.TypeOf(a)
	return t == reflect.TypeOf(b) && t.Comparable() && any(a) == any(b)
}

// policy returns the policy of a product type.
func (v *Verifier) policy(p ProductType) Policy { return v.policies[p] }

// expired reports whether inst's paid term has ended by now.
func expired(inst Instance, now time.Time) bool {
	return !inst.ExpiresAt.IsZero() && !now.Before(inst.ExpiresAt)
}

// errNoStore is returned by a Verifier built without its stores.
var errNoStore = errors.New("icpverify: Verifier has no InstanceStore or QuotaStore")

// usable returns an error if v lacks its stores.
func (v *Verifier) usable() error {
	if v == nil || v.instances == nil || v.quotas == nil {
		return errNoStore
	}
	return nil
}

// ready returns an error if v cannot serve a call now.
func (v *Verifier) ready(ctx context.Context) error {
	if err := v.usable(); err != nil {
		return err
	}
	return ctx.Err()
}

// checkField returns an *Error if a required text field is empty, longer
// than maxField bytes or not valid UTF-8.
func checkField(name, s string) *Error {
	if s == "" || len(s) > maxField || !utf8.ValidString(s) {
		return &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: name}
	}
	return nil
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
	return v.verifyObserved(ctx, OpVerify, req)
}

// Check runs the checks of Verify and reserves nothing, as for a form's live
// validation. A Check that passes does not promise that a Verify will: the
// last slot may be taken in between.
func (v *Verifier) Check(ctx context.Context, req Request) (Result, error) {
	return v.verifyObserved(ctx, OpCheck, req)
}

// verifyObserved runs Verify or Check and reports its Decision.
func (v *Verifier) verifyObserved(ctx context.Context, op Op, req Request) (Result, error) {
	if err := v.usable(); err != nil {
		return Result{}, err
	}
	now := v.now()
	res, err := v.verify(ctx, req, op == OpVerify, now)
	if v.obs != nil {
		r := record{code: req.ServiceCode, Decision: Decision{Op: op, Account: req.Account, Subject: req.Subject,
			Instance: res.Instance, Product: req.Product, Used: res.Used, Limit: res.Limit}}
		v.observe(&r, now, err)
	}
	return res, err
}

func (v *Verifier) verify(ctx context.Context, req Request, reserve bool, now time.Time) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	pol := v.policy(req.Product)
	if !pol.fileable() {
		return Result{}, &Error{Err: ErrInvalidProduct, Reason: ReasonProductNotFileable, Selected: req.Product}
	}
	code, ok := NormalizeServiceCode(req.ServiceCode)
	if !ok {
		return Result{}, &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed, Selected: req.Product}
	}
	if e := checkField("account", req.Account); e != nil {
		return Result{}, e
	}
	if e := checkField("subject", req.Subject); e != nil {
		return Result{}, e
	}

	rec, err := v.lookupCode(ctx, code)
	sc, inst := rec.Code, rec.Instance
	if errors.Is(err, ErrNotFound) {
		return Result{}, &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeNotFound, Selected: req.Product}
	}
	if err != nil {
		return Result{}, err
	}
	if inst.ID == "" {
		// The inventory forgets released instances.
		return Result{}, &Error{Err: ErrServiceCodeInvalid, Reason: ReasonInstanceReleased, Instance: sc.Instance, Selected: req.Product}
	}
	refuse := func(sentinel error, r Reason) *Error {
		return &Error{Err: sentinel, Reason: r, Instance: inst.ID, Selected: req.Product, Actual: inst.Product}
	}
	entitled := req.Account == sc.Owner || req.Account == sc.Grantee
	switch {
	case inst.Product != req.Product && !entitled:
		// Tell a stranger to the code nothing of its instance.
		return Result{}, &Error{Err: ErrInvalidProduct, Reason: ReasonProductMismatch, Selected: req.Product}
	case inst.Product != req.Product:
		return Result{}, refuse(ErrInvalidProduct, ReasonProductMismatch)
	case !entitled:
		return Result{}, refuse(ErrServiceCodeInvalid, ReasonCodeNotOwned)
	case sc.Revoked:
		return Result{}, refuse(ErrServiceCodeInvalid, ReasonCodeRevoked)
	case inst.Status == Released:
		e := refuse(ErrServiceCodeInvalid, ReasonInstanceReleased)
		e.Alternatives = v.alternatives(ctx, req, inst.ID, now)
		return Result{}, e
	case expired(inst, now):
		e := refuse(ErrServiceCodeInvalid, ReasonInstanceExpired)
		e.ExpiresAt = inst.ExpiresAt
		e.Alternatives = v.alternatives(ctx, req, inst.ID, now)
		return Result{}, e
	}

	res := Result{Instance: inst.ID, Product: inst.Product, ServiceCode: code, Subject: req.Subject, Limit: pol.SubjectLimit}
	var outcome Outcome
	if known := rec.Reservation; v.shared && known.Code == code {
		// The store read the code's reservation with the code: a retry,
		// or a code someone else uses, needs no more.
		outcome, res.Used = settled(known, inst.ID, req.Subject), rec.Used
		if outcome == Taken {
			return Result{}, refuse(ErrServiceCodeInvalid, takenReason(known))
		}
	} else if reserve {
		r := Reservation{Code: code, Instance: inst.ID, Account: req.Account, Subject: req.Subject, ReservedAt: now}
		outcome, res.Used, err = v.quotas.Reserve(ctx, r, pol.SubjectLimit)
		if err != nil {
			return Result{}, fmt.Errorf("icpverify: reserving a subject slot: %w", err)
		}
	} else {
		outcome, res.Used, err = v.peek(ctx, code, inst.ID, req.Subject, pol.SubjectLimit)
		if err != nil {
			return Result{}, err
		}
	}
	switch outcome {
	case Reserved:
	case Held:
		res.Retry = true
	case Full:
		e := refuse(ErrQuotaReached, ReasonQuotaReached)
		e.Used, e.Limit = res.Used, pol.SubjectLimit
		e.Alternatives = v.alternatives(ctx, req, inst.ID, now)
		return Result{}, e
	case Taken:
		return Result{}, refuse(ErrServiceCodeInvalid, v.takenReasonOf(ctx, code))
	default:
		return Result{}, fmt.Errorf("icpverify: reserving a subject slot: store returned unknown outcome %d", outcome)
	}
	return res, nil
}

// lookupCode reads a service code and its instance: the zero Instance if it
// does not exist. A missing code is ErrNotFound. The code's reservation is
// read too if the InstanceStore is a CodeLookup that keeps them.
func (v *Verifier) lookupCode(ctx context.Context, code string) (CodeRecord, error) {
	if v.lookup != nil {
		rec, err := v.lookup.LookupServiceCode(ctx, code)
		if err != nil && !errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("icpverify: looking up service code: %w", err)
		}
		return rec, err
	}
	sc, err := v.instances.ServiceCode(ctx, code)
	if errors.Is(err, ErrNotFound) {
		return CodeRecord{}, err
	}
	if err != nil {
		return CodeRecord{}, fmt.Errorf("icpverify: looking up service code: %w", err)
	}
	inst, err := v.instances.Instance(ctx, sc.Instance)
	if errors.Is(err, ErrNotFound) {
		return CodeRecord{Code: sc}, nil
	}
	if err != nil {
		return CodeRecord{}, fmt.Errorf("icpverify: looking up instance: %w", err)
	}
	return CodeRecord{Code: sc, Instance: inst}, nil
}

// settled is what reserving a code does for subject on instance when the
// code has the reservation r already: Held for the same subject, Taken if
// it serves another one or its filing is complete.
func settled(r Reservation, instance, subject string) Outcome {
	if r.Filed || r.Subject != subject || r.Instance != instance {
		return Taken
	}
	return Held
}

// peek tells what Reserve would do, changing nothing.
func (v *Verifier) peek(ctx context.Context, code, instance, subject string, limit int) (Outcome, int, error) {
	r, err := v.quotas.Reservation(ctx, code)
	switch {
	case err == nil && (r.Filed || r.Subject != subject):
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
// filing is complete.
func takenReason(r Reservation) Reason {
	if r.Filed {
		return ReasonCodeUsed
	}
	return ReasonCodeInUse
}

// takenReasonOf reads the code's reservation for takenReason. It runs only
// on that refusal.
func (v *Verifier) takenReasonOf(ctx context.Context, code string) Reason {
	r, _ := v.quotas.Reservation(ctx, code)
	return takenReason(r)
}

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
	return v.settle(ctx, OpRelease, code, QuotaStore.Release)
}

// Complete marks the filing that uses a code as approved: the code is used
// for good and its subject keeps the slot. Completing twice is not an error.
// A code that holds no reservation gets an *Error wrapping ErrNotFound with
// ReasonNotReserved.
func (v *Verifier) Complete(ctx context.Context, code string) error {
	return v.settle(ctx, OpComplete, code, QuotaStore.Complete)
}

// settle runs Release or Complete on the quota store and reports its
// Decision.
func (v *Verifier) settle(ctx context.Context, op Op, code string, do func(QuotaStore, context.Context, string) (Reservation, error)) error {
	if err := v.usable(); err != nil {
		return err
	}
	now := v.now()
	r, err := v.settleCode(ctx, op, code, do)
	if v.obs != nil {
		rec := record{code: code, Decision: Decision{Op: op, Account: r.Account, Subject: r.Subject, Instance: r.Instance}}
		v.observe(&rec, now, err)
	}
	return err
}

// settleCode runs Release or Complete on the reservation of a typed code.
func (v *Verifier) settleCode(ctx context.Context, op Op, code string, do func(QuotaStore, context.Context, string) (Reservation, error)) (Reservation, error) {
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
