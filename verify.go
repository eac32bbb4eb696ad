package icpverify

import (
	"context"
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
//  5. the instance has a free subject slot, and each limit that the
//     Policy and the Profile set (websites per instance, IP, account or
//     subject; subjects per account; accounts per subject; filings in
//     progress) has a free place (ErrQuotaReached, with a Reason for each).
//
// A refusal is an *Error; any other error is a store's, wrapped. Verifying
// the same request again succeeds with Result.Retry set and takes no second
// slot.
func (v *Verifier) Verify(ctx context.Context, req Request) (Result, error) {
	return v.verifyOp(ctx, OpVerify, req)
}

// Check runs the checks of Verify and reserves nothing, as for a form's live
// validation. A Check that passes does not promise that a Verify will: the
// last slot, or the last place of a limit, may be taken in between.
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

// attempt is one Verify or Check on its way through the stages of verify,
// each of which reads what the ones before it noted and notes its own.
type attempt struct {
	req     Request
	reserve bool      // a Verify, which reserves; otherwise a Check
	now     time.Time // when it began, by the Verifier's clock
	pol     Policy    // the policy of the selected product type
	r       Reservation
	rec     CodeRecord // the code as read
	outcome Outcome    // what reserving did or would do; 0 before
	used    int        // subjects holding a slot on the instance
	refusal *Error     // why the rules refuse the code, if they do
}

// verify runs the stages of Verify (reserve) or Check, each in the file
// that follows this one, in the order the files are read: validate the
// request (here and identity.go); draw the application's identity
// (application.go); read the code and check it against the rules
// (servicecode.go); take or peek at the subject's slot and confirm a new
// reservation (quota.go); conclude, offering alternatives with a refusal
// (quota.go, alternatives.go).
func (v *Verifier) verify(ctx context.Context, reserve bool, req *Request, now time.Time) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	a := attempt{req: *req, reserve: reserve, now: now}
	if e := v.validate(&a); e != nil {
		return Result{}, e
	}
	if reserve {
		app, err := v.newApplication()
		if err != nil {
			return Result{}, err
		}
		a.r.Application = app
	}
	if err := v.readCode(ctx, &a); err != nil {
		return Result{}, err
	}
	if err := v.takeSlot(ctx, &a); err != nil {
		return Result{}, err
	}
	return v.conclude(ctx, &a)
}

// validate checks what can be checked of a's request offline, in the order
// of Verify, and notes the policy of its product type and the reservation
// it asks for, without its instance.
func (v *Verifier) validate(a *attempt) *Error {
	req := &a.req
	a.pol = v.policy(req.Product)
	if !a.pol.fileable() {
		return &Error{Err: ErrInvalidProduct, Reason: ReasonProductNotFileable, Selected: req.Product}
	}
	code, ok := v.format.Normalize(req.ServiceCode)
	if !ok {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed, Selected: req.Product}
	}
	if e := checkField("account", req.Account); e != nil {
		return e
	}
	key, e := subjectKeyOf(req, a.pol)
	if e != nil {
		return e
	}
	site, e := websiteOf(req)
	if e != nil {
		return e
	}
	a.r = Reservation{Code: code, Account: req.Account, Subject: req.Subject, SubjectKey: key,
		Website: site, ReservedAt: a.now}
	return nil
}
