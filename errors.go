package icpverify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The three ways product verification fails, as the provider's FAQ names
// them. Every refusal is an *Error that wraps one of them, so that
// errors.Is(err, ErrQuotaReached) tells the caller which prompt to show.
var (
	// ErrInvalidProduct: the product information is wrong. The selected
	// product type does not match the product bought, cannot be filed, or
	// the instance cannot issue service codes.
	ErrInvalidProduct = errors.New("icpverify: invalid product information")

	// ErrServiceCodeInvalid: the ICP filing service code is invalid,
	// typically because the instance it was issued from has expired.
	ErrServiceCodeInvalid = errors.New("icpverify: ICP filing service code is invalid")

	// ErrQuotaReached: the product's quota of filing subjects, or of
	// service codes, is used up.
	ErrQuotaReached = errors.New("icpverify: ICP filing quota reached")
)

// Reason is a stable, machine-readable cause of a refusal. Its value never
// changes between releases, so it may be stored, logged and used as a key.
type Reason string

// Reasons under ErrInvalidProduct.
const (
	ReasonInvalidRequest     Reason = "invalid_request"      // a field is empty, too long or not valid UTF-8
	ReasonProductNotFileable Reason = "product_not_fileable" // the product type cannot be filed
	ReasonProductMismatch    Reason = "product_mismatch"     // the selected type is not the instance's
	ReasonInstanceNotFound   Reason = "instance_not_found"   // no such instance
	ReasonNotInstanceOwner   Reason = "not_instance_owner"   // the account does not own the instance (a Decision's Cause)
	ReasonNotSubscription    Reason = "not_subscription"     // the instance is pay-as-you-go
	ReasonTermTooShort       Reason = "term_too_short"       // the purchased term is under the minimum
	ReasonNotMainland        Reason = "not_mainland"         // the region is outside the Chinese mainland
	ReasonNoPublicIP         Reason = "no_public_ip"         // the instance has no public IP
	ReasonNotRunning         Reason = "not_running"          // the instance is not running
	ReasonTrialInstance      Reason = "trial_instance"       // the instance is a free trial
	ReasonSubjectIDMalformed Reason = "subject_id_malformed" // the subject's certificate number is not well formed, or missing where required
	ReasonNotGrantable       Reason = "not_grantable"        // the product's codes serve its owner only (Policy.OwnerOnly)
	ReasonGrantNotAllowed    Reason = "grant_not_allowed"    // the provider lets this account issue no code for that one (Profile.MayIssue)
)

// Reasons under ErrServiceCodeInvalid.
const (
	ReasonCodeMalformed    Reason = "code_malformed"    // not a service code: wrong length, character or check character
	ReasonCodeNotFound     Reason = "code_not_found"    // no such service code
	ReasonCodeNotOwned     Reason = "code_not_owned"    // the code was neither issued to nor granted to the account
	ReasonCodeRevoked      Reason = "code_revoked"      // the provider invalidated the code
	ReasonInstanceExpired  Reason = "instance_expired"  // the code's instance has expired
	ReasonInstanceReleased Reason = "instance_released" // the code's instance was released
	ReasonCodeInUse        Reason = "code_in_use"       // the code is reserved for another application: another account, subject or website
	ReasonCodeUsed         Reason = "code_used"         // the code's filing is complete

	ReasonCodeExpired       Reason = "code_expired"        // the code is older than Policy.CodeTTL
	ReasonInstanceStopped   Reason = "instance_stopped"    // the code's instance is no longer running
	ReasonPublicIPRemoved   Reason = "public_ip_removed"   // the code's instance no longer has a public IP
	ReasonRemainingTooShort Reason = "remaining_too_short" // the code's instance expires within Policy.MinRemaining
	ReasonGrantFixed        Reason = "grant_fixed"         // the code's grantee was named at issue and cannot change (GrantAtIssue)
	ReasonNotFiled          Reason = "not_filed"           // Deregister was given an application whose filing is not complete
)

// Reasons under ErrQuotaReached.
const (
	ReasonQuotaReached Reason = "quota_reached" // every subject slot of the instance is taken
	ReasonCodeLimit    Reason = "code_limit"    // the instance has issued all the codes it may

	ReasonInstanceWebsites Reason = "instance_websites"  // the instance files Policy.WebsitesPerInstance websites already
	ReasonIPWebsites       Reason = "ip_websites"        // the instance's public IP files Policy.WebsitesPerIP websites already
	ReasonAccountWebsites  Reason = "account_websites"   // the account files Policy.WebsitesPerAccount websites already
	ReasonSubjectWebsites  Reason = "subject_websites"   // the subject files Policy.WebsitesPerSubject websites already
	ReasonAccountSubjects  Reason = "account_subjects"   // the account files for Profile.SubjectsPerAccount other subjects already
	ReasonSubjectAccounts  Reason = "subject_accounts"   // the subject files with Profile.AccountsPerSubject other accounts already
	ReasonFilingInProgress Reason = "filing_in_progress" // the account has Profile.FilingsInProgress applications in progress already
)

// ReasonNotReserved is the reason of an *Error wrapping ErrNotFound:
// Withdraw, Release or Complete was given an application that holds no
// reservation (released or withdrawn already, never made, or not an
// application's identity at all), or Withdraw was asked by an account that
// may not withdraw the application, which learns no more than that.
const ReasonNotReserved Reason = "not_reserved"

// Error is a refusal with its details. It wraps one of ErrInvalidProduct,
// ErrServiceCodeInvalid, ErrQuotaReached or ErrNotFound, so errors.Is matches
// the sentinel and errors.As opens the details.
type Error struct {
	Err       error       // the sentinel
	Reason    Reason      // the precise cause
	Field     string      // with ReasonInvalidRequest: the offending field
	Instance  string      // the instance concerned, if known
	Selected  ProductType // the product type the applicant selected
	Actual    ProductType // the instance's product type, if known
	Used      int         // quota reasons: slots or codes in use
	Limit     int         // quota reasons, ReasonTermTooShort: the limit
	ExpiresAt time.Time   // ReasonInstanceExpired, ReasonRemainingTooShort: the instance's expiry; ReasonCodeExpired: the code's
	// Alternatives are the applicant's other instances that would pass
	// now, best first, offered with a quota or expiry refusal of Verify
	// or Check when the InstanceStore is an InstanceLister.
	Alternatives []Alternative
	// cause and causeInstance are the true reason of a refusal that hides
	// it from a stranger to the code, and the instance concerned, for the
	// Decision.
	cause         Reason
	causeInstance string
}

// unknownCode is the refusal of a code that does not exist, and of one
// that exists but is neither the applicant's nor granted to them: a
// stranger learns nothing of a code from it. cause is the true reason of
// the second, and instance its instance.
func unknownCode(selected ProductType, cause Reason, instance string) *Error {
	return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeNotFound, Selected: selected, cause: cause, causeInstance: instance}
}

// trueReason is the reason of e, or the one it hides from a stranger.
func (e *Error) trueReason() Reason {
	if e.cause != "" {
		return e.cause
	}
	return e.Reason
}

// notReserved is the refusal of Withdraw, Release or Complete for an
// application that holds no reservation, and of a Withdraw by an account
// that may not withdraw it; cause is the true reason of the latter, and
// instance the reservation's instance.
func notReserved(cause Reason, instance string) *Error {
	return &Error{Err: ErrNotFound, Reason: ReasonNotReserved, cause: cause, causeInstance: instance}
}

// Alternative is an instance of the applicant's that would pass product
// verification now: of the same product type, with a free subject slot, and
// eligible to issue service codes (owned by the applicant, running,
// unexpired, a mainland subscription of the minimum term with a public IP).
// The applicant needs a service code from it.
type Alternative struct {
	Instance  string      `json:"instance"`
	Product   ProductType `json:"product"`
	Free      int         `json:"free"`                // subject slots left
	ExpiresAt time.Time   `json:"expires_at,omitzero"` // the zero time: no end
}

// asError returns the *Error in err's chain, or nil.
func asError(err error) *Error {
	switch e := err.(type) {
	case nil:
		return nil
	case *Error:
		return e
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Error returns a one-line English description for logs.
func (e *Error) Error() string {
	if e == nil {
		return "icpverify: <nil *Error>"
	}
	var b strings.Builder
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("icpverify: refused")
	}
	b.WriteString(": ")
	b.WriteString(string(e.Reason))
	if e.Field != "" {
		b.WriteString(" (field ")
		b.WriteString(e.Field)
		b.WriteByte(')')
	}
	if e.Instance != "" {
		b.WriteString(", instance ")
		b.WriteString(strconv.Quote(e.Instance))
	}
	if e.Selected != "" {
		b.WriteString(", selected ")
		b.WriteString(strconv.Quote(string(e.Selected)))
	}
	if e.Actual != "" {
		b.WriteString(", actual ")
		b.WriteString(strconv.Quote(string(e.Actual)))
	}
	if e.Limit != 0 {
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(e.Used))
		b.WriteString(" of ")
		b.WriteString(strconv.Itoa(e.Limit))
	}
	if !e.ExpiresAt.IsZero() {
		b.WriteString(", expiry ")
		b.WriteString(e.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// storeFailure wraps the error of a store call that must find what it acts
// on, as the Verifier has just read it or needs none. Such a call that
// reports ErrNotFound has failed: the error says so but no longer matches
// ErrNotFound, so that it is not taken for a refusal.
func storeFailure(doing string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("icpverify: %s: the store reported not found: %v", doing, err)
	}
	return fmt.Errorf("icpverify: %s: %w", doing, err)
}
