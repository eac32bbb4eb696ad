package icphttp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/catalog"
)

// ProblemTypePrefix begins the type URI of every Problem made from an
// error: the Reason, "refused" for a bare sentinel, or "failure" for an
// error that is not a refusal, follows it. It names the problem type and is
// not meant to be fetched.
const ProblemTypePrefix = "tag:icpverify,2026:problem:"

// Problem is an error as an RFC 9457 problem details object, for an HTTP
// API. Title and Detail are localized, in one language; the Reason, the
// quota figures and the alternatives offered are extension members.
type Problem struct {
	Type         string                  `json:"type"`
	Title        string                  `json:"title"`
	Status       int                     `json:"status"`
	Detail       string                  `json:"detail,omitempty"`
	Reason       icpverify.Reason        `json:"reason,omitempty"`
	Used         int                     `json:"used,omitempty"`
	Limit        int                     `json:"limit,omitempty"`
	Alternatives []icpverify.Alternative `json:"alternatives,omitempty"`

	// Language is the language of Title and Detail, for the
	// Content-Language header.
	Language language.Tag `json:"-"`
}

// builtin is the catalog of NewProblem and of a Handler without
// WithCatalog, made on first use. It is never changed.
var builtin = sync.OnceValue(catalog.New)

// NewProblem returns the problem details of a non-nil error in English,
// Simplified Chinese or Traditional Chinese, whichever best suits tag, with
// the built-in messages of package catalog. See CatalogProblem.
func NewProblem(err error, tag language.Tag) Problem { return CatalogProblem(nil, err, tag) }

// CatalogProblem returns the problem details of a non-nil error with the
// messages of c (the built-in ones if c is nil), in the language of c that
// best suits tag. Title and Detail are c.Message's.
//
// The status is 422 Unprocessable Content for ErrInvalidProduct and
// ErrServiceCodeInvalid, 409 Conflict for ErrQuotaReached, 404 Not Found for
// ErrNotFound, 503 Service Unavailable for an ended context
// (context.Canceled, context.DeadlineExceeded) and 500 Internal Server
// Error for anything else, whose text is never shown.
func CatalogProblem(c *catalog.Catalog, err error, tag language.Tag) Problem {
	if c == nil {
		c = builtin()
	}
	m := c.Message(err, tag)
	p := Problem{Type: ProblemTypePrefix + "failure", Title: m.Title, Detail: m.Detail, Language: m.Language}
	e, isRefusal := errors.AsType[*icpverify.Error](err)
	if isRefusal {
		p.Type = ProblemTypePrefix + string(e.Reason)
		p.Reason = e.Reason
		if e.Limit != 0 && (e.Err == icpverify.ErrQuotaReached || e.Reason == icpverify.ReasonTermTooShort) {
			p.Used, p.Limit = e.Used, e.Limit
		}
		p.Alternatives = e.Alternatives
	}
	refused := true
	switch {
	case errors.Is(err, icpverify.ErrInvalidProduct), errors.Is(err, icpverify.ErrServiceCodeInvalid):
		p.Status = http.StatusUnprocessableEntity
	case errors.Is(err, icpverify.ErrQuotaReached):
		p.Status = http.StatusConflict
	case errors.Is(err, icpverify.ErrNotFound):
		p.Status = http.StatusNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		p.Status, refused = http.StatusServiceUnavailable, false
	default:
		p.Status, refused = http.StatusInternalServerError, false
	}
	if !isRefusal && refused {
		// A bare sentinel, without a Reason.
		p.Type = ProblemTypePrefix + "refused"
	}
	return p
}

// ServeHTTP writes p as the response: its status, the media type
// application/problem+json, its Content-Language, Vary: Accept-Language
// and X-Content-Type-Options: nosniff.
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
	addVary(h, "Accept-Language")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}

// addVary adds field to the Vary header unless it, or "*", is listed.
func addVary(h http.Header, field string) {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			if f == "*" || strings.EqualFold(f, field) {
				return
			}
		}
	}
	h.Add("Vary", field)
}
