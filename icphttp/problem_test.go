package icphttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify"
	"github.com/icpfiling/icpverify/catalog"
)

func TestProblem(t *testing.T) {
	quota := &icpverify.Error{Err: icpverify.ErrQuotaReached, Reason: icpverify.ReasonQuotaReached, Instance: "i-1", Used: 5, Limit: 5,
		Alternatives: []icpverify.Alternative{{Instance: "i-2", Product: icpverify.ProductECS, Free: 3}}}
	tests := []struct {
		err    error
		tag    language.Tag
		status int
		typ    string
		title  string
		lang   string
	}{
		{quota, language.English, 409, ProblemTypePrefix + "quota_reached", "A website ICP Filing application has already been submitted", "en"},
		{&icpverify.Error{Err: icpverify.ErrInvalidProduct, Reason: icpverify.ReasonProductNotFileable, Selected: icpverify.ProductCDN},
			language.SimplifiedChinese, 422, ProblemTypePrefix + "product_not_fileable", "产品信息无效。", "zh-Hans"},
		{&icpverify.Error{Err: icpverify.ErrServiceCodeInvalid, Reason: icpverify.ReasonCodeMalformed},
			language.MustParse("zh-HK"), 422, ProblemTypePrefix + "code_malformed", "驗證產品資訊失敗，介面異常。", "zh-Hant"},
		{&icpverify.Error{Err: icpverify.ErrNotFound, Reason: icpverify.ReasonNotReserved}, language.English, 404, ProblemTypePrefix + "not_reserved", "No reservation", "en"},
		{&icpverify.Error{Err: icpverify.ErrQuotaReached, Reason: icpverify.ReasonIPWebsites, Instance: "i-1", Used: 10, Limit: 10},
			language.SimplifiedChinese, 409, ProblemTypePrefix + "ip_websites", "用于备案的资源已达最大使用次数。", "zh-Hans"},
		{&icpverify.Error{Err: icpverify.ErrQuotaReached, Reason: icpverify.ReasonAccountSubjects, Used: 1, Limit: 1},
			language.MustParse("zh-TW"), 409, ProblemTypePrefix + "account_subjects", "備案數量已達上限。", "zh-Hant"},
		{&icpverify.Error{Err: icpverify.ErrInvalidProduct, Reason: icpverify.ReasonGrantNotAllowed, Instance: "i-1"},
			language.English, 422, ProblemTypePrefix + "grant_not_allowed", "Invalid product information.", "en"},
		{&icpverify.Error{Err: icpverify.ErrServiceCodeInvalid, Reason: icpverify.ReasonNotFiled},
			language.English, 422, ProblemTypePrefix + "not_filed", "Interface exception", "en"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), language.English, 503, ProblemTypePrefix + "failure", "could not be completed", "en"},
		{fmt.Errorf("x: %w", context.Canceled), language.SimplifiedChinese, 503, ProblemTypePrefix + "failure", "产品验证未能完成。", "zh-Hans"},
		{errors.New("pq: password authentication failed"), language.English, 500, ProblemTypePrefix + "failure", "could not be completed", "en"},
		{icpverify.ErrQuotaReached, language.English, 409, ProblemTypePrefix + "refused", "A website ICP Filing", "en"},
		{fmt.Errorf("wrapped: %w", icpverify.ErrServiceCodeInvalid), language.English, 422, ProblemTypePrefix + "refused", "Interface exception", "en"},
	}
	for _, tt := range tests {
		p := NewProblem(tt.err, tt.tag)
		assert.Equal(t, tt.status, p.Status, "%v", tt.err)
		assert.Equal(t, tt.typ, p.Type)
		assert.Contains(t, p.Title, tt.title)
		assert.NotEmpty(t, p.Detail)
		assert.NotContains(t, p.Detail, "password")
		assert.Equal(t, tt.lang, p.Language.String())
		// The same with the catalog given.
		assert.Equal(t, p, CatalogProblem(catalog.New(), tt.err, tt.tag))
	}

	// Every quota reason carries its figures.
	p := NewProblem(&icpverify.Error{Err: icpverify.ErrQuotaReached, Reason: icpverify.ReasonFilingInProgress, Used: 1, Limit: 1}, language.English)
	assert.Equal(t, [2]int{1, 1}, [2]int{p.Used, p.Limit})

	rec := httptest.NewRecorder()
	rec.Header().Set("Vary", "Origin, accept-language")
	NewProblem(quota, language.MustParse("zh-TW")).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/verify", nil))
	assert.Equal(t, http.StatusConflict, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "zh-Hant", rec.Header().Get("Content-Language"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, []string{"Origin, accept-language"}, rec.Header().Values("Vary"), "Vary listed Accept-Language already")
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, map[string]any{
		"type":   ProblemTypePrefix + "quota_reached",
		"title":  "此產品已提交過網站備案申請，備案主體數量已達上限，請更換其他產品。",
		"status": 409.0,
		"detail": "實例i-1已使用5/5個備案主體名額。請更換其他實例進行產品驗證。您的以下實例目前可通過驗證：實例i-2剩餘3個主體名額。",
		"reason": "quota_reached",
		"used":   5.0,
		"limit":  5.0,
		"alternatives": []any{
			map[string]any{"instance": "i-2", "product": "ecs", "free": 3.0},
		},
	}, body)

	rec = httptest.NewRecorder()
	NewProblem(errors.New("secret"), language.English).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/verify", nil))
	assert.Equal(t, []string{"Accept-Language"}, rec.Header().Values("Vary"))
	assert.NotContains(t, rec.Body.String(), "secret")
}

// TestCatalogProblem checks that a caller's catalog words the problem, in
// one language, and that the built-in catalog is left alone.
func TestCatalogProblem(t *testing.T) {
	c := catalog.New()
	ja := language.Japanese
	require.NoError(t, c.SetString(ja, "prompt.quota_reached", "備案主体の数が上限に達しました。"))
	require.NoError(t, c.SetString(ja, "quota_reached", "インスタンス%[1]sは%[2]d/%[3]d件使用済みです。"))
	err := &icpverify.Error{Err: icpverify.ErrQuotaReached, Reason: icpverify.ReasonQuotaReached, Instance: "i-1", Used: 5, Limit: 5}

	p := CatalogProblem(c, err, c.MatchLanguage("ja-JP,en;q=0.5"))
	assert.Equal(t, "ja", p.Language.String())
	assert.Equal(t, "備案主体の数が上限に達しました。", p.Title)
	assert.Equal(t, "インスタンスi-1は5/5件使用済みです。", p.Detail)
	assert.Equal(t, http.StatusConflict, p.Status)

	// The built-in catalog knows no Japanese.
	p = NewProblem(err, ja)
	assert.Equal(t, "en", p.Language.String())
	assert.Contains(t, p.Title, "The ICP Filing subject quantity limit has been reached")
	assert.Equal(t, p, CatalogProblem(nil, err, ja))
}
