package icphttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/icphttp"
)

func ExampleNewHandler() {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	store := icpverify.NewMemoryStore()
	err := store.PutInstanceContext(context.Background(), icpverify.Instance{
		ID: "i-bp1example", Account: "acct-1", Product: icpverify.ProductECS,
		Region: "cn-hangzhou", Billing: icpverify.Subscription, TermMonths: 12,
		PublicIP: "203.0.113.10", Status: icpverify.Running, ExpiresAt: now.AddDate(1, 0, 0),
	})
	if err != nil {
		log.Fatal(err)
	}
	v := icpverify.New(store, store, icpverify.WithClock(func() time.Time { return now }))
	code, err := v.IssueServiceCode(context.Background(), "i-bp1example", "acct-1")
	if err != nil {
		log.Fatal(err)
	}

	// The backend's own authentication: here, one fixed token.
	auth := func(r *http.Request) (string, error) {
		if r.Header.Get("Authorization") == "Bearer token-of-acct-1" {
			return "acct-1", nil
		}
		return "", errors.New("not signed in")
	}
	mux := http.NewServeMux()
	mux.Handle("/filing/", http.StripPrefix("/filing", icphttp.NewHandler(v, auth)))

	var application string // the application's identity, as /verify names it
	post := func(path, body, acceptLanguage string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer token-of-acct-1")
		req.Header.Set("Accept-Language", acceptLanguage)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if path == "/filing/verify" && rec.Code == http.StatusOK {
			var res struct{ Application string }
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				log.Fatal(err)
			}
			application = res.Application
		}
		fmt.Println(strings.TrimSpace(fmt.Sprint(rec.Code, " ", rec.Header().Get("Content-Language"))))
		out := strings.ReplaceAll(rec.Body.String(), code, "<code>")
		if application != "" {
			out = strings.ReplaceAll(out, application, "<application>")
		}
		fmt.Print(out)
	}
	// The subject is known by its certificate, here a unified social
	// credit code.
	const company = `"subject":"Hangzhou Example Co., Ltd.","subject_id":{"type":"uscc","number":"91110000600037341L"}`
	post("/filing/verify", `{"product":"ecs","service_code":"`+code+`",`+company+`}`, "en")
	post("/filing/verify", `{"product":"swas","service_code":"`+code+`",`+company+`}`, "zh-CN")
	post("/filing/check", `{"product":"ecs","service_code":"`+code+`","subject":"S","account":"acct-2"}`, "zh-TW")
	// The applicant withdraws the application, by the identity /verify
	// answered: 204, and the slot is free. Withdrawing it again, as a
	// retry would, changes nothing: 404 not_reserved.
	post("/filing/withdraw", `{"application":"`+application+`"}`, "en")
	post("/filing/withdraw", `{"application":"`+application+`"}`, "en")
	// Output:
	// 200
	// {"instance":"i-bp1example","product":"ecs","service_code":"<code>","subject":"Hangzhou Example Co., Ltd.","used":1,"limit":5,"retry":false,"application":"<application>"}
	// 422 zh-Hans
	// {"type":"tag:icpverify,2026:problem:product_mismatch","title":"产品信息无效。","status":422,"detail":"您选择的是轻量应用服务器，但该备案服务码属于云服务器ECS实例i-bp1example。请选择与您购买的产品一致的产品类型。","reason":"product_mismatch"}
	// 400 zh-Hant
	// {"type":"about:blank","title":"請求無效","status":400,"detail":"無法讀取請求，請重新整理頁面後再提交。"}
	// 204
	// 404 en
	// {"type":"tag:icpverify,2026:problem:not_reserved","title":"No reservation was found for this ICP filing service code.","status":404,"detail":"It may have been released already.","reason":"not_reserved"}
}

func ExampleNewProblem() {
	err := &icpverify.Error{Err: icpverify.ErrServiceCodeInvalid, Reason: icpverify.ReasonInstanceExpired,
		Instance: "i-bp1example", ExpiresAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	p := icphttp.NewProblem(err, language.English)
	fmt.Println(p.Status, p.Type)
	fmt.Println(p.Title)
	fmt.Println(p.Detail)
	// In a handler: icphttp.NewProblem(err, tag).ServeHTTP(w, r)
	// Output:
	// 422 tag:icpverify,2026:problem:instance_expired
	// Product information verification failed. Interface exception.
	// Instance i-bp1example expired on 2026-03-01, so the ICP filing service codes applied for from it are invalid. Apply for an ICP filing service code using a valid (unexpired) instance.
}
