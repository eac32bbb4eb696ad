package icpverify

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"time"
	"unicode/utf8"

	"github.com/icpfiling/icpverify/codeformat"
)

// Verifier verifies the product behind ICP filing applications. Its methods
// are safe for concurrent use; the quota holds across every Verifier and
// process that shares its QuotaStore.
type Verifier struct {
	instances InstanceStore
	quotas    QuotaStore
	reserver  CodeReserver   // the one store, if it is a CodeReserver
	lister    InstanceLister // instances, if it is one
	now       func() time.Time
	mainland  func(region string) bool
	policies  map[ProductType]Policy
	rand      io.Reader
	apps      appIDs
	format    codeformat.Format
	obs       Observer
	profile   Profile // without its Policies, which are in policies
	ownerOnly bool    // some product type's Policy is OwnerOnly
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

// WithCodeFormat sets the format of service codes: how a typed code is read
// and how IssueServiceCode makes one. The default is codeformat.Default; a
// provider that embeds the library in a backend that has codes already
// uses codeformat.Inventory, or a format of its own.
func WithCodeFormat(f codeformat.Format) Option {
	return func(v *Verifier) {
		if f != nil {
			v.format = f
		}
	}
}

// New returns a Verifier that reads instances and service codes from
// instances and keeps reservations in quotas. One store that holds both,
// as a MemoryStore or a SQL store does, is passed twice: New(s, s). Only
// then does the Verifier use the store's CodeReserver, if it has one: an
// instance is never read from anywhere but instances. If instances is an
// InstanceLister, ServiceCodes, ReconcileInstance and the alternatives
// offered with a refusal list through it.
func New(instances InstanceStore, quotas QuotaStore, opts ...Option) *Verifier {
	v := &Verifier{
		instances: instances,
		quotas:    quotas,
		now:       time.Now,
		mainland:  Mainland,
		rand:      rand.Reader,
		format:    codeformat.Default(),
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
	for _, pol := range v.policies {
		v.ownerOnly = v.ownerOnly || pol.OwnerOnly
	}
	if sameStore(instances, quotas) {
		v.reserver, _ = quotas.(CodeReserver)
	}
	v.lister, _ = instances.(InstanceLister)
	return v
}

// sameStore reports whether instances and quotas are one store: the same
// value passed twice. Values of different types are not; two values of one
// type that Go cannot compare (a func, or a struct holding a map) are not
// either: comparing them panics, which sameStore recovers from, so such a
// store always counts as two.
func sameStore(instances InstanceStore, quotas QuotaStore) (same bool) {
	if instances == nil || quotas == nil {
		return false
	}
	defer func() { _ = recover() }()
	return any(instances) == any(quotas)
}

// policy returns the policy of a product type.
func (v *Verifier) policy(p ProductType) Policy { return v.policies[p] }

// errNoStore is returned by a Verifier built without its stores.
var errNoStore = errors.New("icpverify: Verifier has no InstanceStore or QuotaStore")

// begin starts operation op, called with ctx: it reads the clock and
// returns the context the operation runs in (see Observer.Start), or an
// error if v lacks its stores. Every operation that began ends with end.
func (v *Verifier) begin(ctx context.Context, op Op) (context.Context, time.Time, error) {
	if v == nil || v.instances == nil || v.quotas == nil {
		return ctx, time.Time{}, errNoStore
	}
	now := v.now()
	return v.start(ctx, op), now, nil
}

// end ends an operation that began at start, in ctx, and returns its
// error, err. With an observer, it first completes the operation's
// Decision d with err and the time taken, and hands it over.
func (v *Verifier) end(ctx context.Context, d *Decision, start time.Time, err error) error {
	v.finish(ctx, d, start, err)
	return err
}

// maxField bounds the length in bytes of an account, subject or instance ID.
const maxField = 256

// checkField returns an *Error if a required text field is empty, longer
// than maxField bytes or not valid UTF-8.
func checkField(name, s string) *Error {
	if s == "" || len(s) > maxField || !utf8.ValidString(s) {
		return &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: name}
	}
	return nil
}
