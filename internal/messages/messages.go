// Package messages words the refusals of package icpverify for an
// applicant, in the languages of a Catalog: the engine behind
// icpverify.Localize and icpverify.MatchLanguage and behind the public
// package catalog. It imports neither, so both can use it: each turns an
// error into a Refusal, and an icpverify.Expiry into an Expiry.
package messages

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

// Kind is the sentinel error that an error is, or wraps.
type Kind uint8

// The sentinels of package icpverify.
const (
	Other              Kind = iota // none of them
	InvalidProduct                 // icpverify.ErrInvalidProduct
	ServiceCodeInvalid             // icpverify.ErrServiceCodeInvalid
	QuotaReached                   // icpverify.ErrQuotaReached
	NotFound                       // icpverify.ErrNotFound
)

// Refusal is what a message shows of an error: the fields of an
// *icpverify.Error, as plain values.
type Refusal struct {
	// Kind is the sentinel: for an *icpverify.Error, the one its Err is;
	// for any other error, the one it wraps (NotFound is not read there).
	Kind Kind
	// Detailed is set for an *icpverify.Error, whose fields follow; any
	// other error is shown as its sentinel's prompt and advice.
	Detailed     bool
	Reason       string
	Field        string
	Instance     string
	Selected     string
	Actual       string
	Used, Limit  int
	ExpiresAt    time.Time
	Alternatives []Alternative
}

// Alternative is what a message shows of an icpverify.Alternative.
type Alternative struct {
	Instance string
	Free     int
}

// Expiry is what a message shows of an icpverify.Expiry.
type Expiry struct {
	Code      string
	Instance  string
	Subject   string
	ExpiresAt time.Time
	Expired   bool
}

// The reasons that a message formats with arguments of their own: the
// values of the icpverify.Reason constants.
const (
	reasonInvalidRequest     = "invalid_request"
	reasonProductNotFileable = "product_not_fileable"
	reasonProductMismatch    = "product_mismatch"
	reasonInstanceExpired    = "instance_expired"
	reasonCodeExpired        = "code_expired"
	reasonRemainingTooShort  = "remaining_too_short"
	reasonCodeLimit          = "code_limit"
)

// The reasons under icpverify.ErrQuotaReached whose prompt is not the
// FAQ's, which speaks of an instance's filing subjects: a resource's
// websites get the prompt "prompt.resource_limit", an account's or a
// subject's limits "prompt.filing_limit".
const (
	reasonInstanceWebsites = "instance_websites"
	reasonIPWebsites       = "ip_websites"
	reasonAccountWebsites  = "account_websites"
	reasonSubjectWebsites  = "subject_websites"
	reasonAccountSubjects  = "account_subjects"
	reasonSubjectAccounts  = "subject_accounts"
	reasonFilingInProgress = "filing_in_progress"
)

// Catalog holds the text shown to an applicant, in each language it knows.
// It is safe for concurrent use. The public package catalog documents its
// message keys and their arguments.
type Catalog struct {
	b *catalog.Builder

	mu      sync.RWMutex
	keys    map[string]bool // every key set
	langs   []*locale       // supported, English first; never changed once made
	matcher language.Matcher
	matched map[language.Tag]int // memo of matcher results, bounded
}

// locale is one language of a Catalog: every message resolved to its
// format, falling back to English where the language lacks it.
type locale struct {
	tag    language.Tag
	text   map[string]string
	layout layout
}

// layout is the "layout" message cut around its two arguments.
type layout struct {
	parts       [3]string
	detailFirst bool
}

// maxMatched bounds the memo of matched language tags.
const maxMatched = 256

// New returns a Catalog with the built-in messages in English, Simplified
// Chinese and Traditional Chinese.
func New() *Catalog {
	// English is stored under und, the last parent of every language, so
	// that a message a language lacks is shown in English.
	c := &Catalog{b: catalog.NewBuilder(), keys: make(map[string]bool)}
	for _, l := range builtinMessages() {
		for key, msg := range l.msgs {
			// Cannot fail: the built-in messages are tested.
			_ = c.b.SetString(l.tag, key, msg)
			c.keys[key] = true
		}
	}
	for _, t := range []language.Tag{language.English, language.SimplifiedChinese, language.TraditionalChinese} {
		c.langs = append(c.langs, &locale{tag: t})
	}
	c.rebuild()
	return c
}

// builtin holds the catalog that Builtin returns, made on first use and
// never changed after.
var builtin struct {
	once sync.Once
	c    *Catalog
}

// Builtin returns the Catalog of the built-in messages, making it on first
// use. It must not be changed.
func Builtin() *Catalog {
	builtin.once.Do(func() { builtin.c = New() })
	return builtin.c
}

// Markers stand for the arguments of "layout" while it is cut.
const promptMark, detailMark = "\x00\x01", "\x00\x02"

// capture is a catalog renderer that keeps the format of a message.
type capture struct{ strings.Builder }

func (c *capture) Render(s string)     { c.WriteString(s) }
func (c *capture) Arg(int) interface{} { return nil }

// rebuild resolves every message of every language and remakes the
// matcher; c.mu must be held for writing, or c not yet shared.
func (c *Catalog) rebuild() {
	tags := make([]language.Tag, len(c.langs))
	langs := make([]*locale, len(c.langs))
	for i, old := range c.langs {
		l := &locale{tag: old.tag, text: make(map[string]string, len(c.keys))}
		var r capture
		ctx := c.b.Context(l.tag, &r)
		for k := range c.keys {
			r.Reset()
			if ctx.Execute(k) == nil {
				l.text[k] = r.String()
			}
		}
		l.layout = cutLayout(format(l.text["layout"], promptMark, detailMark))
		tags[i], langs[i] = l.tag, l
	}
	c.langs = langs
	c.matcher = language.NewMatcher(tags)
	c.matched = make(map[language.Tag]int)
}

// format formats a message; one without verbs is returned as it is.
func format(msg string, args ...any) string {
	if !strings.Contains(msg, "%") {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// cutLayout cuts a rendered layout around its markers. A layout that lacks
// one shows the prompt and the detail, space-separated.
func cutLayout(s string) layout {
	p, d := strings.Index(s, promptMark), strings.Index(s, detailMark)
	switch {
	case p < 0 || d < 0:
		return layout{parts: [3]string{"", " ", ""}}
	case p < d:
		return layout{parts: [3]string{s[:p], s[p+len(promptMark) : d], s[d+len(detailMark):]}}
	default:
		return layout{parts: [3]string{s[:d], s[d+len(detailMark) : p], s[p+len(promptMark):]}, detailFirst: true}
	}
}

// join lays out a prompt and a detail.
func (l layout) join(prompt, detail string) string {
	if l.detailFirst {
		prompt, detail = detail, prompt
	}
	return l.parts[0] + prompt + l.parts[1] + detail + l.parts[2]
}

// SetString sets the message for key in a language, adding the language if
// it is new. The public package catalog lists the keys and the arguments
// messages receive.
func (c *Catalog) SetString(tag language.Tag, key, msg string) error {
	if key == "" {
		return errors.New("icpverify: catalog: empty message key")
	}
	if tag == language.Und {
		return errors.New("icpverify: catalog: undetermined language")
	}
	if bad := format(msg, sampleArgs(key)...); strings.Contains(bad, "%!") {
		return fmt.Errorf("icpverify: catalog: message %q: bad format: %s", key, bad)
	}
	stored := tag
	if tag == language.English {
		stored = language.Und // where every language falls back
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.b.SetString(stored, key, msg); err != nil {
		return fmt.Errorf("icpverify: catalog: %w", err)
	}
	c.keys[key] = true
	if !slices.ContainsFunc(c.langs, func(l *locale) bool { return l.tag == tag }) {
		c.langs = append(c.langs, &locale{tag: tag})
	}
	c.rebuild()
	return nil
}

// sampleArgs returns arguments of the types that the message key gets.
func sampleArgs(key string) []any {
	switch {
	case key == "layout":
		return []any{"prompt", "detail"}
	case key == "alternatives":
		return []any{"list"}
	case strings.HasPrefix(key, "alternative."):
		return []any{"i-1", 2}
	case strings.HasPrefix(key, "expiry."):
		return []any{"i-1", "subject", "2006-01-02", "code"}
	}
	return []any{"i-1", 1, 2, "p", "q", "2006-01-02", "f"}
}

// maxAcceptLanguage bounds the Accept-Language header read by MatchLanguage.
const maxAcceptLanguage = 1024

// MatchLanguage returns the language of c that best suits an HTTP
// Accept-Language header: the first language, in the header's order of
// preference, that c has or has a close match for. Chinese is read by
// region and script: zh-HK, zh-MO, zh-TW, zh-Hant and Cantonese (yue) get
// Traditional Chinese, other Chinese (zh, zh-CN, zh-SG, zh-Hans) Simplified
// Chinese. An empty, over-long or malformed header, or one naming no
// language of c, gets English.
func (c *Catalog) MatchLanguage(acceptLanguage string) language.Tag {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(acceptLanguage) > maxAcceptLanguage {
		return c.langs[0].tag
	}
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return c.langs[0].tag
	}
	for _, p := range prefs {
		if i, ok := c.match(p); ok {
			return c.langs[i].tag
		}
	}
	return c.langs[0].tag
}

// match returns the index in c.langs of the language that best suits tag,
// and whether any does; c.mu must be held.
func (c *Catalog) match(tag language.Tag) (int, bool) {
	for i, l := range c.langs {
		if l.tag == tag {
			return i, true
		}
	}
	if want, ok := chinese(tag); ok {
		for i, l := range c.langs {
			if l.tag == want {
				return i, true
			}
		}
	}
	_, i, conf := c.matcher.Match(tag)
	return i, conf != language.No
}

// chinese returns the written Chinese that suits a reader of tag, if tag
// is Chinese: Traditional Chinese for Hong Kong, Macau and Taiwan, for the
// Traditional script and for Cantonese, Simplified Chinese otherwise. An
// explicit script decides first, then an explicit region.
func chinese(tag language.Tag) (language.Tag, bool) {
	base, _ := tag.Base()
	cantonese := base.String() == "yue"
	if !cantonese && base.String() != "zh" {
		return language.Und, false
	}
	if s, conf := tag.Script(); conf == language.Exact {
		switch s.String() {
		case "Hant":
			return language.TraditionalChinese, true
		case "Hans":
			return language.SimplifiedChinese, true
		}
	}
	if r, conf := tag.Region(); conf == language.Exact {
		switch r.String() {
		case "HK", "MO", "TW":
			return language.TraditionalChinese, true
		}
	}
	if cantonese {
		return language.TraditionalChinese, true
	}
	return language.SimplifiedChinese, true
}

// localeFor returns the language of c that best suits tag: English if none
// does.
func (c *Catalog) localeFor(tag language.Tag) *locale {
	c.mu.RLock()
	i, seen := c.matched[tag]
	if !seen {
		var ok bool
		if i, ok = c.match(tag); !ok {
			i = 0
		}
	}
	l := c.langs[i]
	c.mu.RUnlock()
	if !seen {
		c.mu.Lock()
		if len(c.matched) < maxMatched {
			c.matched[tag] = i
		}
		c.mu.Unlock()
	}
	return l
}

// chinaDate returns the date of t in China Standard Time (UTC+8, without
// daylight saving time), YYYY-MM-DD.
func chinaDate(t time.Time) string {
	return t.UTC().Add(8 * time.Hour).Format(time.DateOnly)
}

// Localize renders r for an applicant in the language of c that best suits
// tag: the prompt for its sentinel, what went wrong, what to do, and the
// alternatives offered, if any.
func (c *Catalog) Localize(r *Refusal, tag language.Tag) string {
	l, prompt, detail := c.parts(r, tag)
	return l.layout.join(prompt, detail)
}

// Message renders r as Localize does, and returns its language, its prompt
// and its detail apart.
func (c *Catalog) Message(r *Refusal, tag language.Tag) (lang language.Tag, prompt, detail string) {
	l, prompt, detail := c.parts(r, tag)
	return l.tag, prompt, detail
}

// parts returns the language that suits tag, and the prompt and detail of
// r in it.
func (c *Catalog) parts(r *Refusal, tag language.Tag) (l *locale, prompt, detail string) {
	l = c.localeFor(tag)
	if !r.Detailed {
		prompt, advice := "prompt.failure", "advice.failure"
		switch r.Kind {
		case InvalidProduct:
			prompt, advice = "prompt.invalid_product", "advice.invalid_product"
		case ServiceCodeInvalid:
			prompt, advice = "prompt.service_code_invalid", "advice.service_code_invalid"
		case QuotaReached:
			prompt, advice = "prompt.quota_reached", "advice.quota_reached"
		}
		return l, l.text[prompt], l.text[advice]
	}
	var selected, actual, field, expires string
	switch r.Reason {
	case reasonProductMismatch:
		if r.Actual == "" {
			// Withheld from an applicant who may not see the instance.
			return l, l.text["prompt.invalid_product"], l.text["advice.invalid_product"]
		}
		selected, actual = l.productName(r.Selected), l.productName(r.Actual)
	case reasonProductNotFileable:
		selected = l.productName(r.Selected)
	case reasonInvalidRequest:
		field = l.text["field."+r.Field]
	case reasonInstanceExpired, reasonCodeExpired, reasonRemainingTooShort:
		if !r.ExpiresAt.IsZero() {
			expires = chinaDate(r.ExpiresAt)
		}
	}
	detail, ok := l.text[r.Reason]
	if ok {
		detail = format(detail, r.Instance, r.Used, r.Limit, selected, actual, expires, field)
	}
	if len(r.Alternatives) > 0 {
		detail += l.layout.parts[1] + l.alternatives(r.Alternatives)
	}
	return l, l.text[promptKey(r)], detail
}

// alternatives renders the alternatives offered with a refusal.
func (l *locale) alternatives(alts []Alternative) string {
	var b strings.Builder
	for i, a := range alts {
		if i > 0 {
			b.WriteString(l.text["alternatives.sep"])
		}
		key := "alternative.other"
		if a.Free == 1 {
			key = "alternative.one"
		}
		b.WriteString(format(l.text[key], a.Instance, a.Free))
	}
	return format(l.text["alternatives"], b.String())
}

// promptKey returns the key of a detailed refusal's prompt: its
// sentinel's, but for the quota reasons that have one of their own.
func promptKey(r *Refusal) string {
	switch r.Reason {
	case reasonCodeLimit:
		return "prompt.code_limit"
	case reasonInstanceWebsites, reasonIPWebsites:
		return "prompt.resource_limit"
	case reasonAccountWebsites, reasonSubjectWebsites, reasonAccountSubjects, reasonSubjectAccounts, reasonFilingInProgress:
		return "prompt.filing_limit"
	}
	switch r.Kind {
	case InvalidProduct:
		return "prompt.invalid_product"
	case ServiceCodeInvalid:
		return "prompt.service_code_invalid"
	case QuotaReached:
		return "prompt.quota_reached"
	case NotFound:
		return "prompt.not_found"
	}
	return "prompt.failure"
}

// maxProductName bounds how much of an unknown product type is shown.
const maxProductName = 32

// productName returns the display name of a product type: the catalog's,
// or for a type it lacks the type itself, quoted, with at most
// maxProductName bytes of its printable characters: control characters,
// escape sequences, bidirectional controls and invalid bytes are dropped,
// so that text the applicant typed cannot disguise the message.
func (l *locale) productName(t string) string {
	if name, ok := l.text["product."+t]; ok {
		return name
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range t {
		if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > maxProductName+1 {
			break
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// LocalizeExpiry renders an expiry warning for the applicant in the
// language of c that best suits tag.
func (c *Catalog) LocalizeExpiry(x Expiry, tag language.Tag) string {
	l := c.localeFor(tag)
	key := "expiry.soon"
	if x.Expired {
		key = "expiry.past"
	}
	return format(l.text[key], x.Instance, x.Subject, chinaDate(x.ExpiresAt), x.Code)
}
