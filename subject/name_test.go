package subject

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

func TestNameKeySameName(t *testing.T) {
	const name = "杭州示例科技有限公司"
	for _, tt := range []struct{ name, in string }{
		{"canonical", name},
		{"trailing space", name + " "},
		{"spaces around", "  " + name + "\t"},
		{"ideographic space", "\u3000" + name + "\u3000"},
		{"line break", name + "\r\n"},
		{"zero-width space", "杭州\u200b示例科技有限公司"},
		{"zero-width joiners", "杭州\u200c示例\u200d科技有限公司"},
		{"word joiner and BOM", "\ufeff杭州示例\u2060科技有限公司"},
		{"soft hyphen", "杭州示例\u00ad科技有限公司"},
		{"variation selector", "杭\ufe00州示例科技有限公司"},
		{"ideographic variation selector", "杭\U000e0100州示例科技有限公司"},
		{"tag character", "杭州示例\U000e0041科技有限公司"},
		// Spaces between Chinese characters.
		{"inner space", "杭州示例 科技有限公司"},
		{"inner ideographic space", "杭州示例科技\u3000有限公司"},
		{"spaced out", "杭 州 示 例 科 技 有 限 公 司"},
		{"tabs and line breaks inside", "杭州\t示例\r\n科技有限公司"},
		{"no-break space inside", "杭州示例\u00a0科技有限公司"},
		// Every default-ignorable code point, assigned or not, and the
		// characters that show nothing.
		{"Khmer inherent vowels", "杭州\u17b4示例\u17b5科技有限公司"},
		{"Mongolian FVS4", "杭州示例\u180f科技有限公司"},
		{"Mongolian vowel separator", "杭州示例\u180e科技有限公司"},
		{"unassigned U+2065", "杭州示例\u2065科技有限公司"},
		{"unassigned U+FFF0", "杭州示例\ufff0科技有限公司"},
		{"unassigned U+E0FFF", "杭州示例\U000e0fff科技有限公司"},
		{"inhibit symmetric swapping U+206A", "杭州示例\u206a科技有限公司"},
		{"shorthand format control", "杭州示例\U0001bca0科技有限公司"},
		{"musical format control", "杭州示例\U0001d173科技有限公司"},
		{"blank Braille", "杭州示例\u2800科技有限公司"},
		{"Hangul filler", "杭州示例\u3164科技有限公司"},
		{"Hangul choseong and jungseong fillers", "杭州\u115f示例\u1160科技有限公司"},
		{"half-width Hangul filler", "杭州示例\uffa0科技有限公司"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := nameKey(tt.in)
			require.True(t, ok)
			assert.Equal(t, name, got)
		})
	}
	const latin = "café(hangzhou)co.,ltd."
	for _, tt := range []struct{ name, in string }{
		{"canonical", latin},
		{"upper case", "CAFÉ (HANGZHOU) CO., LTD."},
		{"title case", "Café (Hangzhou) Co., Ltd."},
		{"decomposed (NFD)", "Cafe\u0301 (Hangzhou) Co., Ltd."},
		{"full-width letters and signs", "Ｃａｆé　（Ｈａｎｇｚｈｏｕ）　Ｃｏ．，　Ｌｔｄ．"},
		{"double inner spaces", "Café  (Hangzhou)\u3000\u3000Co.,\t Ltd."},
		{"no-break spaces", "Café\u00a0(Hangzhou)\u202fCo., Ltd."},
		{"no space after the comma", "Café (Hangzhou) Co.,Ltd."},
		{"no spaces around punctuation", "Café(Hangzhou)Co.,Ltd."},
		{"spaces before punctuation", "Café ( Hangzhou ) Co . , Ltd ."},
		{"full-width comma and space", "Café (Hangzhou) Co.， Ltd."},
	} {
		t.Run("latin/"+tt.name, func(t *testing.T) {
			got, ok := nameKey(tt.in)
			require.True(t, ok)
			assert.Equal(t, latin, got)
		})
	}
	for _, tt := range []struct{ name, in, want string }{
		{"full-width parentheses", "示例（杭州）科技有限公司", "示例(杭州)科技有限公司"},
		{"half-width parentheses", "示例(杭州)科技有限公司", "示例(杭州)科技有限公司"},
		{"sharp s folds", "Straße GmbH", "strasse gmbh"},
		{"capital sharp s folds", "STRAẞE GMBH", "strasse gmbh"},
		{"Greek final sigma", "ΟΔΟΣ", "οδοσ"},
		{"ligature", "ﬁne", "fine"},
		{"half-width katakana", "ｶﾀｶﾅ", "カタカナ"},
		{"middle dot", "微软·中国", "微软·中国"},
		{"spaced middle dot", "微软 · 中国", "微软·中国"},
		{"Latin words keep their space", "Example  Tech\u3000Co", "example tech co"},
		{"digits keep their space", "Studio 54 2", "studio 54 2"},
		{"blank Braille between words is a space", "Example\u2800Co", "example co"},
		{"space next to Latin in Chinese", "杭州 ABC 科技", "杭州abc科技"},
		{"kana", "カタカナ ひらがな", "カタカナひらがな"},
		{"Hangul keeps its spaces", "삼성 전자", "삼성 전자"},
		{"ampersand", "A & B Co", "a&b co"},
		{"Kelvin sign", "\u212a", "k"},
		{"compatibility ideograph", "\uf900", "\u8c48"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := nameKey(tt.in)
			require.True(t, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNameKeyRefused(t *testing.T) {
	for _, tt := range []struct{ name, in string }{
		{"empty", ""},
		{"only spaces", " \t\u3000 "},
		{"only invisible", "\u200b\ufeff"},
		{"non-UTF-8", "示例\xff公司"},
		{"NUL", "示例\x00公司"},
		{"ESC sequence", "示例\x1b[31m公司"},
		{"DEL", "示例\x7f公司"},
		{"C1", "示例\u0085公司"},
		{"CSI", "示例\u009b31m公司"},
		{"vertical tab", "示例\v公司"},
		{"LRM", "示例\u200e公司"},
		{"RLM", "示例\u200f公司"},
		{"Arabic letter mark", "示例\u061c公司"},
		{"RLO", "示例\u202e公司"},
		{"LRE", "示例\u202a公司"},
		{"PDF", "示例\u202c公司"},
		{"RLI", "示例\u2067公司"},
		{"PDI", "示例\u2069公司"},
		{"ALM", "示例\u061c公司"},
		{"LRI", "示例\u2066公司"},
		{"interlinear annotation", "示例\ufff9公司"},
		{"Arabic number sign", "示例\u0600公司"},
		{"only blank Braille", "\u2800"},
		{"only fillers", "\u3164\u115f"},
		{"too long input", strings.Repeat(" ", maxNameInput) + "公司"},
		{"too long key", strings.Repeat("公", maxNameKey/3+1)},
		{"too long key after folding", strings.Repeat("ﬃ", maxNameKey/3+1)}, // 258 bytes of "ffi"
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := nameKey(tt.in)
			assert.False(t, ok)
			assert.Empty(t, got)
		})
	}
	// The bounds themselves.
	long := strings.Repeat("公", maxNameKey/3)
	got, ok := nameKey(long)
	assert.True(t, ok)
	assert.Equal(t, long, got)
	got, ok = nameKey(strings.Repeat(" ", maxNameInput-len(long)) + long)
	assert.True(t, ok)
	assert.Equal(t, long, got)
}

func TestNameKeyCanonicalDoesNotAllocate(t *testing.T) {
	for _, name := range []string{"杭州示例科技有限公司", "示例(杭州)科技有限公司", "example tech co.,ltd.", "微软·中国"} {
		require.True(t, plainNameKey(name), name)
		n := testing.AllocsPerRun(100, func() {
			if got, ok := nameKey(name); !ok || got != name {
				t.Fatal(name)
			}
		})
		assert.Zero(t, n, name)
	}
}

// FuzzNameKey checks nameKey: never a panic; ValidName and Key agree with
// it; a key is valid UTF-8, 1 to maxNameKey bytes, NFKC, without control or
// format characters, spaces only single and inside, its own key; the name
// with spaces and invisible characters around has the same key.
func FuzzNameKey(f *testing.F) {
	for _, s := range []string{"杭州示例科技有限公司", "Café  (Hangzhou)", "Ｃａｆé（Ｈ）", "\u202e示例", "\xff", "ΟΔΟΣ", " \u0301x", "ﬃ",
		"示例（杭州）科技有限公司\u3000", "ＡＢＣ\u3000\u3000示例", "（\u0301）", "Ｈ\x00", "杭 州 示 例", "Co. , Ltd",
		"e\u2065\u0301", "a \u2065 b", "\u2800", "x\u2800y", "\U000e0041", "삼성 전자", "微软 · 中国"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, ok := nameKey(s)
		if v := ValidName(s); v != ok {
			t.Fatalf("%q has key %q, %v, but ValidName says %v", s, key, ok, v)
		}
		if k, o := Key(s, ID{}); k != "name:"+key && o || o != ok {
			t.Fatalf("%q has key %q, %v, but Key gives %q, %v", s, key, ok, k, o)
		}
		if len(s) <= maxNameInput {
			// The fast paths agree with the general one.
			if k, o := foldName(s); k != key || o != ok {
				t.Fatalf("%q has key %q, %v, but in general %q, %v", s, key, ok, k, o)
			}
		}
		// The key the version before gave, keyed again, is the key:
		// a store's upgrade has only that.
		if old, o := v6NameKey(s); o {
			if again, o := nameKey(old); ok && (!o || again != key) {
				t.Fatalf("%q has key %q, but its old key %q has %q, %v", s, key, old, again, o)
			}
		}
		if !ok {
			if key != "" {
				t.Fatalf("refused %q as %q", s, key)
			}
			return
		}
		if key == "" || len(key) > maxNameKey || !utf8.ValidString(key) || !norm.NFKC.IsNormalString(key) {
			t.Fatalf("%q has key %q", s, key)
		}
		if key[0] == ' ' || key[len(key)-1] == ' ' || strings.Contains(key, "  ") {
			t.Fatalf("%q has key %q, spaced", s, key)
		}
		for _, r := range key {
			if r != ' ' && unicode.IsSpace(r) || unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || ignorable(r) {
				t.Fatalf("%q has key %q, with %U", s, key, r)
			}
		}
		if again, ok := nameKey(key); !ok || again != key {
			t.Fatalf("not idempotent: %q, %q, %q", s, key, again)
		}
		if len(s) <= maxNameInput-9 {
			padded := "\u3000\u200b" + s + " \ufeff"
			if again, ok := nameKey(padded); !ok || again != key {
				t.Fatalf("%q has key %q, but %q has %q", s, key, padded, again)
			}
		}
	})
}

// TestNarrowNameKey: for names of ASCII, CJK ideographs, the middle
// dot, full-width forms and the ideographic space, the fast path gives the
// key of the general one, in one allocation.
func TestNarrowNameKey(t *testing.T) {
	alphabet := []rune("aZ09 (),.-&\t\n\x01\x7f·示例杭州㐀（）Ａｚ０＆\u3000\uff5e\uff01")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		r := make([]rune, rng.IntN(12))
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		name := string(r)
		key, ok, done := narrowNameKey("", name)
		require.True(t, done, "%+q", name)
		want, wantOK := foldName(name)
		require.Equal(t, wantOK, ok, "%+q", name)
		require.Equal(t, want, key, "%+q", name)
	}
	for _, name := range []string{"Café", "\u202e示", "示\u0301", "\xff", "示例\uff5f"} {
		_, _, done := narrowNameKey("", name)
		assert.False(t, done, "%+q is not for the fast path", name)
	}
	long := strings.Repeat("Ａ", maxNameKey+1)
	_, ok, done := narrowNameKey("", long)
	assert.True(t, done)
	assert.False(t, ok, "a key over %d bytes", maxNameKey)
	n := testing.AllocsPerRun(100, func() { prefixedNameKey("name:", "示例（杭州）科技有限公司\u3000") })
	assert.Equal(t, 1.0, n)
}

func BenchmarkNameKey(b *testing.B) {
	for _, bm := range []struct{ name, in string }{
		{"canonical", "杭州示例科技有限公司"},
		{"canonical-long", "示例(杭州)网络科技股份有限公司北京分公司"},
		{"canonical-latin", "example tech(hangzhou)co.,ltd."}, // canonical: no space next to punctuation
		{"full-width", "示例（杭州）科技有限公司\u3000"},
		{"latin-mixed-case", "Example Tech (Hangzhou) Co., Ltd."},
		{"latin-accented", "Café Tech (Hangzhou) Co., Ltd."},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := nameKey(bm.in); !ok {
					b.Fatal(bm.in)
				}
			}
		})
	}
}

func TestNameKeyCherokee(t *testing.T) {
	// Cherokee small letters fold to capitals (CaseFolding.txt), capitals
	// to themselves.
	for _, in := range []string{"\u13a0\u13f0", "\uab70\u13f8", "\u13a0\u13f8"} {
		got, ok := nameKey(in)
		require.True(t, ok)
		assert.Equal(t, "\u13a0\u13f0", got, "%+q", in)
	}
}

// TestNameKeyEveryRune checks, for every rune of the planes with case
// and decompositions (the basic and supplementary multilingual planes, the
// CJK compatibility ideographs supplement, tags and variation selectors),
// alone, before a combining acute accent and after a capital A, that
// nameKey either refuses it or gives a key that is its own key. Runes
// without case, decomposition or combining class, which stay as they are
// whatever surrounds them, are skipped.
func TestNameKeyEveryRune(t *testing.T) {
	if testing.Short() {
		t.Skip("130,000 runes")
	}
	bad := 0
	for _, span := range [][2]rune{{0, 0x1FFFF}, {0x2F800, 0x2FA1F}, {0xE0000, 0xE01EF}} {
		for r := span[0]; r <= span[1] && bad < 10; r++ {
			if !utf8.ValidRune(r) || plainRune(r) {
				continue
			}
			for _, s := range []string{string(r), string(r) + "\u0301", "A" + string(r)} {
				key, ok := nameKey(s)
				if !ok {
					continue
				}
				if again, ok := nameKey(key); !ok || again != key {
					t.Errorf("%+q has key %+q, whose key is %+q, %v", s, key, again, ok)
					bad++
				}
			}
		}
	}
}

// plainRune reports whether r has no case, no decomposition, does not
// combine with what precedes it, and is neither white space nor a control,
// format or invisible character.
func plainRune(r rune) bool {
	p := norm.NFKC.PropertiesString(string(r))
	return unicode.SimpleFold(r) == r && p.Decomposition() == nil && p.CCC() == 0 && p.BoundaryBefore() &&
		!unicode.IsSpace(r) && !unicode.In(r, unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me) && !ignorable(r)
}

func TestNameKeyASCIIBounds(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		ok       bool
	}{
		{"longest", strings.Repeat("A", maxNameKey), true},
		{"too long", strings.Repeat("A", maxNameKey+1), false},
		{"spaces at the end dropped", strings.Repeat("A ", maxNameKey/2) + "  ", true}, // 255 bytes
		{"space at the bound", strings.Repeat("A", maxNameKey-1) + " B", false},
		{"collapsed to the bound", "A" + strings.Repeat("   A", maxNameKey/2-1) + "B", true}, // 256 bytes
		{"collapsed beyond the bound", "A" + strings.Repeat("   A", maxNameKey/2) + "B", false},
		{"only controls", "\x01", false},
		{"vertical tab", "A\vB", false},
		{"DEL", "A\x7fB", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key, ok := nameKey(tt.in)
			k, o := foldName(tt.in)
			assert.Equal(t, k, key)
			assert.Equal(t, o, ok)
			assert.Equal(t, tt.ok, ok)
			assert.LessOrEqual(t, len(key), maxNameKey)
		})
	}
}
