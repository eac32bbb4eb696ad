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
	"strings"
	"sync"
	"testing"
	"time"

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
	e.v = icpverify.New(e.store, e.store, append([]icpverify.Option{icpverify.WithClock(e.clock.Now)}, opts...)...)
	e.h = newServerLog(e.v, slog.New(slog.NewTextHandler(e.logs, nil)))
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

// wantError checks an error response and returns its body.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, reason, contentLanguage string) errorBody {
	t.Helper()
	wantStatus(t, rec, status)
	var body errorBody
	decodeJSON(t, rec, &body)
	if body.Reason != reason {
		t.Errorf("reason %q, want %q", body.Reason, reason)
	}
	if body.Message == "" {
		t.Error("empty message")
	}
	if cl := rec.Header().Get("Content-Language"); cl != contentLanguage {
		t.Errorf("Content-Language %q, want %q", cl, contentLanguage)
	}
	return body
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
	wantError(t, rec, http.StatusUnprocessableEntity, string(icpverify.ReasonProductNotFileable), "en")
}

// TestRefusalLanguages checks each FAQ prompt in each language.
func TestRefusalLanguages(t *testing.T) {
	langs := []struct {
		accept, contentLanguage string
		invalidProduct          string
		codeInvalid             string
		quota                   string
	}{
		{"en-US,en;q=0.9", "en", "Invalid product information.", "Product information verification failed. Interface exception.", "The ICP Filing subject quantity limit has been reached."},
		{"", "en", "Invalid product information.", "Product information verification failed. Interface exception.", "The ICP Filing subject quantity limit has been reached."},
		{"zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans", "产品信息无效。", "验证产品信息失败，接口异常。", "备案主体数量已达上限"},
		{"zh-TW", "zh-Hant", "產品資訊無效。", "驗證產品資訊失敗，介面異常。", "備案主體數量已達上限"},
		{"zh-HK", "zh-Hant", "產品資訊無效。", "驗證產品資訊失敗，介面異常。", "備案主體數量已達上限"},
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
				body := wantError(t, rec, c.status, string(c.reason), l.contentLanguage)
				if !strings.HasPrefix(body.Message, c.prompt) || !strings.Contains(body.Message, c.detail) {
					t.Errorf("%s: message %q, want prompt %q and %q", c.name, body.Message, c.prompt, c.detail)
				}
				if body.Used != 0 || body.Limit != 0 {
					t.Errorf("%s: used/limit %d/%d on a refusal that is not a quota's", c.name, body.Used, body.Limit)
				}
				if v := rec.Header().Get("Vary"); v != "Accept-Language" {
					t.Errorf("%s: Vary %q", c.name, v)
				}
			}

			// An expired instance's code.
			e.clock.Advance(100 * 24 * time.Hour)
			rec := e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, shortCode, "bob", "S"), l.accept)
			body := wantError(t, rec, 422, string(icpverify.ReasonInstanceExpired), l.contentLanguage)
			if !strings.HasPrefix(body.Message, l.codeInvalid) || !strings.Contains(body.Message, "2025-05-30") {
				t.Errorf("expired: message %q", body.Message)
			}

			// Five subjects fill i-ecs; the sixth is refused.
			for i := 1; i <= 5; i++ {
				code := e.issue("i-ecs", "alice")
				rec := e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, code, "alice", fmt.Sprint("subject ", i)), l.accept)
				wantStatus(t, rec, http.StatusOK)
			}
			rec = e.do(http.MethodPost, "/verify", verifyBody(icpverify.ProductECS, ecsCode, "alice", "subject 6"), l.accept)
			body = wantError(t, rec, http.StatusConflict, string(icpverify.ReasonQuotaReached), l.contentLanguage)
			if body.Used != 5 || body.Limit != 5 {
				t.Errorf("quota: used/limit %d/%d, want 5/5", body.Used, body.Limit)
			}
			if !strings.Contains(body.Message, l.quota) || !strings.Contains(body.Message, "5") {
				t.Errorf("quota: message %q", body.Message)
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
	body := wantError(t, rec, http.StatusConflict, string(icpverify.ReasonCodeLimit), "zh-Hans")
	if body.Used != 5 || body.Limit != 5 || !strings.Contains(body.Message, "5/5") {
		t.Errorf("code limit: %+v", body)
	}

	rec = e.do(http.MethodPost, "/codes", map[string]string{"instance": "i-ecs", "account": "bob"}, "")
	wantError(t, rec, http.StatusUnprocessableEntity, string(icpverify.ReasonNotInstanceOwner), "en")
	rec = e.do(http.MethodPost, "/codes", map[string]string{"instance": "i-nope", "account": "bob"}, "")
	wantError(t, rec, http.StatusUnprocessableEntity, string(icpverify.ReasonInstanceNotFound), "en")

	e.clock.Advance(100 * 24 * time.Hour)
	rec = e.do(http.MethodPost, "/codes", map[string]string{"instance": "i-short", "account": "bob"}, "zh-TW")
	wantError(t, rec, http.StatusUnprocessableEntity, string(icpverify.ReasonInstanceExpired), "zh-Hant")
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
	wantError(t, verify("B"), http.StatusUnprocessableEntity, string(icpverify.ReasonCodeInUse), "en")

	rec := e.do(http.MethodPost, "/release", codeBody, "")
	wantStatus(t, rec, http.StatusOK)
	var st statusBody
	decodeJSON(t, rec, &st)
	if st != (statusBody{Status: "released"}) {
		t.Errorf("release: %+v", st)
	}
	rec = e.do(http.MethodPost, "/release", codeBody, "zh-CN")
	wantError(t, rec, http.StatusNotFound, string(icpverify.ReasonNotReserved), "zh-Hans")

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
	wantError(t, rec, http.StatusUnprocessableEntity, string(icpverify.ReasonCodeUsed), "en")
	wantError(t, verify("C"), http.StatusUnprocessableEntity, string(icpverify.ReasonCodeUsed), "en")

	rec = e.do(http.MethodPost, "/complete", map[string]string{"service_code": "nonsense"}, "")
	wantError(t, rec, http.StatusUnprocessableEntity, string(icpverify.ReasonCodeMalformed), "en")
	other := e.issue("i-ecs", "alice")
	rec = e.do(http.MethodPost, "/complete", map[string]string{"service_code": other}, "")
	wantError(t, rec, http.StatusNotFound, string(icpverify.ReasonNotReserved), "en")
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	huge := `{"product":"ecs","service_code":"` + code + `","account":"alice","subject":"` + strings.Repeat("x", maxBody) + `"}`
	cases := []struct {
		name   string
		path   string
		body   string
		reason string
	}{
		{"empty body", "/verify", "", reasonMalformedRequest},
		{"not JSON", "/verify", "product=ecs", reasonMalformedRequest},
		{"truncated", "/verify", `{"product":"ecs"`, reasonMalformedRequest},
		{"wrong type", "/verify", `{"product":5}`, reasonMalformedRequest},
		{"array", "/check", `[]`, reasonMalformedRequest},
		{"unknown field", "/verify", `{"product":"ecs","servicecode":"x"}`, reasonMalformedRequest},
		{"two objects", "/release", `{"service_code":"x"}{"service_code":"y"}`, reasonMalformedRequest},
		{"trailing garbage", "/codes", `{"instance":"i-ecs","account":"alice"} x`, reasonMalformedRequest},
		{"huge body", "/verify", huge, reasonBodyTooLarge},
		{"huge body after an object", "/complete", `{"service_code":"x"}` + strings.Repeat(" ", maxBody), reasonBodyTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, lang := range []struct{ accept, cl string }{{"", "en"}, {"zh-CN", "zh-Hans"}, {"zh-TW", "zh-Hant"}} {
				rec := e.do(http.MethodPost, c.path, c.body, lang.accept)
				body := wantError(t, rec, http.StatusBadRequest, c.reason, lang.cl)
				if body.Message != requestMessage(c.reason, icpverify.MatchLanguage(lang.accept)) {
					t.Errorf("message %q", body.Message)
				}
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
			wantError(t, rec, http.StatusMethodNotAllowed, reasonMethodNotAllowed, "zh-Hans")
			if a := rec.Header().Get("Allow"); a != http.MethodPost {
				t.Errorf("%s %s: Allow %q", method, path, a)
			}
		}
	}
	wantError(t, e.do(http.MethodPost, "/nope", "{}", ""), http.StatusNotFound, reasonNoSuchEndpoint, "en")
	wantError(t, e.do(http.MethodPost, "/verify/extra", "{}", ""), http.StatusNotFound, reasonNoSuchEndpoint, "en")
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

func TestStoreFailure(t *testing.T) {
	// A well-formed code, from another store.
	code := newEnv(t).issue("i-ecs", "alice")

	logs := &syncBuffer{}
	h := newServerLog(icpverify.New(brokenStore{}, brokenStore{}), slog.New(slog.NewTextHandler(logs, nil)))
	reqs := []struct {
		path string
		body map[string]string
	}{
		{"/verify", verifyBody(icpverify.ProductECS, code, "alice", "S")},
		{"/check", verifyBody(icpverify.ProductECS, code, "alice", "S")},
		{"/release", map[string]string{"service_code": code}},
		{"/complete", map[string]string{"service_code": code}},
		{"/codes", map[string]string{"instance": "i-ecs", "account": "alice"}},
	}
	for _, r := range reqs {
		for _, lang := range []struct{ accept, cl, message string }{
			{"en", "en", "Product verification could not be completed."},
			{"zh-CN", "zh-Hans", "产品验证未能完成。"},
			{"zh-TW", "zh-Hant", "產品驗證未能完成。"},
		} {
			rec := do(t, h, http.MethodPost, r.path, r.body, lang.accept)
			body := wantError(t, rec, http.StatusInternalServerError, reasonInternal, lang.cl)
			if !strings.HasPrefix(body.Message, lang.message) {
				t.Errorf("%s: message %q", r.path, body.Message)
			}
			for _, secret := range []string{"10.9.8.7", "5432", "icp_rw", "filing-prod", "dial", "icpverify:"} {
				if strings.Contains(rec.Body.String(), secret) {
					t.Errorf("%s: response leaks %q: %s", r.path, secret, rec.Body.String())
				}
			}
		}
	}
	// The operator sees the failure in the log.
	if got := logs.String(); !strings.Contains(got, "filing-prod") || !strings.Contains(got, "path=/verify") {
		t.Errorf("log lacks the failure:\n%s", got)
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

// TestRequestContext checks that a canceled request reaches no store.
func TestRequestContext(t *testing.T) {
	e := newEnv(t)
	code := e.issue("i-ecs", "alice")
	b, _ := json.Marshal(verifyBody(icpverify.ProductECS, code, "alice", "S"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/verify", bytes.NewReader(b))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	wantError(t, rec, http.StatusInternalServerError, reasonInternal, "en")
	used, _, _ := e.store.Usage(context.Background(), "i-ecs", "S")
	if used != 0 {
		t.Errorf("a canceled request reserved a slot")
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
	h := newServer(v)
	for _, c := range codes {
		rec := do(t, h, http.MethodPost, "/verify", verifyBody(c.product, c.code, demoAccount, "Demo Co., Ltd."), "")
		wantStatus(t, rec, http.StatusOK)
	}
	rec := do(t, h, http.MethodPost, "/codes", map[string]string{"instance": "i-demo-ecs-payg", "account": demoAccount}, "")
	wantError(t, rec, http.StatusUnprocessableEntity, string(icpverify.ReasonNotSubscription), "en")
}

// TestRun serves on a free port and stops when the context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", out) }()

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
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("POST /verify {}: status %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if !strings.Contains(out.String(), "i-demo-ecs-hz") {
		t.Errorf("output lacks the demo codes:\n%s", out.String())
	}
}

// mistype changes the first character of a code to another symbol.
func mistype(code string) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	i := strings.IndexByte(alphabet, code[0])
	return string(alphabet[(i+1)%len(alphabet)]) + code[1:]
}
