// Package codeformat reads and makes ICP filing service codes, the codes a
// cloud provider issues from an instance so that its owner can file a
// website on it.
//
// A Format says how a typed code is read and how a new one is made.
// Default is the module's own format, 16 symbols with a check symbol,
// "7KQ2-M9XD-4TRB-WH6Q", which Normalize reads; Inventory reads the codes a
// provider already has, in its own format. Mask hides all but the last
// symbols of a code, for logs and for anyone but the code's owner.
package codeformat

import "io"

// A Format is a format of ICP filing service codes: how a typed code is
// read and how a new one is made. Default is the module's own; Inventory
// reads the codes a provider already has in its own format. A store holds
// codes in their format's canonical form, so a provider importing its
// inventory normalizes each code with the same format first.
//
// Every format first folds what input methods and copies put into a typed
// code: full-width letters, digits and signs (U+FF01..U+FF5E) are read as
// ASCII, the ideographic space U+3000 and no-break spaces as spaces,
// Unicode dashes and minus signs (U+2010..U+2015, U+2212, U+FF0D, U+30FC
// among them) as "-", and line breaks (CR, LF, U+2028) as "-", a separator;
// zero-width spaces and byte order marks are dropped.
//
// A Format must be safe for concurrent use; the package's are.
type Format interface {
	// Normalize returns the canonical form of a typed code and reports
	// whether it is well formed in this format; it reads nothing but the
	// code. A code already in canonical form is returned unchanged, and the
	// canonical form of a canonical code is itself.
	Normalize(typed string) (code string, ok bool)
	// New makes a new code, in canonical form, from the random bytes of
	// rand, which should be of crypto quality (crypto/rand.Reader). It
	// fails only if rand fails.
	New(rand io.Reader) (string, error)
}

// Normalize returns the canonical form of a typed code of the Default
// format: upper case, in four dash-separated groups of four, with O read
// as 0 and I and L as 1, and the forms input methods type folded (see
// Format). It reports false if code is not well formed: 16 symbols of the
// code alphabet whose check symbol matches, spaces and dashes anywhere
// aside. Stores keep codes in this form; a code already in it is returned
// as it is, without allocating.
func Normalize(code string) (string, bool) {
	return checkedFormat{}.Normalize(code)
}

// Mask returns a form of a code typed in format f safe to log or show to
// someone other than its owner: its canonical form with, of its n letters
// and digits, only the last min(4, n/4) shown and the others "*", and its
// dashes where they are, so the grouping shows. A code of the Default
// format shows its last 4 symbols, the last of them the check symbol, as
// in "****-****-****-WH6Q"; one of 32 hex digits in groups shows
// "********-****-****-****-********3B6C". Input that f does not read as a
// well-formed code is hidden whole, as "****". A nil f is Default().
func Mask(f Format, code string) string {
	if f == nil {
		f = checkedFormat{}
	}
	c, ok := f.Normalize(code)
	if !ok {
		return "****"
	}
	return maskCode(c)
}

// maskCode returns a form of a code in canonical form, of any format, safe
// to log or show to someone other than its owner: of its n letters and
// digits only the last min(4, n/4) are shown, the others are "*", and
// dashes stay where they are, so the grouping shows ("****-****-****-WH6Q",
// "********-****-****-****-********1A2B" for a code of 32 hex digits). At
// most 4 symbols, and at most a quarter, of any code are shown. Anything but
// ASCII letters, digits and dashes, or more than 511 bytes, is hidden whole
// as "****".
func maskCode(canonical string) string {
	if len(canonical) == codeLen && canonical[4] == '-' && canonical[9] == '-' && canonical[14] == '-' {
		// The default format's: one concatenation.
		c := canonical[15:]
		if validSymbols(canonical[:4]) && validSymbols(canonical[5:9]) && validSymbols(canonical[10:14]) && validSymbols(c) {
			return "****-****-****-" + c
		}
	}
	if len(canonical) > 2*maxInventorySymbols-1 {
		return "****"
	}
	n := 0
	for i := range len(canonical) {
		switch c := canonical[i]; {
		case c == '-':
		case 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			n++
		default:
			return "****"
		}
	}
	if n == 0 {
		return "****"
	}
	hidden := n - min(4, n/4)
	var buf [32]byte
	b := buf[:0]
	if len(canonical) > len(buf) {
		b = make([]byte, 0, len(canonical))
	}
	for i := range len(canonical) {
		switch c := canonical[i]; {
		case c == '-':
			b = append(b, '-')
		case hidden > 0:
			b = append(b, '*')
			hidden--
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// validSymbols reports whether s holds only ASCII letters and digits.
func validSymbols(s string) bool {
	for i := range len(s) {
		if c := s[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
