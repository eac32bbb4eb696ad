package subject

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// v6NameKey is the canonical name of the version of this package before
// names dropped every default-ignorable code point and the space next to
// CJK characters and ASCII punctuation (that of schema version 6 of the SQL
// store), kept here so that the tests can check that keying an old key
// again gives the key of the name it came from: a store's upgrade has only
// the old key.
func v6NameKey(name string) (string, bool) {
	if len(name) > maxNameInput || !utf8.ValidString(name) {
		return "", false
	}
	b := make([]byte, 0, len(name))
	for _, r := range name {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b = append(b, ' ')
		case v6Invisible(r):
		case v6Refused(r):
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
		case v6Invisible(r) || v6Refused(r):
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

func v6Invisible(r rune) bool {
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

func v6Refused(r rune) bool {
	if r < 0x20 || 0x7F <= r && r < 0xA0 {
		return true
	}
	return r >= 0xAD && unicode.Is(unicode.Cf, r)
}
