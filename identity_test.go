package icpverify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/subject"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// company is a subject's name, and spellings of it that are the same
// subject.
const company = "杭州示例科技（中国）有限公司 Example Ltd"

var companySpellings = []string{
	company + " ",
	company + "\u3000",
	"\u200b" + company,
	strings.ReplaceAll(strings.ReplaceAll(company, "（", "("), "）", ")"),
	strings.ReplaceAll(company, "Example", "Ｅｘａｍｐｌｅ"),
	strings.ReplaceAll(company, " ", "  "),
	strings.ReplaceAll(company, "Example Ltd", "EXAMPLE ltd"),
	norm.NFD.String(company),
	"\ufeff" + company + "\u200d",
}

// namesOnly returns a fixture whose ECS policy keys subjects without a
// certificate by name, and issues up to 20 codes per instance.
func namesOnly(t *testing.T) *fixture {
	pol := DefaultPolicy(ProductECS)
	pol.CodeLimit = 20
	pol.RequireSubjectID = false
	return newFixture(t, WithPolicy(ProductECS, pol))
}

// byName returns a Request for an ECS code that names its subject without
// a certificate.
func byName(code, account, name string) Request {
	return Request{Product: ProductECS, ServiceCode: code, Account: account, Subject: name}
}

// TestOneCompanyOneSlot: a company typed in many ways takes one slot, and a
// resubmission typed otherwise is a retry.
func TestOneCompanyOneSlot(t *testing.T) {
	ctx := context.Background()
	f := namesOnly(t)
	f.put(ecs("i-1", "a"))
	first := f.issue("i-1", "a")
	_, err := f.v.Verify(ctx, byName(first, "a", company))
	require.NoError(t, err)
	for _, name := range companySpellings {
		res, err := f.v.Verify(ctx, byName(first, "a", name))
		require.NoError(t, err, "%q", name)
		assert.True(t, res.Retry, "%q resubmits the same application", name)
		res, err = f.v.Verify(ctx, byName(f.issue("i-1", "a"), "a", name))
		require.NoError(t, err, "%q", name)
		assert.Equal(t, 1, res.Used, "%q is the same subject: one slot", name)
	}
	// NFD of a name with an accent is its NFC.
	_, err = f.v.Verify(ctx, byName(f.issue("i-1", "a"), "a", "Café Co"))
	require.NoError(t, err)
	res, err := f.v.Verify(ctx, byName(f.issue("i-1", "a"), "a", norm.NFD.String("Café Co")))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Used)
}

// TestOneSubjectSpelledTwoWays: one subject verified twice, spelled two
// ways, with two codes of one instance, holds one slot.
func TestOneSubjectSpelledTwoWays(t *testing.T) {
	id := func(typ subject.CertType, number string) subject.ID { return subject.ID{Type: typ, Number: number} }
	for _, tt := range []struct {
		name string
		a, b Request
	}{
		{"USCC as other", withID(id(subject.CertUSCC, "91110000600037341L")), withID(id(subject.CertOther, "91110000600037341L"))},
		{"USCC and its organisation code", withID(id(subject.CertUSCC, "91110000600037341L")), withID(id(subject.CertOrgCode, "60003734-1"))},
		{"organisation code as other", withID(id(subject.CertOther, "600037341")), withID(id(subject.CertOrgCode, "60003734-1"))},
		{"resident ID as other", withID(id(subject.CertResidentID, "44011320141005001X")), withID(id(subject.CertOther, "44011320141005001X"))},
		{"resident ID lower-case x", withID(id(subject.CertResidentID, "44011320141005001X")), withID(id(subject.CertOther, "44011320141005001x"))},
		{"resident ID that reads as a USCC", withID(id(subject.CertResidentID, "110105194912312076")), withID(id(subject.CertUSCC, "110105194912312076"))},
		{"resident ID 15 and 18 digits", withID(id(subject.CertResidentID, "11010519491231002X")), withID(id(subject.CertOther, "110105491231002"))},
		{"resident ID 15 digits as resident ID", withID(id(subject.CertResidentID, "11010519491231002X")), withID(id(subject.CertResidentID, "110105491231002"))},
		{"travel permit renewed", withID(id(subject.CertHKMacauPermit, "H1234567800")), withID(id(subject.CertHKMacauPermit, "h12345678"))},
		{"name: inner space", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例 科技有限公司")},
		{"name: ideographic space", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例科技\u3000有限公司")},
		{"name: spaced out", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭 州 示 例 科 技 有 限 公 司")},
		{"name: comma spacing", byName("", "", "Example Co., Ltd."), byName("", "", "Example Co.,Ltd.")},
		{"name: U+17B4", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例\u17b4科技有限公司")},
		{"name: U+17B5", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例\u17b5科技有限公司")},
		{"name: U+180F", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例\u180f科技有限公司")},
		{"name: unassigned U+2065", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例\u2065科技有限公司")},
		{"name: unassigned U+FFF0", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例\ufff0科技有限公司")},
		{"name: blank Braille", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例\u2800科技有限公司")},
		{"name: Hangul filler", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例\u3164科技有限公司")},
		{"name: half-width Hangul filler", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州示例\uffa0科技有限公司")},
		{"name: Hangul jamo fillers", byName("", "", "杭州示例科技有限公司"), byName("", "", "杭州\u115f示例\u1160科技有限公司")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := namesOnly(t)
			f.put(ecs("i-1", "a"))
			for _, req := range []Request{tt.a, tt.b} {
				req.Product, req.Account, req.ServiceCode = ProductECS, "a", f.issue("i-1", "a")
				if req.Subject == "" {
					req.Subject = "S"
				}
				_, err := f.v.Verify(ctx, req)
				require.NoError(t, err)
			}
			assert.Equal(t, 1, f.used("i-1"), "one subject, one slot")
		})
	}
}

// withID returns a Request for the subject with certificate id.
func withID(id subject.ID) Request { return Request{SubjectID: id} }

func TestDefaultPolicyRequiresACertificate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	_, err := f.v.Verify(ctx, byName(code, "a", "杭州示例科技有限公司"))
	e := requireReason(t, err, ErrInvalidProduct, ReasonSubjectIDMalformed)
	assert.Equal(t, "subject_id", e.Field)
	assert.Zero(t, f.used("i-1"))
	_, err = f.v.Verify(ctx, request(code, "a", "杭州示例科技有限公司"))
	require.NoError(t, err)
}

func TestSubjectNamesRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	for _, name := range []string{"", " ", "\u3000", "\x00", "\u200b", "\x1b[31mEvil Co\x1b[0m", "\u202eoC liveE",
		"Evil\u2066Co", "Evil\u200fCo", "a\xffb", strings.Repeat("字", 1<<20)} {
		for _, call := range []func(context.Context, Request) (Result, error){f.v.Verify, f.v.Check} {
			_, err := call(ctx, request(code, "a", name))
			e := requireReason(t, err, ErrInvalidProduct, ReasonInvalidRequest)
			assert.Equal(t, "subject", e.Field, "%q", name)
		}
	}
	assert.Zero(t, f.used("i-1"))
}

func TestSubjectID(t *testing.T) {
	ctx := context.Background()
	f := namesOnly(t)
	f.put(ecs("i-1", "a"))
	code := f.issue("i-1", "a")
	uscc := subject.ID{Type: subject.CertUSCC, Number: "91110000600037341L"}
	req := request(code, "a", "Example Ltd")
	req.SubjectID = uscc
	res, err := f.v.Verify(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, "Example Ltd", res.Subject, "the name is shown")

	// The certificate, not the name, is the subject: another name for it
	// is a retry, and takes no second slot with another code.
	renamed := req
	renamed.Subject = "示例有限公司"
	renamed.SubjectID.Number = " 9111 0000 6000 3734 1l"
	res, err = f.v.Verify(ctx, renamed)
	require.NoError(t, err)
	assert.True(t, res.Retry)
	renamed.ServiceCode = f.issue("i-1", "a")
	res, err = f.v.Verify(ctx, renamed)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Used)

	// The same name with another certificate is another subject.
	other := req
	other.ServiceCode = f.issue("i-1", "a")
	other.SubjectID = subject.ID{Type: subject.CertResidentID, Number: "44011320141005001X"}
	res, err = f.v.Verify(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Used)

	// Without a certificate the name is the key: not the same subject.
	res, err = f.v.Verify(ctx, byName(f.issue("i-1", "a"), "a", "Example Ltd"))
	require.NoError(t, err)
	assert.Equal(t, 3, res.Used)

	for _, id := range []subject.ID{
		{Type: subject.CertUSCC, Number: "91110000600037341N"},       // wrong check character
		{Type: subject.CertResidentID, Number: "36042619910102009X"}, // wrong check character
		{Type: subject.CertResidentID, Number: "360426199102300075"}, // no such date
		{Type: "passport2", Number: "E12345678"},
		{Type: subject.CertUSCC},
		{Type: subject.CertUSCC, Number: strings.Repeat("9", 1<<20)},
		{Type: subject.CertUSCC, Number: "9111\x000000600037341L"},
		{Number: "91110000600037341L"},
	} {
		bad := request(f.issue("i-1", "a"), "a", "S")
		bad.SubjectID = id
		_, err := f.v.Check(ctx, bad)
		e := requireReason(t, err, ErrInvalidProduct, ReasonSubjectIDMalformed)
		assert.Equal(t, "subject_id", e.Field)
	}
	assert.Equal(t, 3, f.used("i-1"))

	g := newFixture(t)
	c := g.instanceWithCode("i-1", "a")
	_, err = g.v.Verify(ctx, byName(c, "a", "S"))
	requireReason(t, err, ErrInvalidProduct, ReasonSubjectIDMalformed)
	withID := request(c, "a", "S")
	withID.SubjectID = uscc
	_, err = g.v.Verify(ctx, withID)
	require.NoError(t, err)
}

func TestOneCodeOneWebsite(t *testing.T) {
	ctx := context.Background()
	pol := DefaultPolicy(ProductECS)
	pol.CodeLimit = 20
	f := newFixture(t, WithPolicy(ProductECS, pol))
	code := f.instanceWithCode("i-1", "a")
	req := request(code, "a", "S")
	req.Website = "www.example.com"
	_, err := f.v.Verify(ctx, req)
	require.NoError(t, err)
	for _, same := range []string{"WWW.Example.COM", "www.example.com.", "ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ", " www.example.com "} {
		r := req
		r.Website = same
		res, err := f.v.Verify(ctx, r)
		require.NoError(t, err, "%q", same)
		assert.True(t, res.Retry, "%q is the same website", same)
	}
	for _, other := range []string{"shop.example.com", ""} {
		r := req
		r.Website = other
		_, err := f.v.Verify(ctx, r)
		requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeInUse)
	}
	for _, bad := range []string{"exa mple.com", "-x.com", "例子.com", "a..b", "x\x00.com", strings.Repeat("a", 300) + ".com", "\xff.com"} {
		r := request(f.issue("i-1", "a"), "a", "T")
		r.Website = bad
		_, err := f.v.Check(ctx, r)
		e := requireReason(t, err, ErrInvalidProduct, ReasonInvalidRequest)
		assert.Equal(t, "website", e.Field, "%q", bad)
	}
	assert.Equal(t, 1, f.used("i-1"))
}

func TestCodeFormats(t *testing.T) {
	ctx := context.Background()
	t.Run("input methods, default format", func(t *testing.T) {
		f := newFixture(t)
		code := f.instanceWithCode("i-1", "a")
		fullWidth := strings.Map(func(r rune) rune {
			switch {
			case r == '-':
				return '\uff0d'
			case r < 0x7f:
				return r + 0xfee0
			}
			return r
		}, code)
		for _, typed := range []string{fullWidth, strings.ReplaceAll(code, "-", "\u3000"), strings.ReplaceAll(code, "-", "\u2014"),
			strings.ReplaceAll(code, "-", "\n")} {
			res, err := f.v.Verify(ctx, request(typed, "a", "S"))
			require.NoError(t, err, "%q", typed)
			assert.Equal(t, code, res.ServiceCode)
		}
	})
	t.Run("an existing inventory", func(t *testing.T) {
		store := NewMemoryStore()
		require.NoError(t, store.PutInstanceContext(context.Background(), ecs("i-1", "a")))
		format := codeformat.Inventory(codeformat.InventoryOptions{})
		v := New(store, store, WithClock(func() time.Time { return t0 }), WithCodeFormat(format))
		existing := "4F9F0D9C-5B3E-4A1D-9C2B-7E6F5A4B3C2D"
		_, _, err := store.AddServiceCode(ctx, ServiceCode{Code: existing, Instance: "i-1", Owner: "a", IssuedAt: t0}, 5)
		require.NoError(t, err)
		res, err := v.Verify(ctx, request(strings.ToLower(existing), "a", "S"))
		require.NoError(t, err, "a code in the provider's own format verifies")
		assert.Equal(t, existing, res.ServiceCode)
		issued, err := v.IssueServiceCode(ctx, "i-1", "a")
		require.NoError(t, err)
		c, ok := format.Normalize(issued)
		assert.True(t, ok)
		assert.Equal(t, issued, c)
		_, err = v.Verify(ctx, request("not/a code", "a", "S"))
		requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeMalformed)
	})
	t.Run("decisions mask any format", func(t *testing.T) {
		c := &collector{}
		store := NewMemoryStore()
		require.NoError(t, store.PutInstanceContext(context.Background(), ecs("i-1", "a")))
		v := New(store, store, WithClock(func() time.Time { return t0 }), WithObserver(c.observer()),
			WithCodeFormat(codeformat.Inventory(codeformat.InventoryOptions{})))
		code := "ABCDEFGHJK23456789XY"
		_, _ = v.Verify(ctx, request(code, "a", "S"))
		require.Len(t, c.all(), 1)
		assert.Equal(t, "****************89XY", c.all()[0].code)
	})
}
