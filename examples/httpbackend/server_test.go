package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
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

// env is a server on a MemoryStore with a fixed clock and these instances:
// alice's ECS instance i-ecs (valid for a year), alice's Simple Application
// Server i-swas, and bob's ECS instance i-short, which expires in 90 days.
// The server and the Verifier's audit trail (SlogObserver) log to logs.
type env struct {
	t     *testing.T
	h     http.Handler
	v     *icpverify.Verifier
	store *icpverify.MemoryStore
	clock *testClock
	logs  *syncBuffer
}

func newEnv(t *testing.T, opts ...icpverify.Option) *env {
	t.Helper()
	start := time.Date(2025, time.March, 1, 2, 0, 0, 0, time.UTC)
	e := &env{t: t, store: icpverify.NewMemoryStore(), clock: &testClock{t: start}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, nil))
	base := []icpverify.Option{icpverify.WithClock(e.clock.Now), icpverify.WithObserver(icpverify.SlogObserver(logger))}
	e.v = icpverify.New(e.store, e.store, append(base, opts...)...)
	t.Cleanup(func() { _ = e.v.Close() })
	e.h = newServer(e.v, logger)
	for _, inst := range []icpverify.Instance{
		{ID: "i-ecs", Account: "alice", Product: icpverify.ProductECS, Region: "cn-hangzhou", Billing: icpverify.Subscription,
			TermMonths: 12, PublicIP: "203.0.113.10", Status: icpverify.Running, ExpiresAt: start.AddDate(1, 0, 0)},
		{ID: "i-swas", Account: "alice", Product: icpverify.ProductSimpleApplicationServer, Region: "cn-shanghai", Billing: icpverify.Subscription,
			TermMonths: 12, PublicIP: "203.0.113.11", Status: icpverify.Running, ExpiresAt: start.AddDate(1, 0, 0)},
		{ID: "i-short", Account: "bob", Product: icpverify.ProductECS, Region: "cn-beijing", Billing: icpverify.Subscription,
			TermMonths: 3, PublicIP: "203.0.113.12", Status: icpverify.Running, ExpiresAt: start.AddDate(0, 0, 90)},
	} {
		if err := e.store.PutInstance(inst); err != nil {
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

// do sends a request to the server. A body that is not a string is
// marshalled to JSON.
func (e *env) do(method, path string, body any, acceptLanguage string) *httptest.ResponseRecorder {
	e.t.Helper()
	return do(e.t, e.h, method, path, body, acceptLanguage)
}

func do(t *testing.T, h http.Handler, method, path string, body any, acceptLanguage string) *httptest.ResponseRecorder {
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
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// verifyBody returns the body of a /verify or /check request.
func verifyBody(product icpverify.ProductType, code, account, subject string) map[string]string {
	return map[string]string{"product": string(product), "service_code": code, "account": account, "subject": subject}
}

// decodeJSON decodes a response body strictly into dst.
func decodeJSON(t *testing.T, rec *httptest.ResponseRecorder, dst any) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
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
func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, contentLanguage string) icpverify.Problem {
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
	var p icpverify.Problem
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
func wantProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, reason icpverify.Reason, contentLanguage string) icpverify.Problem {
	t.Helper()
	p := decodeProblem(t, rec, status, contentLanguage)
	if p.Reason != reason {
		t.Errorf("reason %q, want %q", p.Reason, reason)
	}
	if want := icpverify.ProblemTypePrefix + string(reason); p.Type != want {
		t.Errorf("type %q, want %q", p.Type, want)
	}
	return p
}

// wantRequestProblem checks the problem details of a request the server
// refused before it reached the Verifier.
func wantRequestProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, contentLanguage string) icpverify.Problem {
	t.Helper()
	p := decodeProblem(t, rec, status, contentLanguage)
	want := icpverify.Problem{Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: requestMessage(status, icpverify.MatchLanguage(contentLanguage))}
	p.Language = language.Tag{}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("problem %+v, want %+v", p, want)
	}
	return p
}

func TestVerifyAndRetry(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	body := verifyBody(icpverify.ProductECS, strings.ToLower(code), "alice", "Example Co., Ltd.")

	for i, retry := range []bool{false, true} {
		rec := e.do(http.MethodPost, "/verify", body, "")
		wantStatus(t, rec, http.StatusOK)
		var got resultBody
		decodeJSON(t, rec, &got)
		want := resultBody{Instance: "i-ecs", Product: "ecs", ServiceCode: code, Subject: "Example Co., Ltd.", Used: 1, Limit: 5, Retry: retry}
		if got != want {
			t.Errorf("call %d: got %+v, want %+v", i+1, got, want)
		}
	}
}

func TestCheckReservesNothing(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	rec := e.do(http.MethodPost, "/check", verifyBody(icpverify.ProductECS, code, "alice", "Example Co., Ltd."), "")
	wantStatus(t, rec, http.StatusOK)
	var got resultBody
	decodeJSON(t, rec, &got)
	if got.Used != 0 || got.Retry {
		t.Errorf("check: got %+v, want 0 used and no retry", got)
	}
	used, _, err := e.store.Usage(context.Background(), "i-ecs", "Example Co., Ltd.")
	if err != nil || used != 0 {
		t.Errorf("after /check: %d used, %v; want 0", used, err)
	}
	// /check refuses as /verify does.
	rec = e.do(http.MethodPost, "/check", verifyBody(icpverify.ProductSLB, code, "alice", "Example Co., Ltd."), "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonProductNotFileable, "en")
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
				name   string
				body   map[string]string
				status int
				reason icpverify.Reason
				prompt string
				detail string
			}{
				{"slb", verifyBody(icpverify.ProductSLB, ecsCode, "alice", "S"), 422, icpverify.ReasonProductNotFileable, l.invalidProduct, ""},
				{"swas for ecs code", verifyBody(icpverify.ProductSimpleApplicationServer, ecsCode, "alice", "S"), 422, icpverify.ReasonProductMismatch, l.invalidProduct, "i-ecs"},
				{"unknown product", verifyBody("vps", ecsCode, "alice", "S"), 422, icpverify.ReasonProductNotFileable, l.invalidProduct, `"vps"`},
				{"empty subject", verifyBody(icpverify.ProductECS, ecsCode, "alice", ""), 422, icpverify.ReasonInvalidRequest, l.invalidProduct, ""},
				{"malformed code", verifyBody(icpverify.ProductECS, mistype(ecsCode), "alice", "S"), 422, icpverify.ReasonCodeMalformed, l.codeInvalid, "XXXX-XXXX-XXXX-XXXX"},
				{"not owned", verifyBody(icpverify.ProductECS, ecsCode, "mallory", "S"), 422, icpverify.ReasonCodeNotOwned, l.codeInvalid, ""},
			}
			for _, c := range cases {
				rec := e.do(http.MethodPost, "/verify", c.body, l.accept)
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
			rec := e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, shortCode, "bob", "S"), l.accept)
			p := wantProblem(t, rec, 422, icpverify.ReasonInstanceExpired, l.contentLanguage)
			if p.Title != l.codeInvalid || !strings.Contains(p.Detail, "2025-05-30") || p.Alternatives != nil {
				t.Errorf("expired: %+v", p)
			}

			// Five subjects fill i-ecs; the sixth is refused.
			for i := 1; i <= 5; i++ {
				code := e.issue("i-ecs", "alice")
				rec := e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code, "alice", fmt.Sprint("subject ", i)), l.accept)
				wantStatus(t, rec, http.StatusOK)
			}
			sixth := verifyBody(icpverify.ProductECS, ecsCode, "alice", "subject 6")
			rec = e.do(http.MethodPost, "/verify", sixth, l.accept)
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
			if err := e.store.PutInstance(icpverify.Instance{ID: "i-ecs-2", Account: "alice", Product: icpverify.ProductECS,
				Region: "cn-hangzhou", Billing: icpverify.Subscription, TermMonths: 12, PublicIP: "203.0.113.13",
				Status: icpverify.Running, ExpiresAt: expires}); err != nil {
				t.Fatal(err)
			}
			code2 := e.issue("i-ecs-2", "alice")
			wantStatus(t, e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code2, "alice", "subject 7"), ""), http.StatusOK)
			rec = e.do(http.MethodPost, "/verify", sixth, l.accept)
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

func TestCodes(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 5; i++ {
		rec := e.do(http.MethodPost, "/codes", map[string]string{"instance": "i-swas", "account": "alice"}, "")
		wantStatus(t, rec, http.StatusCreated)
		var got statusBody
		decodeJSON(t, rec, &got)
		if got.Status != "issued" || got.Instance != "i-swas" || !icpverify.ValidServiceCodeFormat(got.ServiceCode) {
			t.Fatalf("issue %d: got %+v", i, got)
		}
		if i == 1 {
			// The code works with the right product type.
			rec := e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductSimpleApplicationServer, got.ServiceCode, "alice", "S"), "")
			wantStatus(t, rec, http.StatusOK)
		}
	}
	rec := e.do(http.MethodPost, "/codes", map[string]string{"instance": "i-swas", "account": "alice"}, "zh-CN")
	p := wantProblem(t, rec, http.StatusConflict, icpverify.ReasonCodeLimit, "zh-Hans")
	if p.Used != 5 || p.Limit != 5 || !strings.Contains(p.Detail, "5/5") {
		t.Errorf("code limit: %+v", p)
	}

	rec = e.do(http.MethodPost, "/codes", map[string]string{"instance": "i-ecs", "account": "bob"}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonNotInstanceOwner, "en")
	rec = e.do(http.MethodPost, "/codes", map[string]string{"instance": "i-nope", "account": "bob"}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonInstanceNotFound, "en")

	e.clock.Advance(100 * 24 * time.Hour)
	rec = e.do(http.MethodPost, "/codes", map[string]string{"instance": "i-short", "account": "bob"}, "zh-TW")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonInstanceExpired, "zh-Hant")
}

func TestReleaseAndComplete(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	codeBody := map[string]string{"service_code": code}
	verify := func(subject string) *httptest.ResponseRecorder {
		return e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code, "alice", subject), "")
	}

	wantStatus(t, verify("A"), http.StatusOK)
	// Used by A: B is refused.
	wantProblem(t, verify("B"), http.StatusUnprocessableEntity, icpverify.ReasonCodeInUse, "en")

	rec := e.do(http.MethodPost, "/release", codeBody, "")
	wantStatus(t, rec, http.StatusOK)
	var st statusBody
	decodeJSON(t, rec, &st)
	if st != (statusBody{Status: "released"}) {
		t.Errorf("release: %+v", st)
	}
	rec = e.do(http.MethodPost, "/release", codeBody, "zh-CN")
	wantProblem(t, rec, http.StatusNotFound, icpverify.ReasonNotReserved, "zh-Hans")

	// Released: B may use the code now.
	wantStatus(t, verify("B"), http.StatusOK)

	for range 2 { // completing twice is not an error
		rec = e.do(http.MethodPost, "/complete", codeBody, "")
		wantStatus(t, rec, http.StatusOK)
		decodeJSON(t, rec, &st)
		if st != (statusBody{Status: "completed"}) {
			t.Errorf("complete: %+v", st)
		}
	}
	rec = e.do(http.MethodPost, "/release", codeBody, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonCodeUsed, "en")
	wantProblem(t, verify("C"), http.StatusUnprocessableEntity, icpverify.ReasonCodeUsed, "en")

	rec = e.do(http.MethodPost, "/complete", map[string]string{"service_code": "nonsense"}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonCodeMalformed, "en")
	other := e.issue("i-ecs", "alice")
	rec = e.do(http.MethodPost, "/complete", map[string]string{"service_code": other}, "")
	wantProblem(t, rec, http.StatusNotFound, icpverify.ReasonNotReserved, "en")
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	huge := `{"product":"ecs","service_code":"` + code + `","account":"alice","subject":"` + strings.Repeat("x", maxBody) + `"}`
	cases := []struct {
		name   string
		path   string
		body   string
		status int
	}{
		{"empty body", "/verify", "", http.StatusBadRequest},
		{"not JSON", "/verify", "product=ecs", http.StatusBadRequest},
		{"truncated", "/verify", `{"product":"ecs"`, http.StatusBadRequest},
		{"wrong type", "/verify", `{"product":5}`, http.StatusBadRequest},
		{"array", "/check", `[]`, http.StatusBadRequest},
		{"unknown field", "/verify", `{"product":"ecs","servicecode":"x"}`, http.StatusBadRequest},
		{"two objects", "/release", `{"service_code":"x"}{"service_code":"y"}`, http.StatusBadRequest},
		{"trailing garbage", "/codes", `{"instance":"i-ecs","account":"alice"} x`, http.StatusBadRequest},
		{"huge body", "/verify", huge, http.StatusRequestEntityTooLarge},
		{"huge body after an object", "/complete", `{"service_code":"x"}` + strings.Repeat(" ", maxBody), http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, lang := range []struct{ accept, cl string }{{"", "en"}, {"zh-CN", "zh-Hans"}, {"zh-TW", "zh-Hant"}} {
				rec := e.do(http.MethodPost, c.path, c.body, lang.accept)
				wantRequestProblem(t, rec, c.status, lang.cl)
			}
		})
	}
	// Nothing of the above reached the Verifier.
	used, _, _ := e.store.Usage(context.Background(), "i-ecs", "x")
	if used != 0 {
		t.Errorf("%d slots used after bad requests", used)
	}
	// A body just under the limit is read.
	okBody := `{"product":"ecs","service_code":"` + code + `","account":"alice","subject":"S"}`
	okBody += strings.Repeat(" ", maxBody-len(okBody))
	wantStatus(t, e.do(http.MethodPost, "/verify", okBody, ""), http.StatusOK)
}

func TestMethodAndPath(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/verify", "/check", "/release", "/complete", "/codes"} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			rec := e.do(method, path, nil, "zh-CN")
			wantRequestProblem(t, rec, http.StatusMethodNotAllowed, "zh-Hans")
			if a := rec.Header().Get("Allow"); a != http.MethodPost {
				t.Errorf("%s %s: Allow %q", method, path, a)
			}
		}
	}
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		rec := e.do(method, "/expiring?account=alice", nil, "zh-TW")
		wantRequestProblem(t, rec, http.StatusMethodNotAllowed, "zh-Hant")
		if a := rec.Header().Get("Allow"); a != "GET, HEAD" {
			t.Errorf("%s /expiring: Allow %q", method, a)
		}
	}
	wantRequestProblem(t, e.do(http.MethodPost, "/nope", "{}", ""), http.StatusNotFound, "en")
	wantRequestProblem(t, e.do(http.MethodPost, "/verify/extra", "{}", ""), http.StatusNotFound, "en")
	wantRequestProblem(t, e.do(http.MethodGet, "/", nil, "zh-CN"), http.StatusNotFound, "zh-Hans")
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
	wantStatus(t, e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code, "bob", "Beijing Example Co., Ltd."), ""), http.StatusOK)
	filed := e.issue("i-ecs", "alice")
	wantStatus(t, e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, filed, "alice", "Hangzhou Example Co., Ltd."), ""), http.StatusOK)
	wantStatus(t, e.do(http.MethodPost, "/complete", map[string]string{"service_code": filed}, ""), http.StatusOK)

	// i-short expires in 90 days: not within the default 30.
	rec := e.do(http.MethodGet, "/expiring?account=bob", nil, "")
	if body := expiringResponse(t, rec, "en"); body.Account != "bob" || body.Within != "720h0m0s" || body.Expiring == nil || len(body.Expiring) != 0 {
		t.Errorf("90 days ahead: %+v", body)
	}
	if !strings.Contains(rec.Body.String(), `"expiring":[]`) {
		t.Errorf("an empty list is not []: %s", rec.Body.String())
	}

	// 70 days on, 20 are left.
	e.clock.Advance(70 * 24 * time.Hour)
	expires := time.Date(2025, time.May, 30, 2, 0, 0, 0, time.UTC)
	want := expiryBody{Instance: "i-short", Subject: "Beijing Example Co., Ltd.", ServiceCode: icpverify.MaskServiceCode(code), ExpiresAt: expires}
	for _, l := range []struct{ accept, cl, message string }{
		{"en", "en", "Instance i-short, which the ICP filing of Beijing Example Co., Ltd. uses (service code " + want.ServiceCode + "), expires on 2025-05-30."},
		{"zh-CN", "zh-Hans", "Beijing Example Co., Ltd.的ICP备案所用的实例i-short（备案服务码" + want.ServiceCode + "）将于2025-05-30到期。"},
		{"zh-TW", "zh-Hant", "Beijing Example Co., Ltd.的ICP備案所用的實例i-short（備案服務碼" + want.ServiceCode + "）將於2025-05-30到期。"},
	} {
		rec := e.do(http.MethodGet, "/expiring?account=bob&within=720h", nil, l.accept)
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
	if body := expiringResponse(t, e.do(http.MethodGet, "/expiring?account=bob&within=168h", nil, ""), "en"); len(body.Expiring) != 0 {
		t.Errorf("within a week: %+v", body)
	}

	// After the expiry the warning says so.
	e.clock.Advance(30 * 24 * time.Hour)
	body := expiringResponse(t, e.do(http.MethodGet, "/expiring?account=bob&within=1h", nil, ""), "en")
	if len(body.Expiring) != 1 || !body.Expiring[0].Expired || !strings.Contains(body.Expiring[0].Message, "expired on 2025-05-30") {
		t.Errorf("expired: %+v", body)
	}

	// alice's completed filing is listed once its instance is near its end.
	e.clock.Advance(250 * 24 * time.Hour)
	body = expiringResponse(t, e.do(http.MethodGet, "/expiring?account=alice&within=720h", nil, ""), "en")
	if len(body.Expiring) != 1 || !body.Expiring[0].Filed || body.Expiring[0].Instance != "i-ecs" || body.Expiring[0].Expired {
		t.Errorf("alice: %+v", body)
	}

	// A bad window is the client's mistake; no account is the applicant's.
	for _, q := range []string{"within=tomorrow", "within=-1h", "within=0s", "within=10000h", "within=%zz"} {
		rec := e.do(http.MethodGet, "/expiring?account=bob&"+q, nil, "zh-CN")
		wantRequestProblem(t, rec, http.StatusBadRequest, "zh-Hans")
	}
	rec = e.do(http.MethodGet, "/expiring?within=720h", nil, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonInvalidRequest, "en")
}

// TestAuditTrail checks that the Verifier's decisions reach the log, with
// the service code masked.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	wantStatus(t, e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code, "alice", "S"), ""), http.StatusOK)
	wantProblem(t, e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductSLB, code, "alice", "S"), ""),
		http.StatusUnprocessableEntity, icpverify.ReasonProductNotFileable, "en")
	if err := e.v.Close(); err != nil {
		t.Fatal(err)
	}
	got := e.logs.String()
	for _, want := range []string{
		`msg="icpverify decision" op=issue`,
		`op=verify`,
		`verdict=passed`,
		`verdict=refused reason=product_not_fileable`,
		`code=` + icpverify.MaskServiceCode(code),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, code) {
		t.Errorf("log holds the service code unmasked:\n%s", got)
	}
	if n := e.v.Dropped(); n != 0 {
		t.Errorf("%d records dropped", n)
	}
}

// brokenStore is an InstanceStore and QuotaStore whose backend is down.
type brokenStore struct{}

// errBackend has text that must not reach the client.
var errBackend = errors.New("dial tcp 10.9.8.7:5432: connect: connection refused (user=icp_rw db=filing-prod)")

func (brokenStore) Instance(context.Context, string) (icpverify.Instance, error) {
	return icpverify.Instance{}, errBackend
}
func (brokenStore) ServiceCode(context.Context, string) (icpverify.ServiceCode, error) {
	return icpverify.ServiceCode{}, errBackend
}
func (brokenStore) AddServiceCode(context.Context, icpverify.ServiceCode, int) (int, bool, error) {
	return 0, false, errBackend
}
func (brokenStore) GrantServiceCode(context.Context, string, string) error { return errBackend }
func (brokenStore) Reserve(context.Context, icpverify.Reservation, int) (icpverify.Outcome, int, error) {
	return 0, 0, errBackend
}
func (brokenStore) Reservation(context.Context, string) (icpverify.Reservation, error) {
	return icpverify.Reservation{}, errBackend
}
func (brokenStore) Usage(context.Context, string, string) (int, bool, error) {
	return 0, false, errBackend
}
func (brokenStore) Release(context.Context, string) (icpverify.Reservation, error) {
	return icpverify.Reservation{}, errBackend
}
func (brokenStore) Complete(context.Context, string) (icpverify.Reservation, error) {
	return icpverify.Reservation{}, errBackend
}
func (brokenStore) ListReservations(context.Context, string, int) ([]icpverify.Reservation, error) {
	return nil, errBackend
}

func TestStoreFailure(t *testing.T) {
	// A well-formed code, from another store.
	code := newEnv(t).issue("i-ecs", "alice")

	logs := &syncBuffer{}
	h := newServer(icpverify.New(brokenStore{}, brokenStore{}), slog.New(slog.NewTextHandler(logs, nil)))
	reqs := []struct {
		method, path string
		body         map[string]string
	}{
		{http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code, "alice", "S")},
		{http.MethodPost, "/check", verifyBody(icpverify.ProductECS, code, "alice", "S")},
		{http.MethodPost, "/release", map[string]string{"service_code": code}},
		{http.MethodPost, "/complete", map[string]string{"service_code": code}},
		{http.MethodPost, "/codes", map[string]string{"instance": "i-ecs", "account": "alice"}},
		{http.MethodGet, "/expiring?account=alice", nil},
	}
	for _, r := range reqs {
		for _, lang := range []struct{ accept, cl, title string }{
			{"en", "en", "Product verification could not be completed."},
			{"zh-CN", "zh-Hans", "产品验证未能完成。"},
			{"zh-TW", "zh-Hant", "產品驗證未能完成。"},
		} {
			rec := do(t, h, r.method, r.path, r.body, lang.accept)
			p := decodeProblem(t, rec, http.StatusInternalServerError, lang.cl)
			if p.Type != icpverify.ProblemTypePrefix+"failure" || p.Title != lang.title || p.Reason != "" || p.Alternatives != nil {
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
	for _, path := range []string{"/verify", "/codes", "/expiring"} {
		if !strings.Contains(got, "level=ERROR msg=\"request failed\" method=") || !strings.Contains(got, "path="+path+" err=") {
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
			rec := do(t, e.h, http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code, "alice", fmt.Sprint("subject ", i)), "")
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
	b, _ := json.Marshal(verifyBody(icpverify.ProductECS, code, "alice", "S"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/verify", bytes.NewReader(b))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	p := decodeProblem(t, rec, http.StatusServiceUnavailable, "en")
	if p.Type != icpverify.ProblemTypePrefix+"failure" || p.Reason != "" {
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
	h := newServer(v, nil)
	for _, c := range codes {
		rec := do(t, h, http.MethodPost, "/verify", verifyBody(c.product, c.code, demoAccount, "Demo Co., Ltd."), "")
		wantStatus(t, rec, http.StatusOK)
	}
	rec := do(t, h, http.MethodPost, "/codes", map[string]string{"instance": "i-demo-ecs-payg", "account": demoAccount}, "")
	wantProblem(t, rec, http.StatusUnprocessableEntity, icpverify.ReasonNotSubscription, "en")
}

// TestRun serves on a free port, stops when the context ends, and logs the
// audit trail.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out, logs := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", out, slog.New(slog.NewTextHandler(logs, nil))) }()

	deadline := time.Now().Add(5 * time.Second)
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
	resp, err := http.Post(addr+"/verify", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("POST /verify {}: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if !strings.Contains(out.String(), "i-demo-ecs-hz") {
		t.Errorf("output lacks the demo codes:\n%s", out.String())
	}
	// run closed the Verifier: every decision is in the log.
	got := logs.String()
	if strings.Count(got, `msg="icpverify decision" op=issue`) != 2 || !strings.Contains(got, "op=verify") {
		t.Errorf("log lacks the audit trail:\n%s", got)
	}
}

// mistype changes the first character of a code to another symbol.
func mistype(code string) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	i := strings.IndexByte(alphabet, code[0])
	return string(alphabet[(i+1)%len(alphabet)]) + code[1:]
}
