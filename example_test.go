package icpverify_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/subject"
)

// now is the examples' clock.
var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// inventory returns a memory store holding one eligible ECS instance of
// account "acct-1".
func inventory() icpverify.MemoryStore {
	store := icpverify.NewMemoryStore()
	err := store.PutInstanceContext(context.Background(), icpverify.Instance{
		ID:         "i-bp1example",
		Account:    "acct-1",
		Product:    icpverify.ProductECS,
		Region:     "cn-hangzhou",
		Billing:    icpverify.Subscription,
		TermMonths: 12,
		PublicIP:   "203.0.113.10",
		Status:     icpverify.Running,
		ExpiresAt:  now.AddDate(1, 0, 0),
	})
	if err != nil {
		log.Fatal(err)
	}
	return store
}

func ExampleNew() {
	store := inventory() // the provider's inventory and quota store
	v := icpverify.New(store, store, icpverify.WithClock(func() time.Time { return now }))

	ctx := context.Background()
	code, err := v.IssueServiceCode(ctx, "i-bp1example", "acct-1")
	if err != nil {
		log.Fatal(err)
	}
	res, err := v.Verify(ctx, icpverify.Request{
		Product:     icpverify.ProductECS,
		ServiceCode: code,
		Account:     "acct-1",
		Subject:     "Hangzhou Example Co., Ltd.",
		SubjectID:   subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("passed: %s, %d of %d subjects\n", res.Instance, res.Used, res.Limit)
	// Output: passed: i-bp1example, 1 of 5 subjects
}

func ExampleVerifier_Verify() {
	store := inventory()
	v := icpverify.New(store, store, icpverify.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	code, err := v.IssueServiceCode(ctx, "i-bp1example", "acct-1")
	if err != nil {
		log.Fatal(err)
	}

	// The applicant selected a load balancer: the FAQ's "Invalid product
	// information".
	_, err = v.Verify(ctx, icpverify.Request{
		Product:     icpverify.ProductSLB,
		ServiceCode: code,
		Account:     "acct-1",
		Subject:     "Hangzhou Example Co., Ltd.",
		SubjectID:   subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"},
	})
	var e *icpverify.Error
	if errors.As(err, &e) {
		fmt.Println(errors.Is(err, icpverify.ErrInvalidProduct), e.Reason)
	}

	// The right product type; the code typed in lower case without dashes.
	req := icpverify.Request{
		Product:     icpverify.ProductECS,
		ServiceCode: strings.ToLower(strings.ReplaceAll(code, "-", "")),
		Account:     "acct-1",
		Subject:     "Hangzhou Example Co., Ltd.",
		SubjectID:   subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"},
	}
	res, err := v.Verify(ctx, req)
	fmt.Println(res.Used, res.Retry, err)
	// The form is sent again: no second slot is taken.
	res, err = v.Verify(ctx, req)
	fmt.Println(res.Used, res.Retry, err)
	// Output:
	// true product_not_fileable
	// 1 false <nil>
	// 1 true <nil>
}

func ExampleVerifier_IssueServiceCode() {
	store := inventory()
	v := icpverify.New(store, store, icpverify.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	for i := range 6 {
		code, err := v.IssueServiceCode(ctx, "i-bp1example", "acct-1")
		if err != nil {
			fmt.Println(i+1, err)
			break
		}
		_, ok := codeformat.Normalize(code)
		fmt.Println(i+1, ok, len(code))
	}
	_, err := v.IssueServiceCode(ctx, "i-bp1example", "someone-else")
	fmt.Println(err)
	// Output:
	// 1 true 19
	// 2 true 19
	// 3 true 19
	// 4 true 19
	// 5 true 19
	// 6 icpverify: ICP filing quota reached: code_limit, instance "i-bp1example", actual "ecs", 5 of 5
	// icpverify: invalid product information: instance_not_found, instance "i-bp1example"
}

func ExampleLocalize() {
	err := &icpverify.Error{
		Err:      icpverify.ErrQuotaReached,
		Reason:   icpverify.ReasonQuotaReached,
		Instance: "i-bp1example",
		Used:     5,
		Limit:    5,
	}
	for _, header := range []string{"en-US", "zh-CN", "zh-TW"} {
		fmt.Println(icpverify.Localize(err, icpverify.MatchLanguage(header)))
	}
	// Output:
	// A website ICP Filing application has already been submitted for this product. The ICP Filing subject quantity limit has been reached. Please switch to another product. Instance i-bp1example has 5 of 5 filing subjects used. Switch to another instance for product verification.
	// 该产品已提交过网站备案申请，备案主体数量已达上限，请更换其他产品。实例i-bp1example已使用5/5个备案主体名额。请更换其他实例进行产品验证。
	// 此產品已提交過網站備案申請，備案主體數量已達上限，請更換其他產品。實例i-bp1example已使用5/5個備案主體名額。請更換其他實例進行產品驗證。
}

func ExampleMatchLanguage() {
	for _, header := range []string{"zh-CN,zh;q=0.9", "zh-HK", "zh-SG", "fr-FR", "garbage;;"} {
		fmt.Println(icpverify.MatchLanguage(header))
	}
	// Output:
	// zh-Hans
	// zh-Hant
	// zh-Hans
	// en
	// en
}

func ExampleWithObserver() {
	store := inventory()
	v := icpverify.New(store, store,
		icpverify.WithClock(func() time.Time { return now }),
		icpverify.WithObserver(icpverify.Observer{
			// A tracer starts a span here; the stores get the context.
			Start: func(ctx context.Context, op icpverify.Op) context.Context {
				return context.WithValue(ctx, spanKey{}, "span "+string(op))
			},
			End: func(ctx context.Context, d icpverify.Decision) {
				fmt.Println(ctx.Value(spanKey{}), d.Verdict, d.Reason, d.Code())
			},
		}))
	ctx := context.Background()
	_, _ = v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: "0000-0000-0000-0001", Account: "acct-1", Subject: "S",
		SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"}})
	_, _ = v.Verify(ctx, icpverify.Request{Product: icpverify.ProductECS, ServiceCode: "0000-0000-0000-0000", Account: "acct-1", Subject: "S",
		SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"}})
	// Output:
	// span verify refused code_malformed ****
	// span verify refused code_not_found ****-****-****-0000
}

// spanKey is the context key of ExampleWithObserver's spans.
type spanKey struct{}

func ExampleVerifier_Withdraw() {
	store := inventory()
	v := icpverify.New(store, store, icpverify.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	code, err := v.IssueServiceCode(ctx, "i-bp1example", "acct-1")
	if err != nil {
		log.Fatal(err)
	}
	res, err := v.Verify(ctx, icpverify.Request{
		Product:     icpverify.ProductECS,
		ServiceCode: code,
		Account:     "acct-1",
		Subject:     "杭州示例科技有限公司",
		SubjectID:   subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"},
	})
	fmt.Println(res.Used, err)

	// A stranger who learned the code cannot withdraw the application, and
	// learns no more than of a code with none.
	err = v.Withdraw(ctx, res.Application, "someone-else")
	fmt.Println(errors.Is(err, icpverify.ErrNotFound))

	// The applicant withdraws: the slot is free again.
	fmt.Println(v.Withdraw(ctx, res.Application, "acct-1"))
	// Output:
	// 1 <nil>
	// true
	// <nil>
}

func ExampleVerifier_Release() {
	store := inventory()
	v := icpverify.New(store, store, icpverify.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	code, err := v.IssueServiceCode(ctx, "i-bp1example", "acct-1")
	if err != nil {
		log.Fatal(err)
	}
	req := icpverify.Request{
		Product:     icpverify.ProductECS,
		ServiceCode: code,
		Account:     "acct-1",
		Subject:     "Hangzhou Example Co., Ltd.",
		SubjectID:   subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"},
		Website:     "example.com",
	}
	first, err := v.Verify(ctx, req)
	if err != nil {
		log.Fatal(err)
	}

	// The provider rejects the application, naming it by the identity
	// Verify gave it. Suppose the answer is lost.
	fmt.Println(v.Release(ctx, first.Application))

	// Meanwhile the applicant corrects the filing and submits it again:
	// a new application.
	second, err := v.Verify(ctx, req)
	fmt.Println(second.Application != first.Application, err)

	// The provider retries: the first application holds nothing any more,
	// and the second keeps its reservation.
	err = v.Release(ctx, first.Application)
	fmt.Println(errors.Is(err, icpverify.ErrNotFound))
	res, err := v.Check(ctx, req)
	fmt.Println(res.Retry, res.Application == second.Application, err)
	// Output:
	// <nil>
	// true <nil>
	// true
	// true true <nil>
}

func ExampleVerifier_RevokeServiceCode() {
	store := inventory()
	v := icpverify.New(store, store, icpverify.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	code, err := v.IssueServiceCode(ctx, "i-bp1example", "acct-1")
	if err != nil {
		log.Fatal(err)
	}
	// The provider invalidates the code, as its own action.
	if err := v.RevokeServiceCode(ctx, code); err != nil {
		log.Fatal(err)
	}
	_, err = v.Verify(ctx, icpverify.Request{
		Product: icpverify.ProductECS, ServiceCode: code, Account: "acct-1", Subject: "S",
		SubjectID: subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"},
	})
	var e *icpverify.Error
	if errors.As(err, &e) {
		fmt.Println(errors.Is(err, icpverify.ErrServiceCodeInvalid), e.Reason)
	}
	// Output: true code_revoked
}
