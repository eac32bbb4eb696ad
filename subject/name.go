package subject

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

const (
	// maxNameInput bounds, in bytes, the subject name nameKey reads:
	// room for a name in decomposed or full-width forms, with padding.
	maxNameInput = 1024
	// maxNameKey bounds, in bytes, the canonical form of a name: 85 Chinese
	// characters.
	maxNameKey = 256
)

// caseFold is Unicode full case folding; the Caser is stateless and safe
// for concurrent use.
var caseFold = cases.Fold()

// nameKey returns the key under which a filing subject is known by its
// name, when no ID is given, and reports whether the name can be a key: the
// canonical form that Key describes. It reports false for a name that is
// longer than 1024 bytes, not valid UTF-8, holds a control character other
// than a tab or line break (C0, DEL, C1, and so escape sequences), a
// bidirectional control (U+061C, U+200E, U+200F, U+202A..U+202E,
// U+2066..U+2069), which makes a name display other than it reads, or a
// format character that is not default-ignorable (such as U+FFF9..U+FFFB
// and the Arabic number signs), or whose key is empty or longer than 256
// bytes. A key is its own key; one already in that form, such as a Chinese
// company name of ideographs and printable ASCII, is returned as it is,
// without allocating.
func nameKey(name string) (string, bool) { return prefixedNameKey("", name) }

// prefixedNameKey returns prefix followed by the nameKey of name, in
// one allocation unless name needs more than ASCII folding (none if prefix
// is empty and name is a key already).
func prefixedNameKey(prefix, name string) (string, bool) {
	if len(name) > maxNameInput {
		return "", false
	}
	if plainNameKey(name) {
		return prefix + name, true
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			if key, ok, done := narrowNameKey(prefix, name); done {
				return key, ok
			}
			key, ok := foldName(name)
			if !ok {
				return "", false
			}
			return prefix + key, true
		}
	}
	return asciiNameKey(prefix, name)
}

// asciiNameKey is prefix followed by the nameKey of a name in ASCII,
// which normalization leaves as it is and case folding lowers, built in one
// allocation.
func asciiNameKey(prefix, s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(prefix) + min(len(s), maxNameKey+1))
	b.WriteString(prefix)
	n, space, last := 0, false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = n > 0
			continue
		case c < 0x20 || c == 0x7f:
			return "", false
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if space && asciiWord(last) && asciiWord(c) {
			b.WriteByte(' ')
			n++
		}
		space, last = false, c
		b.WriteByte(c)
		if n++; n > maxNameKey {
			return "", false
		}
	}
	if n == 0 {
		return "", false
	}
	return b.String(), true
}

// asciiWord reports whether c is an ASCII letter or digit: a space between
// two of them is kept in a key, and a space next to anything else in ASCII
// (punctuation) is not.
func asciiWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// ValidName reports whether name can name a subject, that is whether Key
// accepts it without an ID: valid UTF-8 of at most 1024 bytes, without
// control characters other than tabs and line breaks, bidirectional
// controls or format characters that are not default-ignorable (zero-width
// spaces, joiners and other default-ignorable characters are dropped), and
// neither empty nor longer than 256 bytes once in canonical form. It does
// not allocate for a name in ASCII or already in canonical form, such as a
// Chinese company name of ideographs and printable ASCII.
func ValidName(name string) bool {
	if len(name) > maxNameInput {
		return false
	}
	if plainNameKey(name) {
		return true
	}
	// The length of the key so far, as asciiNameKey builds it.
	n, space, last := 0, false, byte(0)
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= utf8.RuneSelf:
			if _, ok, done := narrowNameKey("", name); done {
				return ok
			}
			_, ok := foldName(name)
			return ok
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = n > 0
			continue
		case c < 0x20 || c == 0x7f:
			return false
		default:
			if space && asciiWord(last) && asciiWord(c) {
				n++
			}
			space, last = false, c
			n++
		}
	}
	return n > 0 && n <= maxNameKey
}

// narrowNameKey is prefixedNameKey of a name made only of ASCII, the
// middle dot U+00B7, CJK unified ideographs (U+3400..U+4DBF,
// U+4E00..U+9FFF), full-width ASCII forms (U+FF01..U+FF5E) and the
// ideographic space U+3000, as a Chinese company name typed with an input
// method is: NFKC narrows the full-width forms to ASCII and the space to
// U+0020, and case folding lowers ASCII letters, so the key is built here,
// in one allocation, without x/text. done is false, and nothing decided,
// for a name with any other character.
func narrowNameKey(prefix, s string) (key string, ok, done bool) {
	var b strings.Builder
	b.Grow(len(prefix) + min(len(s), maxNameKey+4))
	b.WriteString(prefix)
	n, space, last := 0, false, rune(0)
	for _, r := range s {
		switch {
		case 0xFF01 <= r && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		}
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			space = n > 0
			continue
		case r < 0x20 || r == 0x7F:
			return "", false, true
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r < 0x7F || r == 0xB7 || 0x3400 <= r && r <= 0x4DBF || 0x4E00 <= r && r <= 0x9FFF:
		default:
			return "", false, false
		}
		// Of this alphabet, only ASCII letters and digits keep a space
		// between them.
		if space && last < utf8.RuneSelf && asciiWord(byte(last)) && r < utf8.RuneSelf && asciiWord(byte(r)) {
			b.WriteByte(' ')
			n++
		}
		space, last = false, r
		b.WriteRune(r)
		if n += utf8.RuneLen(r); n > maxNameKey {
			return "", false, true
		}
	}
	if n == 0 {
		return "", false, true
	}
	return b.String(), true, true
}

// foldName is nameKey of a name of at most maxNameInput
// bytes, in general.
func foldName(name string) (string, bool) {
	if !utf8.ValidString(name) {
		return "", false
	}
	b := make([]byte, 0, len(name))
	for _, r := range name {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == blankBraille:
			b = append(b, ' ')
		case ignorable(r):
		case refusedInName(r):
			return "", false
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	k := norm.NFKC.String(caseFold.String(norm.NFKC.String(string(b))))
	b = b[:0]
	space, last := false, rune(0)
	for _, r := range k {
		switch {
		case unicode.IsSpace(r) || r == blankBraille:
			space = len(b) > 0
			continue
		case ignorable(r):
			continue
		case refusedInName(r):
			return "", false
		}
		r = cherokeeFold(r)
		if space && !tight(last) && !tight(r) {
			b = append(b, ' ')
		}
		space, last = false, r
		b = utf8.AppendRune(b, r)
	}
	if len(b) == 0 || len(b) > maxNameKey {
		return "", false
	}
	return string(b), true
}

// blankBraille is the blank Braille pattern U+2800, which is no white
// space in Unicode but shows as one: a name keys it as a space.
const blankBraille = 0x2800

// tight reports whether a space next to r is dropped from a key: r is a
// CJK character (a Han ideograph or radical, kana, Bopomofo, CJK symbols
// and punctuation U+3001..U+303F, the middle dots U+00B7 and U+30FB, the
// prolonged sound mark U+30FC), in whose writing spaces are not part of a
// name, or ASCII punctuation, around which spacing varies with the typist
// ("Co., Ltd." and "Co.,Ltd.").
func tight(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return r > ' ' && r < 0x7F && !asciiWord(byte(r))
	case r == 0xB7 || 0x3001 <= r && r <= 0x303F || r == 0x30FB || r == 0x30FC:
		return true
	case r < 0x2E80:
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Bopomofo)
}

// plainNameKey reports whether s is a subject key made only of printable
// ASCII other than upper-case letters, the middle dot U+00B7 and CJK
// unified ideographs (U+3400..U+4DBF, U+4E00..U+9FFF), which normalization
// and case folding leave as they are, with single spaces only between two
// ASCII letters or digits.
func plainNameKey(s string) bool {
	if s == "" || len(s) > maxNameKey {
		return false
	}
	// word: the last character was an ASCII letter or digit; space: it
	// was a space.
	word, space := false, false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ' ':
				if !word {
					return false
				}
				word, space = false, true
			case c < 0x21 || c > 0x7e || 'A' <= c && c <= 'Z':
				return false
			default:
				if space && !asciiWord(c) {
					return false
				}
				word, space = asciiWord(c), false
			}
			i++
			continue
		}
		if space {
			return false
		}
		// Three bytes led by E3..E9 with two continuation bytes are
		// U+3000..U+9FFF, never overlong nor a surrogate.
		if i+2 < len(s) && 0xE3 <= c && c <= 0xE9 && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
			r := rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
			if !(0x4E00 <= r || 0x3400 <= r && r <= 0x4DBF) {
				return false
			}
			i += 3
		} else if c == 0xC2 && i+1 < len(s) && s[i+1] == 0xB7 { // U+00B7
			i += 2
		} else {
			return false
		}
		word = false
	}
	return !space
}

// ignorable reports whether r is a default-ignorable code point that
// nameKey drops: Unicode's Default_Ignorable_Code_Point (Unicode 15.1,
// DerivedCoreProperties.txt), unassigned code points included, less the
// bidirectional controls, which refusedInName refuses.
func ignorable(r rune) bool {
	switch {
	case r < 0xAD:
		return false
	case r == 0xAD, r == 0x34F, r == 0x115F, r == 0x1160, r == 0x17B4, r == 0x17B5,
		0x180B <= r && r <= 0x180F, 0x200B <= r && r <= 0x200D, 0x2060 <= r && r <= 0x2065,
		0x206A <= r && r <= 0x206F, r == 0x3164, 0xFE00 <= r && r <= 0xFE0F, r == 0xFEFF,
		r == 0xFFA0, 0xFFF0 <= r && r <= 0xFFF8, 0x1BCA0 <= r && r <= 0x1BCA3,
		0x1D173 <= r && r <= 0x1D17A, 0xE0000 <= r && r <= 0xE0FFF:
		return true
	}
	return false
}

// bidiControl reports whether r is a bidirectional control (Unicode's
// Bidi_Control): the Arabic letter mark, the left-to-right and
// right-to-left marks, embeddings, overrides and isolates.
func bidiControl(r rune) bool {
	return r == 0x61C || r == 0x200E || r == 0x200F || 0x202A <= r && r <= 0x202E || 0x2066 <= r && r <= 0x2069
}

// refusedInName reports whether r may not be in a subject name: a control
// character (tabs and line breaks aside, which the caller turns into
// spaces), a bidirectional control, which makes a name display other than
// it reads, or a format character that is not default-ignorable, which
// shows.
func refusedInName(r rune) bool {
	if r < 0x20 || 0x7F <= r && r < 0xA0 {
		return true
	}
	return r >= 0xAD && (bidiControl(r) || !ignorable(r) && unicode.Is(unicode.Cf, r))
}

// cherokeeFold folds a Cherokee letter as Unicode's CaseFolding.txt does:
// small letters (U+13F8..U+13FD, U+AB70..U+ABBF) to capitals, capitals to
// themselves. The Caser of golang.org/x/text/cases (v0.44.0) folds the
// capitals to small letters and the small letters to capitals, so its
// folding of a folded name would be another name.
func cherokeeFold(r rune) rune {
	if 0x13A0 <= r && r <= 0x13FD || 0xAB70 <= r && r <= 0xABBF {
		return unicode.ToUpper(r)
	}
	return r
}
