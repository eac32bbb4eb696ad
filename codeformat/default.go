package codeformat

import (
	"fmt"
	"io"

	"github.com/icpfiling/icpverify/internal/fold"
)

// Default returns the module's own service-code format, the one of
// Normalize: 16 symbols of Crockford's base-32 alphabet (no I, L, O or U)
// in four dash-separated groups, "7KQ2-M9XD-4TRB-WH6Q", the last a check
// symbol, so that a code with one symbol wrong or two neighbours swapped is
// refused offline. Case, spaces and dashes are ignored in a typed code, O
// is read as 0 and I and L as 1; New draws 75 random bits. Normalize does
// not allocate for a code in canonical form.
func Default() Format { return checkedFormat{} }

// checkedFormat is the Default format.
type checkedFormat struct{}

// Normalize implements Format.
func (checkedFormat) Normalize(typed string) (string, bool) {
	if c, ok := normalizeCode(typed); ok {
		return c, true
	}
	f, ok := fold.InputForms(typed)
	if !ok || len(f) == len(typed) && f == typed {
		return "", false
	}
	return normalizeCode(f)
}

// New implements Format.
func (checkedFormat) New(rand io.Reader) (string, error) { return newCode(rand) }

// A code of the Default format is 16 symbols of Crockford's base-32 alphabet, shown in
// four groups of four: "7KQ2-M9XD-4TRB-WH6Q". The alphabet has no I, L, O or
// U, so a code read aloud or copied by hand has no look-alike characters. The
// first 15 symbols are random (75 bits from crypto/rand); the last is a check
// symbol that makes every code's checksum zero, so a code with one symbol
// wrong or two neighbours swapped is refused offline.
const (
	codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeSymbols  = 16
	codeLen      = codeSymbols + codeSymbols/4 - 1 // with dashes
	// maxCodeInput bounds what is read of a typed code: 16 symbols and
	// generous room for the spaces and dashes a user may add.
	maxCodeInput = 64
)

// codeValue maps a typed byte to its symbol value, or -1. Lower case reads as
// upper case, O as 0 and I and L as 1, as in Crockford's base 32.
var codeValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for v, c := range []byte(codeAlphabet) {
		t[c] = int8(v)
		t[c|0x20] = int8(v) // lower case; digits are unchanged by the bit
	}
	t['O'], t['o'] = 0, 0
	t['I'], t['i'], t['L'], t['l'] = 1, 1, 1, 1
	return t
}()

// mulx multiplies a checksum by x in GF(32) modulo x^5+x^2+1. Because the
// checksum is a polynomial over a field, any single wrong symbol and any swap
// of two different neighbouring symbols changes it.
func mulx(h byte) byte {
	h <<= 1
	if h&0x20 != 0 {
		h ^= 0x25
	}
	return h
}

// decodeCode reads a typed code into its symbol values, skipping spaces,
// tabs and dashes, and reports whether it is a well-formed code and whether
// it was typed in the canonical form.
func decodeCode(s string, v *[codeSymbols]byte) (ok, canonical bool) {
	if len(s) > maxCodeInput {
		return false, false
	}
	canonical = len(s) == codeLen
	n := 0
	var h byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == ' ' || c == '\t' {
			canonical = canonical && c == '-' && i%5 == 4
			continue
		}
		d := codeValue[c]
		if d < 0 || n == codeSymbols {
			return false, false
		}
		canonical = canonical && i%5 != 4 && codeAlphabet[d] == c
		v[n] = byte(d)
		h = mulx(h) ^ byte(d)
		n++
	}
	return n == codeSymbols && h == 0, canonical
}

// encodeCode writes symbol values in the canonical form.
func encodeCode(v *[codeSymbols]byte) string {
	var b [codeLen]byte
	j := 0
	for i, d := range v {
		if i > 0 && i%4 == 0 {
			b[j] = '-'
			j++
		}
		b[j] = codeAlphabet[d]
		j++
	}
	return string(b[:])
}

// normalizeCode is Normalize without folding input forms.
func normalizeCode(code string) (string, bool) {
	var v [codeSymbols]byte
	ok, canonical := decodeCode(code, &v)
	switch {
	case !ok:
		return "", false
	case canonical:
		return code, true
	}
	return encodeCode(&v), true
}

// newCode draws a random code from r.
func newCode(r io.Reader) (string, error) {
	var raw [10]byte // 80 bits, of which 75 are used
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("codeformat: drawing a code: %w", err)
	}
	var v [codeSymbols]byte
	var acc uint64
	bits := 0
	k := 0
	var h byte
	for i := 0; i < codeSymbols-1; i++ {
		if bits < 5 {
			acc = acc<<8 | uint64(raw[k])
			k++
			bits += 8
		}
		bits -= 5
		v[i] = byte(acc>>bits) & 31
		h = mulx(h) ^ v[i]
	}
	v[codeSymbols-1] = mulx(h)
	return encodeCode(&v), nil
}
