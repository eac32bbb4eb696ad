package icpverify

import (
	"context"
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
	OpVerify   Op = "verify"
	OpCheck    Op = "check"
	OpRelease  Op = "release"
	OpComplete Op = "complete"
	OpIssue    Op = "issue"
	OpGrant    Op = "grant"
	OpWithdraw Op = "withdraw"
	OpRevoke   Op = "revoke"
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
	Code        string      // the service code, masked (codeformat.Mask)
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
}

// WithObserver makes the Verifier hand observe the Decision of every
// Verify, Check, Withdraw, Release, Complete, IssueServiceCode,
// GrantServiceCode, RevokeServiceCode, ReconcileInstance,
// ServiceCodeStatus, ServiceCodes and Expiring, and one more for every
// reservation that one of them releases by itself (see Decision.Cause). A
// second WithObserver replaces the first; a nil observe reports nothing.
//
// Each Decision is handed to observe on the goroutine that called the
// operation, when the operation ends and before it returns, so the record
// is complete: none is dropped, and records of one goroutine arrive in
// order. observe must therefore return quickly and be safe for concurrent
// use. A panic in it is recovered and does not change the operation's
// result. A backend that
// wants delivery off the request's path wraps o in a queue of its own.
func WithObserver(observe func(Decision)) Option {
	return func(v *Verifier) { v.obs = observe }
}

// noteRelease reports, with an observer, the Decision of a release the
// Verifier made by itself: of r, on behalf of actor (empty for the
// provider), because the rules no longer allow it (cause).
func (v *Verifier) noteRelease(actor string, r Reservation, cause Reason) {
	if v.obs == nil {
		return
	}
	now := v.now()
	d := Decision{Op: OpRelease, Account: actor, Holder: r.Account, Subject: r.Subject,
		Application: r.Application, Instance: r.Instance, Code: r.Code, Cause: cause}
	d.complete(now, now, nil, v.format)
	observe(v.obs, &d)
}

// observe hands d to o, recovering a panic in o.
func observe(o func(Decision), d *Decision) {
	defer func() { _ = recover() }()
	o(*d)
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
// refusal; it masks the code, read in format, and cuts text to size.
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
	if d.Code != "" {
		d.Code = codeformat.Mask(format, d.Code)
	}
	if err == nil {
		// The operation read its text fields as valid and, but for a
		// subject's name, short.
		d.Subject = clip(d.Subject)
		return
	}
	d.Account, d.Holder, d.Subject, d.Grantee = clip(d.Account), clip(d.Holder), clip(d.Subject), clip(d.Grantee)
	d.Application = clip(d.Application)
	d.Instance, d.Product = clip(d.Instance), ProductType(clip(string(d.Product)))
}

// SlogObserver returns an observer for WithObserver that logs each
// Decision to l with the
// message "icpverify decision", at level Info when it passed or was
// refused, Error when it failed. Its attributes, whose names are stable,
// are op, decided_at, duration, account, holder, subject, grantee,
// application, instance, product, code, verdict, reason, cause, used and limit (with a
// quota figure), and error; empty ones are left out.
func SlogObserver(l *slog.Logger) func(Decision) {
	return func(d Decision) {
		if l == nil {
			return
		}
		level := slog.LevelInfo
		if d.Verdict == Failed {
			level = slog.LevelError
		}
		attrs := make([]slog.Attr, 0, 16)
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
		str("code", d.Code)
		str("verdict", string(d.Verdict))
		str("reason", string(d.Reason))
		str("cause", string(d.Cause))
		if d.Limit != 0 {
			attrs = append(attrs, slog.Int("used", d.Used), slog.Int("limit", d.Limit))
		}
		if d.Err != nil {
			str("error", d.Err.Error())
		}
		l.LogAttrs(context.Background(), level, "icpverify decision", attrs...)
	}
}
