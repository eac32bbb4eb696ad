package icphttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/catalog"
	"github.com/icpfiling/icpverify/subject"
)

// DefaultMaxBodyBytes is the largest request body a Handler reads unless
// WithMaxBodyBytes sets another bound: 64 KiB.
const DefaultMaxBodyBytes = 64 << 10

// Authenticator returns the account of the applicant who sent r, as the
// backend's own session, cookie or token says. The Handler never takes the
// account from the request body. An error, or an empty account, refuses the
// request with 401 Unauthorized; the error is logged, never shown.
type Authenticator func(r *http.Request) (account string, err error)

// Option configures a Handler.
type Option func(*config)

// config is what the Options set.
type config struct {
	catalog   *catalog.Catalog
	maxBody   int64
	log       *slog.Logger
	challenge string
}

// WithCatalog makes the Handler match languages and word refusals with c
// instead of the built-in messages. The Handler's own problems (400, 401,
// 404, 405, 413, 415) are in English, Simplified Chinese and Traditional
// Chinese; for another language of c they are in English, and say so in
// Content-Language.
func WithCatalog(c *catalog.Catalog) Option {
	return func(cfg *config) { cfg.catalog = c }
}

// WithMaxBodyBytes bounds the request body; a larger one gets 413 Content
// Too Large. A bound below 1 leaves DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option {
	return func(cfg *config) {
		if n > 0 {
			cfg.maxBody = n
		}
	}
}

// WithLogger makes the Handler log to l: a failure answered with 500 (such
// as a store's, with its error) at level Error, a request whose context
// ended at Info (cancelled) or Warn (deadline), and a request it refuses
// itself (400, 401, 404, 405, 413, 415) at Debug, with why. The Verifier's
// refusals are not logged here: its Observer reports them. By default the
// Handler logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) { cfg.log = l }
}

// WithAuthChallenge sets the WWW-Authenticate header of a 401 response,
// such as `Bearer realm="filing"`, as RFC 9110 asks of a 401. By default a
// 401 has none, since only the backend knows its scheme.
func WithAuthChallenge(challenge string) Option {
	return func(cfg *config) { cfg.challenge = challenge }
}

// Handler serves the applicant's operations of a filing backend over HTTP.
// Its routes, relative to where it is mounted (use http.StripPrefix to
// mount it under a prefix):
//
//	POST /verify    Verifier.Verify: reserves the subject's slot
//	POST /check     Verifier.Check: the same checks, reserving nothing
//	POST /withdraw  Verifier.Withdraw: withdraws one of the account's applications
//
// /verify and /check take a JSON object {"product", "service_code",
// "subject", "subject_id", "website"}. "subject_id" is the subject's
// certificate (icpverify.Request.SubjectID), an object {"type", "number"}
// such as {"type": "uscc", "number": "91110000600037341L"}, with a type of
// package subject; the default policy requires it, and a policy that
// keys subjects by name (RequireSubjectID off) takes a request without
// it. "website", the domain filed with the code (icpverify.Request.Website),
// is optional. Any other member left out is empty, and the Verifier
// refuses it. /withdraw takes {"application"}
// alone: the application's identity, as /verify answered it. The account
// is the one the Authenticator returns, never the body's: a body with an
// "account" member is refused like any other unknown member.
//
// A passed verification is answered with 200 and a JSON object of the
// icpverify.Result: {"instance", "product", "service_code" (canonical),
// "subject", "used", "limit", "retry", "application"}. "application" is
// the opaque identity of the application the code is reserved for
// (icpverify.Result.Application): the same for a retry, new for an
// application made after a withdrawal or release. The applicant's client
// keeps it to withdraw the application. /verify always has it; /check has
// it only for a code already reserved for the same application, and leaves
// the member out otherwise.
//
// A withdrawal is answered with 204 No Content and no body. The account may
// withdraw an application it made, or one made with a code of an instance
// it owns. An application that holds no reservation (withdrawn or released
// already, or never made: a retried /withdraw gets this), an identity that
// is not well formed, and an application the account may not withdraw get
// the same 404 problem with the Reason not_reserved, so that a stranger
// learns nothing of another's application; an application whose filing is
// complete cannot be withdrawn (422 code_used).
//
// Every error is answered with a Problem (application/problem+json) whose
// title and detail are in the language of the Accept-Language header, as
// the catalog's MatchLanguage picks it, named by Content-Language, with
// Vary: Accept-Language. A refusal of the Verifier gets CatalogProblem's
// status, type and Reason. A request the Handler refuses itself gets the
// type "about:blank" and, checked in this order:
//
//   - 404 for another path;
//   - 405 for another method than POST, with Allow: POST;
//   - 401 if the Authenticator fails or returns no account;
//   - 415 unless the Content-Type's media type is application/json (with
//     no parameter but charset=utf-8), so that a cross-site HTML form,
//     which can send only application/x-www-form-urlencoded,
//     multipart/form-data or text/plain, cannot post to it;
//   - 413 for a body over the bound (WithMaxBodyBytes);
//   - 400 for a body that is not exactly one JSON object of the known
//     members: invalid UTF-8, not an object, data after it, a repeated key
//     at any depth, a member named otherwise than exactly (such as
//     "Subject" or "ſubject"), an unknown member, a null member (also of
//     "subject_id"), or a member of the wrong type.
//
// Every response has Cache-Control: no-store and X-Content-Type-Options:
// nosniff. A Handler is safe for concurrent use.
type Handler struct {
	cfg    config
	auth   Authenticator
	routes map[string]operation
}

// operation serves a route: it decodes the body and calls the Verifier for
// the authenticated account. It returns the response body, answered with
// 200, or noContent, answered with 204. A body it cannot decode is a
// *requestError.
type operation func(ctx context.Context, account string, body []byte) (any, error)

// noContent is the result of an operation answered with 204 No Content.
type noContent struct{}

// NewHandler returns a Handler that serves the applicant's operations with
// v, for the account that auth returns. It panics if v or auth is nil.
func NewHandler(v *icpverify.Verifier, auth Authenticator, opts ...Option) *Handler {
	if v == nil || auth == nil {
		panic("icphttp: NewHandler needs a Verifier and an Authenticator")
	}
	h := &Handler{cfg: config{maxBody: DefaultMaxBodyBytes}, auth: auth}
	for _, o := range opts {
		if o != nil {
			o(&h.cfg)
		}
	}
	if h.cfg.catalog == nil {
		h.cfg.catalog = builtin()
	}
	if h.cfg.log == nil {
		h.cfg.log = slog.New(slog.DiscardHandler)
	}
	// The routes; each is POST, with a JSON body and the authenticated
	// account.
	h.routes = map[string]operation{
		"/verify": post(func(ctx context.Context, account string, b requestBody) (any, error) {
			return result(v.Verify(ctx, b.request(account)))
		}),
		"/check": post(func(ctx context.Context, account string, b requestBody) (any, error) {
			return result(v.Check(ctx, b.request(account)))
		}),
		"/withdraw": post(func(ctx context.Context, account string, b applicationBody) (any, error) {
			if err := v.Withdraw(ctx, b.Application, account); err != nil {
				return nil, err
			}
			return noContent{}, nil
		}),
	}
	return h
}

// post returns the operation of a route whose body is a B, a struct whose
// fields are named by their json tags, decoded by decodeStrict.
func post[B any](call func(ctx context.Context, account string, b B) (any, error)) operation {
	fields := schemaOf(reflect.TypeFor[B]())
	return func(ctx context.Context, account string, body []byte) (any, error) {
		var b B
		if err := decodeStrict(body, &b, fields); err != nil {
			return nil, &requestError{status: http.StatusBadRequest, err: err}
		}
		return call(ctx, account, b)
	}
}

// requestBody is the body of /verify and /check. It has no account: the
// account is the authenticated one.
type requestBody struct {
	Product     string `json:"product"`
	ServiceCode string `json:"service_code"`
	Subject     string `json:"subject"`
	// SubjectID is the subject's certificate; optional, unless the
	// product's policy requires one (icpverify.Policy.RequireSubjectID,
	// as the default policy does).
	SubjectID subjectIDBody `json:"subject_id"`
	Website   string        `json:"website"` // optional
}

// subjectIDBody is a subject's certificate in a request body,
// {"type", "number"}: a subject.CertType such as "uscc" and the number as
// typed.
type subjectIDBody struct {
	Type   string `json:"type"`
	Number string `json:"number"`
}

// applicationBody is the body of /withdraw: the application's identity
// alone, as a passed /verify answered it. It has no account: the account
// is the authenticated one. The Verifier checks the identity's form.
type applicationBody struct {
	Application string `json:"application"`
}

// request returns the Verifier's request of b for account.
func (b requestBody) request(account string) icpverify.Request {
	return icpverify.Request{
		Product:     icpverify.ProductType(b.Product),
		ServiceCode: b.ServiceCode,
		Account:     account,
		Subject:     b.Subject,
		SubjectID:   subject.ID{Type: subject.CertType(b.SubjectID.Type), Number: b.SubjectID.Number},
		Website:     b.Website,
	}
}

// resultBody is the response of a passed /verify or /check.
type resultBody struct {
	Instance    string `json:"instance"`
	Product     string `json:"product"`
	ServiceCode string `json:"service_code"`
	Subject     string `json:"subject"`
	Used        int    `json:"used"`
	Limit       int    `json:"limit"`
	Retry       bool   `json:"retry"`
	// Application is the identity of the application the code is reserved
	// for: always there for /verify, only for a code already reserved for
	// the same application for /check.
	Application string `json:"application,omitempty"`
}

// result returns the response of a Verify or Check.
func result(res icpverify.Result, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return resultBody{
		Instance:    res.Instance,
		Product:     string(res.Product),
		ServiceCode: res.ServiceCode,
		Subject:     res.Subject,
		Used:        res.Used,
		Limit:       res.Limit,
		Retry:       res.Retry,
		Application: res.Application,
	}, nil
}

// requestError is a request the Handler refuses before it reaches the
// Verifier.
type requestError struct {
	status int   // 400, 401, 404, 405, 413 or 415
	err    error // why, for the log only
}

// Error returns the status and why.
func (e *requestError) Error() string {
	return fmt.Sprintf("icphttp: %d %s: %v", e.status, http.StatusText(e.status), e.err)
}

// Unwrap returns why.
func (e *requestError) Unwrap() error { return e.err }

// ServeHTTP serves one request; see Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	op, ok := h.routes[r.URL.Path]
	if !ok {
		h.fail(w, r, &requestError{http.StatusNotFound, fmt.Errorf("no route %q", r.URL.Path)})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, r, &requestError{http.StatusMethodNotAllowed, fmt.Errorf("method %q", r.Method)})
		return
	}
	account, err := h.auth(r)
	if err == nil && account == "" {
		err = errors.New("the Authenticator returned no account")
	}
	if err != nil {
		if h.cfg.challenge != "" {
			w.Header().Set("WWW-Authenticate", h.cfg.challenge)
		}
		h.fail(w, r, &requestError{http.StatusUnauthorized, err})
		return
	}
	if err := checkMediaType(r.Header); err != nil {
		h.fail(w, r, &requestError{http.StatusUnsupportedMediaType, err})
		return
	}
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := op(r.Context(), account, body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, ok := res.(noContent); ok {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// checkMediaType returns an error unless the request has one Content-Type
// header, of the media type application/json, with no parameter but
// charset=utf-8.
func checkMediaType(header http.Header) error {
	cts := header.Values("Content-Type")
	if len(cts) != 1 {
		return fmt.Errorf("%d Content-Type headers", len(cts))
	}
	mt, params, err := mime.ParseMediaType(cts[0])
	if err != nil {
		return fmt.Errorf("Content-Type %q: %w", cts[0], err)
	}
	if mt != "application/json" {
		return fmt.Errorf("media type %q", mt)
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return fmt.Errorf("media type parameter %s=%q", k, v)
		}
	}
	return nil
}

// readBody reads the request body, up to the bound. It returns a
// *requestError if it cannot.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > h.cfg.maxBody {
		return nil, &requestError{http.StatusRequestEntityTooLarge, fmt.Errorf("Content-Length %d", r.ContentLength)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	if err == nil {
		return body, nil
	}
	status := http.StatusBadRequest
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		status = http.StatusRequestEntityTooLarge
	}
	return nil, &requestError{status, fmt.Errorf("reading the body: %w", err)}
}

// fail answers err with a Problem in the language the Accept-Language
// header asks for, and logs it as WithLogger says.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	tag := h.cfg.catalog.MatchLanguage(strings.Join(r.Header.Values("Accept-Language"), ","))
	re, refused := errors.AsType[*requestError](err)
	var p Problem
	if refused {
		p = statusProblem(re.status, tag)
	} else {
		p = CatalogProblem(h.cfg.catalog, err, tag)
	}
	level, msg := slog.LevelDebug, "request refused"
	switch {
	case p.Status == http.StatusInternalServerError:
		level, msg = slog.LevelError, "request failed"
	case p.Status == http.StatusServiceUnavailable:
		level, msg = slog.LevelWarn, "request ended early"
		if errors.Is(err, context.Canceled) {
			level = slog.LevelInfo // the client went away
		}
	case !refused:
		// The Verifier's refusal: its Observer, if any, reports it.
		p.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	if h.cfg.log.Enabled(ctx, level) {
		h.cfg.log.LogAttrs(ctx, level, msg, slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", p.Status), slog.Any("err", err))
	}
	p.ServeHTTP(w, r)
}

// writeJSON writes a JSON response.
func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		// Cannot happen: the bodies are plain structs.
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// An error here is the client's going away; there is no one to tell.
	_, _ = w.Write(append(b, '\n'))
}
