package icpverify

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify/internal/messages"
)

// allReasons lists every Reason with the sentinel it comes with.
var allReasons = map[Reason]error{
	ReasonInvalidRequest:     ErrInvalidProduct,
	ReasonProductNotFileable: ErrInvalidProduct,
	ReasonProductMismatch:    ErrInvalidProduct,
	ReasonInstanceNotFound:   ErrInvalidProduct,
	ReasonNotInstanceOwner:   ErrInvalidProduct,
	ReasonNotSubscription:    ErrInvalidProduct,
	ReasonTermTooShort:       ErrInvalidProduct,
	ReasonNotMainland:        ErrInvalidProduct,
	ReasonNoPublicIP:         ErrInvalidProduct,
	ReasonNotRunning:         ErrInvalidProduct,
	ReasonTrialInstance:      ErrInvalidProduct,
	ReasonSubjectIDMalformed: ErrInvalidProduct,
	ReasonNotGrantable:       ErrInvalidProduct,
	ReasonGrantNotAllowed:    ErrInvalidProduct,
	ReasonCodeMalformed:      ErrServiceCodeInvalid,
	ReasonCodeNotFound:       ErrServiceCodeInvalid,
	ReasonCodeNotOwned:       ErrServiceCodeInvalid,
	ReasonCodeRevoked:        ErrServiceCodeInvalid,
	ReasonInstanceExpired:    ErrServiceCodeInvalid,
	ReasonInstanceReleased:   ErrServiceCodeInvalid,
	ReasonCodeInUse:          ErrServiceCodeInvalid,
	ReasonCodeUsed:           ErrServiceCodeInvalid,
	ReasonCodeExpired:        ErrServiceCodeInvalid,
	ReasonInstanceStopped:    ErrServiceCodeInvalid,
	ReasonPublicIPRemoved:    ErrServiceCodeInvalid,
	ReasonRemainingTooShort:  ErrServiceCodeInvalid,
	ReasonGrantFixed:         ErrServiceCodeInvalid,
	ReasonNotFiled:           ErrServiceCodeInvalid,
	ReasonQuotaReached:       ErrQuotaReached,
	ReasonCodeLimit:          ErrQuotaReached,
	ReasonInstanceWebsites:   ErrQuotaReached,
	ReasonIPWebsites:         ErrQuotaReached,
	ReasonAccountWebsites:    ErrQuotaReached,
	ReasonSubjectWebsites:    ErrQuotaReached,
	ReasonAccountSubjects:    ErrQuotaReached,
	ReasonSubjectAccounts:    ErrQuotaReached,
	ReasonFilingInProgress:   ErrQuotaReached,
	ReasonNotReserved:        ErrNotFound,
}

// TestAllReasonsListed checks allReasons against the Reason constants
// declared in errors.go: it lists each of them, and with the sentinel that
// the doc comment of its const block ("Reasons under ErrX.") names.
func TestAllReasonsListed(t *testing.T) {
	sentinels := map[string]error{"ErrInvalidProduct": ErrInvalidProduct,
		"ErrServiceCodeInvalid": ErrServiceCodeInvalid, "ErrQuotaReached": ErrQuotaReached, "ErrNotFound": ErrNotFound}
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, parser.ParseComments)
	require.NoError(t, err)
	declared := make(map[Reason]bool)
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		var sentinel error // the block's, if its doc names one
		if name, ok := strings.CutPrefix(gd.Doc.Text(), "Reasons under "); ok {
			name, _, _ = strings.Cut(name, ".")
			sentinel = sentinels[name]
			require.NotNil(t, sentinel, "const block of %q", gd.Doc.Text())
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "Reason" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				require.True(t, ok && lit.Kind == token.STRING, "%s: not a string literal", vs.Names[0])
				value, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				r := Reason(value)
				declared[r] = true
				got, listed := allReasons[r]
				if !assert.True(t, listed, "%s (%q) is not in allReasons", vs.Names[0], r) {
					continue
				}
				if sentinel != nil {
					assert.Equal(t, sentinel, got, "%s is declared under %v", r, sentinel)
				}
			}
		}
	}
	for r := range allReasons {
		assert.True(t, declared[r], "allReasons lists %q, which errors.go does not declare", r)
	}
	assert.True(t, declared[ReasonNotReserved])
}

var languages = []language.Tag{language.English, language.SimplifiedChinese, language.TraditionalChinese}

func TestEveryMessageIsComplete(t *testing.T) {
	// Every Reason has a detail in every built-in language, and every detail
	// formats without a formatting complaint.
	kinds := map[error]messages.Kind{ErrInvalidProduct: messages.InvalidProduct,
		ErrServiceCodeInvalid: messages.ServiceCodeInvalid, ErrQuotaReached: messages.QuotaReached, ErrNotFound: messages.NotFound}
	for r, sentinel := range allReasons {
		for _, tag := range languages {
			_, _, detail := messages.Builtin().Message(&messages.Refusal{Kind: kinds[sentinel], Detailed: true, Reason: string(r)}, tag)
			require.NotEmpty(t, detail, "no message for %s in %v", r, tag)
		}
	}
	for r, sentinel := range allReasons {
		e := &Error{Err: sentinel, Reason: r, Instance: "i-7", Used: 5, Limit: 5,
			Selected: ProductSLB, Actual: ProductECS, Field: "subject", ExpiresAt: t0}
		for _, tag := range languages {
			msg := Localize(e, tag)
			assert.NotContains(t, msg, "%!", "%s in %v: %s", r, tag, msg)
			assert.NotContains(t, msg, string(r), "%s in %v is the bare key", r, tag)
			assert.NotContains(t, msg, "prompt.", "%s in %v", r, tag)
		}
	}
}

func TestLocalizeTexts(t *testing.T) {
	quota := &Error{Err: ErrQuotaReached, Reason: ReasonQuotaReached, Instance: "i-7", Used: 5, Limit: 5}
	expired := &Error{Err: ErrServiceCodeInvalid, Reason: ReasonInstanceExpired, Instance: "i-7",
		ExpiresAt: time.Date(2026, 3, 31, 20, 0, 0, 0, time.UTC)} // 1 April in China
	mismatch := &Error{Err: ErrInvalidProduct, Reason: ReasonProductMismatch, Instance: "i-7",
		Selected: ProductSimpleApplicationServer, Actual: ProductECS}
	notFileable := &Error{Err: ErrInvalidProduct, Reason: ReasonProductNotFileable, Selected: "x\xffy"}
	missing := &Error{Err: ErrInvalidProduct, Reason: ReasonInvalidRequest, Field: "subject"}
	codeLimit := &Error{Err: ErrQuotaReached, Reason: ReasonCodeLimit, Instance: "i-7", Used: 5, Limit: 5}
	withheld := &Error{Err: ErrInvalidProduct, Reason: ReasonProductMismatch, Selected: ProductSimpleApplicationServer}
	sites := &Error{Err: ErrQuotaReached, Reason: ReasonInstanceWebsites, Instance: "i-7", Used: 5, Limit: 5}
	ipSites := &Error{Err: ErrQuotaReached, Reason: ReasonIPWebsites, Instance: "i-7", Used: 10, Limit: 10}
	subjects := &Error{Err: ErrQuotaReached, Reason: ReasonAccountSubjects, Instance: "i-7", Used: 1, Limit: 1}
	accounts := &Error{Err: ErrQuotaReached, Reason: ReasonSubjectAccounts, Instance: "i-7", Used: 1, Limit: 1}
	inProgress := &Error{Err: ErrQuotaReached, Reason: ReasonFilingInProgress, Instance: "i-7", Used: 1, Limit: 1}
	grantFixed := &Error{Err: ErrServiceCodeInvalid, Reason: ReasonGrantFixed, Instance: "i-7"}
	notGrantable := &Error{Err: ErrInvalidProduct, Reason: ReasonNotGrantable, Instance: "i-7"}

	tests := []struct {
		err  error
		tag  language.Tag
		want []string
	}{
		{quota, language.English, []string{
			"A website ICP Filing application has already been submitted for this product. The ICP Filing subject quantity limit has been reached. Please switch to another product.",
			"5 of 5", "i-7", "another instance"}},
		{quota, language.SimplifiedChinese, []string{"备案主体数量已达上限", "5/5", "请更换其他实例"}},
		{quota, language.TraditionalChinese, []string{"備案主體數量已達上限", "5/5", "請更換其他實例"}},
		{expired, language.English, []string{"Product information verification failed. Interface exception.", "expired on 2026-04-01", "codes applied for from it are invalid", "valid (unexpired) instance"}},
		{expired, language.SimplifiedChinese, []string{"验证产品信息失败，接口异常", "实例i-7已于2026-04-01到期", "备案服务码均已失效"}},
		{expired, language.TraditionalChinese, []string{"驗證產品資訊失敗，介面異常", "2026-04-01"}},
		{mismatch, language.English, []string{"Invalid product information.", "You selected Simple Application Server", "ECS instance i-7"}},
		{mismatch, language.SimplifiedChinese, []string{"产品信息无效", "轻量应用服务器", "云服务器ECS"}},
		{notFileable, language.English, []string{`("xy")`, "cloud server"}},
		{codeLimit, language.English, []string{"No more ICP Filing service codes can be applied for from this product.", "5 of 5 ICP filing service codes"}},
		{codeLimit, language.SimplifiedChinese, []string{"备案服务码数量已达上限", "5/5"}},
		{withheld, language.English, []string{"Invalid product information. Verify that the selected product type matches"}},
		{missing, language.English, []string{"The filing subject is missing"}},
		{missing, language.TraditionalChinese, []string{"備案主體缺少"}},
		{sites, language.English, []string{"The resource used for the ICP filing has reached its maximum number of uses.", "Instance i-7 has 5 of 5 websites", "another instance"}},
		{sites, language.SimplifiedChinese, []string{"用于备案的资源已达最大使用次数。", "实例i-7已备案及备案中的网站数为5/5", "请更换其他实例"}},
		{sites, language.TraditionalChinese, []string{"用於備案的資源已達最大使用次數。", "實例i-7已備案及備案中的網站數為5/5"}},
		{ipSites, language.SimplifiedChinese, []string{"用于备案的资源已达最大使用次数。", "公网IP", "10/10"}},
		{subjects, language.English, []string{"The ICP Filing quantity limit has been reached.", "as many as one account may (1)", "from another account"}},
		{subjects, language.SimplifiedChinese, []string{"备案数量已达上限。", "您的账号已有其他备案主体，一个账号最多只能为1个主体备案"}},
		{subjects, language.TraditionalChinese, []string{"備案數量已達上限。", "您的帳號已有其他備案主體，一個帳號最多只能為1個主體備案"}},
		{accounts, language.SimplifiedChinese, []string{"该备案主体已在其他账号下备案，一个主体最多只能使用1个账号备案"}},
		{inProgress, language.English, []string{"1 of 1 ICP filing applications in progress", "withdraw one you no longer need"}},
		{inProgress, language.TraditionalChinese, []string{"1/1個備案申請正在辦理中"}},
		{grantFixed, language.English, []string{"Interface exception.", "cannot be changed or withdrawn"}},
		{notGrantable, language.SimplifiedChinese, []string{"产品信息无效。", "实例i-7的备案服务码仅限该实例所属账号自行备案使用"}},
	}
	for _, tt := range tests {
		msg := Localize(tt.err, tt.tag)
		for _, w := range tt.want {
			assert.Contains(t, msg, w, "%v in %v", tt.err, tt.tag)
		}
	}
	// Only the instance's subject slots get the FAQ's prompt of
	// ErrQuotaReached, which speaks of them; the account's, the subject's
	// and the resource's websites and subjects have prompts of their own.
	for r, sentinel := range allReasons {
		if sentinel != ErrQuotaReached || r == ReasonQuotaReached {
			continue
		}
		for _, tag := range languages {
			msg := Localize(&Error{Err: sentinel, Reason: r, Instance: "i-7", Used: 5, Limit: 5}, tag)
			assert.NotContains(t, msg, Localize(ErrQuotaReached, tag), "%s in %v", r, tag)
			assert.NotContains(t, msg, "subject quantity", "%s in %v", r, tag)
			assert.NotContains(t, msg, "备案主体数量", "%s in %v", r, tag)
			assert.NotContains(t, msg, "備案主體數量", "%s in %v", r, tag)
		}
	}
}

func TestLocalizeOtherErrors(t *testing.T) {
	assert.Equal(t, "", Localize(nil, language.English))
	secret := errors.New("dial tcp 10.0.0.5:5432: password authentication failed for user admin")
	for _, err := range []error{secret, fmt.Errorf("wrapped: %w", secret), context.Canceled} {
		msg := Localize(err, language.English)
		assert.Equal(t, "Product verification could not be completed. Please try again later. If the problem persists, contact support.", msg)
		assert.NotContains(t, Localize(err, language.SimplifiedChinese), "10.0.0.5")
	}
	// A bare sentinel gets its prompt and the FAQ's advice.
	assert.Contains(t, Localize(ErrQuotaReached, language.English), "Switch to another instance")
	assert.Contains(t, Localize(fmt.Errorf("x: %w", ErrServiceCodeInvalid), language.SimplifiedChinese), "您用于产品验证的备案服务码无效。请确认申请备案服务码所用的实例未到期")
	assert.Contains(t, Localize(ErrInvalidProduct, language.TraditionalChinese), "產品資訊無效")
	// A wrapped *Error is found.
	e := &Error{Err: ErrQuotaReached, Reason: ReasonQuotaReached, Used: 5, Limit: 5}
	assert.Contains(t, Localize(fmt.Errorf("filing 42: %w", e), language.English), "5 of 5")
}

func TestLocalizePicksLanguage(t *testing.T) {
	e := &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeNotFound}
	for tag, want := range map[string]string{
		"en":         "does not exist",
		"en-GB":      "does not exist",
		"fr":         "does not exist",
		"und":        "does not exist",
		"zh":         "不存在",
		"zh-CN":      "不存在",
		"zh-SG":      "不存在",
		"zh-Hans":    "不存在",
		"zh-TW":      "不存在。請",
		"zh-HK":      "不存在。請",
		"zh-MO":      "不存在。請",
		"zh-Hant":    "不存在。請",
		"zh-Hant-CN": "不存在。請",
	} {
		assert.Contains(t, Localize(e, language.MustParse(tag)), want, tag)
	}
}

func TestMatchLanguage(t *testing.T) {
	// Accept-Language headers as browsers send them, and some that no
	// browser sends.
	hans, hant, en := language.SimplifiedChinese, language.TraditionalChinese, language.English
	tests := []struct {
		header string
		want   language.Tag
	}{
		{"zh-HK,zh;q=0.9,en;q=0.8", hant}, // a Hong Kong browser
		{"zh-HK,zh;q=0.9", hant},
		{"zh-HK,zh-TW;q=0.9,zh;q=0.8,en-US;q=0.7,en;q=0.6", hant},
		{"zh-HK,en-US;q=0.9,en;q=0.8", hant},
		{"zh-MO,zh;q=0.9", hant}, // Macau
		{"zh-MO,zh-HK;q=0.9,zh;q=0.8,en;q=0.7", hant},
		{"zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", hant}, // Taiwan
		{"zh-TW", hant},
		{"zh-Hant-HK,zh-Hant;q=0.9", hant},
		{"zh-Hant", hant},
		{"zh-Hant-CN", hant},                   // the script decides over the region
		{"yue-HK,yue;q=0.9,zh-HK;q=0.8", hant}, // Cantonese
		{"yue", hant},
		{"yue-Hans-CN", hans},
		{"zh-CN,zh;q=0.9,en;q=0.8", hans}, // mainland
		{"zh-CN,zh;q=0.9", hans},
		{"zh-SG,zh;q=0.9,en;q=0.8", hans}, // Singapore
		{"zh-Hans-HK", hans},
		{"zh-Hans-CN", hans},
		{"zh", hans},
		{"zh;q=0.9, zh-HK", hant}, // weights, not order, rank
		{"zh-TW;q=0.8, zh-CN;q=0.9", hans},
		{"en-US,en;q=0.9,zh-HK;q=0.8", en},
		{"en-US,en;q=0.9,zh-CN;q=0.8,zh;q=0.7", en},
		{"en-GB,en;q=0.9", en},
		{"fr-FR, zh-TW;q=0.5", hant}, // the first language the catalog has
		{"ja-JP,ja;q=0.9,zh-HK;q=0.8,en;q=0.5", hant},
		{"de-DE,de;q=0.9,en;q=0.8,zh-CN;q=0.7", en},
		{"de", en},
		{"", en},
		{"*", en},
		{"garbage;;;q=x", en},
		{"\xff\xfe", en},
		{"zh-HK;q=0", en},
		{strings.Repeat("zh-CN,", 100000), en},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, MatchLanguage(tt.header), "%.60q", tt.header)
	}
}

func TestLocalizeByRegion(t *testing.T) {
	// Localize reads a tag as MatchLanguage reads a header.
	e := &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeRevoked}
	for tag, want := range map[string]string{
		"zh-HK": Localize(e, language.TraditionalChinese),
		"zh-MO": Localize(e, language.TraditionalChinese),
		"yue":   Localize(e, language.TraditionalChinese),
		"zh-SG": Localize(e, language.SimplifiedChinese),
		"zh":    Localize(e, language.SimplifiedChinese),
		"en-AU": Localize(e, language.English),
		"ko":    Localize(e, language.English),
	} {
		assert.Equal(t, want, Localize(e, language.MustParse(tag)), tag)
	}
}

func TestProductNameIsSanitized(t *testing.T) {
	for _, typed := range []ProductType{"\x1b[31mecs\x1b[0m", "ecs\u202egnp.exe", "e\x00c\u200bs", "ecs\xff", ProductType(strings.Repeat("字", 100))} {
		e := &Error{Err: ErrInvalidProduct, Reason: ReasonProductNotFileable, Selected: typed}
		for _, tag := range languages {
			msg := Localize(e, tag)
			for _, r := range msg {
				assert.True(t, unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r), "%q in %q", r, msg)
			}
			assert.True(t, utf8.ValidString(msg))
			assert.Less(t, len(msg), 1000)
		}
	}
	e := &Error{Err: ErrInvalidProduct, Reason: ReasonProductNotFileable, Selected: "\x1b[31mecs\u202e"}
	assert.Contains(t, Localize(e, language.English), `"[31mecs"`)
}

// TestLocalizeNilError: a nil *Error, bare or wrapped, is no panic: it reads
// as an error the catalog does not know.
func TestLocalizeNilError(t *testing.T) {
	var e *Error
	for _, err := range []error{e, fmt.Errorf("wrapped: %w", e)} {
		require.NotPanics(t, func() {
			assert.NotEmpty(t, Localize(err, language.English))
			assert.NotEmpty(t, err.Error())
		})
	}
	assert.Nil(t, e.Unwrap())
}
