package icpverify

import (
	"errors"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify/internal/messages"
)

// Localize renders err for an applicant in English, Simplified Chinese or
// Traditional Chinese, whichever best suits tag, with the built-in
// messages: the FAQ's prompt for its sentinel, what went wrong, what to do,
// and the alternatives offered, if any. An error that is not a refusal,
// such as a store's failure, gets a generic text that reveals nothing of
// it. A nil error gets "". Package catalog words refusals with messages of
// the caller's, or in other languages.
func Localize(err error, tag language.Tag) string {
	if err == nil {
		return ""
	}
	r := refusal(err)
	return messages.Builtin().Localize(&r, tag)
}

// MatchLanguage returns English, Simplified Chinese or Traditional Chinese,
// whichever best suits an HTTP Accept-Language header: the first of them,
// in the header's order of preference, that the header names or names a
// close match for. Chinese is read by region and script: zh-HK, zh-MO,
// zh-TW, zh-Hant and Cantonese (yue) get Traditional Chinese, other Chinese
// (zh, zh-CN, zh-SG, zh-Hans) Simplified Chinese. An empty, over-long or
// malformed header, or one naming none of them, gets English.
func MatchLanguage(acceptLanguage string) language.Tag {
	return messages.Builtin().MatchLanguage(acceptLanguage)
}

// refusal returns what a message shows of err.
func refusal(err error) messages.Refusal {
	e := asError(err)
	if e == nil {
		r := messages.Refusal{}
		switch {
		case errors.Is(err, ErrInvalidProduct):
			r.Kind = messages.InvalidProduct
		case errors.Is(err, ErrServiceCodeInvalid):
			r.Kind = messages.ServiceCodeInvalid
		case errors.Is(err, ErrQuotaReached):
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
	case ErrInvalidProduct:
		r.Kind = messages.InvalidProduct
	case ErrServiceCodeInvalid:
		r.Kind = messages.ServiceCodeInvalid
	case ErrQuotaReached:
		r.Kind = messages.QuotaReached
	case ErrNotFound:
		r.Kind = messages.NotFound
	}
	return r
}
