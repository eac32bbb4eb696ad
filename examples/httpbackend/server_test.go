package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/icphttp"
	"github.com/icpfiling/icpverify/subject"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
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

// testTokens are the toy authenticator's tokens in the tests.
var testTokens = map[string]string{"t-alice": "alice", "t-bob": "bob", "t-mallory": "mallory"}

// env is the two handlers on a MemoryStore with a fixed clock and these
// instances: alice's ECS instance i-ecs (valid for a year), alice's Simple
// Application Server i-swas, and bob's ECS instance i-short, which expires
// in 90 days. The handlers and the Verifier's audit trail (SlogObserver)
// log to logs.
type env struct {
	t        *testing.T
	app      http.Handler // the applicants' listener
	internal http.Handler // the internal listener
	v        *icpverify.Verifier
	store    icpverify.MemoryStore
	clock    *testClock
	logs     *syncBuffer
}

func newEnv(t *testing.T, opts ...icpverify.Option) *env {
	t.Helper()
	start := time.Date(2025, time.March, 1, 2, 0, 0, 0, time.UTC)
	e := &env{t: t, store: icpverify.NewMemoryStore(), clock: &testClock{t: start}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, nil))
	base := []icpverify.Option{icpverify.WithClock(e.clock.Now), icpverify.WithObserver(icpverify.SlogObserver(logger))}
	e.v = icpverify.New(e.store, e.store, append(base, opts...)...)
	e.app = newApplicantHandler(e.v, testTokens, logger)
	e.internal = newInternalHandler(e.v, logger)
	for _, inst := range []icpverify.Instance{
		{ID: "i-ecs", Account: "alice", Product: icpverify.ProductECS, Region: "cn-hangzhou", Billing: icpverify.Subscription,
			TermMonths: 12, PublicIP: "203.0.113.10", Status: icpverify.Running, ExpiresAt: start.AddDate(1, 0, 0)},
		{ID: "i-swas", Account: "alice", Product: icpverify.ProductSimpleApplicationServer, Region: "cn-shanghai", Billing: icpverify.Subscription,
			TermMonths: 12, PublicIP: "203.0.113.11", Status: icpverify.Running, ExpiresAt: start.AddDate(1, 0, 0)},
		{ID: "i-short", Account: "bob", Product: icpverify.ProductECS, Region: "cn-beijing", Billing: icpverify.Subscription,
			TermMonths: 3, PublicIP: "203.0.113.12", Status: icpverify.Running, ExpiresAt: start.AddDate(0, 0, 90)},
	} {
		if err := e.store.PutInstanceContext(context.Background(), inst); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// issue issues a code directly from the Verifier.
func (e *env) issue(instance, account string) string {
	e.t.Helper()
	code, err := e.v.IssueServiceCode(context.Background(), instance, account)
	if err != nil {
		e.t.Fatalf("issuing a code from %s: %v", instance, err)
	}
	return code
}

// verify posts a body to path on the applicants' listener with the bearer
// token of account (none if account is "").
func (e *env) verify(path string, body any, account, acceptLanguage string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := newRequest(e.t, http.MethodPost, path, body, acceptLanguage)
	if account != "" {
		req.Header.Set("Authorization", "Bearer t-"+account)
	}
	rec := httptest.NewRecorder()
	e.app.ServeHTTP(rec, req)
	return rec
}

// call sends a request to the internal listener.
func (e *env) call(method, path string, body any, acceptLanguage string) *httptest.ResponseRecorder {
	e.t.Helper()
	return do(e.t, e.internal, method, path, body, acceptLanguage)
}

func do(t *testing.T, h http.Handler, method, path string, body any, acceptLanguage string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(t, method, path, body, acceptLanguage))
	return rec
}

// newRequest returns a request with a JSON body. A body that is not a
// string is marshalled to JSON.
func newRequest(t *testing.T, method, path string, body any, acceptLanguage string) *http.Request {
	t.Helper()
	var raw string
	switch b := body.(type) {
	case nil:
	case string:
		raw = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(j)
	}
	req := httptest.NewRequest(method, path, strings.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	return req
}

// verifyBody returns the body of a /verify or /check request, for the
// subject of that name with its certificate (see certOf). It has no
// account: the bearer token names it.
func verifyBody(product icpverify.ProductType, code, subject string) map[string]any {
	return map[string]any{"product": string(product), "service_code": code, "subject": subject, "subject_id": certOf(subject)}
}

// certOf returns the certificate of the subject of that name, as the
// tests give it: one number per name.
func certOf(name string) map[string]string {
	sum := sha256.Sum256([]byte(name))
	return map[string]string{"type": "other", "number": "T" + hex.EncodeToString(sum[:8])}
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
	Application string `json:"application"` // absent from a /check of a code reserved for no application
}

// apply verifies account's application of an ECS code for subject on the
// applicants' listener, and returns the application's identity, as the
// provider's workflow would keep it.
func (e *env) apply(code, account, subject string) string {
	e.t.Helper()
	rec := e.verify("/verify", verifyBody(icpverify.ProductECS, code, subject), account, "")
	wantStatus(e.t, rec, http.StatusOK)
	var res resultBody
	decodeJSON(e.t, rec, &res)
	if res.Application == "" {
		e.t.Fatalf("/verify names no application: %s", rec.Body.String())
	}
	return res.Application
}

// decodeJSON decodes a response body strictly into dst.
func decodeJSON(t *testing.T, rec *httptest.ResponseRecorder, dst any) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body.String(), err)
	}
}

// wantStatus fails the test now if rec's status is not status.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
}

// decodeProblem decodes an RFC 9457 problem details response strictly, and
// checks the members every problem has and the headers of every error
// response.
func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, contentLanguage string) icphttp.Problem {
	t.Helper()
	wantStatus(t, rec, status)
	h := rec.Header()
	if ct := h.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	if cl := h.Get("Content-Language"); cl != contentLanguage {
		t.Errorf("Content-Language %q, want %q", cl, contentLanguage)
	}
	if v := h.Values("Vary"); len(v) != 1 || v[0] != "Accept-Language" {
		t.Errorf("Vary %q, want Accept-Language", v)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	var p icphttp.Problem
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body.String(), err)
	}
	if p.Status != status {
		t.Errorf("status member %d, want %d", p.Status, status)
	}
	if p.Title == "" || p.Detail == "" {
		t.Errorf("title %q, detail %q: want both", p.Title, p.Detail)
	}
	return p
}

// wantProblem checks the problem details of a refusal with reason and
// returns them.
func wantProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, reason icpverify.Reason, contentLanguage string) icphttp.Problem {
	t.Helper()
	p := decodeProblem(t, rec, status, contentLanguage)
	if p.Reason != reason {
		t.Errorf("reason %q, want %q", p.Reason, reason)
	}
	if want := icphttp.ProblemTypePrefix + string(reason); p.Type != want {
		t.Errorf("type %q, want %q", p.Type, want)
	}
	return p
}

// wantRequestProblem checks the problem details of a request refused
// before it reached the Verifier: type about:blank and no reason.
func wantRequestProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, contentLanguage string) icphttp.Problem {
	t.Helper()
	p := decodeProblem(t, rec, status, contentLanguage)
	if p.Type != "about:blank" || p.Reason != "" {
		t.Errorf("problem %+v, want about:blank without a reason", p)
	}
	return p
}

// wantInternalProblem checks a problem of the internal listener's own.
func wantInternalProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if p := wantRequestProblem(t, rec, status, "en"); p.Title != http.StatusText(status) {
		t.Errorf("title %q, want %q", p.Title, http.StatusText(status))
	}
}

// waitLog waits until the log holds every one of want, for a server run
// by TestRun logs on goroutines of its own, and returns it.
func waitLog(t *testing.T, logs *syncBuffer, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := logs.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(got, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("log lacks %q:\n%s", missing, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestVerifyAndRetry(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	body := verifyBody(icpverify.ProductECS, strings.ToLower(code), "Example Co., Ltd.")

	var application string
	for i, retry := range []bool{false, true} {
		rec := e.verify("/verify", body, "alice", "")
		wantStatus(t, rec, http.StatusOK)
		var got resultBody
		decodeJSON(t, rec, &got)
		if i == 0 {
			application = got.Application // new, and opaque
		}
		want := resultBody{Instance: "i-ecs", Product: "ecs", ServiceCode: code, Subject: "Example Co., Ltd.", Used: 1, Limit: 5,
			Retry: retry, Application: application}
		if got != want || application == "" {
			t.Errorf("call %d: got %+v, want %+v", i+1, got, want)
		}
	}
	// A /check of the application names it too.
	rec := e.verify("/check", body, "alice", "")
	wantStatus(t, rec, http.StatusOK)
	var got resultBody
	decodeJSON(t, rec, &got)
	if got.Application != application {
		t.Errorf("check of the application: got %+v, want application %q", got, application)
	}
}

func TestCheckReservesNothing(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	rec := e.verify("/check", verifyBody(icpverify.ProductECS, code, "Example Co., Ltd."), "alice", "")
	wantStatus(t, rec, http.StatusOK)
	var got resultBody
	decodeJSON(t, rec, &got)
	if got.Used != 0 || got.Retry || got.Application != "" || strings.Contains(rec.Body.String(), `"application"`) {
		t.Errorf("check: got %+v, want 0 used, no retry and no application", got)
	}
	used, _, err := e.store.Usage(context.Background(), "i-ecs", "Example Co., Ltd.")
	if err != nil || used != 0 {
		t.Errorf("after /check: %d used, %v; want 0", used, err)
	}
	// /check refuses as /verify does.
	rec = e.verify("/check", verifyBody(icpverify.ProductSLB, code, "Example Co., Ltd."), "alice", "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonProductNotFileable, "en")
}

// TestAccountFromToken checks that the account is the bearer token's,
// never the body's.
func TestAccountFromToken(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	// mallory holds no grant of alice's code: it is refused as a code
	// that does not exist, with the very same response.
	rec := e.verify("/verify", verifyBody(icpverify.ProductECS, code, "Mallory Co."), "mallory", "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonCodeNotFound, "en")
	wantSameResponse(t, rec, e.verify("/verify", verifyBody(icpverify.ProductECS, foreignCode(t), "Mallory Co."), "mallory", ""))
	// Saying "account":"alice" in the body is refused, not believed.
	withAccount := map[string]string{"product": "ecs", "service_code": code, "subject": "Mallory Co.", "account": "alice"}
	wantRequestProblem(t, e.verify("/verify", withAccount, "mallory", ""), http.StatusBadRequest, "en")
	// Nor is a repeated member, nor one named nearly as a field.
	for _, body := range []string{
		`{"product":"ecs","service_code":"` + code + `","subject":"Mallory Co.","subject":"Alice Co."}`,
		`{"product":"ecs","service_code":"` + code + `","subject":"Alice Co.","account":"mallory","account":"alice"}`,
		`{"product":"ecs","service_code":"` + code + `","ſubject":"Alice Co."}`,
		`{"product":"ecs","service_code":"` + code + `","Subject":"Alice Co."}`,
	} {
		wantRequestProblem(t, e.verify("/verify", body, "alice", "zh-CN"), http.StatusBadRequest, "zh-Hans")
	}
	// Without a token: 401, with the scheme to use.
	rec = e.verify("/verify", verifyBody(icpverify.ProductECS, code, "Alice Co."), "", "zh-TW")
	wantRequestProblem(t, rec, http.StatusUnauthorized, "zh-Hant")
	if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="icp-filing"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	used, _, _ := e.store.Usage(context.Background(), "i-ecs", "x")
	if used != 0 {
		t.Errorf("%d slots used", used)
	}
	// alice's token: the code is hers.
	wantStatus(t, e.verify("/verify", verifyBody(icpverify.ProductECS, code, "Alice Co."), "alice", ""), http.StatusOK)
}

// TestCrossSiteForm checks that a web page cannot post a form to either
// listener, whatever credentials the browser would send.
func TestCrossSiteForm(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"} {
		req := httptest.NewRequest(http.MethodPost, "/verify", strings.NewReader(`{"product":"ecs","service_code":"`+code+`","subject":"S"}`))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer t-alice")
		rec := httptest.NewRecorder()
		e.app.ServeHTTP(rec, req)
		wantRequestProblem(t, rec, http.StatusUnsupportedMediaType, "en")

		req = httptest.NewRequest(http.MethodPost, "/withdraw", strings.NewReader(`{"application":"`+someApplication+`"}`))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer t-alice")
		rec = httptest.NewRecorder()
		e.app.ServeHTTP(rec, req)
		wantRequestProblem(t, rec, http.StatusUnsupportedMediaType, "en")

		for path, body := range map[string]string{"/release": `{"application":"` + someApplication + `"}`, "/revoke": `{"service_code":"` + code + `"}`} {
			req = httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", ct)
			rec = httptest.NewRecorder()
			e.internal.ServeHTTP(rec, req)
			wantInternalProblem(t, rec, http.StatusUnsupportedMediaType)
		}
	}
}

// TestRefusalLanguages checks each FAQ prompt in each language, as the
// title of the problem details, and the alternatives offered with a quota
// refusal.
func TestRefusalLanguages(t *testing.T) {
	langs := []struct {
		accept, contentLanguage string
		invalidProduct          string
		codeInvalid             string
		quota                   string
		alternatives            string
	}{
		{"en-US,en;q=0.9", "en", "Invalid product information.", "Product information verification failed. Interface exception.",
			"The ICP Filing subject quantity limit has been reached.", "Your instances that would pass now: instance i-ecs-2 has 4 free subject slots."},
		{"", "en", "Invalid product information.", "Product information verification failed. Interface exception.",
			"The ICP Filing subject quantity limit has been reached.", "Your instances that would pass now: instance i-ecs-2 has 4 free subject slots."},
		{"zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans", "产品信息无效。", "验证产品信息失败，接口异常。", "备案主体数量已达上限", "您的以下实例当前可通过验证：实例i-ecs-2剩余4个主体名额。"},
		{"zh-TW", "zh-Hant", "產品資訊無效。", "驗證產品資訊失敗，介面異常。", "備案主體數量已達上限", "您的以下實例目前可通過驗證：實例i-ecs-2剩餘4個主體名額。"},
		{"zh-HK", "zh-Hant", "產品資訊無效。", "驗證產品資訊失敗，介面異常。", "備案主體數量已達上限", "您的以下實例目前可通過驗證：實例i-ecs-2剩餘4個主體名額。"},
	}
	for _, l := range langs {
		t.Run("lang="+l.accept, func(t *testing.T) {
			// The sixth subject needs a sixth code: raise the code limit.
			pol := icpverify.DefaultPolicy(icpverify.ProductECS)
			pol.CodeLimit = 10
			e := newEnv(t, icpverify.WithPolicy(icpverify.ProductECS, pol))
			ecsCode := e.issue("i-ecs", "alice")
			shortCode := e.issue("i-short", "bob")

			cases := []struct {
				name    string
				body    map[string]any
				account string
				status  int
				reason  icpverify.Reason
				prompt  string
				detail  string
			}{
				{"slb", verifyBody(icpverify.ProductSLB, ecsCode, "S"), "alice", 422, icpverify.ReasonProductNotFileable, l.invalidProduct, ""},
				{"swas for ecs code", verifyBody(icpverify.ProductSimpleApplicationServer, ecsCode, "S"), "alice", 422, icpverify.ReasonProductMismatch, l.invalidProduct, "i-ecs"},
				{"unknown product", verifyBody("vps", ecsCode, "S"), "alice", 422, icpverify.ReasonProductNotFileable, l.invalidProduct, `"vps"`},
				{"empty subject", verifyBody(icpverify.ProductECS, ecsCode, ""), "alice", 422, icpverify.ReasonInvalidRequest, l.invalidProduct, ""},
				{"malformed code", verifyBody(icpverify.ProductECS, mistype(ecsCode), "S"), "alice", 422, icpverify.ReasonCodeMalformed, l.codeInvalid, "XXXX-XXXX-XXXX-XXXX"},
				// Another's code is refused as one that does not exist.
				{"not owned", verifyBody(icpverify.ProductECS, ecsCode, "S"), "mallory", 422, icpverify.ReasonCodeNotFound, l.codeInvalid, ""},
				{"not found", verifyBody(icpverify.ProductECS, foreignCode(t), "S"), "alice", 422, icpverify.ReasonCodeNotFound, l.codeInvalid, ""},
			}
			for _, c := range cases {
				rec := e.verify("/verify", c.body, c.account, l.accept)
				p := wantProblem(t, rec, c.status, c.reason, l.contentLanguage)
				if p.Title != c.prompt || !strings.Contains(p.Detail, c.detail) {
					t.Errorf("%s: title %q, detail %q; want title %q and %q in the detail", c.name, p.Title, p.Detail, c.prompt, c.detail)
				}
				if p.Used != 0 || p.Limit != 0 || p.Alternatives != nil {
					t.Errorf("%s: used/limit %d/%d, alternatives %v on a refusal that is not a quota's", c.name, p.Used, p.Limit, p.Alternatives)
				}
			}

			// An expired instance's code. bob has no other instance to
			// offer.
			e.clock.Advance(100 * 24 * time.Hour)
			rec := e.verify("/verify", verifyBody(icpverify.ProductECS, shortCode, "S"), "bob", l.accept)
			p := wantProblem(t, rec, 422, icpverify.ReasonInstanceExpired, l.contentLanguage)
			if p.Title != l.codeInvalid || !strings.Contains(p.Detail, "2025-05-30") || p.Alternatives != nil {
				t.Errorf("expired: %+v", p)
			}

			// Five subjects fill i-ecs; the sixth is refused.
			for i := 1; i <= 5; i++ {
				code := e.issue("i-ecs", "alice")
				rec := e.verify("/verify", verifyBody(icpverify.ProductECS, code, fmt.Sprint("subject ", i)), "alice", l.accept)
				wantStatus(t, rec, http.StatusOK)
			}
			sixth := verifyBody(icpverify.ProductECS, ecsCode, "subject 6")
			rec = e.verify("/verify", sixth, "alice", l.accept)
			p = wantProblem(t, rec, http.StatusConflict, icpverify.ReasonQuotaReached, l.contentLanguage)
			if p.Used != 5 || p.Limit != 5 {
				t.Errorf("quota: used/limit %d/%d, want 5/5", p.Used, p.Limit)
			}
			if !strings.Contains(p.Title, l.quota) || !strings.Contains(p.Detail, "5") {
				t.Errorf("quota: title %q, detail %q", p.Title, p.Detail)
			}
			// i-swas is alice's, but not an ECS instance.
			if p.Alternatives != nil {
				t.Errorf("quota: alternatives %+v, want none", p.Alternatives)
			}

			// alice buys a second ECS instance and files one subject on
			// it: the refusal offers it, with its four free slots.
			expires := e.clock.Now().AddDate(1, 0, 0)
			if err := e.store.PutInstanceContext(context.Background(), icpverify.Instance{ID: "i-ecs-2", Account: "alice", Product: icpverify.ProductECS,
				Region: "cn-hangzhou", Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.13",
				Status: icpverify.Running, ExpiresAt: expires}); err != nil {
				t.Fatal(err)
			}
			code2 := e.issue("i-ecs-2", "alice")
			wantStatus(t, e.verify("/verify", verifyBody(icpverify.ProductECS, code2, "subject 7"), "alice", ""), http.StatusOK)
			rec = e.verify("/verify", sixth, "alice", l.accept)
			p = wantProblem(t, rec, http.StatusConflict, icpverify.ReasonQuotaReached, l.contentLanguage)
			want := []icpverify.Alternative{{Instance: "i-ecs-2", Product: icpverify.ProductECS, Free: 4, ExpiresAt: expires}}
			if len(p.Alternatives) != 1 || p.Alternatives[0].Instance != want[0].Instance || p.Alternatives[0].Free != 4 ||
				!p.Alternatives[0].ExpiresAt.Equal(expires) || p.Alternatives[0].Product != icpverify.ProductECS {
				t.Errorf("quota: alternatives %+v, want %+v", p.Alternatives, want)
			}
			if !strings.HasSuffix(p.Detail, l.alternatives) {
				t.Errorf("quota: detail %q, want it to end with %q", p.Detail, l.alternatives)
			}
			// The JSON member, as a client reads it.
			if !strings.Contains(rec.Body.String(), `"alternatives":[{"instance":"i-ecs-2","product":"ecs","free":4,"expires_at":"2026-06-09T02:00:00Z"}]`) {
				t.Errorf("quota: body %s", rec.Body.String())
			}
		})
	}
}

func TestCodesAndGrant(t *testing.T) {
	e := newEnv(t)
	var first string
	for i := 1; i <= 5; i++ {
		rec := e.call(http.MethodPost, "/codes", map[string]string{"instance": "i-swas", "account": "alice"}, "")
		wantStatus(t, rec, http.StatusCreated)
		var got statusBody
		decodeJSON(t, rec, &got)
		if got.Status != "issued" || got.Instance != "i-swas" || !wellFormed(got.ServiceCode) {
			t.Fatalf("issue %d: got %+v", i, got)
		}
		if i == 1 {
			first = got.ServiceCode
			// The code works with the right product type.
			rec := e.verify("/verify", verifyBody(icpverify.ProductSimpleApplicationServer, got.ServiceCode, "S"), "alice", "")
			wantStatus(t, rec, http.StatusOK)
		}
	}
	rec := e.call(http.MethodPost, "/codes", map[string]string{"instance": "i-swas", "account": "alice"}, "zh-CN")
	p := wantProblem(t, rec, http.StatusConflict, icpverify.ReasonCodeLimit, "zh-Hans")
	if p.Used != 5 || p.Limit != 5 || !strings.Contains(p.Detail, "5/5") {
		t.Errorf("code limit: %+v", p)
	}

	// Another account's instance is refused as one that does not exist.
	rec = e.call(http.MethodPost, "/codes", map[string]string{"instance": "i-ecs", "account": "bob"}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonInstanceNotFound, "en")
	rec = e.call(http.MethodPost, "/codes", map[string]string{"instance": "i-nope", "account": "bob"}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonInstanceNotFound, "en")

	// alice grants a code to bob, who can then verify with it; only its
	// owner can grant it: to anyone else it is a code that does not exist.
	code := e.issue("i-ecs", "alice")
	bobs := verifyBody(icpverify.ProductECS, code, "Bob Co., Ltd.")
	wantProblem(t, e.verify("/check", bobs, "bob", ""), http.StatusUnprocessableEntity, icpverify.ReasonCodeNotFound, "en")
	rec = e.call(http.MethodPost, "/grant", map[string]string{"service_code": code, "owner": "bob", "grantee": "bob"}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonCodeNotFound, "en")
	wantSameResponse(t, rec, e.call(http.MethodPost, "/grant", map[string]string{"service_code": foreignCode(t), "owner": "bob", "grantee": "bob"}, ""))
	rec = e.call(http.MethodPost, "/grant", map[string]string{"service_code": code, "owner": "alice", "grantee": "bob"}, "")
	wantStatus(t, rec, http.StatusOK)
	var st statusBody
	decodeJSON(t, rec, &st)
	if st != (statusBody{Status: "granted"}) {
		t.Errorf("grant: %+v", st)
	}
	wantStatus(t, e.verify("/verify", bobs, "bob", ""), http.StatusOK)
	// A body without a grantee is the console's mistake, not a
	// withdrawal of the grant; an empty owner is refused.
	for _, body := range []string{
		`{"service_code":"` + first + `","owner":"alice"}`,
		`{"service_code":"` + code + `","owner":"alice","grantee":null}`,
	} {
		wantInternalProblem(t, e.call(http.MethodPost, "/grant", body, ""), http.StatusBadRequest)
	}
	rec = e.call(http.MethodPost, "/grant", map[string]string{"service_code": first, "owner": "", "grantee": "bob"}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonInvalidRequest, "en")
	if r, err := e.store.Reservation(context.Background(), code); err != nil || r.Account != "bob" {
		t.Errorf("bob's reservation after refused grants: %+v, %v", r, err)
	}

	e.clock.Advance(100 * 24 * time.Hour)
	rec = e.call(http.MethodPost, "/codes", map[string]string{"instance": "i-short", "account": "bob"}, "zh-TW")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonInstanceExpired, "zh-Hant")
}

// appBody is the body of /release and /complete that names an
// application, by the identity /verify answered.
func appBody(application string) map[string]string {
	return map[string]string{"application": application}
}

// someApplication is a well-formed application's identity that no test
// env's store holds.
const someApplication = "0123456789abcdef0123456789abcdef"

// TestReleaseAndComplete checks the provider's /release and /complete, and
// that a release retried after the applicant resubmitted, or after the
// code changed hands, frees nothing.
func TestReleaseAndComplete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.issue("i-ecs", "alice")
	if err := e.v.GrantServiceCode(ctx, code, "alice", "bob"); err != nil {
		t.Fatal(err)
	}
	release := func(application, lang string) *httptest.ResponseRecorder {
		t.Helper()
		return e.call(http.MethodPost, "/release", appBody(application), lang)
	}
	complete := func(application, lang string) *httptest.ResponseRecorder {
		t.Helper()
		return e.call(http.MethodPost, "/complete", appBody(application), lang)
	}
	held := func(application, account string) {
		t.Helper()
		r, err := e.store.Reservation(ctx, code)
		if err != nil || r.Application != application || r.Account != account || r.Filed || e.used("i-ecs") != 1 {
			t.Fatalf("reservation: %+v, %v, %d used; want %s's application %s", r, err, e.used("i-ecs"), account, application)
		}
	}
	first := e.apply(code, "alice", "Alice Co.")
	// Used by alice: bob is refused.
	wantProblem(t, e.verify("/verify", verifyBody(icpverify.ProductECS, code, "Bob Co."), "bob", ""),
		http.StatusUnprocessableEntity, icpverify.ReasonCodeInUse, "en")
	// An application that holds nothing, or an identity not well formed:
	// the same 404, and nothing changes.
	for _, do := range []func(string, string) *httptest.ResponseRecorder{release, complete} {
		rec := do(someApplication, "")
		wantProblem(t, rec, http.StatusNotFound, icpverify.ReasonNotReserved, "en")
		for _, other := range []string{foreignApplication(t), "not an id", strings.Repeat("a", 65), code} {
			wantSameResponse(t, rec, do(other, ""))
		}
	}
	held(first, "alice")

	rec := release(first, "")
	wantStatus(t, rec, http.StatusOK)
	var st statusBody
	decodeJSON(t, rec, &st)
	if st != (statusBody{Status: "released"}) {
		t.Errorf("release: %+v", st)
	}
	if e.used("i-ecs") != 0 {
		t.Errorf("%d used after the release", e.used("i-ecs"))
	}

	// alice resubmits: a new application. The release of the first,
	// retried after a lost answer, or a stale approval of it, finds
	// nothing, and the new application stands.
	second := e.apply(code, "alice", "Alice Co.")
	if second == first {
		t.Fatalf("the resubmitted application is the released one: %s", second)
	}
	wantProblem(t, release(first, "zh-CN"), http.StatusNotFound, icpverify.ReasonNotReserved, "zh-Hans")
	wantProblem(t, complete(first, ""), http.StatusNotFound, icpverify.ReasonNotReserved, "en")
	held(second, "alice")

	// Released again: bob may use the code now, and alice's retries leave
	// his application alone.
	wantStatus(t, release(second, ""), http.StatusOK)
	bobs := e.apply(code, "bob", "Bob Co.")
	for _, old := range []string{first, second} {
		wantProblem(t, release(old, ""), http.StatusNotFound, icpverify.ReasonNotReserved, "en")
		wantProblem(t, complete(old, ""), http.StatusNotFound, icpverify.ReasonNotReserved, "en")
	}
	held(bobs, "bob")

	for range 2 { // completing twice is not an error
		rec = complete(bobs, "")
		wantStatus(t, rec, http.StatusOK)
		decodeJSON(t, rec, &st)
		if st != (statusBody{Status: "completed"}) {
			t.Errorf("complete: %+v", st)
		}
	}
	wantProblem(t, release(bobs, ""), http.StatusUnprocessableEntity, icpverify.ReasonCodeUsed, "en")
	wantProblem(t, e.verify("/verify", verifyBody(icpverify.ProductECS, code, "C"), "alice", ""),
		http.StatusUnprocessableEntity, icpverify.ReasonCodeUsed, "en")
	if r, err := e.store.Reservation(ctx, code); err != nil || r.Application != bobs || !r.Filed {
		t.Errorf("bob's filing: %+v, %v", r, err)
	}

	// The audit trail: the provider acted, on which application; the
	// retries were refused.
	lines := decisions(e.logs, icpverify.OpRelease)
	var released, retried bool
	for _, l := range lines {
		if strings.Contains(l, " account=") {
			t.Errorf("a release names an account: %s", l)
		}
		released = released || strings.Contains(l, "holder=alice") && strings.Contains(l, "application="+first) && strings.Contains(l, "verdict=passed")
		retried = retried || strings.Contains(l, "verdict=refused reason=not_reserved")
	}
	if !released || !retried {
		t.Errorf("audit trail of the releases:\n%s", strings.Join(lines, ""))
	}
}

// TestReleaseAndCompleteBody checks the body of /release and /complete:
// the application's identity, required, and nothing else.
func TestReleaseAndCompleteBody(t *testing.T) {
	for _, tt := range []struct {
		name   string
		body   string // APP is the application, CODE its code
		status int
		reason icpverify.Reason
	}{
		{"the application", `{"application":"APP"}`, http.StatusOK, ""},
		{"another application", `{"application":"` + someApplication + `"}`, http.StatusNotFound, icpverify.ReasonNotReserved},
		{"not well formed", `{"application":"APP-1"}`, http.StatusNotFound, icpverify.ReasonNotReserved},
		{"too long", `{"application":"APP` + strings.Repeat("0", 64) + `"}`, http.StatusNotFound, icpverify.ReasonNotReserved},
		{"the code", `{"application":"CODE"}`, http.StatusNotFound, icpverify.ReasonNotReserved},
		{"empty", `{"application":""}`, http.StatusBadRequest, ""},
		{"null", `{"application":null}`, http.StatusBadRequest, ""},
		{"absent", `{}`, http.StatusBadRequest, ""},
		{"a number", `{"application":1}`, http.StatusBadRequest, ""},
		{"the fields it was verified with", `{"service_code":"CODE","account":"alice","subject":"Alice Co."}`, http.StatusBadRequest, ""},
		{"an account member", `{"application":"APP","account":"alice"}`, http.StatusBadRequest, ""},
		{"two objects", `{"application":"APP"}{"application":"APP"}`, http.StatusBadRequest, ""},
	} {
		for _, path := range []string{"/release", "/complete"} {
			t.Run(strings.TrimPrefix(path, "/")+"/"+tt.name, func(t *testing.T) {
				e := newEnv(t)
				code := e.issue("i-ecs", "alice")
				app := e.apply(code, "alice", "Alice Co.")
				rec := e.call(http.MethodPost, path, strings.NewReplacer("APP", app, "CODE", code).Replace(tt.body), "")
				r, rerr := e.store.Reservation(context.Background(), code)
				switch {
				case tt.status == http.StatusOK:
					wantStatus(t, rec, http.StatusOK)
					if released := errors.Is(rerr, icpverify.ErrNotFound); released != (path == "/release") || path == "/complete" && !r.Filed {
						t.Errorf("after %s: %+v, %v", path, r, rerr)
					}
					return
				case tt.status == http.StatusBadRequest:
					wantInternalProblem(t, rec, tt.status)
				default:
					wantProblem(t, rec, tt.status, tt.reason, "en")
				}
				if rerr != nil || r.Application != app || r.Filed || e.used("i-ecs") != 1 {
					t.Errorf("alice's reservation changed: %+v, %v, %d used", r, rerr, e.used("i-ecs"))
				}
			})
		}
	}
}

// used returns how many subjects hold a slot on instance.
func (e *env) used(instance string) int {
	e.t.Helper()
	n, _, err := e.store.Usage(context.Background(), instance, "nobody")
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// decisions returns the audit trail's lines of op.
func decisions(logs *syncBuffer, op icpverify.Op) []string {
	var lines []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `msg="icpverify decision" op=`+string(op)+" ") {
			lines = append(lines, line)
		}
	}
	return lines
}

// TestWithdraw checks that applicants withdraw their own applications on
// the applicants' listener, by their identity, and only their own.
func TestWithdraw(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	code := e.issue("i-ecs", "alice")
	withdraw := func(application, account, lang string) *httptest.ResponseRecorder {
		t.Helper()
		return e.verify("/withdraw", map[string]string{"application": application}, account, lang)
	}
	first := e.apply(code, "alice", "Alice Co.")

	// mallory cannot withdraw alice's application, and cannot tell it
	// from one that holds nothing, or from an identity not well formed.
	unknown := foreignApplication(t)
	for _, lang := range []struct{ accept, cl string }{{"", "en"}, {"zh-CN", "zh-Hans"}, {"zh-TW", "zh-Hant"}} {
		rec := withdraw(first, "mallory", lang.accept)
		wantProblem(t, rec, http.StatusNotFound, icpverify.ReasonNotReserved, lang.cl)
		wantSameResponse(t, rec, withdraw(unknown, "mallory", lang.accept))
		wantSameResponse(t, rec, withdraw(unknown, "alice", lang.accept))
		wantSameResponse(t, rec, withdraw("not an id", "alice", lang.accept))
		wantSameResponse(t, rec, withdraw(code, "alice", lang.accept))
	}
	// Nor by naming alice in the body, nor by the code alone.
	rec := e.verify("/withdraw", map[string]string{"application": first, "account": "alice"}, "mallory", "")
	wantRequestProblem(t, rec, http.StatusBadRequest, "en")
	rec = e.verify("/withdraw", map[string]string{"service_code": code}, "alice", "")
	wantRequestProblem(t, rec, http.StatusBadRequest, "en")
	// Nor without a token.
	wantRequestProblem(t, withdraw(first, "", ""), http.StatusUnauthorized, "en")
	if r, err := e.store.Reservation(ctx, code); err != nil || r.Application != first || e.used("i-ecs") != 1 {
		t.Fatalf("after mallory's attempts: %+v, %v, %d used", r, err, e.used("i-ecs"))
	}

	// alice withdraws hers: 204, and the slot is free.
	rec = withdraw(first, "alice", "")
	wantStatus(t, rec, http.StatusNoContent)
	if rec.Body.Len() != 0 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("withdrawn: headers %v, body %q", rec.Header(), rec.Body.String())
	}
	if n := e.used("i-ecs"); n != 0 {
		t.Errorf("%d used after the withdrawal", n)
	}
	// Retried: 404, what mallory got.
	wantProblem(t, withdraw(first, "alice", "zh-CN"), http.StatusNotFound, icpverify.ReasonNotReserved, "zh-Hans")
	// alice applies again: a new application, which the first's
	// withdrawal, retried, leaves alone.
	second := e.apply(code, "alice", "Alice Co.")
	if second == first {
		t.Fatalf("the new application is the withdrawn one: %s", second)
	}
	wantProblem(t, withdraw(first, "alice", ""), http.StatusNotFound, icpverify.ReasonNotReserved, "en")
	if r, err := e.store.Reservation(ctx, code); err != nil || r.Application != second || e.used("i-ecs") != 1 {
		t.Errorf("alice's new application: %+v, %v, %d used", r, err, e.used("i-ecs"))
	}

	// The audit trail names who acted, and keeps the true cause of
	// mallory's refusal.
	lines := decisions(e.logs, icpverify.OpWithdraw)
	var mallory, alice bool
	for _, l := range lines {
		mallory = mallory || strings.Contains(l, "account=mallory holder=alice") && strings.Contains(l, "reason=not_reserved cause=code_not_owned")
		alice = alice || strings.Contains(l, "account=alice holder=alice") && strings.Contains(l, "application="+first) && strings.Contains(l, "verdict=passed")
	}
	if !mallory || !alice {
		t.Errorf("audit trail of the withdrawals:\n%s", strings.Join(lines, ""))
	}
}

// TestRevoke checks the provider's /revoke: the code is invalid for good,
// its unfiled reservation is released and a filed one stays.
func TestRevoke(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	body := map[string]string{"service_code": code}
	app := e.apply(code, "alice", "A")

	for range 2 { // revoking twice is not an error
		rec := e.call(http.MethodPost, "/revoke", body, "")
		wantStatus(t, rec, http.StatusOK)
		var st statusBody
		decodeJSON(t, rec, &st)
		if st != (statusBody{Status: "revoked"}) {
			t.Errorf("revoke: %+v", st)
		}
	}
	if n := e.used("i-ecs"); n != 0 {
		t.Errorf("%d used after the revocation; want the reservation released", n)
	}
	for _, path := range []string{"/verify", "/check"} {
		wantProblem(t, e.verify(path, verifyBody(icpverify.ProductECS, code, "A"), "alice", "zh-TW"),
			http.StatusUnprocessableEntity, icpverify.ReasonCodeRevoked, "zh-Hant")
	}
	wantProblem(t, e.call(http.MethodPost, "/grant", map[string]string{"service_code": code, "owner": "alice", "grantee": "bob"}, ""),
		http.StatusUnprocessableEntity, icpverify.ReasonCodeRevoked, "en")
	wantProblem(t, e.call(http.MethodPost, "/complete", appBody(app), ""), http.StatusNotFound, icpverify.ReasonNotReserved, "en")
	wantProblem(t, e.verify("/withdraw", appBody(app), "alice", ""), http.StatusNotFound, icpverify.ReasonNotReserved, "en")

	// A filed code: the filing stands.
	filed := e.issue("i-ecs", "alice")
	wantStatus(t, e.call(http.MethodPost, "/complete", appBody(e.apply(filed, "alice", "B")), ""), http.StatusOK)
	wantStatus(t, e.call(http.MethodPost, "/revoke", map[string]string{"service_code": filed}, ""), http.StatusOK)
	if r, err := e.store.Reservation(context.Background(), filed); err != nil || !r.Filed || e.used("i-ecs") != 1 {
		t.Errorf("filed code after the revocation: %+v, %v, %d used", r, err, e.used("i-ecs"))
	}

	rec := e.call(http.MethodPost, "/revoke", map[string]string{"service_code": foreignCode(t)}, "zh-CN")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonCodeNotFound, "zh-Hans")
	rec = e.call(http.MethodPost, "/revoke", map[string]string{"service_code": "nonsense"}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonCodeMalformed, "en")

	// The revocation is the provider's: its decision names no account.
	lines := decisions(e.logs, icpverify.OpRevoke)
	if len(lines) != 5 {
		t.Errorf("%d revoke decisions, want 5:\n%s", len(lines), strings.Join(lines, ""))
	}
	for _, l := range lines {
		if strings.Contains(l, " account=") {
			t.Errorf("a revocation names an account: %s", l)
		}
	}
}

// TestGrantWithdrawal checks /grant with an empty grantee: the grant is
// withdrawn and the grantee's unfiled reservation released.
func TestGrantWithdrawal(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	grant := func(code, owner, grantee string) *httptest.ResponseRecorder {
		t.Helper()
		return e.call(http.MethodPost, "/grant", map[string]string{"service_code": code, "owner": owner, "grantee": grantee}, "")
	}
	wantStatus(t, grant(code, "alice", "bob"), http.StatusOK)
	bobs := verifyBody(icpverify.ProductECS, code, "Bob Co., Ltd.")
	app := e.apply(code, "bob", "Bob Co., Ltd.")

	// Only the owner may withdraw the grant.
	wantProblem(t, grant(code, "bob", ""), http.StatusUnprocessableEntity, icpverify.ReasonCodeNotFound, "en")
	wantStatus(t, e.verify("/verify", bobs, "bob", ""), http.StatusOK) // a retry: still bob's

	for range 2 { // withdrawing twice is not an error
		rec := grant(code, "alice", "")
		wantStatus(t, rec, http.StatusOK)
		var st statusBody
		decodeJSON(t, rec, &st)
		if st != (statusBody{Status: "grant_withdrawn"}) {
			t.Errorf("grant withdrawal: %+v", st)
		}
	}
	if _, err := e.store.Reservation(context.Background(), code); !errors.Is(err, icpverify.ErrNotFound) || e.used("i-ecs") != 0 {
		t.Errorf("bob's reservation after the grant was withdrawn: %v, %d used", err, e.used("i-ecs"))
	}
	// bob no longer has the code; alice does.
	wantProblem(t, e.verify("/check", bobs, "bob", ""), http.StatusUnprocessableEntity, icpverify.ReasonCodeNotFound, "en")
	wantProblem(t, e.verify("/withdraw", appBody(app), "bob", ""), http.StatusNotFound, icpverify.ReasonNotReserved, "en")
	wantStatus(t, e.verify("/verify", verifyBody(icpverify.ProductECS, code, "Alice Co."), "alice", ""), http.StatusOK)

	// A grantee's completed filing stays when the grant is withdrawn.
	filed := e.issue("i-ecs", "alice")
	wantStatus(t, grant(filed, "alice", "bob"), http.StatusOK)
	wantStatus(t, e.call(http.MethodPost, "/complete", appBody(e.apply(filed, "bob", "Bob Co., Ltd.")), ""), http.StatusOK)
	wantStatus(t, grant(filed, "alice", ""), http.StatusOK)
	if r, err := e.store.Reservation(context.Background(), filed); err != nil || !r.Filed || r.Account != "bob" || e.used("i-ecs") != 2 {
		t.Errorf("bob's filing after the grant was withdrawn: %+v, %v, %d used", r, err, e.used("i-ecs"))
	}
}

// TestApplicantEndpointsOnly checks that the applicants' listener serves
// nothing of the provider's.
func TestApplicantEndpointsOnly(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	app := e.apply(code, "alice", "A")
	for _, c := range []struct {
		path string
		body any
	}{
		{"/release", appBody(app)},
		{"/complete", appBody(app)},
		{"/revoke", map[string]string{"service_code": code}},
		{"/codes", map[string]string{"instance": "i-ecs", "account": "alice"}},
		{"/grant", map[string]string{"service_code": code, "owner": "alice", "grantee": "mallory"}},
		{"/grant", map[string]string{"service_code": code, "owner": "alice", "grantee": ""}},
		{"/expiring", nil},
	} {
		wantRequestProblem(t, e.verify(c.path, c.body, "alice", "zh-CN"), http.StatusNotFound, "zh-Hans")
	}
	// The reservation stands: one subject holds a slot on i-ecs.
	if used, _, _ := e.store.Usage(context.Background(), "i-ecs", "another subject"); used != 1 {
		t.Errorf("%d used, want 1", used)
	}
	// The code is still alice's, unrevoked, ungranted.
	wantStatus(t, e.verify("/verify", verifyBody(icpverify.ProductECS, code, "A"), "alice", ""), http.StatusOK)
	// And the internal listener serves none of the applicant's operations.
	wantInternalProblem(t, e.call(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code, "A"), ""), http.StatusNotFound)
	wantInternalProblem(t, e.call(http.MethodPost, "/check", verifyBody(icpverify.ProductECS, code, "A"), ""), http.StatusNotFound)
	wantInternalProblem(t, e.call(http.MethodPost, "/withdraw", appBody(app), ""), http.StatusNotFound)
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	huge := `{"product":"ecs","service_code":"` + code + `","subject":"` + strings.Repeat("x", icphttp.DefaultMaxBodyBytes) + `"}`
	// The applicants' listener: icphttp's rules, localized.
	for _, c := range []struct {
		name, path, body string
		status           int
	}{
		{"empty body", "/verify", "", http.StatusBadRequest},
		{"not JSON", "/verify", "product=ecs", http.StatusBadRequest},
		{"truncated", "/verify", `{"product":"ecs"`, http.StatusBadRequest},
		{"wrong type", "/verify", `{"product":5}`, http.StatusBadRequest},
		{"array", "/check", `[]`, http.StatusBadRequest},
		{"unknown field", "/verify", `{"product":"ecs","servicecode":"x"}`, http.StatusBadRequest},
		{"two objects", "/check", `{"subject":"x"}{"subject":"y"}`, http.StatusBadRequest},
		{"trailing garbage", "/verify", `{"subject":"x"} x`, http.StatusBadRequest},
		{"huge body", "/verify", huge, http.StatusRequestEntityTooLarge},
		{"withdraw: empty body", "/withdraw", "", http.StatusBadRequest},
		{"withdraw: account member", "/withdraw", `{"application":"` + someApplication + `","account":"alice"}`, http.StatusBadRequest},
		{"withdraw: subject member", "/withdraw", `{"application":"` + someApplication + `","subject":"x"}`, http.StatusBadRequest},
		{"withdraw: the code", "/withdraw", `{"service_code":"` + code + `"}`, http.StatusBadRequest},
		{"withdraw: null application", "/withdraw", `{"application":null}`, http.StatusBadRequest},
		{"withdraw: two objects", "/withdraw", `{"application":"x"}{"application":"y"}`, http.StatusBadRequest},
	} {
		for _, lang := range []struct{ accept, cl string }{{"", "en"}, {"zh-CN", "zh-Hans"}, {"zh-TW", "zh-Hant"}} {
			wantRequestProblem(t, e.verify(c.path, c.body, "alice", lang.accept), c.status, lang.cl)
		}
	}
	// The internal listener: in English.
	for _, c := range []struct {
		name, path, body string
		status           int
	}{
		{"empty body", "/release", "", http.StatusBadRequest},
		{"array", "/complete", `[]`, http.StatusBadRequest},
		{"unknown field", "/codes", `{"instance":"i-ecs","acount":"alice"}`, http.StatusBadRequest},
		{"two objects", "/release", `{"application":"x"}{"application":"y"}`, http.StatusBadRequest},
		{"no application", "/complete", `{}`, http.StatusBadRequest},
		{"the code for the application", "/release", `{"service_code":"` + code + `"}`, http.StatusBadRequest},
		{"unknown field", "/revoke", `{"service_code":"x","reason":"fraud"}`, http.StatusBadRequest},
		{"no grantee", "/grant", `{"service_code":"x","owner":"alice"}`, http.StatusBadRequest},
		{"trailing garbage", "/codes", `{"instance":"i-ecs","account":"alice"} x`, http.StatusBadRequest},
		{"huge body", "/grant", `{"service_code":"` + strings.Repeat("x", maxBody) + `"}`, http.StatusRequestEntityTooLarge},
		{"huge body after an object", "/complete", `{"application":"x"}` + strings.Repeat(" ", maxBody), http.StatusRequestEntityTooLarge},
	} {
		wantInternalProblem(t, e.call(http.MethodPost, c.path, c.body, "zh-CN"), c.status)
	}
	// Nothing of the above reached the Verifier.
	used, _, _ := e.store.Usage(context.Background(), "i-ecs", "x")
	if used != 0 {
		t.Errorf("%d slots used after bad requests", used)
	}
}

func TestMethodAndPath(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/verify", "/check", "/withdraw"} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			rec := do(t, e.app, method, path, nil, "zh-CN")
			wantRequestProblem(t, rec, http.StatusMethodNotAllowed, "zh-Hans")
			if a := rec.Header().Get("Allow"); a != http.MethodPost {
				t.Errorf("%s %s: Allow %q", method, path, a)
			}
		}
	}
	for _, path := range []string{"/release", "/complete", "/revoke", "/codes", "/grant"} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			rec := e.call(method, path, nil, "zh-CN")
			wantInternalProblem(t, rec, http.StatusMethodNotAllowed)
			if a := rec.Header().Get("Allow"); a != http.MethodPost {
				t.Errorf("%s %s: Allow %q", method, path, a)
			}
		}
	}
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		rec := e.call(method, "/expiring?account=alice", nil, "zh-TW")
		wantInternalProblem(t, rec, http.StatusMethodNotAllowed)
		if a := rec.Header().Get("Allow"); a != "GET, HEAD" {
			t.Errorf("%s /expiring: Allow %q", method, a)
		}
	}
	wantRequestProblem(t, e.verify("/nope", "{}", "alice", ""), http.StatusNotFound, "en")
	wantRequestProblem(t, e.verify("/verify/extra", "{}", "alice", ""), http.StatusNotFound, "en")
	wantRequestProblem(t, do(t, e.app, http.MethodGet, "/", nil, "zh-CN"), http.StatusNotFound, "zh-Hans")
	wantInternalProblem(t, e.call(http.MethodPost, "/nope", "{}", ""), http.StatusNotFound)
	wantInternalProblem(t, e.call(http.MethodGet, "/", nil, "zh-CN"), http.StatusNotFound)
}

// expiringResponse decodes a /expiring response.
func expiringResponse(t *testing.T, rec *httptest.ResponseRecorder, contentLanguage string) expiringBody {
	t.Helper()
	wantStatus(t, rec, http.StatusOK)
	if cl := rec.Header().Get("Content-Language"); cl != contentLanguage {
		t.Errorf("Content-Language %q, want %q", cl, contentLanguage)
	}
	if v := rec.Header().Get("Vary"); v != "Accept-Language" {
		t.Errorf("Vary %q", v)
	}
	var body expiringBody
	decodeJSON(t, rec, &body)
	return body
}

func TestExpiring(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-short", "bob")
	wantStatus(t, e.verify("/verify", verifyBody(icpverify.ProductECS, code, "Beijing Example Co., Ltd."), "bob", ""), http.StatusOK)
	filed := e.issue("i-ecs", "alice")
	wantStatus(t, e.call(http.MethodPost, "/complete", appBody(e.apply(filed, "alice", "Hangzhou Example Co., Ltd.")), ""), http.StatusOK)

	// i-short expires in 90 days: not within the default 30.
	rec := e.call(http.MethodGet, "/expiring?account=bob", nil, "")
	if body := expiringResponse(t, rec, "en"); body.Account != "bob" || body.Within != "720h0m0s" || body.Expiring == nil || len(body.Expiring) != 0 {
		t.Errorf("90 days ahead: %+v", body)
	}
	if !strings.Contains(rec.Body.String(), `"expiring":[]`) {
		t.Errorf("an empty list is not []: %s", rec.Body.String())
	}

	// 70 days on, 20 are left.
	e.clock.Advance(70 * 24 * time.Hour)
	expires := time.Date(2025, time.May, 30, 2, 0, 0, 0, time.UTC)
	want := expiryBody{Instance: "i-short", Subject: "Beijing Example Co., Ltd.", ServiceCode: codeformat.Mask(nil, code), ExpiresAt: expires}
	for _, l := range []struct{ accept, cl, message string }{
		{"en", "en", "Instance i-short, which the ICP filing of Beijing Example Co., Ltd. uses (service code " + want.ServiceCode + "), expires on 2025-05-30."},
		{"zh-CN", "zh-Hans", "Beijing Example Co., Ltd.的ICP备案所用的实例i-short（备案服务码" + want.ServiceCode + "）将于2025-05-30到期。"},
		{"zh-TW", "zh-Hant", "Beijing Example Co., Ltd.的ICP備案所用的實例i-short（備案服務碼" + want.ServiceCode + "）將於2025-05-30到期。"},
	} {
		rec := e.call(http.MethodGet, "/expiring?account=bob&within=720h", nil, l.accept)
		body := expiringResponse(t, rec, l.cl)
		if len(body.Expiring) != 1 {
			t.Fatalf("%s: %+v, want one warning", l.accept, body)
		}
		got := body.Expiring[0]
		if !strings.HasPrefix(got.Message, l.message) {
			t.Errorf("%s: message %q, want it to begin %q", l.accept, got.Message, l.message)
		}
		got.Message, got.ExpiresAt = "", got.ExpiresAt.UTC()
		if got != want {
			t.Errorf("%s: got %+v, want %+v", l.accept, got, want)
		}
		if strings.Contains(rec.Body.String(), code) {
			t.Errorf("%s: the service code is not masked: %s", l.accept, rec.Body.String())
		}
	}
	// A shorter window leaves it out.
	if body := expiringResponse(t, e.call(http.MethodGet, "/expiring?account=bob&within=168h", nil, ""), "en"); len(body.Expiring) != 0 {
		t.Errorf("within a week: %+v", body)
	}

	// After the expiry the warning says so.
	e.clock.Advance(30 * 24 * time.Hour)
	body := expiringResponse(t, e.call(http.MethodGet, "/expiring?account=bob&within=1h", nil, ""), "en")
	if len(body.Expiring) != 1 || !body.Expiring[0].Expired || !strings.Contains(body.Expiring[0].Message, "expired on 2025-05-30") {
		t.Errorf("expired: %+v", body)
	}

	// alice's completed filing is listed once its instance is near its end.
	e.clock.Advance(250 * 24 * time.Hour)
	body = expiringResponse(t, e.call(http.MethodGet, "/expiring?account=alice&within=720h", nil, ""), "en")
	if len(body.Expiring) != 1 || !body.Expiring[0].Filed || body.Expiring[0].Instance != "i-ecs" || body.Expiring[0].Expired {
		t.Errorf("alice: %+v", body)
	}

	// A bad window is the client's mistake; no account is the applicant's.
	for _, q := range []string{"within=tomorrow", "within=-1h", "within=0s", "within=10000h", "within=%zz"} {
		rec := e.call(http.MethodGet, "/expiring?account=bob&"+q, nil, "zh-CN")
		wantInternalProblem(t, rec, http.StatusBadRequest)
	}
	rec = e.call(http.MethodGet, "/expiring?within=720h", nil, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonInvalidRequest, "en")
}

// TestAuditTrail checks that the Verifier's decisions reach the log, with
// the service code masked.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	wantStatus(t, e.verify("/verify", verifyBody(icpverify.ProductECS, code, "S"), "alice", ""), http.StatusOK)
	wantProblem(t, e.verify("/verify", verifyBody(icpverify.ProductSLB, code, "S"), "alice", ""),
		http.StatusUnprocessableEntity, icpverify.ReasonProductNotFileable, "en")
	got := waitLog(t, e.logs,
		`msg="icpverify decision" op=issue`,
		`op=verify`,
		`account=alice`,
		`verdict=passed`,
		`verdict=refused reason=product_not_fileable`,
		`code=`+codeformat.Mask(nil, code),
	)
	if strings.Contains(got, code) {
		t.Errorf("log holds the service code unmasked:\n%s", got)
	}
}

// failingStore is an inventory whose backend is down.
type failingStore struct {
	icpverify.InstanceStore // nil: only the methods below are called
}

// errBackend has text that must not reach the client.
var errBackend = errors.New("dial tcp 10.9.8.7:5432: connect: connection refused (user=icp_rw db=filing-prod)")

func (failingStore) Instance(context.Context, string) (icpverify.Instance, error) {
	return icpverify.Instance{}, errBackend
}

func (failingStore) ServiceCode(context.Context, string) (icpverify.ServiceCode, error) {
	return icpverify.ServiceCode{}, errBackend
}

func (failingStore) RevokeServiceCode(context.Context, string) error {
	return errBackend
}

// failingQuotas is a quota store whose backend is down.
type failingQuotas struct {
	icpverify.QuotaStore // nil: only the methods below are called
}

func (failingQuotas) Reservation(context.Context, string) (icpverify.Reservation, error) {
	return icpverify.Reservation{}, errBackend
}

func (failingQuotas) Application(context.Context, string) (icpverify.Reservation, error) {
	return icpverify.Reservation{}, errBackend
}

func (failingQuotas) Release(context.Context, icpverify.Reservation) (icpverify.Reservation, error) {
	return icpverify.Reservation{}, errBackend
}

func (failingQuotas) Complete(context.Context, icpverify.Reservation) (icpverify.Reservation, error) {
	return icpverify.Reservation{}, errBackend
}

func (failingQuotas) ListReservations(context.Context, string, int) ([]icpverify.Reservation, error) {
	return nil, errBackend
}

func TestStoreFailure(t *testing.T) {
	// A well-formed code, from another store.
	code := newEnv(t).issue("i-ecs", "alice")

	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	v := icpverify.New(failingStore{}, failingQuotas{})
	app, internal := newApplicantHandler(v, testTokens, logger), newInternalHandler(v, logger)
	reqs := []struct {
		h            http.Handler
		method, path string
		body         any
	}{
		{app, http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code, "S")},
		{app, http.MethodPost, "/check", verifyBody(icpverify.ProductECS, code, "S")},
		{app, http.MethodPost, "/withdraw", appBody(someApplication)},
		{internal, http.MethodPost, "/release", appBody(someApplication)},
		{internal, http.MethodPost, "/complete", appBody(someApplication)},
		{internal, http.MethodPost, "/revoke", map[string]string{"service_code": code}},
		{internal, http.MethodPost, "/codes", map[string]string{"instance": "i-ecs", "account": "alice"}},
		{internal, http.MethodPost, "/grant", map[string]string{"service_code": code, "owner": "alice", "grantee": "bob"}},
		{internal, http.MethodGet, "/expiring?account=alice", nil},
	}
	for _, r := range reqs {
		for _, lang := range []struct{ accept, cl, title string }{
			{"en", "en", "Product verification could not be completed."},
			{"zh-CN", "zh-Hans", "产品验证未能完成。"},
			{"zh-TW", "zh-Hant", "產品驗證未能完成。"},
		} {
			req := newRequest(t, r.method, r.path, r.body, lang.accept)
			req.Header.Set("Authorization", "Bearer t-alice")
			rec := httptest.NewRecorder()
			r.h.ServeHTTP(rec, req)
			p := decodeProblem(t, rec, http.StatusInternalServerError, lang.cl)
			if p.Type != icphttp.ProblemTypePrefix+"failure" || p.Title != lang.title || p.Reason != "" || p.Alternatives != nil {
				t.Errorf("%s: %+v", r.path, p)
			}
			for _, secret := range []string{"10.9.8.7", "5432", "icp_rw", "filing-prod", "dial", "icpverify:"} {
				if strings.Contains(rec.Body.String(), secret) {
					t.Errorf("%s: response leaks %q: %s", r.path, secret, rec.Body.String())
				}
			}
		}
	}
	// The operator sees the failures in the log.
	got := logs.String()
	for _, path := range []string{"/verify", "/check", "/withdraw", "/release", "/complete", "/revoke", "/codes", "/grant", "/expiring"} {
		if !strings.Contains(got, "level=ERROR msg=\"request failed\" method=") || !strings.Contains(got, "path="+path+" ") {
			t.Errorf("log lacks the failure of %s:\n%s", path, got)
		}
	}
	if !strings.Contains(got, "filing-prod") {
		t.Errorf("log lacks the store's error:\n%s", got)
	}
}

// TestConcurrentVerify races ten subjects for five slots.
func TestConcurrentVerify(t *testing.T) {
	pol := icpverify.DefaultPolicy(icpverify.ProductECS)
	pol.CodeLimit = 10
	e := newEnv(t, icpverify.WithPolicy(icpverify.ProductECS, pol))
	codes := make([]string, 10)
	for i := range codes {
		codes[i] = e.issue("i-ecs", "alice")
	}
	statuses := make([]int, len(codes))
	var wg sync.WaitGroup
	for i, code := range codes {
		wg.Go(func() {
			rec := e.verify("/verify", verifyBody(icpverify.ProductECS, code, fmt.Sprint("subject ", i)), "alice", "")
			statuses[i] = rec.Code
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusOK] != 5 || count[http.StatusConflict] != 5 {
		t.Errorf("statuses %v, want 5 OK and 5 Conflict", count)
	}
}

// TestRequestContext checks that a canceled request reaches no store and
// gets a 503.
func TestRequestContext(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	b, _ := json.Marshal(verifyBody(icpverify.ProductECS, code, "S"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/verify", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer t-alice")
	rec := httptest.NewRecorder()
	e.app.ServeHTTP(rec, req)
	p := decodeProblem(t, rec, http.StatusServiceUnavailable, "en")
	if p.Type != icphttp.ProblemTypePrefix+"failure" || p.Reason != "" {
		t.Errorf("canceled: %+v", p)
	}
	used, _, _ := e.store.Usage(context.Background(), "i-ecs", "S")
	if used != 0 {
		t.Errorf("a canceled request reserved a slot")
	}
	if got := e.logs.String(); !strings.Contains(got, `level=INFO msg="request ended early"`) {
		t.Errorf("log lacks the canceled request:\n%s", got)
	}
}

func TestBearerAuth(t *testing.T) {
	auth := bearerAuth(map[string]string{"tok": "acct"})
	for _, c := range []struct{ header, account string }{
		{"Bearer tok", "acct"},
		{"bearer tok", "acct"},
		{"Bearer tok2", ""},
		{"Bearer ", ""},
		{"Basic tok", ""},
		{"tok", ""},
		{"", ""},
	} {
		r := httptest.NewRequest(http.MethodPost, "/verify", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		account, err := auth(r)
		if account != c.account || (err == nil) != (c.account != "") {
			t.Errorf("%q: %q, %v; want %q", c.header, account, err, c.account)
		}
	}
}

func TestSeed(t *testing.T) {
	store := icpverify.NewMemoryStore()
	v := icpverify.New(store, store)
	codes, err := seed(context.Background(), store, v, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 2 {
		t.Fatalf("%d demo codes, want 2", len(codes))
	}
	app := newApplicantHandler(v, map[string]string{"t-demo": demoAccount}, nil)
	for _, c := range codes {
		req := newRequest(t, http.MethodPost, "/verify", verifyBody(c.product, c.code, "Demo Co., Ltd."), "")
		req.Header.Set("Authorization", "Bearer t-demo")
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		wantStatus(t, rec, http.StatusOK)
	}
	rec := do(t, newInternalHandler(v, nil), http.MethodPost, "/codes", map[string]string{"instance": "i-demo-ecs-payg", "account": demoAccount}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonNotSubscription, "en")
}

// TestRun serves on two free ports, stops when the context ends, and logs
// the audit trail.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out, logs := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	spans := &syncBuffer{}
	tel, err := newTelemetry(ctx, spans)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		done <- run(ctx, "127.0.0.1:0", "127.0.0.1:0", out, slog.New(slog.NewTextHandler(logs, nil)), tel)
	}()

	deadline := time.Now().Add(10 * time.Second)
	var addr string
	for addr == "" && time.Now().Before(deadline) {
		if _, rest, ok := strings.Cut(out.String(), "Listening on "); ok {
			addr = strings.TrimSpace(rest)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		cancel()
		t.Fatalf("server did not start; output:\n%s", out.String())
	}
	printed := out.String()
	field := func(prefix string) string {
		_, rest, ok := strings.Cut(printed, prefix)
		if !ok {
			t.Fatalf("output lacks %q:\n%s", prefix, printed)
		}
		line, _, _ := strings.Cut(rest, "\n")
		return strings.TrimSpace(line)
	}
	token := field(`Bearer token of account "demo": `)
	internalAddr := field("Internal endpoints (never expose them to applicants) on ")

	var body string // of the last response
	post := func(url, token, reqBody string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(reqBody))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
		return resp
	}
	if resp := post(addr+"/verify", token, `{}`); resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("POST /verify {}: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp := post(addr+"/verify", "", `{}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /verify without a token: status %d", resp.StatusCode)
	}
	notReserved := `"reason":"not_reserved"`
	if resp := post(internalAddr+"/release", "", `{"application":"nonsense"}`); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, notReserved) {
		t.Errorf("POST /release on the internal listener: status %d, %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/release", "/complete", "/revoke", "/codes", "/grant"} {
		if resp := post(addr+path, token, `{"application":"nonsense"}`); resp.StatusCode != http.StatusNotFound || strings.Contains(body, notReserved) {
			t.Errorf("POST %s on the applicants' listener: status %d, %s", path, resp.StatusCode, body)
		}
	}
	if resp := post(addr+"/withdraw", token, `{"application":"nonsense"}`); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, notReserved) {
		t.Errorf("POST /withdraw on the applicants' listener: status %d, %s", resp.StatusCode, body)
	}
	if resp := post(internalAddr+"/withdraw", "", `{"application":"nonsense"}`); resp.StatusCode != http.StatusNotFound || strings.Contains(body, notReserved) {
		t.Errorf("POST /withdraw on the internal listener: status %d, %s", resp.StatusCode, body)
	}
	metrics := get(t, internalAddr+"/metrics")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if err := tel.shutdown(context.Background()); err != nil {
		t.Errorf("shutting telemetry down: %v", err)
	}
	wantMetrics(t, metrics)
	wantSpans(t, spans.String())
	if !strings.Contains(printed, "i-demo-ecs-hz") {
		t.Errorf("output lacks the demo codes:\n%s", printed)
	}
	got := waitLog(t, logs, `op=verify`, `account=demo`, `op=release`, `op=withdraw`)
	if strings.Count(got, `msg="icpverify decision" op=issue`) != 2 {
		t.Errorf("log lacks the audit trail of the issues:\n%s", got)
	}
}

// foreignCode returns a well-formed service code that no test env's store
// holds: one issued from another store.
func foreignCode(t *testing.T) string {
	t.Helper()
	store := icpverify.NewMemoryStore()
	if err := store.PutInstanceContext(context.Background(), icpverify.Instance{ID: "i-elsewhere", Account: "someone", Product: icpverify.ProductECS,
		Region: "cn-hangzhou", Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "198.51.100.1",
		Status: icpverify.Running}); err != nil {
		t.Fatal(err)
	}
	code, err := icpverify.New(store, store).IssueServiceCode(context.Background(), "i-elsewhere", "someone")
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// foreignApplication returns the identity of an application that no test
// env's store holds: one verified in another store.
func foreignApplication(t *testing.T) string {
	t.Helper()
	store := icpverify.NewMemoryStore()
	if err := store.PutInstanceContext(context.Background(), icpverify.Instance{ID: "i-elsewhere", Account: "someone", Product: icpverify.ProductECS,
		Region: "cn-hangzhou", Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "198.51.100.1",
		Status: icpverify.Running, ExpiresAt: time.Now().AddDate(1, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	v := icpverify.New(store, store)
	code, err := v.IssueServiceCode(context.Background(), "i-elsewhere", "someone")
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(context.Background(), icpverify.Request{Product: icpverify.ProductECS, ServiceCode: code,
		Account: "someone", Subject: "Someone Co., Ltd.", SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91350100M000100Y43"}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Application
}

// wantSameResponse fails unless two responses cannot be told apart: the
// same status, headers and body.
func wantSameResponse(t *testing.T, want, got *httptest.ResponseRecorder) {
	t.Helper()
	if got.Code != want.Code || got.Body.String() != want.Body.String() || fmt.Sprint(got.Header()) != fmt.Sprint(want.Header()) {
		t.Errorf("responses differ:\n%d %v %s\n%d %v %s", want.Code, want.Header(), want.Body.String(), got.Code, got.Header(), got.Body.String())
	}
}

// mistype changes the first character of a code to another symbol.
func mistype(code string) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	i := strings.IndexByte(alphabet, code[0])
	return string(alphabet[(i+1)%len(alphabet)]) + code[1:]
}

// wellFormed reports whether code is a well-formed code of the default
// format.
func wellFormed(code string) bool {
	_, ok := codeformat.Normalize(code)
	return ok
}
