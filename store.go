package icpverify

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a store, and wrapped by the Verifier, when an
// instance, a service code or a reservation does not exist.
var ErrNotFound = errors.New("icpverify: not found")

// ErrExists is returned by InstanceStore.AddServiceCode when the code is
// already stored. The Verifier then draws another code.
var ErrExists = errors.New("icpverify: already exists")

// ProductType names a kind of cloud product. Which types can be filed, and
// with which limits, is set by their Policy.
type ProductType string

// The product types of the provider's catalogue. Only ProductECS and
// ProductSimpleApplicationServer can be filed by default; the others are
// verified through a backend ECS instance.
const (
	ProductECS                     ProductType = "ecs"
	ProductSimpleApplicationServer ProductType = "swas"
	ProductSLB                     ProductType = "slb"
	ProductACK                     ProductType = "ack"
	ProductOSS                     ProductType = "oss"
	ProductCDN                     ProductType = "cdn"
)

// Billing is how an instance is paid for.
type Billing string

// Billing methods. Only Subscription instances can issue service codes.
const (
	Subscription Billing = "subscription"
	PayAsYouGo   Billing = "pay-as-you-go"
)

// Status is the lifecycle state of an instance.
type Status string

// Instance states. Only a Running instance can issue service codes; a
// Released instance invalidates every code it issued.
const (
	Running  Status = "running"
	Stopped  Status = "stopped"
	Released Status = "released"
)

// Instance is a cloud product an account bought, as the provider's inventory
// knows it.
type Instance struct {
	ID         string      // provider's instance ID, e.g. "i-bp1..."
	Account    string      // the account that owns the instance
	Product    ProductType // what kind of product it is
	Region     string      // region ID, e.g. "cn-hangzhou"
	Billing    Billing     // Subscription or PayAsYouGo
	TermMonths int         // total purchased subscription term, renewals included
	PublicIP   string      // public IP address; empty if it has none
	Trial      bool        // a free-trial instance
	Status     Status      // Running, Stopped or Released
	ExpiresAt  time.Time   // end of the paid term; the zero time means no end
}

// ServiceCode is an ICP filing service code as stored in the inventory.
//
// A code follows its instance: whoever owns the instance now may use and
// grant it. A grant holds only while the account that made it still owns
// the instance, so that after the instance changes hands, the previous
// owner's grantees lose the code too.
type ServiceCode struct {
	Code     string // canonical form, see codeformat.Normalize
	Instance string // ID of the instance the code was issued from
	// Owner is the account that owned the instance when the code was
	// issued, or when it was last granted or its grant withdrawn.
	Owner    string
	Grantee  string    // account the code was granted to by Owner; empty if none
	Revoked  bool      // invalidated by the provider
	IssuedAt time.Time // when the code was issued
}

// Reservation binds a service code to the filing subject that uses it on the
// code's instance, for one application: an account filing one website for
// one subject. While a subject holds at least one reservation on an
// instance it takes one of the instance's subject slots.
type Reservation struct {
	Code     string // canonical service code
	Instance string // ID of the code's instance
	Account  string // applicant's account
	Subject  string // filing subject (the applicant's entity), as the applicant named it
	// SubjectKey identifies the subject: its certificate, or the
	// canonical form of its name (see subject.Key). Slots are kept per
	// subject key, and a code is bound to one. A store keeps keys of up
	// to 300 bytes; the Verifier's are shorter.
	SubjectKey string
	Website    string    // canonical domain of the website filed; empty if none was given
	Filed      bool      // the filing was approved; the code is used for good
	ReservedAt time.Time // when the reservation was made
	// Application identifies the application the reservation serves
	// (see Result.Application): an opaque value of 1 to 64 ASCII letters
	// and digits that the Verifier makes when it reserves a code, new for
	// every reservation. A store keeps it as it is given, finds the
	// reservation by it, and keeps it when a retry finds the code held.
	Application string
	// Quotas are the limits the reservation counts toward beside its
	// subject slot, as its Verifier's Profile and Policy set them; nil
	// for none. Their keys are distinct. A store keeps them with the
	// reservation, to free their places when it frees its slot, and
	// need not return them: a reservation read back may have none.
	Quotas []Quota
	// Deregistered is set once a filed reservation's filing is
	// deregistered and its slot and places are freed (see
	// QuotaStore.Deregister). The reservation stays, so that its code
	// stays used.
	Deregistered bool
}

// Quota is a limit that a reservation counts toward beside its instance's
// subject slots: at most Limit distinct members hold a place under Key at
// once. A member holds its place for as long as at least one reservation
// that counts it does, so a second reservation for the same member takes
// no second place. The Verifier makes quotas from its Profile and Policy,
// with keys that name what is counted and on what ("sites/ip:203.0.113.7",
// "subjects/account:1234"); a store treats Key and Member as opaque
// strings of up to 300 bytes.
type Quota struct {
	Key    string // what the limit counts on
	Member string // what holds a place under Key: a code, a subject key or an account
	Limit  int    // the most members Key may have at once
	// UntilFiled frees the place when the reservation is filed
	// (Complete), as a limit on filings in progress does. Other places
	// are freed with the subject slot: by Release, or by Deregister once
	// filed.
	UntilFiled bool
}

// sameApplication reports whether r and o ask for the same application:
// the same Account, SubjectKey and Website. Reserving a code again for the
// same application is a retry, which Reserve reports as Held.
func sameApplication(r, o *Reservation) bool {
	return r.Account == o.Account && r.SubjectKey == o.SubjectKey && r.Website == o.Website
}

// Outcome is what QuotaStore.Reserve did.
type Outcome int

// Outcomes of QuotaStore.Reserve.
const (
	// Reserved: the reservation was stored now. The subject's slot was
	// taken, unless another code already held one for it on the instance.
	Reserved Outcome = iota + 1
	// Held: the code was already reserved, unfiled, for the same
	// application (the same Account, SubjectKey and Website); nothing changed. This
	// is a retry.
	Held
	// Full: limit subjects already hold a slot on the instance; nothing
	// changed.
	Full
	// Taken: the code is reserved for another application, or its
	// filing is complete; nothing changed.
	Taken
	// Exceeded: one of the reservation's Quotas has Limit members
	// already, none of them the quota's Member; nothing changed. Reserve
	// then reports the index of the first such quota in place of the
	// usage.
	Exceeded
)

// InstanceStore is the provider's inventory of instances and service codes.
//
// Every method takes a context first and returns its error, if any, instead
// of changing anything. A missing instance or code is ErrNotFound; any other
// error is a backend failure, which the Verifier wraps and returns as it is.
// Implementations must be safe for concurrent use.
type InstanceStore interface {
	// Instance returns the instance with the given ID.
	Instance(ctx context.Context, id string) (Instance, error)

	// ServiceCode returns the service code stored under its canonical
	// form.
	ServiceCode(ctx context.Context, code string) (ServiceCode, error)

	// AddServiceCode stores sc if its instance has issued fewer than limit
	// codes, atomically: concurrent calls never store more than limit codes
	// for one instance. It reports how many codes the instance has issued
	// afterwards and whether sc was stored. It returns ErrNotFound if the
	// instance does not exist, and ErrExists if the instance is under its
	// limit but the code is already stored.
	AddServiceCode(ctx context.Context, sc ServiceCode, limit int) (issued int, added bool, err error)

	// GrantServiceCode records that owner, the account that owns the
	// code's instance now, lets the grantee account use code: it sets the
	// code's Owner and Grantee, replacing any earlier grant. An empty
	// grantee withdraws the grant. It returns ErrNotFound if the code does
	// not exist.
	GrantServiceCode(ctx context.Context, code, owner, grantee string) error

	// RevokeServiceCode marks code as revoked, for good. Revoking a
	// revoked code changes nothing. It returns ErrNotFound if the code
	// does not exist.
	RevokeServiceCode(ctx context.Context, code string) error
}

// QuotaStore keeps the reservations of service codes and the subject slots
// they take. It is where the quota holds: a store shared by several processes
// keeps it across all of them.
//
// Every method takes a context first and returns its error, if any, instead
// of changing anything; only when a networked store loses its connection,
// or the context ends, while committing (or while running a statement that
// commits by itself) may a change have been made after all, which a retry
// of the same call then finds (Reserve reports Held). A missing reservation is
// ErrNotFound; any other error is a backend failure, which the Verifier
// wraps and returns as it is. Implementations must be safe for concurrent
// use.
type QuotaStore interface {
	// Reserve stores r unless its code is reserved already, atomically with
	// the subject slot and the places it needs: if r.SubjectKey holds no
	// slot on r.Instance and limit subject keys already do, it stores
	// nothing and reports Full; otherwise, if one of r.Quotas is full (see
	// Quota), it stores nothing and reports Exceeded with that quota's
	// index in r.Quotas, the first one if several are. N concurrent calls
	// for the last free slot or the last place of a quota have exactly one
	// winner. A code reserved already reports Held if its reservation
	// is unfiled and for the same application as r (see
	// the same Account, SubjectKey and Website), keeping that reservation's
	// Application, and Taken otherwise. It reports the outcome and the
	// number of subject keys that hold a slot on r.Instance afterwards.
	// The Verifier has checked the code and its instance; the store need
	// not know them. r.Filed is ignored: a new reservation is never filed.
	//
	// Once Reserve has returned Reserved, a read of the code through the
	// InstanceStore (or LookupServiceCode) must see every change the
	// InstanceStore had made to the code or its instance before the
	// Verifier read that reservation's absence (see RevokeServiceCode):
	// stores that are linearizable, as a single database is, have this
	// by themselves. The Verifier reads the code again after Reserved and
	// releases what the rules no longer allow, so that a revocation, a
	// withdrawn grant or a changed instance racing with Verify never
	// leaves a reservation behind.
	Reserve(ctx context.Context, r Reservation, limit int) (Outcome, int, error)

	// Reservation returns the reservation of code.
	Reservation(ctx context.Context, code string) (Reservation, error)

	// Application returns the reservation whose Application is id. A
	// reservation released since, or an id never given, is ErrNotFound.
	Application(ctx context.Context, id string) (Reservation, error)

	// Usage reports the number of subject keys that hold a slot on
	// instance, and whether subjectKey is one of them.
	Usage(ctx context.Context, instance, subjectKey string) (used int, held bool, err error)

	// Places reports the number of members that hold a place under the
	// quota key (see Quota), and whether member is one of them.
	Places(ctx context.Context, key, member string) (members int, held bool, err error)

	// Release deletes the reservation of r.Code if its Application is
	// r.Application, and frees its subject key's slot unless another code
	// still holds it on the same instance. It returns the reservation as
	// it was. A filed reservation is left as it is and returned with Filed
	// set. A code with no reservation, or with one for another
	// application, is ErrNotFound, so that a Release retried after its
	// reservation was replaced frees nothing.
	Release(ctx context.Context, r Reservation) (Reservation, error)

	// Complete marks the reservation of r.Code as filed, if its
	// Application is r.Application, frees the places of its Quotas that
	// are UntilFiled, and returns it. Completing a filed reservation
	// changes nothing. A code with no reservation, or with one for another
	// application, is ErrNotFound.
	Complete(ctx context.Context, r Reservation) (Reservation, error)

	// Deregister marks the filed reservation of r.Code as Deregistered,
	// if its Application is r.Application, frees its subject key's slot
	// unless another code still holds it on the same instance, frees the
	// places it still holds, and returns it. The reservation stays, filed,
	// so that its code stays used. A reservation not filed, or
	// deregistered already, is returned as it is and nothing changes. A
	// code with no reservation, or with one for another application, is
	// ErrNotFound.
	Deregister(ctx context.Context, r Reservation) (Reservation, error)

	// ListReservations returns the reservations whose Account is
	// account, filed or not, in any order: all of them, or limit if there
	// are more. An account with none gets an empty (or nil) slice, not an
	// error.
	ListReservations(ctx context.Context, account string, limit int) ([]Reservation, error)
}

// CodeRecord is what a CodeReserver reads of a service code.
type CodeRecord struct {
	Code     ServiceCode
	Instance Instance // the code's instance; zero if it does not exist
	// Reservation is the code's reservation; zero if it has none.
	Reservation Reservation
	// Used is, with a Reservation, the number of subject keys holding a
	// slot on its instance.
	Used int
}

// ReserveGuard is what a CodeReserver checks of a service code and its
// instance, for the account of a reservation, before it reserves the code
// in the same call. It states the checks of Verify that read stored data,
// so that a store can make them where the data is. The guard holds when
// all of these do:
//
//   - the code is not revoked and, if IssuedAfter is not zero, was issued
//     after IssuedAfter;
//   - its instance exists, is Running, is of type Product, has a public IP
//     if PublicIP is set, and has no end (a zero ExpiresAt) or ends after
//     ExpiresAfter;
//   - the account owns the instance, or the code is granted to it by the
//     instance's owner (the code's Grantee is the account and its Owner is
//     the instance's Account).
//
// Allows evaluates it in Go.
type ReserveGuard struct {
	Product      ProductType // the type the applicant selected
	ExpiresAfter time.Time   // the instance must not end at or before it
	IssuedAfter  time.Time   // if not zero, the code must be issued after it
	PublicIP     bool        // the instance must have a public IP
}

// Allows reports whether the guard holds for account, the code sc and its
// instance inst (the zero Instance if the inventory does not hold it).
func (g ReserveGuard) Allows(account string, sc ServiceCode, inst Instance) bool {
	switch {
	case account == "" || inst.ID == "" || inst.ID != sc.Instance:
		return false
	case account != inst.Account && (account != sc.Grantee || sc.Owner != inst.Account):
		return false
	case sc.Revoked || !g.IssuedAfter.IsZero() && !sc.IssuedAt.After(g.IssuedAfter):
		return false
	case inst.Status != Running || inst.Product != g.Product || g.PublicIP && inst.PublicIP == "":
		return false
	}
	return inst.ExpiresAt.IsZero() || inst.ExpiresAt.After(g.ExpiresAfter)
}

// CodeReserver is one store that holds both the inventory and the
// reservations, as a SQL store keeping both in one database does, and can
// read a service code with its instance and its reservation in one call,
// and reserve it in the same call. It is the first of the two optional
// capabilities of a store.
//
// The Verifier uses it only when one such store is passed to New as both
// stores, New(s, s): Verify and Check then read codes through
// LookupServiceCode and answer a retry, or a code another subject uses,
// from that one read, and Verify makes its first reservation of a code
// with ReserveServiceCode (on a networked store, one round trip, and one
// more to read the code again, see QuotaStore.Reserve). A Verify whose
// reservation counts toward Quotas, or whose code may serve other accounts
// than the guard knows (GrantBearer, Policy.OwnerOnly), reads the code
// first and reserves with Reserve. Without it, or
// beside another InstanceStore, the Verifier reads codes and instances
// from the InstanceStore and reserves with Reserve: the same answers, in
// more calls.
//
// The Verifier still checks what it reads by its own rules, so a store
// that checks the guard more strictly than described only costs a second
// call. One that checks it less strictly makes reservations the Verifier
// then releases: no count goes wrong, but another applicant who meets such
// a reservation before it is released may be refused.
//
// A store declares the capability by implementing the methods; a wrapper
// around such a store has it only if it forwards them on purpose.
type CodeReserver interface {
	InstanceStore
	QuotaStore

	// LookupServiceCode reads the service code stored under its
	// canonical form, its instance (zero if the inventory does not hold
	// it), and its reservation with the usage of that instance. It
	// returns ErrNotFound for a code that does not exist.
	LookupServiceCode(ctx context.Context, code string) (CodeRecord, error)

	// ReserveServiceCode reads r.Code as LookupServiceCode does and, if
	// the code has no reservation and g holds for r.Account, the code
	// and its instance, reserves it as Reserve does, with r.Instance set
	// to the code's instance and the given limit. It reports the record
	// read and what reserving did: 0 if it reserved nothing, because the
	// code is reserved already (rec.Reservation holds that reservation)
	// or g does not hold; otherwise an Outcome of Reserve, with rec.Used
	// the instance's usage as Reserve reports it and rec.Reservation
	// unspecified. It returns ErrNotFound for a code that does not
	// exist, as LookupServiceCode does.
	ReserveServiceCode(ctx context.Context, r Reservation, limit int, g ReserveGuard) (rec CodeRecord, outcome Outcome, err error)
}

// InstanceLister is an InstanceStore that can also list an account's
// instances and an instance's service codes, as the provider's API lists
// the codes of a resource. It is the second of the two optional
// capabilities of a store. Without it, ServiceCodes and ReconcileInstance
// return an error wrapping errors.ErrUnsupported, and a refusal offers no
// alternatives: everything that needs a list is unavailable. It lists the
// inventory alone: the Verifier reads the quota's usage and the codes'
// reservations from its QuotaStore.
type InstanceLister interface {
	// ListInstances returns the instances owned by account, in any
	// order: all of them, or limit if there are more. An account with
	// none gets an empty (or nil) slice, not an error.
	ListInstances(ctx context.Context, account string, limit int) ([]Instance, error)

	// ListServiceCodes returns the service codes whose Instance is
	// instance, revoked or not, ordered by IssuedAt and then by Code,
	// byte for byte: all of them, or the first limit if there are more.
	// A code issued at the zero time comes first. An instance with no
	// codes, or one the store does not hold, gets an empty (or nil)
	// slice, not an error.
	ListServiceCodes(ctx context.Context, instance string, limit int) ([]ServiceCode, error)
}
