package icpverify

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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
	Account  string        // the applicant's account, or the code's owner for a grant
	Subject  string        // the filing subject, if any
	Grantee  string        // GrantServiceCode: the account granted the code
	Instance string        // the instance concerned, if known
	Product  ProductType   // the product type selected, or the instance's
	Code     string        // the service code, masked (MaskServiceCode)
	Verdict  Verdict
	Reason   Reason // the refusal's Reason
	Used     int    // quota figures, if any
	Limit    int
	Err      error // the error returned, if any
}

// Observer receives the Decision of every operation of a Verifier. See
// WithObserver for how and when.
type Observer interface {
	Observe(Decision)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Decision)

// Observe calls f(d).
func (f ObserverFunc) Observe(d Decision) { f(d) }

// Bounds of the queue of records between a Verifier and its Observer.
const (
	observerQueueLen = 4096                 // records held at most
	observerBatch    = 5 * time.Millisecond // longest a delivery waits for more records
)

// WithObserver makes the Verifier report a Decision for every Verify, Check,
// Release, Complete, IssueServiceCode and GrantServiceCode to o.
//
// The operation never waits for o. Records go into a queue of up to 4096,
// which a goroutine of the Verifier's hands to o one at a time, in order,
// in batches at most a few milliseconds apart. When o cannot keep up and the
// queue is full, further records are dropped, not queued, and counted by
// Dropped; a panic in o is recovered, and its record counted as dropped.
// Close delivers what is queued and stops the goroutine.
func WithObserver(o Observer) Option {
	return func(v *Verifier) {
		if o == nil {
			return
		}
		if v.obs != nil {
			v.obs.close() // a second WithObserver replaces the first
		}
		v.obs = newObserverQueue(o)
	}
}

// record is a Decision before its code is masked, as it waits in the queue.
type record struct {
	Decision
	code string // the canonical or typed code
}

// observerQueue hands records to an Observer from its own goroutine.
type observerQueue struct {
	o       Observer
	mu      sync.Mutex
	queue   []record
	wake    chan struct{} // has a value when records wait
	stop    chan struct{} // closed by close
	done    chan struct{} // closed when the goroutine ends
	once    sync.Once
	closed  atomic.Bool
	dropped atomic.Uint64
}

func newObserverQueue(o Observer) *observerQueue {
	q := &observerQueue{
		o:    o,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go q.run()
	return q
}

// put queues a copy of a record, or drops it if the queue is full or
// closed.
func (q *observerQueue) put(r *record) {
	if q.closed.Load() {
		q.dropped.Add(1)
		return
	}
	q.mu.Lock()
	if len(q.queue) >= observerQueueLen {
		q.mu.Unlock()
		q.dropped.Add(1)
		return
	}
	q.queue = append(q.queue, *r)
	first := len(q.queue) == 1
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// run delivers records until close.
func (q *observerQueue) run() {
	defer close(q.done)
	var batch []record
	for {
		select {
		case <-q.wake:
		case <-q.stop:
			q.deliver(&batch)
			return
		}
		q.deliver(&batch)
		// Let records gather, so that a busy Verifier wakes this
		// goroutine a few hundred times a second at most.
		select {
		case <-time.After(observerBatch):
		case <-q.stop:
			q.deliver(&batch)
			return
		}
	}
}

// deliver hands every queued record to the Observer. batch is reused
// between calls.
func (q *observerQueue) deliver(batch *[]record) {
	for {
		q.mu.Lock()
		*batch, q.queue = q.queue, (*batch)[:0]
		q.mu.Unlock()
		if len(*batch) == 0 {
			return
		}
		for i := range *batch {
			r := &(*batch)[i]
			r.finish()
			q.observe(r.Decision)
			*r = record{} // let the strings go
		}
	}
}

// observe calls the Observer, recovering a panic.
func (q *observerQueue) observe(d Decision) {
	defer func() {
		if recover() != nil {
			q.dropped.Add(1)
		}
	}()
	q.o.Observe(d)
}

// close delivers the queued records and stops the goroutine. Records put
// afterwards are dropped.
func (q *observerQueue) close() {
	q.once.Do(func() {
		q.closed.Store(true)
		close(q.stop)
	})
	<-q.done
}

// clip cuts a text from a request to maxField bytes of valid UTF-8, so
// that a record stays small and printable whatever was sent.
func clip(s string) string {
	if len(s) > maxField {
		s = s[:maxField]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// maskTyped masks a code as typed: empty stays empty.
func maskTyped(code string) string {
	if code == "" {
		return ""
	}
	return MaskServiceCode(code)
}

// Dropped returns the number of Decision records the Verifier's Observer
// did not get: dropped because the queue was full or closed, or lost to a
// panic in the Observer.
func (v *Verifier) Dropped() uint64 {
	if v == nil || v.obs == nil {
		return 0
	}
	return v.obs.dropped.Load()
}

// Close hands the Observer every record still queued and stops the
// goroutine that delivers them. A Verifier without an Observer has nothing
// to close. The Verifier still works after Close, but reports no more
// decisions. Close always returns nil.
func (v *Verifier) Close() error {
	if v != nil && v.obs != nil {
		v.obs.close()
	}
	return nil
}

// observe queues the record of an operation that started at start and ended
// with err, if the Verifier has an Observer. The delivering goroutine
// completes it (see finish).
func (v *Verifier) observe(r *record, start time.Time, err error) {
	if v.obs == nil {
		return
	}
	r.Time = start
	r.Duration = v.now().Sub(start)
	r.Err = err
	v.obs.put(r)
}

// finish completes a record off the operation's path: its verdict and the
// details of a refusal, the code masked, and text cut to size.
func (r *record) finish() {
	switch e := asError(r.Err); {
	case r.Err == nil:
		r.Verdict = Passed
	case e != nil:
		r.Verdict, r.Reason = Refused, e.Reason
		if e.Instance != "" {
			r.Instance = e.Instance
		}
		if e.Limit != 0 {
			r.Used, r.Limit = e.Used, e.Limit
		}
	default:
		r.Verdict = Failed
	}
	r.Code = maskTyped(r.code)
	r.Account, r.Subject, r.Grantee = clip(r.Account), clip(r.Subject), clip(r.Grantee)
	r.Instance, r.Product = clip(r.Instance), ProductType(clip(string(r.Product)))
}

// Attribute keys of the records SlogObserver logs. They are stable.
const (
	SlogKeyOp       = "op"
	SlogKeyTime     = "decided_at"
	SlogKeyDuration = "duration"
	SlogKeyAccount  = "account"
	SlogKeySubject  = "subject"
	SlogKeyInstance = "instance"
	SlogKeyProduct  = "product"
	SlogKeyCode     = "code"
	SlogKeyVerdict  = "verdict"
	SlogKeyReason   = "reason"
	SlogKeyUsed     = "used"
	SlogKeyLimit    = "limit"
	SlogKeyError    = "error"
)

// SlogObserver returns an Observer that logs each Decision to l with the
// message "icpverify decision" and the SlogKey attributes: at level Info
// when it passed or was refused, Error when it failed. Empty attributes are
// left out.
func SlogObserver(l *slog.Logger) Observer {
	return ObserverFunc(func(d Decision) {
		if l == nil {
			return
		}
		level := slog.LevelInfo
		if d.Verdict == Failed {
			level = slog.LevelError
		}
		attrs := make([]slog.Attr, 0, 13)
		str := func(k, v string) {
			if v != "" {
				attrs = append(attrs, slog.String(k, v))
			}
		}
		str(SlogKeyOp, string(d.Op))
		attrs = append(attrs, slog.Time(SlogKeyTime, d.Time), slog.Duration(SlogKeyDuration, d.Duration))
		str(SlogKeyAccount, d.Account)
		str(SlogKeySubject, d.Subject)
		str(SlogKeyInstance, d.Instance)
		str(SlogKeyProduct, string(d.Product))
		str(SlogKeyCode, d.Code)
		str(SlogKeyVerdict, string(d.Verdict))
		str(SlogKeyReason, string(d.Reason))
		if d.Limit != 0 {
			attrs = append(attrs, slog.Int(SlogKeyUsed, d.Used), slog.Int(SlogKeyLimit, d.Limit))
		}
		if d.Err != nil {
			str(SlogKeyError, d.Err.Error())
		}
		l.LogAttrs(context.Background(), level, "icpverify decision", attrs...)
	})
}
