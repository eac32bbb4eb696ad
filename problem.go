package icpverify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"golang.org/x/text/language"
)

// ProblemTypePrefix begins the type URI of every Problem: the Reason, or
// "failure" for an error that is not a refusal, follows it. It names the
// problem type and is not meant to be fetched.
const ProblemTypePrefix = "tag:icpverify,2026:problem:"

// Problem is a verification error as an RFC 9457 problem details object,
// for an HTTP API. Title and Detail are localized; the Reason, the quota
// figures and the alternatives offered are extension members.
type Problem struct {
	Type         string        `json:"type"`
	Title        string        `json:"title"`
	Status       int           `json:"status"`
	Detail       string        `json:"detail,omitempty"`
	Reason       Reason        `json:"reason,omitempty"`
	Used         int           `json:"used,omitempty"`
	Limit        int           `json:"limit,omitempty"`
	Alternatives []Alternative `json:"alternatives,omitempty"`

	// Language is the language of Title and Detail, for the
	// Content-Language header.
	Language language.Tag `json:"-"`
}

// Problem returns the problem details of a non-nil error in the language of
// c that best suits tag. The status is 422 Unprocessable Content for
// ErrInvalidProduct and ErrServiceCodeInvalid, 409 Conflict for
// ErrQuotaReached, 404 Not Found for ErrNotFound, 503 Service Unavailable
// for an ended context and 500 Internal Server Error for anything else,
// whose text is never shown.
func (c *Catalog) Problem(err error, tag language.Tag) Problem {
	l, title, detail := c.parts(err, tag)
	p := Problem{Type: ProblemTypePrefix + "failure", Title: title, Detail: detail, Language: l.tag}
	e := asError(err)
	if e != nil {
		p.Type = ProblemTypePrefix + string(e.Reason)
		p.Reason = e.Reason
		if e.Limit != 0 && (e.Err == ErrQuotaReached || e.Reason == ReasonTermTooShort) {
			p.Used, p.Limit = e.Used, e.Limit
		}
		p.Alternatives = e.Alternatives
	}
	refused := true
	switch {
	case errors.Is(err, ErrInvalidProduct), errors.Is(err, ErrServiceCodeInvalid):
		p.Status = http.StatusUnprocessableEntity
	case errors.Is(err, ErrQuotaReached):
		p.Status = http.StatusConflict
	case errors.Is(err, ErrNotFound):
		p.Status = http.StatusNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		p.Status, refused = http.StatusServiceUnavailable, false
	default:
		p.Status, refused = http.StatusInternalServerError, false
	}
	if e == nil && refused {
		// A bare sentinel, without a Reason.
		p.Type = ProblemTypePrefix + "refused"
	}
	return p
}

// ServeHTTP writes p as the response: its status, the media type
// application/problem+json, its Content-Language and Vary: Accept-Language.
func (p Problem) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	body, err := json.Marshal(p)
	if err != nil {
		// Cannot happen: every field marshals.
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Language", p.Language.String())
	if !slices.Contains(h.Values("Vary"), "Accept-Language") {
		h.Add("Vary", "Accept-Language")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}

// NewProblem returns the problem details of a non-nil error in English,
// Simplified Chinese or Traditional Chinese, whichever best suits tag, with
// the built-in messages. See Catalog.Problem.
func NewProblem(err error, tag language.Tag) Problem { return builtin.Problem(err, tag) }
