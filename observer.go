package icpverify

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/icpfiling/icpverify/codeformat"
)

// Op names an operation of a Verifier in a Decision.
type Op string

// The operations a Verifier reports.
const (
	OpVerify     Op = "verify"
	OpCheck      Op = "check"
	OpRelease    Op = "release"
	OpComplete   Op = "complete"
	OpIssue      Op = "issue"
	OpGrant      Op = "grant"
	OpWithdraw   Op = "withdraw"
	OpRevoke     Op = "revoke"
	OpDeregister Op = "deregister"
	// OpUngrant is GrantServiceCode withdrawing a grant: its Grantee is
	// the account whose grant was withdrawn.
	OpUngrant   Op = "ungrant"
	OpReconcile Op = "reconcile" // ReconcileInstance
	OpExpiring  Op = "expiring"  // Expiring
)

// Verdict is how an operation ended.
type Verdict string

// Verdicts of a Decision.
const (
	Passed  Verdict = "passed"  // the operation succeeded
	Refused Verdict = "refused" // it ended with an *Error
	Failed  Verdict = "failed"  // a store failed or the context ended
)

// Decision is the record of one operation of a Verifier, for an audit
// trail: enough for support staff to answer "why did my filing fail?".
type Decision struct {
	Op       Op
	Time     time.Time     // when it started, by the Verifier's clock
	Duration time.Duration // how long it took, by the Verifier's clock
	// Account is the account that acted: the applicant for Verify, Check,
	// Withdraw and Expiring, the owner for IssueServiceCode,
	// GrantServiceCode and ServiceCodes; empty for the provider's own
	// Release, Complete, RevokeServiceCode, ReconcileInstance and
	// ServiceCodeStatus.
	Account string
	Holder  string // the account that holds the reservation acted on, if any
	Subject string // the filing subject, if any
	Grantee string // GrantServiceCode: the account granted the code, or whose grant was withdrawn
	// Application is the application concerned, if any (see
	// Result.Application).
	Application string
	Instance    string      // the instance concerned, if known
	Product     ProductType // the product type selected, or the instance's
	Verdict     Verdict
	Reason      Reason // the refusal's Reason
	// Cause is the true cause of a refusal whose Reason hides it from a
	// stranger to the code (ReasonCodeNotFound, ReasonNotReserved), for
	// support staff. For a release the Verifier made by itself (Op
	// OpRelease after a revocation, a withdrawn grant, a reconciliation or
	// a Verify whose reservation the rules refused once it was made) it
	// is why the rules no longer allowed the reservation. Otherwise it is
	// empty.
	Cause Reason
	Used  int // quota figures, if any
	Limit int
	Err   error // the error returned, if any

	code   string            // the code as typed or in canonical form
	format codeformat.Format // the format to read it in
}

// Code returns the service code concerned, masked as codeformat.Mask
// masks it, so that the record may be logged: "" if there is none, "****"
// if what was typed is not a code. It masks on each call.
func (d *Decision) Code() string {
	if d.code == "" {
		return ""
	}
	return codeformat.Mask(d.format, d.code)
}

// Observer watches the operations of a Verifier (see WithObserver): an
// audit trail, a tracer or a meter. Either function may be nil.
//
// Every operation, and every reservation that one releases by itself (see
// Decision.Cause), calls Start as it begins and End as it ends, in pairs,
// on the goroutine that called the operation and before it returns: none
// is dropped, and the records of one goroutine arrive in order. A release
// an operation makes by itself is an operation of its own, nested in it:
// its Start gets the context the outer operation's Start returned. The
// functions must therefore return quickly and be safe for concurrent use;
// a backend that wants delivery off the request's path queues the
// Decisions itself. A panic in either is recovered and changes nothing.
type Observer struct {
	// Start is called as an operation op begins, with the context the
	// operation was given; the operation passes the context it returns to
	// its stores and to End. A tracer starts a span here.
	Start func(ctx context.Context, op Op) context.Context
	// End receives the record of the operation as it ends, with the
	// context Start returned (without a Start, the operation's own).
	End func(ctx context.Context, d Decision)
}

// WithObserver makes the Verifier report its operations to o: every
// Verify, Check, Withdraw, Release, Complete, IssueServiceCode,
// GrantServiceCode, RevokeServiceCode, ReconcileInstance,
// ServiceCodeStatus, ServiceCodes and Expiring, and every release one of
// them makes by itself. A second WithObserver replaces the first.
func WithObserver(o Observer) Option {
	return func(v *Verifier) { v.obs = o }
}

// observed reports whether v has an observer.
func (v *Verifier) observed() bool { return v.obs.Start != nil || v.obs.End != nil }

// start begins an observed operation op: it returns the context that Start
// derives from ctx, or ctx without a Start.
func (v *Verifier) start(ctx context.Context, op Op) context.Context {
	if v.obs.Start == nil {
		return ctx
	}
	if c := startObserved(v.obs.Start, ctx, op); c != nil {
		return c
	}
	return ctx
}

// startObserved calls start, recovering a panic in it: a nil context then.
func startObserved(start func(context.Context, Op) context.Context, ctx context.Context, op Op) (c context.Context) {
	defer func() { _ = recover() }()
	return start(ctx, op)
}

// finish ends an observed operation that began at start and returned err:
// it completes its Decision d and hands it to End.
func (v *Verifier) finish(ctx context.Context, d *Decision, start time.Time, err error) {
	if v.obs.End == nil {
		return
	}
	d.complete(start, v.now(), err, v.format)
	defer func() { _ = recover() }()
	v.obs.End(ctx, *d)
}

// releaseObserved releases r through the QuotaStore as an operation of its
// own, which the Verifier makes by itself on behalf of actor (empty for
// the provider) because the rules no longer allow r (cause). Its Decision
// is OpRelease with the cause, refused with ReasonNotReserved if nothing
// was left to release.
func (v *Verifier) releaseObserved(ctx context.Context, actor string, r Reservation, cause Reason) (Reservation, error) {
	if !v.observed() {
		return v.quotas.Release(ctx, r)
	}
	now := v.now()
	ctx = v.start(ctx, OpRelease)
	after, err := v.quotas.Release(ctx, r)
	rel := r
	if err == nil {
		rel = after
	}
	d := Decision{Op: OpRelease, Account: actor, Holder: rel.Account, Subject: rel.Subject,
		Application: rel.Application, Instance: rel.Instance, code: rel.Code, Cause: cause}
	result := err
	if errors.Is(err, ErrNotFound) || err == nil && after.Filed {
		result = notReserved(cause, r.Instance)
	}
	v.finish(ctx, &d, now, result)
	return after, err
}

// clip cuts a text from a request to maxField bytes of valid UTF-8, so
// that a record stays small and printable whatever was sent.
func clip(s string) string {
	if len(s) <= maxField && utf8.ValidString(s) {
		return s
	}
	if len(s) > maxField {
		s = s[:maxField]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// complete fills in a Decision whose operation began at start, ended at
// end and returned err: its time, its verdict and the details of a
// refusal; it notes the format its code is read in, and cuts text to size.
func (d *Decision) complete(start, end time.Time, err error, format codeformat.Format) {
	d.Time, d.Duration, d.Err = start, end.Sub(start), err
	switch e := asError(err); {
	case err == nil:
		d.Verdict = Passed
	case e != nil:
		d.Verdict, d.Reason, d.Cause = Refused, e.Reason, e.cause
		if e.Instance != "" {
			d.Instance = e.Instance
		}
		if e.causeInstance != "" {
			d.Instance = e.causeInstance
		}
		if e.Limit != 0 {
			d.Used, d.Limit = e.Used, e.Limit
		}
	default:
		d.Verdict = Failed
	}
	d.format = format
	if err == nil {
		// The operation read its text fields as valid UTF-8 and, but for
		// a subject's name, short.
		if len(d.Subject) > maxField {
			d.Subject = clip(d.Subject)
		}
		return
	}
	d.Account, d.Holder, d.Subject, d.Grantee = clip(d.Account), clip(d.Holder), clip(d.Subject), clip(d.Grantee)
	d.Application = clip(d.Application)
	d.Instance, d.Product = clip(d.Instance), ProductType(clip(string(d.Product)))
}

// SlogObserver returns an Observer that logs each Decision to l, with the
// context of its operation, and the message "icpverify decision": at level
// Info when it passed or was refused, Error when it failed. Its
// attributes, whose names are stable, are op, decided_at, duration,
// account, holder, subject, grantee, application, instance, product, code
// (masked), verdict, reason, cause, used and limit (with a quota figure),
// and error; empty ones are left out. With a nil l it logs nothing.
func SlogObserver(l *slog.Logger) Observer {
	if l == nil {
		return Observer{}
	}
	return Observer{End: func(ctx context.Context, d Decision) {
		level := slog.LevelInfo
		if d.Verdict == Failed {
			level = slog.LevelError
		}
		if !l.Enabled(ctx, level) {
			return
		}
		l.LogAttrs(ctx, level, "icpverify decision", slogAttrs(&d)...)
	}}
}

// slogAttrs returns the attributes SlogObserver logs of d.
func slogAttrs(d *Decision) []slog.Attr {
	attrs := make([]slog.Attr, 0, 18)
	str := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	str("op", string(d.Op))
	attrs = append(attrs, slog.Time("decided_at", d.Time), slog.Duration("duration", d.Duration))
	str("account", d.Account)
	str("holder", d.Holder)
	str("subject", d.Subject)
	str("grantee", d.Grantee)
	str("application", d.Application)
	str("instance", d.Instance)
	str("product", string(d.Product))
	str("code", d.Code())
	str("verdict", string(d.Verdict))
	str("reason", string(d.Reason))
	str("cause", string(d.Cause))
	if d.Limit != 0 {
		attrs = append(attrs, slog.Int("used", d.Used), slog.Int("limit", d.Limit))
	}
	if d.Err != nil {
		str("error", d.Err.Error())
	}
	return attrs
}
