package codeformat

import (
	"fmt"
	"io"

	"github.com/icpfiling/icpverify/internal/fold"
)

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

// Inventory returns a format for codes a provider already has,
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
func Inventory(o InventoryOptions) Format {
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

// inventoryFormat is the format of Inventory.
type inventoryFormat struct {
	min, max     int
	ignoreDashes bool
}

// Normalize implements Format.
func (f inventoryFormat) Normalize(typed string) (string, bool) {
	if f.canonical(typed) {
		return typed, true
	}
	if len(typed) > fold.MaxInput {
		return "", false
	}
	var buf [fold.MaxInput]byte
	s, ok := fold.Append(buf[:0], typed)
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

// New implements Format.
func (f inventoryFormat) New(rand io.Reader) (string, error) {
	b := make([]byte, min(max(inventoryNewSymbols, f.min), f.max))
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("codeformat: drawing a code: %w", err)
	}
	for i, r := range b {
		b[i] = codeAlphabet[r&31] // 256 is a multiple of 32: uniform
	}
	return string(b), nil
}
