package codeformat

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/icpfiling/icpverify/internal/fold"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustCode(t testing.TB) string {
	t.Helper()
	c, err := newCode(rand.Reader)
	require.NoError(t, err)
	return c
}

// canonical reports whether s is a well-formed code of the default format
// in canonical form.
func canonical(s string) bool {
	var v [codeSymbols]byte
	ok, c := decodeCode(s, &v)
	return ok && c
}

// valid reports whether s is a well-formed code of the default format.
func valid(s string) bool {
	_, ok := Normalize(s)
	return ok
}

// allPlain reports whether s is printable ASCII and tabs, what folding
// keeps as it is.
func allPlain(s string) bool {
	for i := range len(s) {
		if c := s[i]; !(c >= 0x20 && c < 0x7f || c == '\t') {
			return false
		}
	}
	return true
}

func TestNewCodeIsWellFormed(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		c := mustCode(t)
		require.Len(t, c, codeLen)
		require.True(t, canonical(c), c)
		require.True(t, valid(c), c)
		for _, bad := range "ILOU" {
			require.NotContains(t, c, string(bad))
		}
		require.False(t, seen[c], "duplicate code %s", c)
		seen[c] = true
	}
}

func TestNewCodeUsesAllRandomBits(t *testing.T) {
	// 10 bytes of 0xff give 15 symbols of 31 (Z): every random bit lands
	// in the code, none is dropped.
	c, err := newCode(bytes.NewReader(bytes.Repeat([]byte{0xff}, 10)))
	require.NoError(t, err)
	assert.Equal(t, "ZZZZ-ZZZZ-ZZZZ-ZZZ", c[:codeLen-1])
	c0, err := newCode(bytes.NewReader(make([]byte, 10)))
	require.NoError(t, err)
	assert.Equal(t, "0000-0000-0000-0000", c0) // checksum of zeros is zero
}

func TestNewCodeShortRandom(t *testing.T) {
	_, err := newCode(bytes.NewReader([]byte{1, 2, 3}))
	require.Error(t, err)
}

func TestNormalizeWellFormed(t *testing.T) {
	c := mustCode(t)
	plain := strings.ReplaceAll(c, "-", "")
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"canonical", c, true},
		{"lower case", strings.ToLower(c), true},
		{"no dashes", plain, true},
		{"spaces around", "  " + c + "\t", true},
		{"spaces inside", strings.ReplaceAll(c, "-", " "), true},
		{"empty", "", false},
		{"only dashes", "----", false},
		{"too short", c[:codeLen-1], false},
		{"too long", c + "0", false},
		{"U is not a symbol", "U" + c[1:], false},
		{"non-ASCII", "Ж" + c[1:], false},
		{"full-width folds", string(rune(c[0])+0xFEE0) + c[1:], true},
		{"full-width other", "７" + c[1:], c[0] == '7'},
		{"non-UTF-8", "\xff" + c[1:], false},
		{"NUL", c[:4] + "\x00" + c[5:], false},
		{"huge", strings.Repeat("A", 1<<20), false},
		{"huge of spaces", c + strings.Repeat(" ", 1<<20), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Normalize(tt.in)
			assert.Equal(t, tt.want, ok)
			if tt.want {
				assert.Equal(t, c, got)
			} else {
				assert.Empty(t, got)
			}
		})
	}
}

// TestCheckSymbolCatchesTypos changes every symbol of many codes to every
// other symbol, and swaps every pair of different neighbours: the format
// check must refuse each.
func TestCheckSymbolCatchesTypos(t *testing.T) {
	for range 200 {
		c := strings.ReplaceAll(mustCode(t), "-", "")
		for i := range c {
			for _, r := range codeAlphabet {
				if byte(r) == c[i] {
					continue
				}
				typo := c[:i] + string(r) + c[i+1:]
				require.False(t, valid(typo), "substitution %s -> %s accepted", c, typo)
			}
			if i+1 < len(c) && c[i] != c[i+1] {
				swap := c[:i] + string(c[i+1]) + string(c[i]) + c[i+2:]
				require.False(t, valid(swap), "transposition %s -> %s accepted", c, swap)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	c := mustCode(t)
	got, ok := Normalize(" " + strings.ToLower(strings.ReplaceAll(c, "-", "")) + " ")
	require.True(t, ok)
	assert.Equal(t, c, got)

	// Look-alikes read as the symbols they resemble.
	zeroOne := "0000-0000-0000-0000"
	got, ok = Normalize("oOoo-0000-0000-0000")
	require.True(t, ok)
	assert.Equal(t, zeroOne, got)
	one, err := newCode(bytes.NewReader([]byte{0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21}))
	require.NoError(t, err)
	require.Equal(t, "1111-1111-1111-111", one[:codeLen-1])
	typed := "iIlL-" + one[5:]
	got, ok = Normalize(typed)
	require.True(t, ok)
	assert.Equal(t, one, got)

	_, ok = Normalize("not a code")
	assert.False(t, ok)
}

func TestNormalizeCanonicalDoesNotAllocate(t *testing.T) {
	c := mustCode(t)
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := Normalize(c); !ok {
			t.Fatal("refused")
		}
	})
	assert.Zero(t, allocs)
}

func TestMask(t *testing.T) {
	c := mustCode(t)
	for _, f := range []Format{nil, Default()} {
		m := Mask(f, strings.ToLower(c))
		assert.Equal(t, "****-****-****"+c[14:], m)
		assert.NotContains(t, m, c[:14])
		assert.Equal(t, "****-****-****"+c[14:], Mask(f, c))
		assert.Equal(t, "****", Mask(f, "secret-but-malformed"))
		assert.Equal(t, "****", Mask(f, ""))
	}
	inv := Inventory(InventoryOptions{})
	assert.Equal(t, "********-****-****-****-********3B6C", Mask(inv, "4f9f0d9c-5b3e-4a1b-9c2d-77aa0e1f3b6c"))
	assert.Equal(t, "****************J9K0", Mask(inv, " ａ1b2c3d4e5f6g7h8j9k0 "))
	assert.Equal(t, "****", Mask(inv, "ABCD_1234"))
	assert.Equal(t, "****", Mask(inv, c+"\x00"))
}

func TestMaskCanonicalAllocatesOnce(t *testing.T) {
	c := mustCode(t)
	n := testing.AllocsPerRun(100, func() {
		if m := Mask(nil, c); m[:15] != "****-****-****-" {
			t.Fatal(m)
		}
	})
	assert.LessOrEqual(t, n, 1.0)
}

// FuzzNormalize checks the default format: never a panic; a refusal is
// masked whole; a code is canonical, its own canonical form, and the
// symbols typed, read as the alphabet reads them.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "7KQ2-M9XD-4TRB-WH6C", "0000-0000-0000-0000", " oooo 0000 0000 0000 ", "\xff", strings.Repeat("-", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := Normalize(s)
		if !ok {
			if c != "" {
				t.Fatalf("refused %q as %q", s, c)
			}
			if Mask(nil, s) != "****" {
				t.Fatalf("malformed %q masked as %q", s, Mask(nil, s))
			}
			return
		}
		if !canonical(c) || !valid(c) {
			t.Fatalf("%q normalized to %q, not canonical", s, c)
		}
		if c2, _ := Normalize(c); c2 != c {
			t.Fatalf("normalizing is not idempotent: %q, %q", c, c2)
		}
		typed, _ := fold.InputForms(s)
		if strings.ToUpper(strings.NewReplacer("-", "", " ", "", "\t", "", "O", "0", "I", "1", "L", "1").Replace(strings.ToUpper(typed))) !=
			strings.ReplaceAll(c, "-", "") {
			t.Fatalf("%q normalized to %q, which is not what was typed", s, c)
		}
		if m := Mask(nil, s); m != "****-****-****-"+c[15:] {
			t.Fatalf("%q masked as %q", s, m)
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	code := mustCode(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Normalize(code); !ok {
			b.Fatal("refused")
		}
	}
}

func BenchmarkMask(b *testing.B) {
	code := mustCode(b)
	b.ReportAllocs()
	for b.Loop() {
		Mask(nil, code)
	}
}
