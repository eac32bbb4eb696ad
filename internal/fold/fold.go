// Package fold folds what input methods and copies put into a typed code
// or certificate number, so that the code formats and the subject keys of
// the module read plain ASCII.
package fold

import "unicode/utf8"

// MaxInput bounds, in bytes, what InputForms reads: room for a code
// or a certificate number typed in full-width forms (three bytes each) with
// generous spacing. Longer input is refused unread.
const MaxInput = 1024

// InputForms folds what an input method or a copy from a web page or a
// document puts into a typed code or certificate number, so that the
// formats see plain ASCII:
//
//   - full-width ASCII forms U+FF01..U+FF5E become their ASCII twins
//     ("ＡＢ１２" is "AB12", U+FF0D "－" is "-");
//   - the ideographic space U+3000 and the no-break spaces U+00A0, U+2007
//     and U+202F become a space;
//   - Unicode dashes (U+2010..U+2015, U+2212 minus, U+2E3A/U+2E3B, U+30FC
//     the katakana-hiragana prolonged sound mark that Japanese and some
//     Chinese input methods give for "-", U+FE58, U+FE63 and U+FF70) become
//     "-";
//   - line breaks (CR, LF, U+0085, U+2028, U+2029), as in a code that was
//     wrapped when copied, become "-", a separator in every format;
//   - the zero-width space U+200B, the word joiner U+2060 and the byte
//     order mark U+FEFF, which copies carry invisibly, are dropped.
//
// A tab is kept. It reports false if s is longer than MaxInput bytes,
// is not valid UTF-8, or holds any other character outside printable ASCII
// (a control character, a letter of another script): the result, when
// true, is only printable ASCII and tabs. Input that needs no folding is
// returned as it is, without allocating.
func InputForms(s string) (string, bool) {
	if len(s) > MaxInput {
		return "", false
	}
	i := 0
	for i < len(s) && plainASCII(s[i]) {
		i++
	}
	if i == len(s) {
		return s, true
	}
	var buf [64]byte
	b, ok := Append(buf[:0], s)
	if !ok {
		return "", false
	}
	return string(b), true
}

// plainASCII reports whether InputForms keeps byte c as it is.
func plainASCII(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' }

// Append appends the folded form of s (see InputForms) to dst and reports
// whether s folds; on false, dst holds what was folded before the refusal.
// It does not bound the length of s.
func Append(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case plainASCII(c):
				dst = append(dst, c)
			case c == '\r' || c == '\n':
				dst = append(dst, '-')
			default:
				return dst, false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == utf8.RuneError { // n == 1: RuneError itself is not foldable either
			return dst, false
		}
		f, keep := foldRune(r)
		if !keep {
			continue
		}
		if f < 0 {
			return dst, false
		}
		dst = append(dst, byte(f))
	}
	return dst, true
}

// foldRune maps a non-ASCII rune to the ASCII byte InputForms folds it
// to, or -1 if it has none; keep is false for a rune that is dropped.
func foldRune(r rune) (f rune, keep bool) {
	switch r {
	case 0x3000, 0x00A0, 0x2007, 0x202F: // spaces
		return ' ', true
	case 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0x2E3A, 0x2E3B,
		0x30FC, 0xFE58, 0xFE63, 0xFF70: // dashes
		return '-', true
	case 0x0085, 0x2028, 0x2029: // line breaks
		return '-', true
	case 0x200B, 0x2060, 0xFEFF: // invisible
		return 0, false
	}
	if 0xFF01 <= r && r <= 0xFF5E {
		return r - 0xFEE0, true
	}
	return -1, true
}
