package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
)

// maxBody bounds the size of a request body.
const maxBody = 64 << 10

// Bounds of the within parameter of /expiring.
const (
	defaultWithin = 30 * 24 * time.Hour  // when the parameter is absent
	maxWithin     = 366 * 24 * time.Hour // the longest window asked for
)

// server serves the filing backend's endpoints.
type server struct {
	v   *icpverify.Verifier
	log *slog.Logger
}

// newServer returns the HTTP handler of the filing backend. It logs server
// failures to log.
func newServer(v *icpverify.Verifier, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{v: v, log: log}
	mux := http.NewServeMux()
	// The routes take every method, so that a wrong one gets a problem
	// details 405 rather than the mux's plain-text one.
	mux.Handle("/verify", s.allow(s.verify, http.MethodPost))
	mux.Handle("/check", s.allow(s.check, http.MethodPost))
	mux.Handle("/release", s.allow(s.release, http.MethodPost))
	mux.Handle("/complete", s.allow(s.complete, http.MethodPost))
	mux.Handle("/codes", s.allow(s.codes, http.MethodPost))
	mux.Handle("/expiring", s.allow(s.expiring, http.MethodGet, http.MethodHead))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &requestError{status: http.StatusNotFound, err: fmt.Errorf("no endpoint %q", r.URL.Path)})
	})
	return mux
}

// allow restricts h to the methods given.
func (s *server) allow(h http.HandlerFunc, methods ...string) http.Handler {
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

// requestError is a request the server refuses before it reaches the
// Verifier: a body it cannot read, a wrong method, an unknown path.
type requestError struct {
	status int   // 400, 404, 405 or 413
	err    error // what was wrong, for the server's eyes only
}

// Error returns the status and what was wrong.
func (e *requestError) Error() string {
	return fmt.Sprintf("httpbackend: %s: %v", http.StatusText(e.status), e.err)
}

// Unwrap returns what was wrong.
func (e *requestError) Unwrap() error { return e.err }

// verifyRequest is the body of /verify and /check.
type verifyRequest struct {
	Product     string `json:"product"`
	ServiceCode string `json:"service_code"`
	Account     string `json:"account"`
	Subject     string `json:"subject"`
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
}

// codeRequest is the body of /release and /complete.
type codeRequest struct {
	ServiceCode string `json:"service_code"`
}

// issueRequest is the body of /codes.
type issueRequest struct {
	Instance string `json:"instance"`
	Account  string `json:"account"`
}

// statusBody is the response of /release, /complete and /codes.
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

func (s *server) verify(w http.ResponseWriter, r *http.Request) {
	s.runVerify(w, r, s.v.Verify)
}

func (s *server) check(w http.ResponseWriter, r *http.Request) {
	s.runVerify(w, r, s.v.Check)
}

// runVerify serves /verify and /check with the Verifier method f.
func (s *server) runVerify(w http.ResponseWriter, r *http.Request, f func(ctx context.Context, req icpverify.Request) (icpverify.Result, error)) {
	var req verifyRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := f(r.Context(), icpverify.Request{
		Product:     icpverify.ProductType(req.Product),
		ServiceCode: req.ServiceCode,
		Account:     req.Account,
		Subject:     req.Subject,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, resultBody{
		Instance:    res.Instance,
		Product:     string(res.Product),
		ServiceCode: res.ServiceCode,
		Subject:     res.Subject,
		Used:        res.Used,
		Limit:       res.Limit,
		Retry:       res.Retry,
	})
}

func (s *server) release(w http.ResponseWriter, r *http.Request) {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.v.Release(r.Context(), req.ServiceCode); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, statusBody{Status: "released"})
}

func (s *server) complete(w http.ResponseWriter, r *http.Request) {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.v.Complete(r.Context(), req.ServiceCode); err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, statusBody{Status: "completed"})
}

func (s *server) codes(w http.ResponseWriter, r *http.Request) {
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
	s.writeJSON(w, http.StatusCreated, statusBody{Status: "issued", ServiceCode: code, Instance: req.Instance})
}

// expiring serves /expiring?account=...&within=720h: the account's service
// codes, in use or under review, whose instance expires within the window
// (30 days if within is absent) or has expired, each with a message for the
// applicant.
func (s *server) expiring(w http.ResponseWriter, r *http.Request) {
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
	tag := icpverify.MatchLanguage(r.Header.Get("Accept-Language"))
	body := expiringBody{Account: account, Within: within.String(), Expiring: make([]expiryBody, 0, len(xs))}
	for _, x := range xs {
		body.Expiring = append(body.Expiring, expiryBody{
			Instance:    x.Instance,
			Subject:     x.Subject,
			ServiceCode: x.Code,
			Filed:       x.Filed,
			ExpiresAt:   x.ExpiresAt,
			Expired:     x.Expired,
			Message:     icpverify.LocalizeExpiry(x, tag),
		})
	}
	setLanguage(w, tag)
	s.writeJSON(w, http.StatusOK, body)
}

// decode reads the JSON body of r into dst: one object of dst's fields, of
// at most maxBody bytes. If it cannot, it returns a *requestError.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
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

// fail writes err as RFC 9457 problem details, in the language the
// Accept-Language header asks for. Every error response goes through it.
//
// A refusal of the Verifier gets icpverify.NewProblem's status, type,
// Reason and localized title and detail. A *requestError gets the type
// "about:blank", its status and the status text as title, and a localized
// detail. Anything else, such as a store's failure, gets a 500 (or a 503 if
// the request's context ended) that tells nothing of it; it is logged.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	tag := icpverify.MatchLanguage(r.Header.Get("Accept-Language"))
	var p icpverify.Problem
	if re, ok := errors.AsType[*requestError](err); ok {
		p = icpverify.Problem{
			Type:     "about:blank",
			Title:    http.StatusText(re.status),
			Status:   re.status,
			Detail:   requestMessage(re.status, tag),
			Language: tag,
		}
	} else {
		p = icpverify.NewProblem(err, tag)
	}
	switch {
	case p.Status == http.StatusInternalServerError:
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	case p.Status == http.StatusServiceUnavailable:
		level := slog.LevelWarn
		if errors.Is(err, context.Canceled) {
			level = slog.LevelInfo // the client went away
		}
		s.log.LogAttrs(r.Context(), level, "request ended early",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	h := w.Header()
	h.Add("Vary", "Accept-Language")
	h.Set("Cache-Control", "no-store")
	p.ServeHTTP(w, r)
}

// setLanguage marks a response as written in language tag, which the
// Accept-Language header chose.
func setLanguage(w http.ResponseWriter, tag language.Tag) {
	h := w.Header()
	h.Set("Content-Language", tag.String())
	h.Add("Vary", "Accept-Language")
}

// writeJSON writes a JSON response.
func (s *server) writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		// Cannot happen: the bodies are plain structs.
		s.log.Error("encoding response", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// An error here is the client's going away; there is no one to tell.
	_, _ = w.Write(append(b, '\n'))
}

// requestMessage returns the detail of a *requestError's status in language
// tag: English, Simplified Chinese or Traditional Chinese, as MatchLanguage
// returns.
func requestMessage(status int, tag language.Tag) string {
	type texts struct{ en, hans, hant string }
	var t texts
	switch status {
	case http.StatusBadRequest:
		t = texts{
			"The request could not be read. Refresh the page and submit again.",
			"无法读取请求，请刷新页面后重新提交。",
			"無法讀取請求，請重新整理頁面後再提交。",
		}
	case http.StatusRequestEntityTooLarge:
		t = texts{
			"The request is too large. Check what you entered and submit again.",
			"请求内容过大，请检查填写的信息后重新提交。",
			"請求內容過大，請檢查填寫的資訊後再提交。",
		}
	default:
		t = texts{
			"The request is not supported.",
			"不支持该请求。",
			"不支援此請求。",
		}
	}
	switch tag {
	case language.SimplifiedChinese:
		return t.hans
	case language.TraditionalChinese:
		return t.hant
	}
	return t.en
}
