package icpverify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// maxWebsite bounds, in bytes, a website key: the longest domain name
	// in its text form, without the root's trailing dot (RFC 1035).
	maxWebsite = 253
	// maxLabel bounds, in bytes, one label of a domain name.
	maxLabel = 63
	// maxWebsiteInput bounds, in bytes, the typed domain websiteKey reads.
	maxWebsiteInput = 1024
)

// websiteKey returns the key of a website by its domain name, and reports
// whether domain is a domain name. The key is the name in lower case,
// without a trailing dot, with full-width forms folded (ＥＸＡＭＰＬＥ．ｃｏｍ
// is example.com) and the ideographic full stops U+3002 and U+FF61 read
// as dots, white space at either end trimmed.
//
// It reports false unless the key is at most 253 bytes of two or more
// labels of 1 to 63 ASCII letters, digits and hyphens, none starting or
// ending with a hyphen, the last not all digits (so an IPv4 address is not
// a website): an empty name or label, a name not valid UTF-8, a control
// character, a scheme, port or path ("https://", ":8080", "/"), are
// refused.
//
// An internationalized name is taken in its ASCII form only, the A-label
// ("xn--fiqs8s" for "中国"): a name in Unicode letters is refused, not
// lowered, because one name must have one key and converting between the
// forms (IDNA, as golang.org/x/net/idna does) is the caller's. A key is its
// own key; one already in that form is returned as it is, without
// allocating.
func websiteKey(domain string) (string, bool) {
	if len(domain) > maxWebsiteInput {
		return "", false
	}
	if validHost(domain) {
		return domain, true
	}
	if !utf8.ValidString(domain) {
		return "", false
	}
	s := strings.TrimFunc(domain, unicode.IsSpace)
	var buf [maxWebsite + 1]byte
	b := buf[:0]
	for _, r := range s {
		if len(b) == len(buf) {
			return "", false
		}
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3002 || r == 0xFF61:
			r = '.'
		}
		switch {
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '.':
		default:
			return "", false
		}
		b = append(b, byte(r))
	}
	if len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if !validHost(b) {
		return "", false
	}
	return string(b), true
}

// validHost reports whether s is a website key: at most maxWebsite bytes
// of two or more dot-separated labels of 1 to maxLabel lower-case ASCII
// letters, digits and hyphens, no label starting or ending with a hyphen,
// the last label not all digits.
func validHost[T string | []byte](s T) bool {
	if len(s) > maxWebsite {
		return false
	}
	labels, start, digits := 0, 0, true
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			n := i - start
			if n == 0 || n > maxLabel || s[start] == '-' || s[i-1] == '-' {
				return false
			}
			labels++
			if i == len(s) {
				return labels >= 2 && !digits
			}
			start, digits = i+1, true
			continue
		}
		switch c := s[i]; {
		case '0' <= c && c <= '9':
		case 'a' <= c && c <= 'z' || c == '-':
			digits = false
		default:
			return false
		}
	}
	return false // not reached: the loop ends at i == len(s)
}
