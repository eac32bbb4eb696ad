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
// name, when no ID is given, and reports whether the name can be a
// key. Two spellings of one name have one key: the key is the name
//
//   - without invisible characters: soft hyphen U+00AD, combining grapheme
//     joiner U+034F, Mongolian free variation selectors and vowel separator
//     U+180B..U+180E, zero-width space, non-joiner and joiner
//     U+200B..U+200D, word joiner and invisible operators U+2060..U+2064,
//     variation selectors (U+FE00..U+FE0F, U+E0100..U+E01EF), the byte
//     order mark U+FEFF and the Hangul fillers;
//   - in Unicode normalization form NFKC, which folds full-width and
//     half-width forms ("（", "Ａ", U+3000) and composes decomposed letters;
//   - case-folded (Unicode full case folding, then NFKC again);
//   - with each run of white space (any Unicode White_Space, such as
//     U+3000, tabs and line breaks) replaced by one space, and none at
//     either end.
//
// It reports false for a name that is longer than 1024 bytes, not valid
// UTF-8, holds a control character other than a tab or line break (C0,
// DEL, C1, and so escape sequences) or a format character that is not
// invisible in the sense above (bidirectional marks, embeddings, overrides
// and isolates U+200E, U+200F, U+202A..U+202E, U+2066..U+2069, U+061C, tag
// characters), or whose key is empty or longer than 256 bytes. A key is
// its own key; one already in that form, such as a Chinese company name of
// ideographs and printable ASCII, is returned as it is, without allocating.
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
	n, space := 0, false
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
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
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

// ValidName reports whether name can name a subject, that is whether Key
// accepts it without an ID: valid UTF-8 of at most 1024 bytes, without
// control characters other than tabs and line breaks and without format
// characters such as bidirectional marks (zero-width spaces, joiners and
// other invisible characters are dropped), and neither empty nor longer
// than 256 bytes once in canonical form. It does not allocate for a name in
// ASCII or already in canonical form, such as a Chinese company name of
// ideographs and printable ASCII.
func ValidName(name string) bool {
	if len(name) > maxNameInput {
		return false
	}
	if plainNameKey(name) {
		return true
	}
	n, space := 0, false // the length of the key so far, as asciiNameKey builds it
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
		}
		if space {
			n++
			space = false
		}
		n++
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
	n, space := 0, false
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
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
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
		case r == '\t' || r == '\n' || r == '\r':
			b = append(b, ' ')
		case invisible(r):
		case refusedInName(r):
			return "", false
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	k := norm.NFKC.String(caseFold.String(norm.NFKC.String(string(b))))
	b = b[:0]
	space := false
	for _, r := range k {
		switch {
		case unicode.IsSpace(r):
			space = len(b) > 0
			continue
		case invisible(r) || refusedInName(r):
			return "", false
		case space:
			b = append(b, ' ')
			space = false
		}
		b = utf8.AppendRune(b, cherokeeFold(r))
	}
	if len(b) == 0 || len(b) > maxNameKey {
		return "", false
	}
	return string(b), true
}

// plainNameKey reports whether s is a subject key made only of printable
// ASCII other than upper-case letters, single inner spaces, the middle dot
// U+00B7 and CJK unified ideographs (U+3400..U+4DBF, U+4E00..U+9FFF),
// which normalization and case folding leave as they are.
func plainNameKey(s string) bool {
	if s == "" || len(s) > maxNameKey {
		return false
	}
	space := true // no space at the start
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ' ':
				if space {
					return false
				}
				space = true
			case c < 0x21 || c > 0x7e || 'A' <= c && c <= 'Z':
				return false
			default:
				space = false
			}
			i++
			continue
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
		space = false
	}
	return !space
}

// invisible reports whether r is a character that nameKey drops: it
// shows nothing, or nothing of its own.
func invisible(r rune) bool {
	switch {
	case r < 0xAD:
		return false
	case r == 0xAD, r == 0x34F, 0x180B <= r && r <= 0x180E, 0x200B <= r && r <= 0x200D,
		0x2060 <= r && r <= 0x2064, 0xFE00 <= r && r <= 0xFE0F, r == 0xFEFF,
		0xE0100 <= r && r <= 0xE01EF, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0:
		return true
	}
	return false
}

// refusedInName reports whether r may not be in a subject name: a control
// character (tabs and line breaks aside, which the caller turns into
// spaces) or a format character that invisible does not drop, such as the
// bidirectional controls that make a name display other than it reads.
func refusedInName(r rune) bool {
	if r < 0x20 || 0x7F <= r && r < 0xA0 {
		return true
	}
	return r >= 0xAD && unicode.Is(unicode.Cf, r)
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
