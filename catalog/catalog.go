// Package catalog words the refusals of package icpverify for an
// applicant with messages of the caller's. A Catalog starts with the
// built-in messages of icpverify.Localize, in English, Simplified Chinese
// and Traditional Chinese; SetString rewords a message or adds a language.
//
// icpverify.Localize and icpverify.MatchLanguage use the built-in messages,
// which no Catalog changes.
package catalog

import (
	"errors"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/internal/messages"
)

// Catalog holds the text that Localize shows an applicant, in each language
// it knows. New returns one with English, Simplified Chinese and
// Traditional Chinese; SetString adds a language or rewords a message. A
// Catalog is safe for concurrent use.
//
// A refusal reads as its prompt followed by its detail, joined by the
// message "layout" (arguments %[1]s prompt, %[2]s detail). The keys are:
//
//   - "prompt.invalid_product", "prompt.service_code_invalid",
//     "prompt.quota_reached": the FAQ's prompt for each sentinel;
//     "prompt.code_limit" for icpverify.ReasonCodeLimit;
//     "prompt.resource_limit" for ReasonInstanceWebsites and
//     ReasonIPWebsites; "prompt.filing_limit" for ReasonAccountWebsites,
//     ReasonSubjectWebsites, ReasonAccountSubjects, ReasonSubjectAccounts
//     and ReasonFilingInProgress; "prompt.not_found" and "prompt.failure"
//     for a missing reservation and for any other error;
//   - each icpverify.Reason, such as "quota_reached": the detail and the
//     advice;
//   - "advice.invalid_product", "advice.service_code_invalid",
//     "advice.quota_reached", "advice.failure": the detail of an error that
//     carries no Reason;
//   - "alternatives" (%[1]s the list), "alternative.one" and
//     "alternative.other" (%[1]s the instance, %[2]d its free slots),
//     "alternatives.sep": the alternatives offered with a refusal;
//   - "expiry.soon" and "expiry.past" (%[1]s the instance, %[2]s the
//     subject, %[3]s the date, %[4]s the masked code): LocalizeExpiry's;
//   - "product.ecs" and the like: the name of each icpverify.ProductType;
//   - "field.account", "field.subject", "field.subject_id",
//     "field.website", "field.instance", "field.owner", "field.grantee": the
//     name of each checked field.
//
// Details are formatted with these arguments: %[1]s the instance ID, %[2]d
// the used count, %[3]d the limit, %[4]s the selected product's name, %[5]s
// the instance's product name, %[6]s the expiry date (China Standard Time,
// YYYY-MM-DD), %[7]s the field's name. A message uses those it needs, with
// explicit indexes. A language that lacks a message shows the English one.
//
// A Catalog is made by New; the zero Catalog is not ready for use.
type Catalog struct {
	m *messages.Catalog
}

// New returns a Catalog with the built-in messages in English, Simplified
// Chinese and Traditional Chinese.
func New() *Catalog { return &Catalog{m: messages.New()} }

// SetString sets the message for key in a language, adding the language if
// it is new. See Catalog for the keys and the arguments messages receive.
// It fails for an empty key, for language.Und, and for a message whose
// verbs do not fit the arguments of its key.
func (c *Catalog) SetString(tag language.Tag, key, msg string) error {
	return c.m.SetString(tag, key, msg)
}

// MatchLanguage returns the language of c that best suits an HTTP
// Accept-Language header: the first language, in the header's order of
// preference, that c has or has a close match for. Chinese is read by
// region and script: zh-HK, zh-MO, zh-TW, zh-Hant and Cantonese (yue) get
// Traditional Chinese, other Chinese (zh, zh-CN, zh-SG, zh-Hans) Simplified
// Chinese. An empty, over-long or malformed header, or one naming no
// language of c, gets English.
func (c *Catalog) MatchLanguage(acceptLanguage string) language.Tag {
	return c.m.MatchLanguage(acceptLanguage)
}

// Localize renders err for an applicant in the language of c that best
// suits tag: the FAQ's prompt for its sentinel, what went wrong, what to do,
// and the alternatives offered, if any. An error that is not a refusal, such
// as a store's failure, gets a generic text that reveals nothing of it. A
// nil error gets "".
func (c *Catalog) Localize(err error, tag language.Tag) string {
	if err == nil {
		return ""
	}
	r := refusal(err)
	return c.m.Localize(&r, tag)
}

// Message is a refusal rendered for an applicant, in parts, for an API
// that shows the prompt as a title, such as an RFC 9457 problem.
type Message struct {
	Language language.Tag // the language of Title and Detail
	Title    string       // the FAQ's prompt for the error's sentinel
	Detail   string       // what went wrong, what to do, and the alternatives offered
}

// Message renders a non-nil err for an applicant in the language of c that
// best suits tag, as Localize does, with the prompt and the detail apart.
func (c *Catalog) Message(err error, tag language.Tag) Message {
	r := refusal(err)
	var m Message
	m.Language, m.Title, m.Detail = c.m.Message(&r, tag)
	return m
}

// LocalizeExpiry renders an expiry warning for the applicant in the language
// of c that best suits tag.
func (c *Catalog) LocalizeExpiry(x icpverify.Expiry, tag language.Tag) string {
	return c.m.LocalizeExpiry(messages.Expiry{Code: x.Code, Instance: x.Instance, Subject: x.Subject,
		ExpiresAt: x.ExpiresAt, Expired: x.Expired}, tag)
}

// refusal returns what a message shows of err, as package icpverify's
// Localize reads it: the exported fields of the *icpverify.Error in its
// chain, or else the sentinel it wraps.
func refusal(err error) messages.Refusal {
	e, ok := errors.AsType[*icpverify.Error](err)
	if !ok || e == nil {
		r := messages.Refusal{}
		switch {
		case errors.Is(err, icpverify.ErrInvalidProduct):
			r.Kind = messages.InvalidProduct
		case errors.Is(err, icpverify.ErrServiceCodeInvalid):
			r.Kind = messages.ServiceCodeInvalid
		case errors.Is(err, icpverify.ErrQuotaReached):
			r.Kind = messages.QuotaReached
		}
		return r
	}
	var alts []messages.Alternative
	if len(e.Alternatives) > 0 {
		alts = make([]messages.Alternative, len(e.Alternatives))
		for i, a := range e.Alternatives {
			alts[i] = messages.Alternative{Instance: a.Instance, Free: a.Free}
		}
	}
	r := messages.Refusal{Detailed: true, Reason: string(e.Reason), Field: e.Field, Instance: e.Instance,
		Selected: string(e.Selected), Actual: string(e.Actual), Used: e.Used, Limit: e.Limit,
		ExpiresAt: e.ExpiresAt, Alternatives: alts}
	switch e.Err {
	case icpverify.ErrInvalidProduct:
		r.Kind = messages.InvalidProduct
	case icpverify.ErrServiceCodeInvalid:
		r.Kind = messages.ServiceCodeInvalid
	case icpverify.ErrQuotaReached:
		r.Kind = messages.QuotaReached
	case icpverify.ErrNotFound:
		r.Kind = messages.NotFound
	}
	return r
}
