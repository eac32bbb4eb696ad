package messages

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
)

func TestEveryLanguageHasEveryKey(t *testing.T) {
	// Every built-in language has every key, and every message formats
	// without a formatting complaint.
	keys := make(map[string]bool)
	for _, lang := range builtinMessages() {
		for k := range lang.msgs {
			keys[k] = true
		}
	}
	for _, lang := range builtinMessages() {
		for k := range keys {
			assert.Contains(t, lang.msgs, k, "%v lacks %q", lang.tag, k)
		}
		for k, msg := range lang.msgs {
			assert.NotContains(t, format(msg, sampleArgs(k)...), "%!", "%q in %v", k, lang.tag)
		}
	}
	for _, k := range []string{"layout", "alternatives", "alternative.one", "alternative.other", "alternatives.sep",
		"expiry.soon", "expiry.past", "prompt.failure", "advice.failure", promptKey(&Refusal{Reason: reasonCodeLimit}),
		promptKey(&Refusal{Reason: reasonInstanceWebsites}), promptKey(&Refusal{Reason: reasonFilingInProgress}),
		reasonInvalidRequest, reasonProductNotFileable, reasonProductMismatch, reasonInstanceExpired, reasonCodeExpired,
		reasonRemainingTooShort, reasonCodeLimit, reasonInstanceWebsites, reasonIPWebsites, reasonAccountWebsites,
		reasonSubjectWebsites, reasonAccountSubjects, reasonSubjectAccounts, reasonFilingInProgress} {
		require.True(t, keys[k], "no message %q", k)
	}
}

func TestBuiltinIsMadeOnce(t *testing.T) {
	require.Same(t, Builtin(), Builtin())
	assert.NotSame(t, New(), Builtin())
}

func TestChinaDate(t *testing.T) {
	cst := time.FixedZone("CST", 8*60*60)
	start := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	for d := time.Duration(0); d < 48*time.Hour; d += 7 * time.Minute {
		for _, loc := range []*time.Location{time.UTC, cst, time.FixedZone("", -5*60*60)} {
			tm := start.Add(d).In(loc)
			require.Equal(t, tm.In(cst).Format(time.DateOnly), chinaDate(tm), "%v", tm)
		}
	}
}

func TestCutLayout(t *testing.T) {
	for _, tt := range []struct{ layout, want string }{
		{"%[1]s %[2]s", "P D"},
		{"%[1]s%[2]s", "PD"},
		{"【%[2]s】%[1]s", "【D】P"},
		{"<%[1]s|%[2]s>", "<P|D>"},
		{"only %[1]s", "P D"},
	} {
		assert.Equal(t, tt.want, cutLayout(format(tt.layout, promptMark, detailMark)).join("P", "D"), tt.layout)
	}
}

func TestRefusalKinds(t *testing.T) {
	c := Builtin()
	for _, tt := range []struct {
		r      Refusal
		prompt string
	}{
		{Refusal{}, "Product verification could not be completed."},
		{Refusal{Kind: NotFound}, "Product verification could not be completed."},
		{Refusal{Kind: InvalidProduct}, "Invalid product information."},
		{Refusal{Kind: NotFound, Detailed: true, Reason: "not_reserved"}, "No reservation was found for this ICP filing service code."},
		{Refusal{Kind: QuotaReached, Detailed: true, Reason: reasonCodeLimit}, "No more ICP Filing service codes can be applied for from this product."},
		{Refusal{Detailed: true, Reason: reasonCodeLimit}, "No more ICP Filing service codes can be applied for from this product."},
		{Refusal{Detailed: true, Reason: "quota_reached"}, "Product verification could not be completed."},
		{Refusal{Kind: QuotaReached, Detailed: true, Reason: "quota_reached"}, "A website ICP Filing application has already been submitted for this product. The ICP Filing subject quantity limit has been reached. Please switch to another product."},
		{Refusal{Kind: QuotaReached, Detailed: true, Reason: reasonInstanceWebsites}, "The resource used for the ICP filing has reached its maximum number of uses."},
		{Refusal{Kind: QuotaReached, Detailed: true, Reason: reasonIPWebsites}, "The resource used for the ICP filing has reached its maximum number of uses."},
		{Refusal{Kind: QuotaReached, Detailed: true, Reason: reasonAccountWebsites}, "The ICP Filing quantity limit has been reached."},
		{Refusal{Kind: QuotaReached, Detailed: true, Reason: reasonSubjectWebsites}, "The ICP Filing quantity limit has been reached."},
		{Refusal{Kind: QuotaReached, Detailed: true, Reason: reasonAccountSubjects}, "The ICP Filing quantity limit has been reached."},
		{Refusal{Kind: QuotaReached, Detailed: true, Reason: reasonSubjectAccounts}, "The ICP Filing quantity limit has been reached."},
		{Refusal{Kind: QuotaReached, Detailed: true, Reason: reasonFilingInProgress}, "The ICP Filing quantity limit has been reached."},
		{Refusal{Kind: InvalidProduct, Detailed: true, Reason: "not_grantable"}, "Invalid product information."},
		{Refusal{Kind: ServiceCodeInvalid, Detailed: true, Reason: "grant_fixed"}, "Product information verification failed. Interface exception."},
	} {
		lang, prompt, detail := c.Message(&tt.r, language.English)
		assert.Equal(t, language.English, lang)
		assert.Equal(t, tt.prompt, prompt, "%+v", tt.r)
		assert.Equal(t, prompt+" "+detail, c.Localize(&tt.r, language.English))
	}
}
