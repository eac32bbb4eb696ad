package icpverify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CodeState is the state of a service code, as the provider's API reports
// it (GetBsnBySn, GetBsnByResource).
//
// The provider's API has five states: 0 unbound, 1 bound, 2 filed, 3
// invalid and 4 under review. In this library a code is bound to an
// application when Verify reserves it, which is when the application is
// submitted, and it stays so while the application is under review, until
// Complete files it or Release, Withdraw, a withdrawn grant or a
// revocation frees it. Bound and under review are therefore one state,
// CodeBound, and no constant stands for the provider's 4: nothing could
// produce it. A backend that must tell them apart keeps the review's
// progress itself.
type CodeState string

// The states of a service code. ProviderCode returns the provider's number
// of each.
const (
	// CodeUnbound: the code is valid and holds no reservation; it can be
	// used.
	CodeUnbound CodeState = "unbound"
	// CodeBound: the code is reserved for an application that is not yet
	// filed: it is under review.
	CodeBound CodeState = "bound"
	// CodeFiled: the code's filing was approved; the code is used for
	// good.
	CodeFiled CodeState = "filed"
	// CodeInvalid: the code can no longer serve a filing (see
	// CodeStatus.Invalid), whether it was bound or filed before or not.
	CodeInvalid CodeState = "invalid"
)

// ProviderCode returns the number the provider's API gives the state: 0
// unbound, 1 bound (which covers the provider's 4, under review), 2 filed
// and 3 invalid; -1 for a CodeState that is none of the constants.
func (s CodeState) ProviderCode() int {
	switch s {
	case CodeUnbound:
		return 0
	case CodeBound:
		return 1
	case CodeFiled:
		return 2
	case CodeInvalid:
		return 3
	}
	return -1
}

// CodeStatus is what the provider and the owner of a code's instance may
// know of the code: its state, who owns and may use it, and the application
// that uses it, if any.
type CodeStatus struct {
	Code     string      // the code in canonical form, unmasked
	State    CodeState   // see CodeState
	Instance string      // the instance the code was issued from
	Product  ProductType // the instance's product type; empty if the inventory no longer holds it
	// Owner is the account that owns the code's instance now, and so the
	// code: after the instance changes hands, its new owner.
	Owner string
	// Grantee is the account Owner granted the code to; empty if none. A
	// grant made by an earlier owner of the instance lapsed when the
	// instance changed hands, and is not shown.
	Grantee  string
	IssuedAt time.Time // when the code was issued
	// ExpiresAt is when the code stops being valid by time alone: the
	// earlier of the end of its Policy.CodeTTL and its instance's expiry;
	// the zero time if neither ends.
	ExpiresAt time.Time
	// Application, Applicant, Subject, SubjectKey and Website are the
	// application the code is reserved for, filed or not; empty if it
	// has none. Application is its identity (see Result.Application). An
	// invalid code may still hold a reservation: a filed one stays when
	// its code is revoked or its instance expires.
	Application string
	Applicant   string
	Subject     string // the subject's name, as the applicant gave it
	SubjectKey  string // the key the subject's slot is kept under (see subject.Key)
	Website     string
	ReservedAt  time.Time // when the reservation was made; zero without one
	Filed       bool      // the filing is complete: the code is used for good
	// Invalid is why the code cannot serve a filing now, as Verify would
	// refuse it, whatever its reservation: ReasonCodeRevoked,
	// ReasonCodeExpired (Policy.CodeTTL), ReasonInstanceReleased (also
	// when the inventory no longer holds the instance),
	// ReasonInstanceExpired, ReasonInstanceStopped, ReasonPublicIPRemoved
	// or ReasonRemainingTooShort. The first four are for good (but for a
	// renewed instance); the last three pass when the instance is started
	// again, gets a public IP back or is renewed. Empty while the code is
	// valid.
	Invalid Reason
}

// The operations of a Verifier that read codes' states, as a Decision
// names them.
const (
	OpStatus Op = "status" // ServiceCodeStatus
	OpCodes  Op = "codes"  // ServiceCodes
)

// ServiceCodeStatus returns the state of a service code, as the provider's
// GetBsnBySn does, by the Verifier's clock and the Policy of the code's
// instance's product type, with the rules of Verify: a code is invalid
// (CodeInvalid, with CodeStatus.Invalid) if Verify would refuse it for what
// it is, filed (CodeFiled) if its filing is complete, bound (CodeBound) if
// an unfiled application holds it, and unbound (CodeUnbound) otherwise.
//
// It takes no account and tells everything of the code, the applicant's
// application included: it is the provider's view, for support staff and
// for a console that has checked that its user owns the code's instance
// (CodeStatus.Owner) — never show it to anyone else, whom Verify tells
// nothing of a code that is not theirs. An owner's console lists its codes
// with ServiceCodes instead.
//
// A code that is not well formed gets an *Error wrapping
// ErrServiceCodeInvalid with ReasonCodeMalformed; one the inventory does
// not hold, ReasonCodeNotFound. Any other error is a store's, wrapped. With
// an observer (WithObserver) it reports a Decision with OpStatus and no Account.
func (v *Verifier) ServiceCodeStatus(ctx context.Context, code string) (CodeStatus, error) {
	ctx, start, err := v.begin(ctx, OpStatus)
	if err != nil {
		return CodeStatus{}, err
	}
	d := Decision{Op: OpStatus, code: code}
	st, err := v.codeStatus(ctx, code, start, &d)
	if st.Code != "" {
		d.code = st.Code
	}
	return st, v.end(ctx, &d, start, err)
}

// codeStatus reads the state of a code; it notes what it read in d.
func (v *Verifier) codeStatus(ctx context.Context, code string, now time.Time, d *Decision) (CodeStatus, error) {
	if err := ctx.Err(); err != nil {
		return CodeStatus{}, err
	}
	c, ok := v.format.Normalize(code)
	if !ok {
		return CodeStatus{}, &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed}
	}
	rec, err := v.statusRecord(ctx, c)
	if errors.Is(err, ErrNotFound) {
		return CodeStatus{}, unknownCode("", "", "")
	}
	if err != nil {
		return CodeStatus{}, err
	}
	st := statusOf(rec.Code, rec.Instance, rec.Reservation, v.policy(rec.Instance.Product), now)
	d.Instance, d.Product, d.Holder, d.Subject, d.Application = st.Instance, st.Product, st.Applicant, st.Subject, st.Application
	return st, nil
}

// statusRecord reads a code, its instance (zero if the inventory does not
// hold it) and its reservation (zero if it has none): from the CodeReserver,
// in one call, if the Verifier has one that holds the code, else from the
// InstanceStore and the QuotaStore. A missing code is ErrNotFound.
func (v *Verifier) statusRecord(ctx context.Context, code string) (CodeRecord, error) {
	if v.reserver != nil {
		rec, err := v.reserver.LookupServiceCode(ctx, code)
		if err == nil {
			if rec.Reservation.Code != code {
				rec.Reservation = Reservation{}
			}
			return rec, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return CodeRecord{}, fmt.Errorf("icpverify: looking up service code: %w", err)
		}
	}
	var rec CodeRecord
	var err error
	rec.Code, err = v.instances.ServiceCode(ctx, code)
	if errors.Is(err, ErrNotFound) {
		return CodeRecord{}, err
	}
	if err != nil {
		return CodeRecord{}, fmt.Errorf("icpverify: looking up service code: %w", err)
	}
	rec.Instance, err = v.instances.Instance(ctx, rec.Code.Instance)
	if errors.Is(err, ErrNotFound) {
		rec.Instance = Instance{}
	} else if err != nil {
		return CodeRecord{}, fmt.Errorf("icpverify: looking up instance: %w", err)
	}
	rec.Reservation, err = v.quotas.Reservation(ctx, code)
	if errors.Is(err, ErrNotFound) || err == nil && rec.Reservation.Code != code {
		rec.Reservation = Reservation{}
	} else if err != nil {
		return CodeRecord{}, fmt.Errorf("icpverify: looking up reservation: %w", err)
	}
	return rec, nil
}

// ServiceCodes lists the service codes an instance issued, with their
// states (see ServiceCodeStatus), in the order they were issued (then by
// code), as the provider's GetBsnByResource does, for the console of the
// instance's owner: only the account that owns the instance now gets them.
// Another account's instance, like one that does not exist, gets an *Error
// wrapping ErrInvalidProduct with ReasonInstanceNotFound, as
// IssueServiceCode refuses it. An instance with no codes gets an empty
// list. It lists at most 1000 codes, the first issued.
//
// It needs an InstanceStore that is an InstanceLister; with another it returns
// an error wrapping errors.ErrUnsupported. Any other error is a store's,
// wrapped. With an observer it reports a Decision with OpCodes and the
// account.
func (v *Verifier) ServiceCodes(ctx context.Context, instanceID, account string) ([]CodeStatus, error) {
	ctx, start, err := v.begin(ctx, OpCodes)
	if err != nil {
		return nil, err
	}
	d := Decision{Op: OpCodes, Account: account, Instance: instanceID}
	list, err := v.serviceCodes(ctx, instanceID, account, start, &d)
	return list, v.end(ctx, &d, start, err)
}

// serviceCodes lists an instance's codes for its owner; it notes the
// instance's product type in d.
func (v *Verifier) serviceCodes(ctx context.Context, instanceID, account string, now time.Time, d *Decision) ([]CodeStatus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if e := checkField("instance", instanceID); e != nil {
		return nil, e
	}
	if e := checkField("account", account); e != nil {
		return nil, e
	}
	l := v.lister
	if l == nil {
		return nil, fmt.Errorf("icpverify: ServiceCodes: the InstanceStore cannot list service codes: %w", errors.ErrUnsupported)
	}
	inst, err := v.instances.Instance(ctx, instanceID)
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Err: ErrInvalidProduct, Reason: ReasonInstanceNotFound, Instance: instanceID}
	}
	if err != nil {
		return nil, fmt.Errorf("icpverify: looking up instance: %w", err)
	}
	if inst.Account != account {
		// Another account's instance is refused as one that does not
		// exist.
		return nil, &Error{Err: ErrInvalidProduct, Reason: ReasonInstanceNotFound, Instance: instanceID,
			cause: ReasonNotInstanceOwner, causeInstance: instanceID}
	}
	d.Product = inst.Product
	codes, err := l.ListServiceCodes(ctx, instanceID, maxListed)
	if err != nil {
		return nil, fmt.Errorf("icpverify: listing service codes: %w", err)
	}
	pol := v.policy(inst.Product)
	out := make([]CodeStatus, 0, min(len(codes), maxListed))
	for _, sc := range codes[:min(len(codes), maxListed)] {
		if sc.Instance != instanceID || sc.Code == "" {
			continue
		}
		r, err := v.reservationOf(ctx, sc.Code)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		out = append(out, statusOf(sc, inst, r, pol, now))
	}
	slices.SortStableFunc(out, func(a, b CodeStatus) int {
		return cmp.Or(a.IssuedAt.Compare(b.IssuedAt), strings.Compare(a.Code, b.Code))
	})
	return out, nil
}

// statusOf returns the state of the code sc of inst, whose reservation is r
// (zero if it has none), under pol now. inst is the zero Instance if the
// inventory no longer holds it.
func statusOf(sc ServiceCode, inst Instance, r Reservation, pol Policy, now time.Time) CodeStatus {
	st := CodeStatus{Code: sc.Code, Instance: sc.Instance, Product: inst.Product, Owner: ownerOf(sc, inst),
		IssuedAt: sc.IssuedAt, ExpiresAt: inst.ExpiresAt}
	if sc.Grantee != "" && sc.Owner == st.Owner {
		st.Grantee = sc.Grantee
	}
	if pol.CodeTTL > 0 {
		if end := sc.IssuedAt.Add(pol.CodeTTL); st.ExpiresAt.IsZero() || end.Before(st.ExpiresAt) {
			st.ExpiresAt = end
		}
	}
	if r.Code != "" {
		st.Application, st.Applicant, st.Subject, st.SubjectKey, st.Website = r.Application, r.Account, r.Subject, r.SubjectKey, r.Website
		st.ReservedAt, st.Filed = r.ReservedAt, r.Filed
	}
	switch e := valid(&sc, &inst, &pol, now); {
	case e != nil:
		st.State, st.Invalid = CodeInvalid, e.Reason
	case r.Code == "":
		st.State = CodeUnbound
	case r.Filed:
		st.State = CodeFiled
	default:
		st.State = CodeBound
	}
	return st
}
