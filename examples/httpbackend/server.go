package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
)

// maxBody bounds the size of a request body.
const maxBody = 64 << 10

// Reasons of the errors the server refuses a request with before it reaches
// the Verifier. The Verifier's own refusals carry an icpverify.Reason.
const (
	reasonMalformedRequest = "malformed_request"  // the body is not the expected JSON
	reasonBodyTooLarge     = "body_too_large"     // the body is over maxBody bytes
	reasonMethodNotAllowed = "method_not_allowed" // not a POST
	reasonNoSuchEndpoint   = "no_such_endpoint"   // an unknown path
	reasonInternal         = "internal_error"     // a store failed or the like
)

// server serves the filing backend's endpoints.
type server struct {
	v   *icpverify.Verifier
	log *slog.Logger
}

// newServer returns the HTTP handler of the filing backend, logging server
// failures to slog.Default.
func newServer(v *icpverify.Verifier) http.Handler {
	return newServerLog(v, slog.Default())
}

// newServerLog returns the HTTP handler of the filing backend, logging
// server failures to log.
func newServerLog(v *icpverify.Verifier, log *slog.Logger) http.Handler {
	s := &server{v: v, log: log}
	mux := http.NewServeMux()
	// The routes take every method, so that a wrong one gets a JSON 405
	// rather than the mux's plain-text one.
	mux.Handle("/verify", s.post(s.verify))
	mux.Handle("/check", s.post(s.check))
	mux.Handle("/release", s.post(s.release))
	mux.Handle("/complete", s.post(s.complete))
	mux.Handle("/codes", s.post(s.codes))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.refuse(w, r, http.StatusNotFound, reasonNoSuchEndpoint)
	})
	return mux
}

// post restricts h to the POST method.
func (s *server) post(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			s.refuse(w, r, http.StatusMethodNotAllowed, reasonMethodNotAllowed)
			return
		}
		h(w, r)
	})
}

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

func (s *server) verify(w http.ResponseWriter, r *http.Request) {
	s.runVerify(w, r, s.v.Verify)
}

func (s *server) check(w http.ResponseWriter, r *http.Request) {
	s.runVerify(w, r, s.v.Check)
}

// runVerify serves /verify and /check with the Verifier method f.
func (s *server) runVerify(w http.ResponseWriter, r *http.Request, f func(ctx context.Context, req icpverify.Request) (icpverify.Result, error)) {
	var req verifyRequest
	if !s.decode(w, r, &req) {
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
	if !s.decode(w, r, &req) {
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
	if !s.decode(w, r, &req) {
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
	if !s.decode(w, r, &req) {
		return
	}
	code, err := s.v.IssueServiceCode(r.Context(), req.Instance, req.Account)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusCreated, statusBody{Status: "issued", ServiceCode: code, Instance: req.Instance})
}

// decode reads the JSON body of r into dst: one object of dst's fields, of
// at most maxBody bytes. If it cannot, it writes a 400 response and reports
// false.
func (s *server) decode(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		// Nothing may follow the object.
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			return true
		} else if err == nil {
			err = errors.New("data after the JSON object")
		}
	}
	reason := reasonMalformedRequest
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		reason = reasonBodyTooLarge
	}
	s.refuse(w, r, http.StatusBadRequest, reason)
	return false
}

// fail writes the response for an error of the Verifier. A refusal gets its
// status, Reason and localized message; any other error is logged and gets
// a 500 that tells nothing of it.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	tag := icpverify.MatchLanguage(r.Header.Get("Accept-Language"))
	body := errorBody{Reason: reasonInternal, Message: icpverify.Localize(err, tag)}
	status := http.StatusInternalServerError
	if e, ok := errors.AsType[*icpverify.Error](err); ok {
		switch {
		case errors.Is(e, icpverify.ErrInvalidProduct), errors.Is(e, icpverify.ErrServiceCodeInvalid):
			status = http.StatusUnprocessableEntity
		case errors.Is(e, icpverify.ErrQuotaReached):
			status = http.StatusConflict
			body.Used, body.Limit = e.Used, e.Limit
		case errors.Is(e, icpverify.ErrNotFound):
			status = http.StatusNotFound
		}
		if status != http.StatusInternalServerError {
			body.Reason = string(e.Reason)
		}
	}
	if status == http.StatusInternalServerError {
		level := slog.LevelError
		if errors.Is(err, context.Canceled) {
			level = slog.LevelInfo // the client went away
		}
		s.log.Log(r.Context(), level, "request failed", "path", r.URL.Path, "err", err)
	}
	s.writeError(w, tag, status, body)
}

// refuse writes the response for a request refused before it reaches the
// Verifier.
func (s *server) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	tag := icpverify.MatchLanguage(r.Header.Get("Accept-Language"))
	s.writeError(w, tag, status, errorBody{Reason: reason, Message: requestMessage(reason, tag)})
}

// errorBody is the JSON of an error response.
type errorBody struct {
	Reason  string `json:"reason"`          // an icpverify.Reason or one of the server's reasons
	Message string `json:"message"`         // for the applicant, in the language of Content-Language
	Used    int    `json:"used,omitempty"`  // quota refusals: slots or codes in use
	Limit   int    `json:"limit,omitempty"` // quota refusals: the limit
}

// writeError writes an error response in language tag. Every error
// response goes through it.
func (s *server) writeError(w http.ResponseWriter, tag language.Tag, status int, body errorBody) {
	h := w.Header()
	h.Set("Content-Language", tag.String())
	h.Add("Vary", "Accept-Language")
	s.writeJSON(w, status, body)
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

// requestMessage returns the message of a server reason in language tag:
// English, Simplified Chinese or Traditional Chinese, as MatchLanguage
// returns.
func requestMessage(reason string, tag language.Tag) string {
	type texts struct{ en, hans, hant string }
	var t texts
	switch reason {
	case reasonMalformedRequest:
		t = texts{
			"The request could not be read. Refresh the page and submit again.",
			"无法读取请求，请刷新页面后重新提交。",
			"無法讀取請求，請重新整理頁面後再提交。",
		}
	case reasonBodyTooLarge:
		t = texts{
			"The request is too large. Check what you entered and submit again.",
			"请求内容过大，请检查填写的信息后重新提交。",
			"請求內容過大，請檢查填寫的資訊後再提交。",
		}
	case reasonMethodNotAllowed, reasonNoSuchEndpoint:
		t = texts{
			"The request is not supported.",
			"不支持该请求。",
			"不支援此請求。",
		}
	default:
		t = texts{
			"Product verification could not be completed. Please try again later.",
			"产品验证未能完成，请稍后重试。",
			"產品驗證未能完成，請稍後再試。",
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
