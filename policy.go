package icpverify

import (
	"strings"
	"time"
)

// Policy is what the provider allows for one product type: how many filing
// subjects and service codes an instance may have, and which instances may
// issue codes at all. A Policy whose SubjectLimit or CodeLimit is zero makes
// its product type one that cannot be filed.
type Policy struct {
	// SubjectLimit is the number of filing subjects an instance may
	// serve at once.
	SubjectLimit int
	// CodeLimit is the number of service codes an instance may issue in
	// its life. Renewing the instance does not add more; a provider that
	// sells extra codes raises it.
	CodeLimit int
	// MinTermMonths is the shortest total purchased subscription term,
	// renewals included, that may issue codes.
	MinTermMonths int
	// MainlandOnly restricts issuing codes to Chinese mainland regions.
	MainlandOnly bool
	// PublicIPRequired restricts issuing codes to instances with a public
	// IP address.
	PublicIPRequired bool
	// PayAsYouGo lets pay-as-you-go instances issue codes. The provider's
	// published rules allow subscriptions only.
	PayAsYouGo bool
	// MinRemaining is how long an instance must have left before it
	// expires for its codes to verify; zero asks nothing. Some providers
	// ask 30 days.
	MinRemaining time.Duration
	// CodeTTL is how long a code stays valid after it is issued; zero
	// means for as long as its instance. Some providers give a year.
	CodeTTL time.Duration
	// WebsitesPerInstance, WebsitesPerIP, WebsitesPerAccount and
	// WebsitesPerSubject limit the websites filed at once, each
	// application counting as one website, on the code's instance, on
	// its instance's public IP, by the applicant's account and for the
	// subject; zero sets no limit. A website stops counting when its
	// application is released or withdrawn, or, under a Profile with
	// FreedOnDeregister, when its filing is deregistered.
	WebsitesPerInstance int
	WebsitesPerIP       int
	WebsitesPerAccount  int
	WebsitesPerSubject  int
	// OwnerOnly keeps the codes of this product type for the filings of
	// the account that owns the instance: they cannot be issued to or
	// granted to another account, as a product that files but does not
	// issue codes for others.
	OwnerOnly bool
	// RequireSubjectID refuses a request that does not identify its
	// subject by certificate (Request.SubjectID). DefaultPolicy sets it:
	// a filing records its subject's certificate, and a name alone keys
	// one subject apart from itself when it is spelled otherwise (another
	// script, a Traditional character) and two subjects as one when they
	// share a name. A backend that has only names turns it off.
	RequireSubjectID bool
}

// fileable reports whether the policy's product type can be filed.
func (p Policy) fileable() bool { return p.SubjectLimit > 0 && p.CodeLimit > 0 }

// DefaultPolicy returns the provider's published policy for a product type:
// ECS and Simple Application Server instances serve 5 subjects, issue 5
// codes, and must be mainland subscriptions of at least 3 months with a
// public IP. A code is valid for as long as its instance, with no minimum
// time left. A request must identify its subject by certificate
// (RequireSubjectID). Every other type, known or not, gets the zero Policy:
// it cannot be filed.
//
// As a code serves one subject, an instance whose codes all come from
// IssueServiceCode runs out of codes before it runs out of subject slots
// under these defaults; the subject limit binds when CodeLimit is raised or
// the provider's inventory issues codes by other means.
func DefaultPolicy(p ProductType) Policy {
	switch p {
	case ProductECS, ProductSimpleApplicationServer:
		return Policy{
			SubjectLimit:     5,
			CodeLimit:        5,
			MinTermMonths:    3,
			MainlandOnly:     true,
			PublicIPRequired: true,
			RequireSubjectID: true,
		}
	}
	return Policy{}
}

// Mainland reports whether region is a Chinese mainland region in the
// provider's naming: "cn-" followed by a name, except Hong Kong. It is the
// default test of Policy.MainlandOnly; WithMainland replaces it.
func Mainland(region string) bool {
	name, ok := strings.CutPrefix(region, "cn-")
	return ok && name != "" && name != "hongkong"
}

// expired reports whether inst's paid term has ended by now.
func expired(inst Instance, now time.Time) bool {
	return !inst.ExpiresAt.IsZero() && !now.Before(inst.ExpiresAt)
}

// eligible returns why inst may not issue codes for account under pol now,
// or nil. Issuing a code and offering an alternative instance both ask it.
func (v *Verifier) eligible(inst Instance, account string, pol Policy, now time.Time) *Error {
	refuse := func(r Reason) *Error {
		return &Error{Err: ErrInvalidProduct, Reason: r, Instance: inst.ID, Actual: inst.Product}
	}
	switch {
	case inst.Account != account:
		// Nothing of another account's instance is told.
		return &Error{Err: ErrInvalidProduct, Reason: ReasonNotInstanceOwner, Instance: inst.ID}
	case !pol.fileable():
		return refuse(ReasonProductNotFileable)
	case inst.Trial:
		return refuse(ReasonTrialInstance)
	case inst.Billing != Subscription && !(pol.PayAsYouGo && inst.Billing == PayAsYouGo):
		return refuse(ReasonNotSubscription)
	case inst.TermMonths < pol.MinTermMonths:
		e := refuse(ReasonTermTooShort)
		e.Used, e.Limit = inst.TermMonths, pol.MinTermMonths
		return e
	case pol.MainlandOnly && !v.mainland(inst.Region):
		return refuse(ReasonNotMainland)
	case pol.PublicIPRequired && inst.PublicIP == "":
		return refuse(ReasonNoPublicIP)
	case inst.Status == Released:
		return refuse(ReasonInstanceReleased)
	case inst.Status != Running:
		return refuse(ReasonNotRunning)
	case expired(inst, now):
		e := refuse(ReasonInstanceExpired)
		e.ExpiresAt = inst.ExpiresAt
		return e
	}
	return nil
}

// entitled reports whether account may use the code sc of inst: it owns the
// instance now, or the instance's owner granted it the code. inst is the
// zero Instance if the inventory no longer holds it; the code's owner then
// stands for the instance's.
func entitled(account string, sc ServiceCode, inst Instance) bool {
	owner := ownerOf(sc, inst)
	return account != "" && (account == owner || account == sc.Grantee && sc.Owner == owner)
}

// ownerOf returns the account that owns the code sc of inst now: the
// instance's owner, or the code's if the inventory no longer holds inst.
func ownerOf(sc ServiceCode, inst Instance) string {
	if inst.ID == "" {
		return sc.Owner
	}
	return inst.Account
}

// valid returns why the code sc of inst cannot serve a filing now, or nil:
// it is revoked or past its CodeTTL, or its instance is released, expired,
// stopped, without the public IP pol requires, or has less than
// pol.MinRemaining left. These are what issuing checked and can change
// later. inst is the zero Instance if the inventory no longer holds it.
func valid(sc *ServiceCode, inst *Instance, pol *Policy, now time.Time) *Error {
	refuse := func(r Reason) *Error {
		return &Error{Err: ErrServiceCodeInvalid, Reason: r, Instance: sc.Instance, Actual: inst.Product}
	}
	switch {
	case sc.Revoked:
		return refuse(ReasonCodeRevoked)
	case pol.CodeTTL > 0 && !now.Before(sc.IssuedAt.Add(pol.CodeTTL)):
		e := refuse(ReasonCodeExpired)
		e.ExpiresAt = sc.IssuedAt.Add(pol.CodeTTL)
		return e
	case inst.ID == "" || inst.Status == Released:
		// The inventory forgets released instances.
		return refuse(ReasonInstanceReleased)
	case expired(*inst, now):
		e := refuse(ReasonInstanceExpired)
		e.ExpiresAt = inst.ExpiresAt
		return e
	case inst.Status != Running:
		return refuse(ReasonInstanceStopped)
	case pol.PublicIPRequired && inst.PublicIP == "":
		return refuse(ReasonPublicIPRemoved)
	case pol.MinRemaining > 0 && !inst.ExpiresAt.IsZero() && inst.ExpiresAt.Sub(now) < pol.MinRemaining:
		e := refuse(ReasonRemainingTooShort)
		e.ExpiresAt = inst.ExpiresAt
		return e
	}
	return nil
}
