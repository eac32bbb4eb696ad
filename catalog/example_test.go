package catalog_test

import (
	"fmt"
	"time"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/catalog"
)

func ExampleCatalog_SetString() {
	c := catalog.New()
	// Reword a message, and add Japanese: what it lacks is shown in English.
	_ = c.SetString(language.English, string(icpverify.ReasonCodeNotFound), "No such code. Check it and try again.")
	_ = c.SetString(language.Japanese, "prompt.service_code_invalid", "製品情報の検証に失敗しました。")
	err := &icpverify.Error{Err: icpverify.ErrServiceCodeInvalid, Reason: icpverify.ReasonCodeNotFound}
	fmt.Println(c.Localize(err, language.English))
	fmt.Println(c.Localize(err, c.MatchLanguage("ja-JP")))
	// Output:
	// Product information verification failed. Interface exception. No such code. Check it and try again.
	// 製品情報の検証に失敗しました。 No such code. Check it and try again.
}

func ExampleCatalog_Localize() {
	c := catalog.New()
	_ = c.SetString(language.English, "layout", "%[1]s\n  %[2]s")
	err := &icpverify.Error{
		Err:          icpverify.ErrQuotaReached,
		Reason:       icpverify.ReasonQuotaReached,
		Instance:     "i-bp1example",
		Used:         5,
		Limit:        5,
		Alternatives: []icpverify.Alternative{{Instance: "i-bp2example", Product: icpverify.ProductECS, Free: 1}},
	}
	fmt.Println(c.Localize(err, language.English))
	// Output:
	// A website ICP Filing application has already been submitted for this product. The ICP Filing subject quantity limit has been reached. Please switch to another product.
	//   Instance i-bp1example has 5 of 5 filing subjects used. Switch to another instance for product verification.
	//   Your instances that would pass now: instance i-bp2example has 1 free subject slot.
}

func ExampleCatalog_Message() {
	err := &icpverify.Error{Err: icpverify.ErrServiceCodeInvalid, Reason: icpverify.ReasonCodeNotFound}
	m := catalog.New().Message(err, language.MustParse("zh-CN"))
	fmt.Println(m.Language)
	fmt.Println(m.Title)
	// Output:
	// zh-Hans
	// 验证产品信息失败，接口异常。
}

func ExampleCatalog_LocalizeExpiry() {
	c := catalog.New()
	x := icpverify.Expiry{
		Code:      "****-****-****-WH6Q",
		Instance:  "i-bp1example",
		Subject:   "Example Ltd",
		ExpiresAt: time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC), // 8 December in China
	}
	fmt.Println(c.LocalizeExpiry(x, language.English))
	fmt.Println(c.LocalizeExpiry(x, c.MatchLanguage("zh-CN,zh;q=0.9")))
	// Output:
	// Instance i-bp1example, which the ICP filing of Example Ltd uses (service code ****-****-****-WH6Q), expires on 2026-12-08. Renew it before then: when it expires, its ICP filing service codes become invalid.
	// Example Ltd的ICP备案所用的实例i-bp1example（备案服务码****-****-****-WH6Q）将于2026-12-08到期。请在到期前续费：实例到期后，其备案服务码将失效。
}

func ExampleCatalog_MatchLanguage() {
	c := catalog.New()
	_ = c.SetString(language.Japanese, "prompt.quota_reached", "申請上限に達しました。")
	for _, header := range []string{"ja-JP,en;q=0.5", "zh-HK", "fr-FR, zh-CN;q=0.5", "ko"} {
		fmt.Println(c.MatchLanguage(header))
	}
	// Output:
	// ja
	// zh-Hant
	// zh-Hans
	// en
}
