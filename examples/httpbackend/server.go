package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/catalog"
	"github.com/icpfiling/icpverify/icphttp"
)

// The applicant-facing side: icphttp's Handler behind a toy authenticator.

// newApplicantHandler returns the handler of the applicants' listener:
// POST /verify, POST /check and POST /withdraw (icphttp.Handler), for the
// account that the bearer token of the request names in tokens. It logs
// the server's failures to log.
func newApplicantHandler(v *icpverify.Verifier, tokens map[string]string, log *slog.Logger) http.Handler {
	return icphttp.NewHandler(v, bearerAuth(tokens),
		icphttp.WithLogger(log),
		icphttp.WithAuthChallenge(`Bearer realm="icp-filing"`))
}

// bearerAuth is a TOY authenticator: it maps the token of an
// "Authorization: Bearer <token>" header to an account, through a fixed
// map. A real backend authenticates the applicant with its own sessions or
// signed tokens (expiry, revocation, constant-time comparison of secrets)
// and returns the account of the session; whatever it does, the account
// comes from there, never from the request body.
func bearerAuth(tokens map[string]string) icphttp.Authenticator {
	return func(r *http.Request) (string, error) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return "", errors.New("no bearer token")
		}
		account, ok := tokens[token]
		if !ok {
			return "", errors.New("unknown bearer token")
		}
		return account, nil
	}
}

// The provider-side: endpoints that must NEVER face applicants.
//
// /release, /complete and /revoke are the provider's own actions, taken by
// its filing workflow when it rejects or approves an application, or
// invalidates a code. /release and /complete name the application by the
// identity that Verify gave it (icpverify.Result.Application), so that a
// call retried after a lost answer never settles another application that
// took the code meanwhile; /revoke acts on a service code alone. An
// applicant who gives up an application withdraws it on the applicants'
// listener (/withdraw), which checks that the application is theirs. /codes and /grant belong to the instance
// owner's console, which authenticates the owner itself and then acts for
// them; /expiring serves the provider's renewal reminders. None of them
// authenticates its caller: each trusts the account it is given. They are
// served on a listener of their own (-internal-addr), which only the
// provider's systems may reach.

// Bounds of the within parameter of /expiring.
const (
	defaultWithin = 30 * 24 * time.Hour  // when the parameter is absent
	maxWithin     = 366 * 24 * time.Hour // the longest window asked for
)

// maxBody bounds the size of a request body on the internal listener.
const maxBody = 64 << 10

// internal serves the provider-side endpoints.
type internal struct {
	v       *icpverify.Verifier
	catalog *catalog.Catalog // the renewal warnings' texts
	log     *slog.Logger
}

// newInternalHandler returns the handler of the internal listener. It logs
// server failures to log.
func newInternalHandler(v *icpverify.Verifier, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &internal{v: v, catalog: catalog.New(), log: log}
	mux := http.NewServeMux()
	// The routes take every method, so that a wrong one gets a problem
	// details 405 rather than the mux's plain-text one.
	mux.Handle("/codes", s.allow(s.codes, http.MethodPost))
	mux.Handle("/grant", s.allow(s.grant, http.MethodPost))
	mux.Handle("/release", s.allow(s.release, http.MethodPost))
	mux.Handle("/complete", s.allow(s.complete, http.MethodPost))
	mux.Handle("/revoke", s.allow(s.revoke, http.MethodPost))
	mux.Handle("/expiring", s.allow(s.expiring, http.MethodGet, http.MethodHead))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &requestError{status: http.StatusNotFound, err: fmt.Errorf("no endpoint %q", r.URL.Path)})
	})
	return mux
}

// allow restricts h to the methods given.
func (s *internal) allow(h http.HandlerFunc, methods ...string) http.Handler {
	allowed := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(methods, r.Method) {
			w.Header().Set("Allow", allowed)
			s.fail(w, r, &requestError{status: http.StatusMethodNotAllowed, err: fmt.Errorf("method %s", r.Method)})
			return
		}
		h(w, r)
	})
}

// requestError is a request the internal listener refuses before it
// reaches the Verifier: a body it cannot read, a wrong method or media
// type, an unknown path.
type requestError struct {
	status int   // 400, 404, 405, 413 or 415
	err    error // what was wrong
}

// Error returns the status and what was wrong.
func (e *requestError) Error() string {
	return fmt.Sprintf("httpbackend: %s: %v", http.StatusText(e.status), e.err)
}

// Unwrap returns what was wrong.
func (e *requestError) Unwrap() error { return e.err }

// codeRequest is the body of /revoke.
type codeRequest struct {
	ServiceCode string `json:"service_code"`
}

// applicationRequest is the body of /release and /complete: the
// application the provider's workflow rejects or approves, by the identity
// that Verify gave it (the "application" of /verify's answer). The member
// is required and may not be empty, so that a body that forgot it is the
// calling system's mistake (400) rather than an application that holds
// nothing (404); the Verifier checks the identity's form.
type applicationRequest struct {
	Application *string `json:"application"`
}

// application returns the application's identity, or a *requestError if
// the body names none.
func (a *applicationRequest) application() (string, error) {
	if a.Application == nil || *a.Application == "" {
		return "", &requestError{status: http.StatusBadRequest,
			err: errors.New(`no "application" member: give the application's identity, as /verify answered it`)}
	}
	return *a.Application, nil
}

// issueRequest is the body of /codes.
type issueRequest struct {
	Instance string `json:"instance"`
	Account  string `json:"account"` // the instance's owner, as the console authenticated them
}

// grantRequest is the body of /grant.
type grantRequest struct {
	ServiceCode string `json:"service_code"`
	Owner       string `json:"owner"` // the code's owner, as the console authenticated them
	// Grantee is the account granted the code; "" withdraws the grant.
	// The member is required, so that a body that forgot it withdraws
	// nothing.
	Grantee *string `json:"grantee"`
}

// statusBody is the response of /codes, /grant, /release, /complete and
// /revoke.
type statusBody struct {
	Status      string `json:"status"`
	ServiceCode string `json:"service_code,omitempty"`
	Instance    string `json:"instance,omitempty"`
}

// expiringBody is the response of /expiring.
type expiringBody struct {
	Account  string       `json:"account"`
	Within   string       `json:"within"`
	Expiring []expiryBody `json:"expiring"` // soonest first; never null
}

// expiryBody is one warning of /expiring.
type expiryBody struct {
	Instance    string    `json:"instance"`
	Subject     string    `json:"subject"`
	ServiceCode string    `json:"service_code"` // masked
	Filed       bool      `json:"filed"`        // the filing is complete; otherwise under review
	ExpiresAt   time.Time `json:"expires_at"`
	Expired     bool      `json:"expired"`
	Message     string    `json:"message"` // for the applicant, in the language of Content-Language
}

func (s *internal) codes(w http.ResponseWriter, r *http.Request) {
	var req issueRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	code, err := s.v.IssueServiceCode(r.Context(), req.Instance, req.Account)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, statusBody{Status: "issued", ServiceCode: code, Instance: req.Instance})
}

func (s *internal) grant(w http.ResponseWriter, r *http.Request) {
	var req grantRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Grantee == nil {
		s.fail(w, r, &requestError{status: http.StatusBadRequest,
			err: errors.New(`no "grantee" member: give the account to grant the code to, or "" to withdraw the grant`)})
		return
	}
	if err := s.v.GrantServiceCode(r.Context(), req.ServiceCode, req.Owner, *req.Grantee); err != nil {
		s.fail(w, r, err)
		return
	}
	status := "granted"
	if *req.Grantee == "" {
		status = "grant_withdrawn"
	}
	writeJSON(w, http.StatusOK, statusBody{Status: status})
}

func (s *internal) release(w http.ResponseWriter, r *http.Request) {
	s.settle(w, r, s.v.Release, "released")
}

func (s *internal) complete(w http.ResponseWriter, r *http.Request) {
	s.settle(w, r, s.v.Complete, "completed")
}

// settle serves /release and /complete: it reads the application of the
// body, calls do with it and answers status.
func (s *internal) settle(w http.ResponseWriter, r *http.Request, do func(context.Context, string) error, status string) {
	var req applicationRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	application, err := req.application()
	if err == nil {
		err = do(r.Context(), application)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statusBody{Status: status})
}

func (s *internal) revoke(w http.ResponseWriter, r *http.Request) {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.v.RevokeServiceCode(r.Context(), req.ServiceCode); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "revoked"})
}

// expiring serves /expiring?account=...&within=720h: the account's service
// codes, in use or under review, whose instance expires within the window
// (30 days if within is absent) or has expired, each with a message for the
// applicant.
func (s *internal) expiring(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.fail(w, r, &requestError{status: http.StatusBadRequest, err: fmt.Errorf("query: %w", err)})
		return
	}
	within := defaultWithin
	if raw := q.Get("within"); raw != "" {
		within, err = time.ParseDuration(raw)
		if err == nil && (within <= 0 || within > maxWithin) {
			err = fmt.Errorf("within %v is not in (0, %v]", within, maxWithin)
		}
		if err != nil {
			s.fail(w, r, &requestError{status: http.StatusBadRequest, err: fmt.Errorf("within: %w", err)})
			return
		}
	}
	account := q.Get("account")
	xs, err := s.v.Expiring(r.Context(), account, within)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tag := s.catalog.MatchLanguage(r.Header.Get("Accept-Language"))
	body := expiringBody{Account: account, Within: within.String(), Expiring: make([]expiryBody, 0, len(xs))}
	for _, x := range xs {
		body.Expiring = append(body.Expiring, expiryBody{
			Instance:    x.Instance,
			Subject:     x.Subject,
			ServiceCode: x.Code,
			Filed:       x.Filed,
			ExpiresAt:   x.ExpiresAt,
			Expired:     x.Expired,
			Message:     s.catalog.LocalizeExpiry(x, tag),
		})
	}
	h := w.Header()
	h.Set("Content-Language", tag.String())
	h.Add("Vary", "Accept-Language")
	writeJSON(w, http.StatusOK, body)
}

// decode reads the JSON body of r into dst: one object of dst's fields, of
// at most maxBody bytes, sent as application/json, so that a web page in
// an operator's browser cannot post a form to this listener. If it cannot,
// it returns a *requestError. (The internal callers are the provider's
// own systems; the applicants' listener decodes more strictly still.)
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &requestError{status: http.StatusUnsupportedMediaType, err: fmt.Errorf("Content-Type %q", r.Header.Get("Content-Type"))}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		// Nothing may follow the object.
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			return nil
		} else if err == nil {
			err = errors.New("data after the JSON object")
		}
	}
	status := http.StatusBadRequest
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		status = http.StatusRequestEntityTooLarge
	}
	return &requestError{status: status, err: fmt.Errorf("reading the body: %w", err)}
}

// fail writes err as RFC 9457 problem details. Every error response of the
// internal listener goes through it.
//
// A refusal of the Verifier gets icphttp.NewProblem's status, type, Reason
// and title and detail in the language the Accept-Language header asks
// for, for the console to show its user. A *requestError, a mistake of the
// calling system, gets the type "about:blank", its status, and a title and
// detail in English. Anything else, such as a store's failure, gets a 500
// (or a 503 if the request's context ended) that tells nothing of it; it
// is logged.
func (s *internal) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p icphttp.Problem
	if re, ok := errors.AsType[*requestError](err); ok {
		p = icphttp.Problem{
			Type:     "about:blank",
			Title:    http.StatusText(re.status),
			Status:   re.status,
			Detail:   re.err.Error(),
			Language: language.English,
		}
	} else {
		p = icphttp.NewProblem(err, icpverify.MatchLanguage(r.Header.Get("Accept-Language")))
	}
	switch p.Status {
	case http.StatusInternalServerError:
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	case http.StatusServiceUnavailable:
		level := slog.LevelWarn
		if errors.Is(err, context.Canceled) {
			level = slog.LevelInfo // the client went away
		}
		s.log.LogAttrs(r.Context(), level, "request ended early",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	w.Header().Set("Cache-Control", "no-store")
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
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// An error here is the client's going away; there is no one to tell.
	_, _ = w.Write(append(b, '\n'))
}
