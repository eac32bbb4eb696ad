package icpverify

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Catalog holds the text that Localize shows an applicant, in each language
// it knows. NewCatalog returns one with English, Simplified Chinese and
// Traditional Chinese; SetString adds a language or rewords a message. A
// Catalog is safe for concurrent use.
//
// A refusal reads as its prompt followed by its detail, joined by the
// message "layout" (arguments %[1]s prompt, %[2]s detail). The keys are:
//
//   - "prompt.invalid_product", "prompt.service_code_invalid",
//     "prompt.quota_reached": the FAQ's prompt for each sentinel;
//     "prompt.not_found" and "prompt.failure" for a missing reservation and
//     for any other error;
//   - each Reason, such as "quota_reached": the detail and the advice;
//   - "advice.invalid_product", "advice.service_code_invalid",
//     "advice.quota_reached", "advice.failure": the detail of an error that
//     carries no Reason;
//   - "product.ecs" and the like: the name of each ProductType;
//   - "field.account", "field.subject", "field.instance", "field.owner",
//     "field.grantee": the name of each checked field.
//
// Details are formatted with these arguments: %[1]s the instance ID, %[2]d
// the used count, %[3]d the limit, %[4]s the selected product's name, %[5]s
// the instance's product name, %[6]s the expiry date (China Standard Time,
// YYYY-MM-DD), %[7]s the field's name. A message uses those it needs, with
// explicit indexes. A language that lacks a message shows the English one.
type Catalog struct {
	b *catalog.Builder

	mu       sync.RWMutex
	tags     []language.Tag // supported, English first
	matcher  language.Matcher
	printers []*message.Printer // one for each of tags
}

// NewCatalog returns a Catalog with the built-in messages in English,
// Simplified Chinese and Traditional Chinese.
func NewCatalog() *Catalog {
	// English is stored under und, the last parent of every language, so
	// that a message a language lacks is shown in English.
	c := &Catalog{b: catalog.NewBuilder()}
	for _, lang := range builtinMessages {
		for key, msg := range lang.msgs {
			// Cannot fail: the built-in messages are tested.
			_ = c.b.SetString(lang.tag, key, msg)
		}
	}
	c.tags = []language.Tag{language.English, language.SimplifiedChinese, language.TraditionalChinese}
	c.rebuild()
	return c
}

// rebuild remakes the matcher and printers; c.mu must be held for writing,
// or c not yet shared.
func (c *Catalog) rebuild() {
	c.matcher = language.NewMatcher(c.tags)
	c.printers = make([]*message.Printer, len(c.tags))
	for i, t := range c.tags {
		c.printers[i] = message.NewPrinter(t, message.Catalog(c.b))
	}
}

// SetString sets the message for key in a language, adding the language if
// it is new. See Catalog for the keys and the arguments messages receive.
func (c *Catalog) SetString(tag language.Tag, key, msg string) error {
	if key == "" {
		return errors.New("icpverify: catalog: empty message key")
	}
	if tag == language.Und {
		return errors.New("icpverify: catalog: undetermined language")
	}
	stored := tag
	if tag == language.English {
		stored = language.Und // where every language falls back
	}
	if err := c.b.SetString(stored, key, msg); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.tags, tag) {
		c.tags = append(slices.Clip(c.tags), tag)
		c.rebuild()
	}
	return nil
}

// Languages returns the languages c has messages in, English first.
func (c *Catalog) Languages() []language.Tag {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.tags)
}

// maxAcceptLanguage bounds the Accept-Language header read by MatchLanguage.
const maxAcceptLanguage = 1024

// MatchLanguage returns the language of c that best suits an HTTP
// Accept-Language header: zh-CN and zh-SG get Simplified Chinese; zh-TW,
// zh-HK and zh-Hant get Traditional Chinese; anything else, including an
// empty, over-long or malformed header, gets English.
func (c *Catalog) MatchLanguage(acceptLanguage string) language.Tag {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(acceptLanguage) > maxAcceptLanguage {
		return c.tags[0]
	}
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return c.tags[0]
	}
	_, i, conf := c.matcher.Match(prefs...)
	if conf == language.No {
		return c.tags[0]
	}
	return c.tags[i]
}

// printer returns the printer of the language of c that best suits tag.
func (c *Catalog) printer(tag language.Tag) *message.Printer {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i, t := range c.tags {
		if t == tag {
			return c.printers[i]
		}
	}
	_, i, conf := c.matcher.Match(tag)
	if conf == language.No {
		i = 0
	}
	return c.printers[i]
}

// cst is China Standard Time, in which expiry dates are shown.
var cst = time.FixedZone("CST", 8*60*60)

// Localize renders err for an applicant in the language of c that best
// suits tag: the FAQ's prompt for its sentinel, what went wrong and what to
// do. An error that is not a refusal, such as a store's failure, gets a
// generic text that reveals nothing of it. A nil error gets "".
func (c *Catalog) Localize(err error, tag language.Tag) string {
	if err == nil {
		return ""
	}
	p := c.printer(tag)
	var e *Error
	if !errors.As(err, &e) {
		prompt, advice := "prompt.failure", "advice.failure"
		switch {
		case errors.Is(err, ErrInvalidProduct):
			prompt, advice = "prompt.invalid_product", "advice.invalid_product"
		case errors.Is(err, ErrServiceCodeInvalid):
			prompt, advice = "prompt.service_code_invalid", "advice.service_code_invalid"
		case errors.Is(err, ErrQuotaReached):
			prompt, advice = "prompt.quota_reached", "advice.quota_reached"
		}
		return p.Sprintf("layout", p.Sprintf(prompt), p.Sprintf(advice))
	}
	var selected, actual, field, expires string
	switch e.Reason {
	case ReasonProductNotFileable, ReasonProductMismatch:
		selected, actual = productName(p, e.Selected), productName(p, e.Actual)
	case ReasonInvalidRequest:
		field = p.Sprintf("field." + e.Field)
	case ReasonInstanceExpired:
		if !e.ExpiresAt.IsZero() {
			expires = e.ExpiresAt.In(cst).Format(time.DateOnly)
		}
	}
	detail := p.Sprintf(string(e.Reason), e.Instance, e.Used, e.Limit, selected, actual, expires, field)
	return p.Sprintf("layout", p.Sprintf(promptKey(e.Err)), detail)
}

// promptKey returns the key of a sentinel's prompt.
func promptKey(sentinel error) string {
	switch sentinel {
	case ErrInvalidProduct:
		return "prompt.invalid_product"
	case ErrServiceCodeInvalid:
		return "prompt.service_code_invalid"
	case ErrQuotaReached:
		return "prompt.quota_reached"
	case ErrNotFound:
		return "prompt.not_found"
	}
	return "prompt.failure"
}

// maxProductName bounds how much of an unknown product type is shown.
const maxProductName = 32

// productName returns the display name of a product type: the catalog's, or
// the type itself, cut short and made valid UTF-8, for a type it lacks.
func productName(p *message.Printer, t ProductType) string {
	key := "product." + string(t)
	if len(t) <= maxProductName {
		if name := p.Sprintf(key); name != key {
			return name
		}
	}
	s := string(t)
	if len(s) > maxProductName {
		s = s[:maxProductName]
	}
	return `"` + strings.ToValidUTF8(s, "") + `"`
}

// builtin is the catalog behind Localize and MatchLanguage. It is never
// changed after it is made.
var builtin = NewCatalog()

// Localize renders err for an applicant in English, Simplified Chinese or
// Traditional Chinese, whichever best suits tag, with the built-in
// messages. See Catalog.Localize.
func Localize(err error, tag language.Tag) string { return builtin.Localize(err, tag) }

// MatchLanguage returns English, Simplified Chinese or Traditional Chinese,
// whichever best suits an HTTP Accept-Language header. See
// Catalog.MatchLanguage.
func MatchLanguage(acceptLanguage string) language.Tag {
	return builtin.MatchLanguage(acceptLanguage)
}
