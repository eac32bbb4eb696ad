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
}

// fileable reports whether the policy's product type can be filed.
func (p Policy) fileable() bool { return p.SubjectLimit > 0 && p.CodeLimit > 0 }

// DefaultPolicy returns the provider's published policy for a product type:
// ECS and Simple Application Server instances serve 5 subjects, issue 5
// codes, and must be mainland subscriptions of at least 3 months with a
// public IP. Every other type, known or not, gets the zero Policy: it cannot
// be filed.
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
