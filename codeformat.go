package icpverify

import (
	"fmt"
	"io"
)

// A CodeFormat is a format of ICP filing service codes: how a typed code is
// read and how a new one is made. DefaultCodeFormat is the library's own;
// InventoryCodeFormat reads the codes a provider already has in its own
// format. A store holds codes in their format's canonical form, so a
// provider importing its inventory normalizes each code with the same
// format first.
//
// Every format first folds what input methods and copies put into a typed
// code: full-width letters, digits and signs (U+FF01..U+FF5E) are read as
// ASCII, the ideographic space U+3000 and no-break spaces as spaces,
// Unicode dashes and minus signs (U+2010..U+2015, U+2212, U+FF0D, U+30FC
// among them) as "-", and line breaks (CR, LF, U+2028) as "-", a separator;
// zero-width spaces and byte order marks are dropped.
//
// A CodeFormat must be safe for concurrent use; the library's are.
type CodeFormat interface {
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

// DefaultCodeFormat returns the library's own service-code format, the one
// of NormalizeServiceCode: 16 symbols of Crockford's base-32 alphabet (no
// I, L, O or U) in four dash-separated groups, "7KQ2-M9XD-4TRB-WH6Q", the
// last a check symbol, so that a code with one symbol wrong or two
// neighbours swapped is refused offline. Case, spaces and dashes are
// ignored in a typed code, O is read as 0 and I and L as 1; New draws 75
// random bits. Normalize does not allocate for a code in canonical form.
func DefaultCodeFormat() CodeFormat { return checkedFormat{} }

// checkedFormat is the default format, that of NormalizeServiceCode.
type checkedFormat struct{}

// Normalize implements CodeFormat.
func (checkedFormat) Normalize(typed string) (string, bool) {
	if c, ok := normalizeCode(typed); ok {
		return c, true
	}
	f, ok := foldInputForms(typed)
	if !ok || len(f) == len(typed) && f == typed {
		return "", false
	}
	return normalizeCode(f)
}

// New implements CodeFormat.
func (checkedFormat) New(rand io.Reader) (string, error) { return newCode(rand) }

// InventoryOptions sets the bounds of an inventory format. The zero value
// is the default: codes of 8 to 64 letters and digits, dashes kept.
type InventoryOptions struct {
	// MinSymbols is the fewest letters and digits of a code; 0 means 8.
	MinSymbols int
	// MaxSymbols is the most letters and digits of a code; 0 means 64.
	// It is at most 256.
	MaxSymbols int
	// IgnoreDashes makes a code's canonical form its letters and digits
	// alone, so "4F9F-0D9C", "4F9F 0D9C" and "4F9F0D9C" are one code,
	// however the user groups it or a copy wraps it. Without it, dashes are
	// part of the code: suited to codes shown in dash-separated groups, but
	// a code without dashes typed in groups, or wrapped across lines, then
	// reads as another.
	IgnoreDashes bool
}

const (
	defaultMinSymbols   = 8
	defaultMaxSymbols   = 64
	maxInventorySymbols = 256
	// inventoryNewSymbols is the length of a code an inventory format makes:
	// 20 symbols of 5 bits, 100 random bits.
	inventoryNewSymbols = 20
)

// InventoryCodeFormat returns a format for codes a provider already has,
// such as Alibaba Cloud's hex groups "4f9f0d9c-5b3e-…" or 20 letters and
// digits: it accepts codes as they are and checks nothing offline but
// their characters and length; whether a code exists is the store's to
// say.
//
// A code is ASCII letters, digits and dashes, of o.MinSymbols to
// o.MaxSymbols letters and digits, case-insensitive. Its canonical form is
// upper case; spaces, tabs and dashes (and whatever folds to them) at
// either end are dropped, and inside the code each run of them is one
// dash, or, with o.IgnoreDashes, none. A MinSymbols below 1 is 8, a
// MaxSymbols below 1 is 64 and one above 256 is 256, and a MinSymbols above
// MaxSymbols is MaxSymbols.
//
// New makes 20 symbols (or MinSymbols if more, MaxSymbols if fewer) of
// Crockford's base-32 alphabet, which has no I, L, O or U to misread, one
// random byte each.
func InventoryCodeFormat(o InventoryOptions) CodeFormat {
	if o.MinSymbols < 1 {
		o.MinSymbols = defaultMinSymbols
	}
	if o.MaxSymbols < 1 {
		o.MaxSymbols = defaultMaxSymbols
	}
	o.MaxSymbols = min(o.MaxSymbols, maxInventorySymbols)
	o.MinSymbols = min(o.MinSymbols, o.MaxSymbols)
	return inventoryFormat{min: o.MinSymbols, max: o.MaxSymbols, ignoreDashes: o.IgnoreDashes}
}

// inventoryFormat is the format of InventoryCodeFormat.
type inventoryFormat struct {
	min, max     int
	ignoreDashes bool
}

// Normalize implements CodeFormat.
func (f inventoryFormat) Normalize(typed string) (string, bool) {
	if f.canonical(typed) {
		return typed, true
	}
	if len(typed) > maxFoldInput {
		return "", false
	}
	var buf [maxFoldInput]byte
	s, ok := appendFolded(buf[:0], typed)
	if !ok {
		return "", false
	}
	// The code is written over the folded input: it never outruns it, as
	// each dash it writes stands for at least one separator read.
	b := s[:0]
	symbols, dash := 0, false
	for i := range len(s) {
		c := s[i]
		switch {
		case c == '-' || c == ' ' || c == '\t':
			dash = len(b) > 0 && !f.ignoreDashes
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
		default:
			return "", false
		}
		if symbols == f.max {
			return "", false
		}
		if dash {
			b = append(b, '-')
			dash = false
		}
		b = append(b, c)
		symbols++
	}
	if symbols < f.min {
		return "", false
	}
	return string(b), true
}

// canonical reports whether s is a code of f in canonical form.
func (f inventoryFormat) canonical(s string) bool {
	if len(s) > 2*f.max {
		return false
	}
	symbols, dash := 0, true // no dash at the start
	for i := range len(s) {
		switch c := s[i]; {
		case c == '-':
			if dash || f.ignoreDashes {
				return false
			}
			dash = true
		case 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
			symbols++
			dash = false
		default:
			return false
		}
	}
	return !dash && f.min <= symbols && symbols <= f.max
}

// New implements CodeFormat.
func (f inventoryFormat) New(rand io.Reader) (string, error) {
	b := make([]byte, min(max(inventoryNewSymbols, f.min), f.max))
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("icpverify: drawing a service code: %w", err)
	}
	for i, r := range b {
		b[i] = codeAlphabet[r&31] // 256 is a multiple of 32: uniform
	}
	return string(b), nil
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
