package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/catalog"
)

var languages = []language.Tag{language.English, language.SimplifiedChinese, language.TraditionalChinese}

// TestNewIsBuiltin checks that a new Catalog words every refusal, and
// every other error, as icpverify.Localize does, in parts as in whole.
func TestNewIsBuiltin(t *testing.T) {
	reasons := map[icpverify.Reason]error{
		icpverify.ReasonInvalidRequest:     icpverify.ErrInvalidProduct,
		icpverify.ReasonProductNotFileable: icpverify.ErrInvalidProduct,
		icpverify.ReasonProductMismatch:    icpverify.ErrInvalidProduct,
		icpverify.ReasonInstanceNotFound:   icpverify.ErrInvalidProduct,
		icpverify.ReasonNotInstanceOwner:   icpverify.ErrInvalidProduct,
		icpverify.ReasonNotSubscription:    icpverify.ErrInvalidProduct,
		icpverify.ReasonTermTooShort:       icpverify.ErrInvalidProduct,
		icpverify.ReasonNotMainland:        icpverify.ErrInvalidProduct,
		icpverify.ReasonNoPublicIP:         icpverify.ErrInvalidProduct,
		icpverify.ReasonNotRunning:         icpverify.ErrInvalidProduct,
		icpverify.ReasonTrialInstance:      icpverify.ErrInvalidProduct,
		icpverify.ReasonSubjectIDMalformed: icpverify.ErrInvalidProduct,
		icpverify.ReasonNotGrantable:       icpverify.ErrInvalidProduct,
		icpverify.ReasonGrantNotAllowed:    icpverify.ErrInvalidProduct,
		icpverify.ReasonCodeMalformed:      icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonCodeNotFound:       icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonCodeNotOwned:       icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonCodeRevoked:        icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonInstanceExpired:    icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonInstanceReleased:   icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonCodeInUse:          icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonCodeUsed:           icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonCodeExpired:        icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonInstanceStopped:    icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonPublicIPRemoved:    icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonRemainingTooShort:  icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonGrantFixed:         icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonNotFiled:           icpverify.ErrServiceCodeInvalid,
		icpverify.ReasonQuotaReached:       icpverify.ErrQuotaReached,
		icpverify.ReasonCodeLimit:          icpverify.ErrQuotaReached,
		icpverify.ReasonInstanceWebsites:   icpverify.ErrQuotaReached,
		icpverify.ReasonIPWebsites:         icpverify.ErrQuotaReached,
		icpverify.ReasonAccountWebsites:    icpverify.ErrQuotaReached,
		icpverify.ReasonSubjectWebsites:    icpverify.ErrQuotaReached,
		icpverify.ReasonAccountSubjects:    icpverify.ErrQuotaReached,
		icpverify.ReasonSubjectAccounts:    icpverify.ErrQuotaReached,
		icpverify.ReasonFilingInProgress:   icpverify.ErrQuotaReached,
		icpverify.ReasonNotReserved:        icpverify.ErrNotFound,
	}
	errs := []error{
		nil,
		errors.New("pq: password authentication failed"),
		context.Canceled,
		icpverify.ErrInvalidProduct,
		fmt.Errorf("x: %w", icpverify.ErrServiceCodeInvalid),
		icpverify.ErrQuotaReached,
		icpverify.ErrNotFound,
		&icpverify.Error{Reason: icpverify.ReasonQuotaReached},
		&icpverify.Error{Err: icpverify.ErrQuotaReached},
		&icpverify.Error{Err: icpverify.ErrInvalidProduct, Reason: icpverify.ReasonProductMismatch, Selected: icpverify.ProductECS},
		&icpverify.Error{Err: icpverify.ErrInvalidProduct, Reason: icpverify.ReasonProductNotFileable, Selected: "\x1b[31mx\u202e"},
	}
	for r, sentinel := range reasons {
		e := &icpverify.Error{Err: sentinel, Reason: r, Instance: "i-7", Used: 5, Limit: 5, Field: "subject",
			Selected: icpverify.ProductSimpleApplicationServer, Actual: icpverify.ProductECS,
			ExpiresAt:    time.Date(2026, 3, 31, 20, 0, 0, 0, time.UTC),
			Alternatives: []icpverify.Alternative{{Instance: "i-8", Free: 1}, {Instance: "i-9", Free: 2}}}
		errs = append(errs, e, fmt.Errorf("wrapped: %w", e))
	}
	c := catalog.New()
	for _, err := range errs {
		for _, tag := range append(languages, language.MustParse("zh-HK"), language.Japanese) {
			want := icpverify.Localize(err, tag)
			assert.Equal(t, want, c.Localize(err, tag), "%v in %v", err, tag)
			if err != nil {
				m := c.Message(err, tag)
				assert.Contains(t, []string{m.Title + " " + m.Detail, m.Title + m.Detail}, want, "%v in %v", err, tag)
				assert.Equal(t, icpverify.MatchLanguage(tag.String()), m.Language)
			}
		}
	}
	for _, header := range []string{"", "zh-HK,zh;q=0.9", "yue", "zh-SG", "fr-FR, zh-TW;q=0.5", "de", "\xff"} {
		assert.Equal(t, icpverify.MatchLanguage(header), c.MatchLanguage(header), header)
	}
}

func TestSetString(t *testing.T) {
	c := catalog.New()
	e := &icpverify.Error{Err: icpverify.ErrQuotaReached, Reason: icpverify.ReasonQuotaReached, Instance: "i-7", Used: 3, Limit: 3}

	// Reword English without touching the built-in catalog.
	require.NoError(t, c.SetString(language.English, string(icpverify.ReasonQuotaReached), "All %[3]d slots of %[1]s are taken."))
	assert.Contains(t, c.Localize(e, language.English), "All 3 slots of i-7 are taken.")
	assert.Contains(t, c.Localize(e, language.AmericanEnglish), "All 3 slots of i-7 are taken.")
	assert.Contains(t, icpverify.Localize(e, language.English), "3 of 3", "the built-in catalog is unchanged")
	assert.Contains(t, catalog.New().Localize(e, language.English), "3 of 3", "another catalog is unchanged")
	assert.Contains(t, c.Localize(e, language.SimplifiedChinese), "3/3", "other languages are unchanged")

	// A layout that puts the detail first.
	require.NoError(t, c.SetString(language.SimplifiedChinese, "layout", "【%[2]s】%[1]s"))
	assert.True(t, strings.HasPrefix(c.Localize(e, language.SimplifiedChinese), "【实例i-7已使用3/3"), c.Localize(e, language.SimplifiedChinese))
	assert.True(t, strings.HasSuffix(c.Localize(e, language.SimplifiedChinese), "】该产品已提交过网站备案申请，备案主体数量已达上限，请更换其他产品。"))

	// Add Japanese with one message: the rest falls back to English.
	require.NoError(t, c.SetString(language.Japanese, "prompt.quota_reached", "申請上限に達しました。"))
	ja := c.Localize(e, language.Japanese)
	assert.Contains(t, ja, "申請上限に達しました。")
	assert.Contains(t, ja, "All 3 slots", "missing messages fall back to English")
	assert.Equal(t, language.Japanese, c.MatchLanguage("ja-JP,en;q=0.5"))
	assert.Equal(t, language.English, icpverify.MatchLanguage("ja-JP"))

	require.Error(t, c.SetString(language.English, string(icpverify.ReasonQuotaReached), "%d of %d"), "unindexed verbs get EXTRA complaints")
	require.Error(t, c.SetString(language.English, "layout", "%[3]s"))
	require.Error(t, c.SetString(language.English, "", "x"))
	require.Error(t, c.SetString(language.Und, "x", "x"))
}

func TestConcurrentUse(t *testing.T) {
	c := catalog.New()
	e := &icpverify.Error{Err: icpverify.ErrQuotaReached, Reason: icpverify.ReasonQuotaReached, Used: 1, Limit: 1}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := c.SetString(language.Make(fmt.Sprintf("x-lang%d", i)), "layout", "%[2]s"); err != nil {
				t.Errorf("SetString: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			if c.Localize(e, language.SimplifiedChinese) == "" || c.MatchLanguage("zh-TW") != language.TraditionalChinese {
				t.Errorf("concurrent Localize or MatchLanguage failed")
			}
		}()
	}
	wg.Wait()
}

func TestMessage(t *testing.T) {
	quota := &icpverify.Error{Err: icpverify.ErrQuotaReached, Reason: icpverify.ReasonQuotaReached, Instance: "i-1", Used: 5, Limit: 5,
		Alternatives: []icpverify.Alternative{{Instance: "i-2", Product: icpverify.ProductECS, Free: 3}}}
	c := catalog.New()
	m := c.Message(quota, language.MustParse("zh-TW"))
	assert.Equal(t, catalog.Message{
		Language: language.TraditionalChinese,
		Title:    "此產品已提交過網站備案申請，備案主體數量已達上限，請更換其他產品。",
		Detail:   "實例i-1已使用5/5個備案主體名額。請更換其他實例進行產品驗證。您的以下實例目前可通過驗證：實例i-2剩餘3個主體名額。",
	}, m)
	for _, err := range []error{
		&icpverify.Error{Err: icpverify.ErrServiceCodeInvalid, Reason: icpverify.ReasonCodeMalformed},
		&icpverify.Error{Err: icpverify.ErrNotFound, Reason: icpverify.ReasonNotReserved},
		fmt.Errorf("x: %w", context.DeadlineExceeded),
		errors.New("pq: password authentication failed"),
		icpverify.ErrQuotaReached,
	} {
		m := c.Message(err, language.English)
		assert.Equal(t, language.English, m.Language)
		assert.NotEmpty(t, m.Title, "%v", err)
		assert.NotEmpty(t, m.Detail, "%v", err)
		assert.NotContains(t, m.Detail, "password")
		assert.Contains(t, c.Localize(err, language.English), m.Title)
	}
}

// TestLocalizeExpiry words the warnings of an instance that expires, at
// 18:00 UTC on 7 December, on 8 December in China.
func TestLocalizeExpiry(t *testing.T) {
	c := catalog.New()
	x := icpverify.Expiry{Code: "****-****-****-WH6Q", Instance: "i-soon", Subject: "S0", Filed: true,
		ExpiresAt: time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC), Expired: true}
	assert.Contains(t, c.LocalizeExpiry(x, language.English), "expired on 2026-12-08")
	x.Expired = false
	msg := c.LocalizeExpiry(x, language.English)
	assert.Contains(t, msg, "Instance i-soon, which the ICP filing of S0")
	assert.Contains(t, msg, "(service code ****-****-****-WH6Q)")
	assert.Contains(t, msg, "expires on 2026-12-08")
	assert.Contains(t, c.LocalizeExpiry(x, language.SimplifiedChinese), "将于2026-12-08到期")
	assert.Contains(t, c.LocalizeExpiry(x, language.TraditionalChinese), "將於2026-12-08到期")
	assert.Contains(t, c.LocalizeExpiry(x, language.MustParse("zh-HK")), "將於2026-12-08到期")

	// The date is China's whatever the time's location.
	x.ExpiresAt = time.Date(2026, 12, 8, 10, 59, 59, 0, time.FixedZone("", -5*60*60))
	assert.Contains(t, c.LocalizeExpiry(x, language.English), "expires on 2026-12-08")
	x.ExpiresAt = x.ExpiresAt.Add(time.Second)
	assert.Contains(t, c.LocalizeExpiry(x, language.English), "expires on 2026-12-09")

	require.NoError(t, c.SetString(language.English, "expiry.soon", "%[4]s: %[1]s on %[3]s"))
	assert.Equal(t, "****-****-****-WH6Q: i-soon on 2026-12-09", c.LocalizeExpiry(x, language.English))
}
