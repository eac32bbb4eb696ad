package icphttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/catalog"
)

// start is the tests' "now".
var start = time.Date(2026, time.March, 1, 2, 0, 0, 0, time.UTC)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testAuth authenticates a bearer token or, as a browser session would, a
// cookie.
func testAuth(r *http.Request) (string, error) {
	accounts := map[string]string{"t-alice": "alice", "t-bob": "bob", "t-nobody": ""}
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if account, ok := accounts[token]; ok {
			return account, nil
		}
		return "", errors.New("unknown token")
	}
	if c, err := r.Cookie("session"); err == nil && c.Value == "s-alice" {
		return "alice", nil
	}
	return "", errors.New("no credentials")
}

// env is a Handler on a MemoryStore holding alice's ECS instance i-ecs,
// alice's Simple Application Server i-swas, and a code of i-ecs's.
type env struct {
	t     *testing.T
	store icpverify.MemoryStore
	v     *icpverify.Verifier
	h     *Handler
	code  string
	logs  *syncBuffer
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	e := &env{t: t, store: icpverify.NewMemoryStore(), logs: &syncBuffer{}}
	e.v = icpverify.New(e.store, e.store, icpverify.WithClock(func() time.Time { return start }))
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.h = NewHandler(e.v, testAuth, append([]Option{WithLogger(logger)}, opts...)...)
	for _, inst := range []icpverify.Instance{
		{ID: "i-ecs", Account: "alice", Product: icpverify.ProductECS, Region: "cn-hangzhou", Billing: icpverify.Subscription,
			TermMonths: 12, PublicIP: "203.0.113.10", Status: icpverify.Running, ExpiresAt: start.AddDate(1, 0, 0)},
		{ID: "i-swas", Account: "alice", Product: icpverify.ProductSimpleApplicationServer, Region: "cn-shanghai", Billing: icpverify.Subscription,
			TermMonths: 12, PublicIP: "203.0.113.11", Status: icpverify.Running, ExpiresAt: start.AddDate(1, 0, 0)},
	} {
		require.NoError(t, e.store.PutInstanceContext(context.Background(), inst))
	}
	var err error
	e.code, err = e.v.IssueServiceCode(context.Background(), "i-ecs", "alice")
	require.NoError(t, err)
	return e
}

// body returns a JSON body of /verify or /check for e's code, for the
// subject of that name with its certificate (see cert).
func (e *env) body(subject string) string {
	b, err := json.Marshal(map[string]any{"product": "ecs", "service_code": e.code, "subject": subject, "subject_id": cert(subject)})
	require.NoError(e.t, err)
	return string(b)
}

// cert returns the certificate of the subject of that name, as the tests
// give it: one number per name.
func cert(name string) map[string]string {
	sum := sha256.Sum256([]byte(name))
	return map[string]string{"type": "other", "number": "T" + hex.EncodeToString(sum[:8])}
}

// certJSON is cert(name) as a JSON member, with a comma before it.
func certJSON(name string) string {
	b, err := json.Marshal(cert(name))
	if err != nil {
		panic(err)
	}
	return `,"subject_id":` + string(b)
}

// used returns how many subjects hold a slot on i-ecs.
func (e *env) used() int {
	e.t.Helper()
	n, _, err := e.store.Usage(context.Background(), "i-ecs", "nobody")
	require.NoError(e.t, err)
	return n
}

// request is an HTTP request to send to a Handler.
type request struct {
	method, path, body string
	header             http.Header // added to, or with an empty value removing, the defaults
}

// defaults are the headers of a well-formed request from alice.
var defaults = http.Header{"Authorization": {"Bearer t-alice"}, "Content-Type": {"application/json"}}

// serve sends r to h with the defaults and Accept-Language accept.
func serve(h http.Handler, r request, accept string) *httptest.ResponseRecorder {
	if r.method == "" {
		r.method = http.MethodPost
	}
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	for k, v := range defaults {
		req.Header[k] = v
	}
	for k, v := range r.header {
		if len(v) == 1 && v[0] == "" {
			req.Header.Del(k)
		} else {
			req.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// languages are Accept-Language headers and the Content-Language each
// gets.
var languages = []struct{ accept, contentLanguage string }{
	{"", "en"},
	{"en-US,en;q=0.9", "en"},
	{"fr-FR", "en"},
	{"zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"},
	{"zh-TW", "zh-Hant"},
	{"zh-HK", "zh-Hant"},
}

// decodeProblem checks the headers of an error response and decodes its
// problem details strictly.
func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, contentLanguage string) Problem {
	t.Helper()
	require.Equal(t, status, rec.Code, "body %s", rec.Body.String())
	h := rec.Header()
	assert.Equal(t, "application/problem+json", h.Get("Content-Type"))
	assert.Equal(t, contentLanguage, h.Get("Content-Language"))
	assert.Equal(t, []string{"Accept-Language"}, h.Values("Vary"))
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	var p Problem
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&p), rec.Body.String())
	assert.Equal(t, status, p.Status)
	p.Language = language.Make(contentLanguage)
	assertOneLanguage(t, p)
	return p
}

// assertOneLanguage checks that the title and detail of p are both in its
// Language: Chinese ones in Han characters of its script, English ones in
// none.
func assertOneLanguage(t *testing.T, p Problem) {
	t.Helper()
	require.NotEmpty(t, p.Title)
	require.NotEmpty(t, p.Detail)
	han := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
	}
	switch p.Language.String() {
	case "en":
		assert.False(t, han(p.Title) || han(p.Detail), "English problem in Chinese: %+v", p)
	case "zh-Hans", "zh-Hant":
		assert.True(t, han(p.Title) && han(p.Detail), "Chinese problem in English: %+v", p)
		// Characters that differ between the scripts.
		simplified, traditional := "请录须发应该过无时为内资态码证产务验数个实这", "請錄須發應該過無時為內資態碼證產務驗數個實這"
		other := simplified
		if p.Language.String() == "zh-Hans" {
			other = traditional
		}
		assert.False(t, strings.ContainsAny(p.Title+p.Detail, other), "%s problem in the other script: %+v", p.Language, p)
	default:
		t.Errorf("Content-Language %s", p.Language)
	}
}

// wantStatusProblem checks the problem of a request the Handler refused
// itself.
func wantStatusProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, contentLanguage string) Problem {
	t.Helper()
	p := decodeProblem(t, rec, status, contentLanguage)
	want := statusProblem(status, language.Make(contentLanguage))
	assert.Equal(t, want, p)
	assert.Equal(t, "about:blank", p.Type)
	assert.Empty(t, p.Reason)
	return p
}

// TestRules sends a request that breaks each rule, in each language, and
// checks that it gets its status as a localized problem and reaches no
// store.
func TestRules(t *testing.T) {
	e := newEnv(t)
	ok := e.body("Example Co., Ltd.")
	huge := `{"product":"ecs","service_code":"` + e.code + `","subject":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	form := "product=ecs&service_code=" + e.code + "&subject=Example"
	// A well-formed application that the store does not hold: were it to
	// reach the Verifier, it would get a 404 not_reserved.
	const app = "0123456789abcdef0123456789abcdef"
	okWithdraw := `{"application":"` + app + `"}`
	cases := []struct {
		name   string
		req    request
		status int
	}{
		// 404
		{"unknown path", request{path: "/nope", body: ok}, 404},
		{"root", request{path: "/", body: ok}, 404},
		{"trailing slash", request{path: "/verify/", body: ok}, 404},
		{"sub-path", request{path: "/verify/x", body: ok}, 404},
		{"capital path", request{path: "/Verify", body: ok}, 404},
		// 405
		{"GET", request{method: http.MethodGet, path: "/verify"}, 405},
		{"HEAD", request{method: http.MethodHead, path: "/check"}, 405},
		{"PUT", request{method: http.MethodPut, path: "/verify", body: ok}, 405},
		{"PATCH", request{method: http.MethodPatch, path: "/check", body: ok}, 405},
		{"DELETE", request{method: http.MethodDelete, path: "/verify"}, 405},
		{"OPTIONS", request{method: http.MethodOptions, path: "/verify"}, 405},
		{"lower-case post", request{method: "post", path: "/verify", body: ok}, 405},
		// 401
		{"no credentials", request{path: "/verify", body: ok, header: http.Header{"Authorization": {""}}}, 401},
		{"unknown token", request{path: "/verify", body: ok, header: http.Header{"Authorization": {"Bearer t-mallory"}}}, 401},
		{"no account", request{path: "/check", body: ok, header: http.Header{"Authorization": {"Bearer t-nobody"}}}, 401},
		{"unauthenticated, wrong media type", request{path: "/verify", body: form,
			header: http.Header{"Authorization": {""}, "Content-Type": {"application/x-www-form-urlencoded"}}}, 401},
		// 415
		{"cross-site form", request{path: "/verify", body: form, header: http.Header{"Authorization": {""},
			"Cookie": {"session=s-alice"}, "Content-Type": {"application/x-www-form-urlencoded"}}}, 415},
		{"cross-site text/plain form with a JSON body", request{path: "/verify", body: ok, header: http.Header{"Authorization": {""},
			"Cookie": {"session=s-alice"}, "Content-Type": {"text/plain"}}}, 415},
		{"cross-site multipart form", request{path: "/check", body: "--b--", header: http.Header{"Authorization": {""},
			"Cookie": {"session=s-alice"}, "Content-Type": {"multipart/form-data; boundary=b"}}}, 415},
		{"form with a bearer token", request{path: "/verify", body: form, header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}, 415},
		{"text/plain", request{path: "/verify", body: ok, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}}, 415},
		{"no Content-Type", request{path: "/verify", body: ok, header: http.Header{"Content-Type": {""}}}, 415},
		{"two Content-Types", request{path: "/verify", body: ok, header: http.Header{"Content-Type": {"application/json", "text/plain"}}}, 415},
		{"json suffix", request{path: "/verify", body: ok, header: http.Header{"Content-Type": {"application/merge-patch+json"}}}, 415},
		{"json prefix", request{path: "/verify", body: ok, header: http.Header{"Content-Type": {"application/jsonx"}}}, 415},
		{"text/json", request{path: "/verify", body: ok, header: http.Header{"Content-Type": {"text/json"}}}, 415},
		{"another charset", request{path: "/verify", body: ok, header: http.Header{"Content-Type": {"application/json; charset=iso-8859-1"}}}, 415},
		{"another parameter", request{path: "/verify", body: ok, header: http.Header{"Content-Type": {"application/json; profile=x"}}}, 415},
		{"malformed Content-Type", request{path: "/verify", body: ok, header: http.Header{"Content-Type": {"application/json; charset"}}}, 415},
		// 413
		{"huge body", request{path: "/verify", body: huge}, 413},
		{"huge body after an object", request{path: "/check", body: ok + strings.Repeat(" ", DefaultMaxBodyBytes)}, 413},
		// 400
		{"empty body", request{path: "/verify"}, 400},
		{"not JSON", request{path: "/verify", body: form}, 400},
		{"truncated", request{path: "/verify", body: ok[:len(ok)-1]}, 400},
		{"array", request{path: "/verify", body: "[" + ok + "]"}, 400},
		{"string", request{path: "/check", body: `"` + e.code + `"`}, 400},
		{"null", request{path: "/verify", body: `null`}, 400},
		{"two objects", request{path: "/verify", body: ok + ok}, 400},
		{"trailing data", request{path: "/verify", body: ok + " x"}, 400},
		{"wrong type", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":5}`}, 400},
		{"null member", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":null}`}, 400},
		{"unknown member", request{path: "/verify", body: `{"product":"ecs","servicecode":"` + e.code + `","subject":"S"}`}, 400},
		{"account member", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","account":"alice"}`}, 400},
		{"duplicate subject", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","subject":"T"}`}, 400},
		{"duplicate account", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","account":"bob","account":"alice"}`}, 400},
		{"duplicate, escaped", request{path: "/check", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","\u0073ubject":"T"}`}, 400},
		{"Subject", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","Subject":"S"}`}, 400},
		{"ſubject", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","ſubject":"S"}`}, 400},
		{"subject and ſubject", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","ſubject":"T"}`}, 400},
		{"SERVICE_CODE", request{path: "/verify", body: `{"product":"ecs","SERVICE_CODE":"` + e.code + `","subject":"S"}`}, 400},
		{"nested duplicate", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":{"a":"S","a":"T"}}`}, 400},
		{"invalid UTF-8", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + "\",\"subject\":\"S\xff\"}"}, 400},
		{"unpaired surrogate", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S\ud800"}`}, 400},
		// The optional website member of /verify and /check.
		{"null website", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","website":null}`}, 400},
		{"website not a string", request{path: "/check", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","website":["a.example"]}`}, 400},
		{"Website", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","Website":"a.example"}`}, 400},
		{"duplicate website", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","website":"a.example","website":"b.example"}`}, 400},
		{"domain member", request{path: "/verify", body: `{"product":"ecs","service_code":"` + e.code + `","subject":"S","domain":"a.example"}`}, 400},
		// /withdraw: the same rules, with the application alone.
		{"withdraw: trailing slash", request{path: "/withdraw/", body: okWithdraw}, 404},
		{"withdraw: capital path", request{path: "/Withdraw", body: okWithdraw}, 404},
		{"withdraw: GET", request{method: http.MethodGet, path: "/withdraw"}, 405},
		{"withdraw: DELETE", request{method: http.MethodDelete, path: "/withdraw", body: okWithdraw}, 405},
		{"withdraw: no credentials", request{path: "/withdraw", body: okWithdraw, header: http.Header{"Authorization": {""}}}, 401},
		{"withdraw: no account", request{path: "/withdraw", body: okWithdraw, header: http.Header{"Authorization": {"Bearer t-nobody"}}}, 401},
		{"withdraw: cross-site form", request{path: "/withdraw", body: "application=" + app, header: http.Header{"Authorization": {""},
			"Cookie": {"session=s-alice"}, "Content-Type": {"application/x-www-form-urlencoded"}}}, 415},
		{"withdraw: text/plain", request{path: "/withdraw", body: okWithdraw, header: http.Header{"Content-Type": {"text/plain"}}}, 415},
		{"withdraw: huge body", request{path: "/withdraw", body: okWithdraw + strings.Repeat(" ", DefaultMaxBodyBytes)}, 413},
		{"withdraw: huge application", request{path: "/withdraw", body: `{"application":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`}, 413},
		{"withdraw: empty body", request{path: "/withdraw"}, 400},
		{"withdraw: string", request{path: "/withdraw", body: `"` + app + `"`}, 400},
		{"withdraw: array", request{path: "/withdraw", body: `["` + app + `"]`}, 400},
		{"withdraw: account member", request{path: "/withdraw", body: `{"application":"` + app + `","account":"alice"}`}, 400},
		{"withdraw: the body of /verify", request{path: "/withdraw", body: ok}, 400},
		{"withdraw: the code, as before", request{path: "/withdraw", body: `{"service_code":"` + e.code + `"}`}, 400},
		{"withdraw: code member", request{path: "/withdraw", body: `{"application":"` + app + `","service_code":"` + e.code + `"}`}, 400},
		{"withdraw: subject member", request{path: "/withdraw", body: `{"application":"` + app + `","subject":"S"}`}, 400},
		{"withdraw: duplicate application", request{path: "/withdraw", body: `{"application":"` + app + `","application":"` + app + `"}`}, 400},
		{"withdraw: duplicate, escaped", request{path: "/withdraw", body: `{"application":"` + app + `","\u0061pplication":"` + app + `"}`}, 400},
		{"withdraw: Application", request{path: "/withdraw", body: `{"Application":"` + app + `"}`}, 400},
		{"withdraw: application_id", request{path: "/withdraw", body: `{"application_id":"` + app + `"}`}, 400},
		{"withdraw: null application", request{path: "/withdraw", body: `{"application":null}`}, 400},
		{"withdraw: application not a string", request{path: "/withdraw", body: `{"application":1}`}, 400},
		{"withdraw: application an object", request{path: "/withdraw", body: `{"application":{"id":"` + app + `"}}`}, 400},
		{"withdraw: invalid UTF-8", request{path: "/withdraw", body: "{\"application\":\"a\xff\"}"}, 400},
		{"withdraw: trailing data", request{path: "/withdraw", body: okWithdraw + okWithdraw}, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, l := range languages {
				rec := serve(e.h, c.req, l.accept)
				wantStatusProblem(t, rec, c.status, l.contentLanguage)
				switch c.status {
				case http.StatusMethodNotAllowed:
					assert.Equal(t, "POST", rec.Header().Get("Allow"))
				case http.StatusUnauthorized:
					assert.Empty(t, rec.Header().Values("WWW-Authenticate"))
				}
			}
		})
	}
	// Nothing of the above reached the Verifier: the one well-formed
	// request went only with a wrong method, media type or credentials.
	// (A /withdraw that reached it would have been a 404 not_reserved,
	// not the Handler's own problem.)
	assert.Equal(t, 0, e.used())
	// A body of exactly the bound is read.
	atBound := ok + strings.Repeat(" ", DefaultMaxBodyBytes-len(ok))
	assert.Equal(t, http.StatusOK, serve(e.h, request{path: "/verify", body: atBound}, "").Code)
	assert.Equal(t, 1, e.used())
}

// TestLocalizedTexts pins the Handler's own texts in each language.
func TestLocalizedTexts(t *testing.T) {
	e := newEnv(t)
	form := request{path: "/verify", body: "a=b", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}
	for _, c := range []struct{ accept, lang, title, detail string }{
		{"en", "en", "Unsupported media type", "The request must be sent as JSON (Content-Type: application/json)."},
		{"zh-CN", "zh-Hans", "不支持的媒体类型", "请求必须以JSON格式发送（Content-Type: application/json）。"},
		{"zh-TW", "zh-Hant", "不支援的媒體類型", "請求必須以JSON格式傳送（Content-Type: application/json）。"},
	} {
		p := wantStatusProblem(t, serve(e.h, form, c.accept), http.StatusUnsupportedMediaType, c.lang)
		assert.Equal(t, c.title, p.Title)
		assert.Equal(t, c.detail, p.Detail)
	}
	// Every status in every language: a title and a detail, in the
	// language, each its own.
	seen := map[string]bool{}
	for _, status := range []int{400, 401, 404, 405, 413, 415} {
		for _, tag := range statusLanguages {
			p := statusProblem(status, tag)
			assert.Equal(t, tag, p.Language)
			assertOneLanguage(t, p)
			assert.False(t, seen[p.Title] || seen[p.Detail], "%d %s repeats a text: %+v", status, tag, p)
			seen[p.Title], seen[p.Detail] = true, true
		}
	}
}

// TestVerifyAndCheck checks the successful responses and that the account
// is the authenticated one.
func TestVerifyAndCheck(t *testing.T) {
	e := newEnv(t)
	body := e.body("Example Co., Ltd.")

	rec := serve(e.h, request{path: "/check", body: body}, "")
	want := map[string]any{"instance": "i-ecs", "product": "ecs", "service_code": e.code, "subject": "Example Co., Ltd.",
		"used": 0.0, "limit": 5.0, "retry": false}
	assert.Empty(t, assertResult(t, rec, want), "check of a code reserved for no application")
	assert.Equal(t, 0, e.used(), "check reserved a slot")

	// /verify names the application; a retry names the same one.
	rec = serve(e.h, request{path: "/verify", body: body}, "")
	want["used"] = 1.0
	app := assertResult(t, rec, want)
	require.NotEmpty(t, app)
	want["retry"] = true
	assert.Equal(t, app, assertResult(t, serve(e.h, request{path: "/verify", body: body}, ""), want))
	// The code typed in lower case; the charset parameter and a
	// capitalized media type are accepted.
	lower := strings.Replace(body, e.code, strings.ToLower(e.code), 1)
	rec = serve(e.h, request{path: "/verify", body: lower, header: http.Header{"Content-Type": {"Application/JSON; charset=UTF-8"}}}, "")
	assert.Equal(t, app, assertResult(t, rec, want))
	// A browser session authenticates as well as a token.
	rec = serve(e.h, request{path: "/verify", body: body, header: http.Header{"Authorization": {""}, "Cookie": {"session=s-alice"}}}, "")
	assert.Equal(t, app, assertResult(t, rec, want))
	// /check of the application the code is reserved for names it too.
	rec = serve(e.h, request{path: "/check", body: body}, "")
	assert.Equal(t, app, assertResult(t, rec, want))

	// bob's token: the Verifier sees bob, who holds no grant of the code,
	// and refuses it exactly as a code that does not exist: the same
	// status, headers and body, so bob learns nothing of alice's code.
	unknown := newEnv(t).code // well formed, but not in e's store
	bob := http.Header{"Authorization": {"Bearer t-bob"}}
	for _, path := range []string{"/verify", "/check"} {
		rec = serve(e.h, request{path: path, body: e.body("Bob Co., Ltd."), header: bob}, "zh-CN")
		p := decodeProblem(t, rec, http.StatusUnprocessableEntity, "zh-Hans")
		assert.Equal(t, icpverify.ReasonCodeNotFound, p.Reason)
		assert.Equal(t, ProblemTypePrefix+"code_not_found", p.Type)
		assertSameResponse(t, rec, serve(e.h, request{path: path, body: strings.Replace(e.body("Bob Co., Ltd."), e.code, unknown, 1), header: bob}, "zh-CN"))
		assertSameResponse(t, rec, serve(e.h, request{path: path, body: strings.Replace(e.body("Alice Co., Ltd."), e.code, unknown, 1)}, "zh-CN"))
	}
	// An "account" in the body does not make bob alice.
	withAccount := `{"product":"ecs","service_code":"` + e.code + `","subject":"Bob Co., Ltd.","account":"alice"}`
	rec = serve(e.h, request{path: "/verify", body: withAccount, header: http.Header{"Authorization": {"Bearer t-bob"}}}, "")
	wantStatusProblem(t, rec, http.StatusBadRequest, "en")
	assert.Equal(t, 1, e.used())
}

// TestWithdraw checks /withdraw: the applicant withdraws their own
// application by its identity; a stranger gets what anyone gets for an
// application that holds no reservation, and changes nothing.
func TestWithdraw(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	withdraw := func(application, token, accept string) *httptest.ResponseRecorder {
		t.Helper()
		b, err := json.Marshal(map[string]string{"application": application})
		require.NoError(t, err)
		return serve(e.h, request{path: "/withdraw", body: string(b), header: http.Header{"Authorization": {"Bearer " + token}}}, accept)
	}
	verify := func(h http.Handler, body, token string) string {
		t.Helper()
		rec := serve(h, request{path: "/verify", body: body, header: http.Header{"Authorization": {"Bearer " + token}}}, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var res struct{ Application string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
		require.NotEmpty(t, res.Application)
		return res.Application
	}
	app := verify(e.h, e.body("Example Co., Ltd."), "t-alice")
	held, err := e.store.Reservation(ctx, e.code)
	require.NoError(t, err)
	require.Equal(t, app, held.Application)
	unchanged := func() {
		t.Helper()
		assert.Equal(t, 1, e.used())
		r, err := e.store.Reservation(ctx, e.code)
		require.NoError(t, err)
		assert.Equal(t, held, r)
	}

	// bob withdrawing alice's application gets, in every language, the
	// very response of an application that holds no reservation: one of
	// another store, asked by alice or by bob, and identities that are not
	// well formed (empty, too long, not letters and digits, alice's code).
	other := newEnv(t)
	unknown := verify(other.h, other.body("Example Co., Ltd."), "t-alice")
	require.NotEqual(t, app, unknown)
	malformed := []string{"", strings.Repeat("a", 65), "not an id", "../" + app, app + "\n", "ａ1", e.code}
	for _, l := range languages {
		stranger := withdraw(app, "t-bob", l.accept)
		p := decodeProblem(t, stranger, http.StatusNotFound, l.contentLanguage)
		assert.Equal(t, icpverify.ReasonNotReserved, p.Reason)
		assert.Equal(t, ProblemTypePrefix+"not_reserved", p.Type)
		assert.Empty(t, p.Used)
		assert.Empty(t, p.Alternatives)
		assertSameResponse(t, stranger, withdraw(unknown, "t-alice", l.accept))
		assertSameResponse(t, stranger, withdraw(unknown, "t-bob", l.accept))
		for _, m := range malformed {
			assertSameResponse(t, stranger, withdraw(m, "t-alice", l.accept))
		}
		for _, secret := range []string{"i-ecs", "alice", app, e.code} {
			assert.NotContains(t, stranger.Body.String(), secret)
		}
	}
	unchanged()
	assert.Equal(t, 1, other.used(), "a withdrawal through e reached other's store")

	// An "account" member is refused, not believed, whoever sends it; so
	// is the code, which no longer names an application.
	for _, token := range []string{"t-bob", "t-alice"} {
		for _, body := range []string{`{"application":"` + app + `","account":"alice"}`, `{"service_code":"` + e.code + `"}`} {
			rec := serve(e.h, request{path: "/withdraw", body: body, header: http.Header{"Authorization": {"Bearer " + token}}}, "zh-CN")
			wantStatusProblem(t, rec, http.StatusBadRequest, "zh-Hans")
		}
	}
	unchanged()

	// alice withdraws her application: 204 with no body, and the slot is
	// free.
	rec := withdraw(app, "t-alice", "zh-CN")
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Body.String())
	assert.Empty(t, rec.Header().Values("Content-Type"))
	assert.Empty(t, rec.Header().Values("Content-Language"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, 0, e.used())
	_, err = e.store.Reservation(ctx, e.code)
	assert.ErrorIs(t, err, icpverify.ErrNotFound)
	// A retried withdrawal (its answer lost): the 404 a stranger gets.
	again := withdraw(app, "t-alice", "zh-TW")
	p := decodeProblem(t, again, http.StatusNotFound, "zh-Hant")
	assert.Equal(t, icpverify.ReasonNotReserved, p.Reason)
	assertSameResponse(t, again, withdraw(unknown, "t-bob", "zh-TW"))

	// The code serves a new application, not a retry of the old one, and
	// the old one's withdrawal retried leaves it alone.
	rec = serve(e.h, request{path: "/verify", body: e.body("Other Co., Ltd.")}, "")
	renewed := assertResult(t, rec, map[string]any{"instance": "i-ecs", "product": "ecs", "service_code": e.code,
		"subject": "Other Co., Ltd.", "used": 1.0, "limit": 5.0, "retry": false})
	assert.NotEqual(t, app, renewed)
	assertSameResponse(t, again, withdraw(app, "t-alice", "zh-TW"))
	held, err = e.store.Reservation(ctx, e.code)
	require.NoError(t, err)
	assert.Equal(t, renewed, held.Application)
	unchanged()

	// Once the filing is complete, alice is told so (422 code_used) and
	// bob still gets the 404 of an application with no reservation.
	require.NoError(t, e.v.Complete(ctx, renewed))
	p = decodeProblem(t, withdraw(renewed, "t-alice", ""), http.StatusUnprocessableEntity, "en")
	assert.Equal(t, icpverify.ReasonCodeUsed, p.Reason)
	assertSameResponse(t, withdraw(renewed, "t-bob", ""), withdraw(unknown, "t-bob", ""))
	assert.Equal(t, 1, e.used())

	// A grantee withdraws the application they made with a granted code,
	// and the instance's owner may withdraw one too.
	granted, err := e.v.IssueServiceCode(ctx, "i-ecs", "alice")
	require.NoError(t, err)
	require.NoError(t, e.v.GrantServiceCode(ctx, granted, "alice", "bob"))
	bobBody := strings.Replace(e.body("Bob Co., Ltd."), e.code, granted, 1)
	bobs := verify(e.h, bobBody, "t-bob")
	assert.Equal(t, 2, e.used())
	assert.Equal(t, http.StatusNoContent, withdraw(bobs, "t-bob", "").Code)
	assert.Equal(t, 1, e.used())
	bobs = verify(e.h, bobBody, "t-bob")
	assert.Equal(t, 2, e.used())
	assert.Equal(t, http.StatusNoContent, withdraw(bobs, "t-alice", "").Code)
	assert.Equal(t, 1, e.used())
}

// TestResultJSON pins the JSON of a passed /verify and /check: the
// members of icpverify.Result, in order, with "application" last, and
// none for a /check of a code reserved for no application.
func TestResultJSON(t *testing.T) {
	e := newEnv(t)
	rec := serve(e.h, request{path: "/check", body: e.body("S")}, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, `{"instance":"i-ecs","product":"ecs","service_code":"`+e.code+`","subject":"S","used":0,"limit":5,"retry":false}`+"\n",
		rec.Body.String())

	rec = serve(e.h, request{path: "/verify", body: e.body("S")}, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	r, err := e.store.Reservation(context.Background(), e.code)
	require.NoError(t, err)
	require.NotEmpty(t, r.Application)
	want := `{"instance":"i-ecs","product":"ecs","service_code":"` + e.code + `","subject":"S","used":1,"limit":5,"retry":false,"application":"` + r.Application + `"}` + "\n"
	assert.Equal(t, want, rec.Body.String())
	// A retry, and a /check of the application, name it again.
	for _, path := range []string{"/verify", "/check"} {
		rec = serve(e.h, request{path: path, body: e.body("S")}, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, strings.Replace(want, `"retry":false`, `"retry":true`, 1), rec.Body.String(), path)
	}
	// Another subject's /check of the code is refused: no application.
	rec = serve(e.h, request{path: "/check", body: e.body("T")}, "")
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	assert.NotContains(t, rec.Body.String(), r.Application)
}

// TestWebsite checks the optional website member of /verify and /check:
// it is the Request's Website, so a code reserved for one website is
// refused for another.
func TestWebsite(t *testing.T) {
	e := newEnv(t)
	body := func(subject, website string) string {
		b, err := json.Marshal(map[string]any{"product": "ecs", "service_code": e.code, "subject": subject, "subject_id": cert(subject), "website": website})
		require.NoError(t, err)
		return string(b)
	}
	want := map[string]any{"instance": "i-ecs", "product": "ecs", "service_code": e.code, "subject": "S",
		"used": 0.0, "limit": 5.0, "retry": false}
	assert.Empty(t, assertResult(t, serve(e.h, request{path: "/check", body: body("S", "www.example.com")}, ""), want))
	want["used"] = 1.0
	app := assertResult(t, serve(e.h, request{path: "/verify", body: body("S", "www.example.com")}, ""), want)
	require.NotEmpty(t, app)
	r, err := e.store.Reservation(context.Background(), e.code)
	require.NoError(t, err)
	assert.Equal(t, "www.example.com", r.Website)
	assert.Equal(t, "alice", r.Account)
	assert.Equal(t, app, r.Application)

	// The same website, in another case and with a trailing dot: a retry.
	want["retry"] = true
	assert.Equal(t, app, assertResult(t, serve(e.h, request{path: "/verify", body: body("S", "WWW.Example.COM.")}, ""), want))
	// Another website, or none (the member left out or empty), is
	// another application: the code is in use.
	for _, b := range []string{body("S", "shop.example.com"), e.body("S"), body("S", "")} {
		for _, path := range []string{"/check", "/verify"} {
			p := decodeProblem(t, serve(e.h, request{path: path, body: b}, "zh-CN"), http.StatusUnprocessableEntity, "zh-Hans")
			assert.Equal(t, icpverify.ReasonCodeInUse, p.Reason, "%s %s", path, b)
		}
	}
	// A website too long is refused by the Verifier.
	p := decodeProblem(t, serve(e.h, request{path: "/check", body: body("S", strings.Repeat("a", 1<<10)+".example")}, ""),
		http.StatusUnprocessableEntity, "en")
	assert.Equal(t, icpverify.ReasonInvalidRequest, p.Reason)
	assert.Equal(t, 1, e.used())
}

// TestAuthenticatedAccountIsUsed records the Decisions of the Verifier:
// each operation acts for the account of the token, and a stranger's
// withdrawal keeps its true cause in the Decision while the response hides
// it.
func TestAuthenticatedAccountIsUsed(t *testing.T) {
	e := newEnv(t)
	type record struct {
		op              icpverify.Op
		account, holder string
		verdict         icpverify.Verdict
		reason, cause   icpverify.Reason
	}
	var mu sync.Mutex
	var got []record
	v := icpverify.New(e.store, e.store, icpverify.WithClock(func() time.Time { return start }),
		icpverify.WithObserver(icpverify.Observer{End: func(_ context.Context, d icpverify.Decision) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, record{d.Op, d.Account, d.Holder, d.Verdict, d.Reason, d.Cause})
		}}))
	h := NewHandler(v, testAuth)
	as := func(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }
	for _, token := range []string{"t-alice", "t-bob"} {
		serve(h, request{path: "/check", body: e.body("S"), header: as(token)}, "")
	}
	rec := serve(h, request{path: "/verify", body: e.body("S"), header: as("t-alice")}, "")
	var res struct{ Application string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
	withdraw := `{"application":"` + res.Application + `"}`
	serve(h, request{path: "/withdraw", body: withdraw, header: as("t-bob")}, "")
	serve(h, request{path: "/withdraw", body: `{"application":"not an id"}`, header: as("t-bob")}, "")
	serve(h, request{path: "/withdraw", body: withdraw, header: as("t-alice")}, "")
	// Refused before the Verifier: nothing recorded.
	serve(h, request{path: "/check", body: `{"account":"mallory","subject":"S"}`}, "")
	serve(h, request{path: "/withdraw", body: `{"application":"` + res.Application + `","account":"alice"}`, header: as("t-bob")}, "")

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []record{
		{icpverify.OpCheck, "alice", "", icpverify.Passed, "", ""},
		{icpverify.OpCheck, "bob", "", icpverify.Refused, icpverify.ReasonCodeNotFound, icpverify.ReasonCodeNotOwned},
		{icpverify.OpVerify, "alice", "", icpverify.Passed, "", ""},
		{icpverify.OpWithdraw, "bob", "alice", icpverify.Refused, icpverify.ReasonNotReserved, icpverify.ReasonCodeNotOwned},
		{icpverify.OpWithdraw, "bob", "", icpverify.Refused, icpverify.ReasonNotReserved, icpverify.ReasonInvalidRequest},
		{icpverify.OpWithdraw, "alice", "alice", icpverify.Passed, "", ""},
	}, got)
}

// assertSameResponse checks that two responses cannot be told apart: the
// same status, headers and body.
func assertSameResponse(t *testing.T, want, got *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, want.Code, got.Code)
	assert.Equal(t, want.Header(), got.Header())
	assert.Equal(t, want.Body.String(), got.Body.String())
}

// assertResult checks a successful response against want, all but its
// "application", an opaque value, which it returns: "" if the response has
// none. A response never has an empty one.
func assertResult(t *testing.T, rec *httptest.ResponseRecorder, want map[string]any) string {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	raw, has := got["application"]
	delete(got, "application")
	assert.Equal(t, want, got)
	if !has {
		return ""
	}
	app, ok := raw.(string)
	require.True(t, ok && app != "", "application %#v", raw)
	return app
}

// TestRefusals checks that the Verifier's refusals are problems in the
// language asked for.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	for _, l := range languages {
		for _, c := range []struct {
			body   string
			status int
			reason icpverify.Reason
		}{
			{`{"product":"swas","service_code":"` + e.code + `","subject":"S"` + certJSON("S") + `}`, 422, icpverify.ReasonProductMismatch},
			{`{"product":"slb","service_code":"` + e.code + `","subject":"S"` + certJSON("S") + `}`, 422, icpverify.ReasonProductNotFileable},
			{`{"product":"ecs","service_code":"0000-0000-0000-0001","subject":"S"` + certJSON("S") + `}`, 422, icpverify.ReasonCodeMalformed},
			{`{"product":"ecs","service_code":"` + e.code + `"}`, 422, icpverify.ReasonInvalidRequest},
			{`{}`, 422, icpverify.ReasonProductNotFileable},
		} {
			rec := serve(e.h, request{path: "/verify", body: c.body}, l.accept)
			p := decodeProblem(t, rec, c.status, l.contentLanguage)
			assert.Equal(t, c.reason, p.Reason)
			assert.Equal(t, ProblemTypePrefix+string(c.reason), p.Type)
			m := catalog.New().Message(errors.New("x"), language.Make(l.contentLanguage))
			assert.NotEqual(t, m.Title, p.Title, "a refusal titled as a failure")
		}
	}
	assert.Equal(t, 0, e.used())
	// The Verifier's refusals are its Observer's to report, not logged.
	assert.NotContains(t, e.logs.String(), "product_mismatch")
}

// TestCatalogLanguages checks a catalog with a language the Handler's own
// texts lack: refusals are in it, the Handler's problems in English, and
// each says so.
func TestCatalogLanguages(t *testing.T) {
	c := catalog.New()
	require.NoError(t, c.SetString(language.Japanese, "prompt.invalid_product", "製品情報が無効です。"))
	require.NoError(t, c.SetString(language.Japanese, "product_not_fileable", "%[4]sは届出できません。"))
	require.NoError(t, c.SetString(language.Japanese, "product.slb", "SLB"))
	e := newEnv(t, WithCatalog(c))

	rec := serve(e.h, request{path: "/verify", body: `{"product":"slb","service_code":"` + e.code + `","subject":"S"}`}, "ja-JP")
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	assert.Equal(t, "ja", rec.Header().Get("Content-Language"))
	var p Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.Equal(t, "製品情報が無効です。", p.Title)
	assert.Equal(t, "SLBは届出できません。", p.Detail)

	wantStatusProblem(t, serve(e.h, request{path: "/verify", body: `[]`}, "ja-JP"), http.StatusBadRequest, "en")
	wantStatusProblem(t, serve(e.h, request{path: "/verify", body: `[]`}, "zh-CN"), http.StatusBadRequest, "zh-Hans")

	// A variant of the Handler's languages gets its texts.
	assert.Equal(t, language.TraditionalChinese, statusProblem(400, language.MustParse("zh-Hant-HK")).Language)
	assert.Equal(t, language.English, statusProblem(400, language.MustParse("en-GB")).Language)
	assert.Equal(t, language.English, statusProblem(400, language.Japanese).Language)
}

func TestOptions(t *testing.T) {
	e := newEnv(t, WithMaxBodyBytes(128), WithAuthChallenge(`Bearer realm="filing"`), nil)
	ok := e.body("S")
	require.Less(t, len(ok), 128)
	assert.Equal(t, http.StatusOK, serve(e.h, request{path: "/check", body: ok}, "").Code)
	big := ok + strings.Repeat(" ", 128-len(ok)+1)
	wantStatusProblem(t, serve(e.h, request{path: "/check", body: big}, ""), http.StatusRequestEntityTooLarge, "en")

	// Without a Content-Length the bound holds as well.
	req := httptest.NewRequest(http.MethodPost, "/check", strings.NewReader(big))
	req.ContentLength = -1
	req.Header = defaults.Clone()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	wantStatusProblem(t, rec, http.StatusRequestEntityTooLarge, "en")

	rec = serve(e.h, request{path: "/check", body: ok, header: http.Header{"Authorization": {""}}}, "")
	wantStatusProblem(t, rec, http.StatusUnauthorized, "en")
	assert.Equal(t, `Bearer realm="filing"`, rec.Header().Get("WWW-Authenticate"))

	// A bound below 1 leaves the default.
	e = newEnv(t, WithMaxBodyBytes(0))
	assert.Equal(t, int64(DefaultMaxBodyBytes), e.h.cfg.maxBody)

	assert.Panics(t, func() { NewHandler(nil, testAuth) })
	assert.Panics(t, func() { NewHandler(e.v, nil) })
}

// failingStore is an inventory whose backend is down.
type failingStore struct {
	icpverify.InstanceStore // nil: only ServiceCode is called
}

// errBackend has text that must not reach the client.
var errBackend = errors.New("dial tcp 10.9.8.7:5432: connect: connection refused (user=icp_rw db=filing-prod)")

func (failingStore) ServiceCode(context.Context, string) (icpverify.ServiceCode, error) {
	return icpverify.ServiceCode{}, errBackend
}

func TestStoreFailure(t *testing.T) {
	e := newEnv(t)
	logs := &syncBuffer{}
	// The memory store is a CodeReserver, which the Verifier would ask
	// instead of the failing inventory: pass it as the QuotaStore alone.
	quotas := struct{ icpverify.QuotaStore }{e.store}
	h := NewHandler(icpverify.New(failingStore{}, quotas), testAuth, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	for _, path := range []string{"/verify", "/check"} {
		for _, l := range languages {
			rec := serve(h, request{path: path, body: e.body("S")}, l.accept)
			p := decodeProblem(t, rec, http.StatusInternalServerError, l.contentLanguage)
			assert.Equal(t, ProblemTypePrefix+"failure", p.Type)
			assert.Empty(t, p.Reason)
			for _, secret := range []string{"10.9.8.7", "5432", "icp_rw", "filing-prod", "dial", "icpverify:"} {
				assert.NotContains(t, rec.Body.String(), secret)
			}
		}
	}
	got := logs.String()
	assert.Contains(t, got, `level=ERROR msg="request failed" method=POST path=/verify status=500 err=`)
	assert.Contains(t, got, "filing-prod")
}

func TestRequestContext(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/verify", strings.NewReader(e.body("S")))
	req.Header = defaults.Clone()
	req.Header.Set("Accept-Language", "zh-TW")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	p := decodeProblem(t, rec, http.StatusServiceUnavailable, "zh-Hant")
	assert.Equal(t, ProblemTypePrefix+"failure", p.Type)
	assert.Equal(t, 0, e.used())
	assert.Contains(t, e.logs.String(), `level=INFO msg="request ended early"`)
}

// TestAcceptLanguageHeaders checks that several Accept-Language headers
// are read as one list.
func TestAcceptLanguageHeaders(t *testing.T) {
	e := newEnv(t)
	req := httptest.NewRequest(http.MethodPost, "/verify", strings.NewReader("[]"))
	req.Header = defaults.Clone()
	req.Header["Accept-Language"] = []string{"fr;q=0.9", "zh-TW"}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	wantStatusProblem(t, rec, http.StatusBadRequest, "zh-Hant")
}

// TestConcurrent races ten subjects for five slots through the Handler.
func TestConcurrent(t *testing.T) {
	e := newEnv(t)
	pol := icpverify.DefaultPolicy(icpverify.ProductECS)
	pol.CodeLimit = 11 // newEnv issued one
	v := icpverify.New(e.store, e.store, icpverify.WithClock(func() time.Time { return start }), icpverify.WithPolicy(icpverify.ProductECS, pol))
	h := NewHandler(v, testAuth)
	codes := make([]string, 10)
	for i := range codes {
		var err error
		codes[i], err = v.IssueServiceCode(context.Background(), "i-ecs", "alice")
		require.NoError(t, err)
	}
	statuses := make([]int, len(codes))
	var wg sync.WaitGroup
	for i, code := range codes {
		wg.Go(func() {
			name := "subject " + string(rune('A'+i))
			body := `{"product":"ecs","service_code":"` + code + `","subject":"` + name + `"` + certJSON(name) + `}`
			statuses[i] = serve(h, request{path: "/verify", body: body}, "").Code
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	assert.Equal(t, map[int]int{200: 5, 409: 5}, count)
}

// TestSubjectID checks "subject_id": it reaches the Verifier, which keys
// the subject by it, so one company typed two ways takes one slot; the
// default policy refuses a body without it; a policy that keys subjects by
// name takes one.
func TestSubjectID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	second, err := e.v.IssueServiceCode(ctx, "i-ecs", "alice")
	require.NoError(t, err)
	for i, c := range []struct{ code, typ, number string }{
		{e.code, "uscc", "91110000600037341L"},
		{second, "org_code", "60003734-1"},
	} {
		body := `{"product":"ecs","service_code":"` + c.code + `","subject":"Example","subject_id":{"type":"` + c.typ + `","number":"` + c.number + `"}}`
		rec := serve(e.h, request{path: "/verify", body: body}, "")
		require.Equal(t, http.StatusOK, rec.Code, "%d: %s", i, rec.Body.String())
		r, err := e.store.Reservation(ctx, c.code)
		require.NoError(t, err)
		assert.Equal(t, "id:600037341", r.SubjectKey)
	}
	assert.Equal(t, 1, e.used(), "one company, two spellings, one slot")

	third, err := e.v.IssueServiceCode(ctx, "i-ecs", "alice")
	require.NoError(t, err)
	for _, c := range []struct {
		body   string
		status int
		reason icpverify.Reason
	}{
		{`{"product":"ecs","service_code":"` + third + `","subject":"S"}`, 422, icpverify.ReasonSubjectIDMalformed},
		{`{"product":"ecs","service_code":"` + third + `","subject":"S","subject_id":{}}`, 422, icpverify.ReasonSubjectIDMalformed},
		{`{"product":"ecs","service_code":"` + third + `","subject":"S","subject_id":{"type":"uscc","number":"91110000600037341N"}}`, 422, icpverify.ReasonSubjectIDMalformed},
		{`{"product":"ecs","service_code":"` + third + `","subject":"S","subject_id":{"type":"Passport","number":"E12345678"}}`, 422, icpverify.ReasonSubjectIDMalformed},
		{`{"product":"ecs","service_code":"` + third + `","subject":"S","subject_id":{"type":"uscc","number":"` + strings.Repeat("9", 4096) + `"}}`, 422, icpverify.ReasonSubjectIDMalformed},
		{`{"product":"ecs","service_code":"` + third + `","subject":"S","subject_id":{"type":"uscc","number":"9","kind":"x"}}`, 400, ""},
		{`{"product":"ecs","service_code":"` + third + `","subject":"S","subject_id":{"type":"uscc","number":null}}`, 400, ""},
		{`{"product":"ecs","service_code":"` + third + `","subject":"S","subject_id":{"Type":"uscc","number":"91110000600037341L"}}`, 400, ""},
		{`{"product":"ecs","service_code":"` + third + `","subject":"S","subject_id":"91110000600037341L"}`, 400, ""},
	} {
		for _, path := range []string{"/verify", "/check"} {
			rec := serve(e.h, request{path: path, body: c.body}, "")
			if c.status == http.StatusBadRequest {
				wantStatusProblem(t, rec, c.status, "en")
				continue
			}
			p := decodeProblem(t, rec, c.status, "en")
			assert.Equal(t, c.reason, p.Reason, c.body)
		}
	}
	assert.Equal(t, 1, e.used())

	// Names only, by the provider's choice.
	pol := icpverify.DefaultPolicy(icpverify.ProductECS)
	pol.RequireSubjectID = false
	v := icpverify.New(e.store, e.store, icpverify.WithClock(func() time.Time { return start }), icpverify.WithPolicy(icpverify.ProductECS, pol))
	rec := serve(NewHandler(v, testAuth), request{path: "/verify", body: `{"product":"ecs","service_code":"` + third + `","subject":"S"}`}, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, 2, e.used())
}
