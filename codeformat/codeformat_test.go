package codeformat

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/icpfiling/icpverify/internal/fold"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// toFullWidth writes printable ASCII in its full-width forms.
func toFullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7f {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestDefault(t *testing.T) {
	f := Default()
	c := mustCode(t)
	plain := strings.ReplaceAll(c, "-", "")
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"canonical", c, true},
		{"lower case", strings.ToLower(c), true},
		{"no dashes", plain, true},
		{"spaces inside", strings.ReplaceAll(c, "-", " "), true},
		{"full-width", toFullWidth(c), true},
		{"full-width lower case", toFullWidth(strings.ToLower(c)), true},
		{"ideographic spaces", "\u3000" + strings.ReplaceAll(c, "-", "\u3000") + "\u3000", true},
		{"Unicode dashes", strings.Replace(strings.Replace(c, "-", "\u2014", 1), "-", "\u2212", 1), true},
		{"prolonged sound mark", strings.ReplaceAll(c, "-", "\u30fc"), true},
		{"wrapped", c[:10] + "\r\n" + c[10:], true},
		{"line separator", c[:5] + "\u2028" + c[5:], true},
		{"zero-width space", "\u200b" + c, true},
		{"empty", "", false},
		{"wrong check symbol", c[:codeLen-1] + string(codeAlphabet[(strings.IndexByte(codeAlphabet, c[codeLen-1])+1)%32]), false},
		{"too short", c[:codeLen-1], false},
		{"full-width too long", toFullWidth(c + "0"), false},
		{"ideograph", "码" + c, false},
		{"NUL", c + "\x00", false},
		{"bidi override", "\u202e" + c, false},
		{"non-UTF-8", c + "\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := f.Normalize(tt.in)
			assert.Equal(t, tt.ok, ok)
			if tt.ok {
				assert.Equal(t, c, got)
			} else {
				assert.Empty(t, got)
			}
		})
	}
	// What Normalize reads, the format reads alike.
	for _, in := range []string{c, plain, " " + strings.ToLower(plain), "O" + c[1:], "", "U" + c[1:], strings.Repeat(" ", 70) + c} {
		want, wantOK := Normalize(in)
		got, ok := f.Normalize(in)
		assert.Equal(t, wantOK, ok, in)
		assert.Equal(t, want, got, in)
	}
}

func TestDefaultNew(t *testing.T) {
	f := Default()
	c, err := f.New(rand.Reader)
	require.NoError(t, err)
	assert.True(t, canonical(c), c)
	got, ok := f.Normalize(c)
	assert.True(t, ok)
	assert.Equal(t, c, got)
	_, err = f.New(bytes.NewReader([]byte{1, 2, 3}))
	assert.Error(t, err)
}

func TestDefaultCanonicalDoesNotAllocate(t *testing.T) {
	f := Default()
	c := mustCode(t)
	n := testing.AllocsPerRun(100, func() {
		if got, ok := f.Normalize(c); !ok || got != c {
			t.Fatal(got)
		}
	})
	assert.Zero(t, n)
}

func TestInventory(t *testing.T) {
	const (
		hex   = "4f9f0d9c-5b3e-4a1b-9c2d-77aa0e1f3b6c"
		hexUp = "4F9F0D9C-5B3E-4A1B-9C2D-77AA0E1F3B6C"
		alnum = "A1B2C3D4E5F6G7H8J9K0"
	)
	keep := Inventory(InventoryOptions{})
	ignore := Inventory(InventoryOptions{IgnoreDashes: true})
	tests := []struct {
		name, in         string
		keep, ignoreWant string // "" for refused
	}{
		{"hex groups", hex, hexUp, strings.ReplaceAll(hexUp, "-", "")},
		{"hex groups canonical", hexUp, hexUp, strings.ReplaceAll(hexUp, "-", "")},
		{"20 alphanumerics", alnum, alnum, alnum},
		{"lower case", strings.ToLower(alnum), alnum, alnum},
		{"full-width", toFullWidth(hex), hexUp, strings.ReplaceAll(hexUp, "-", "")},
		{"spaces and separators around", " \u3000-" + alnum + "-\t\r\n", alnum, alnum},
		{"spaces as separators", strings.ReplaceAll(hex, "-", " "), hexUp, strings.ReplaceAll(hexUp, "-", "")},
		{"runs of separators", strings.ReplaceAll(hex, "-", " - "), hexUp, strings.ReplaceAll(hexUp, "-", "")},
		{"Unicode dashes", strings.ReplaceAll(hex, "-", "\u2013"), hexUp, strings.ReplaceAll(hexUp, "-", "")},
		{"wrapped without dashes", alnum[:10] + "\r\n" + alnum[10:], alnum[:10] + "-" + alnum[10:], alnum},
		{"grouped by spaces", "A1B2 C3D4 E5F6 G7H8 J9K0", "A1B2-C3D4-E5F6-G7H8-J9K0", alnum},
		{"shortest", "ABCD1234", "ABCD1234", "ABCD1234"},
		{"too short", "ABCD-123", "", ""},
		{"longest", strings.Repeat("A", 64), strings.Repeat("A", 64), strings.Repeat("A", 64)},
		{"too long", strings.Repeat("A", 65), "", ""},
		{"too long in groups", strings.Repeat("AAAA-", 16) + "A", "", ""},
		{"empty", "", "", ""},
		{"only dashes", "--------", "", ""},
		{"underscore", "ABCD_1234", "", ""},
		{"dot", "ABCD.1234", "", ""},
		{"ideograph", "码ABCD1234", "", ""},
		{"accented letter", "ÉBCD1234", "", ""},
		{"NUL", "ABCD1234\x00", "", ""},
		{"ESC", "\x1b[0mABCD1234", "", ""},
		{"bidi override", "\u202eABCD1234", "", ""},
		{"non-UTF-8", "ABCD1234\xff", "", ""},
		{"huge", strings.Repeat("A", 1<<20), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []struct {
				name string
				f    Format
				want string
			}{{"dashes kept", keep, tt.keep}, {"dashes ignored", ignore, tt.ignoreWant}} {
				got, ok := f.f.Normalize(tt.in)
				assert.Equal(t, f.want != "", ok, f.name)
				assert.Equal(t, f.want, got, f.name)
				if ok {
					again, ok := f.f.Normalize(got)
					assert.True(t, ok, f.name)
					assert.Equal(t, got, again, f.name)
				}
			}
		})
	}
}

func TestInventoryOptions(t *testing.T) {
	for _, tt := range []struct {
		name     string
		o        InventoryOptions
		min, max int
	}{
		{"zero", InventoryOptions{}, 8, 64},
		{"set", InventoryOptions{MinSymbols: 20, MaxSymbols: 20}, 20, 20},
		{"negative", InventoryOptions{MinSymbols: -1, MaxSymbols: -1}, 8, 64},
		{"one", InventoryOptions{MinSymbols: 1, MaxSymbols: 1}, 1, 1},
		{"max above bound", InventoryOptions{MaxSymbols: 1000}, 8, 256},
		{"min above max", InventoryOptions{MinSymbols: 30, MaxSymbols: 10}, 10, 10},
		{"min above default max", InventoryOptions{MinSymbols: 100}, 64, 64},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := Inventory(tt.o).(inventoryFormat)
			assert.Equal(t, tt.min, f.min)
			assert.Equal(t, tt.max, f.max)
			_, ok := f.Normalize(strings.Repeat("A", tt.min))
			assert.True(t, ok)
			_, ok = f.Normalize(strings.Repeat("A", tt.max))
			assert.True(t, ok)
			_, ok = f.Normalize(strings.Repeat("A", tt.max+1))
			assert.False(t, ok)
			if tt.min > 1 {
				_, ok = f.Normalize(strings.Repeat("A", tt.min-1))
				assert.False(t, ok)
			}
		})
	}
}

func TestInventoryNew(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    InventoryOptions
		n    int
	}{
		{"default", InventoryOptions{}, 20},
		{"dashes ignored", InventoryOptions{IgnoreDashes: true}, 20},
		{"short codes", InventoryOptions{MaxSymbols: 12}, 12},
		{"long codes", InventoryOptions{MinSymbols: 32}, 32},
		{"longest", InventoryOptions{MinSymbols: 256, MaxSymbols: 256}, 256},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := Inventory(tt.o)
			seen := make(map[string]bool)
			for range 200 {
				c, err := f.New(rand.Reader)
				require.NoError(t, err)
				require.Len(t, c, tt.n)
				for i := range len(c) {
					require.Contains(t, codeAlphabet, c[i:i+1])
				}
				got, ok := f.Normalize(c)
				require.True(t, ok)
				require.Equal(t, c, got)
				require.False(t, seen[c])
				seen[c] = true
			}
			_, err := f.New(bytes.NewReader(make([]byte, tt.n-1)))
			assert.Error(t, err)
		})
	}
	// Every symbol of the alphabet, one random byte each.
	c, err := Inventory(InventoryOptions{MinSymbols: 32, MaxSymbols: 32}).New(bytes.NewReader([]byte(
		"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\xff")))
	require.NoError(t, err)
	assert.Equal(t, codeAlphabet, c)
}

func TestInventoryCanonicalDoesNotAllocate(t *testing.T) {
	f := Inventory(InventoryOptions{})
	for _, c := range []string{"4F9F0D9C-5B3E-4A1B-9C2D-77AA0E1F3B6C", "A1B2C3D4E5F6G7H8J9K0"} {
		n := testing.AllocsPerRun(100, func() {
			if got, ok := f.Normalize(c); !ok || got != c {
				t.Fatal(got)
			}
		})
		assert.Zero(t, n, c)
	}
}

func TestMaskCode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"7KQ2-M9XD-4TRB-WH6C", "****-****-****-WH6C"},
		{"4F9F0D9C-5B3E-4A1B-9C2D-77AA0E1F3B6C", "********-****-****-****-********3B6C"},
		{"A1B2C3D4E5F6G7H8J9K0", "****************J9K0"},
		{"ABCD1234", "******34"},
		{"ABCD-1234", "****-**34"},
		{"ABCDEFG", "******G"},
		{"ABC", "***"},
		{"A", "*"},
		{"", "****"},
		{"----", "****"},
		{"abcd-efgh-ijkl-mnop", "****-****-****-mnop"},
		{"ABCD_1234", "****"},
		{"ABCD 1234", "****"},
		{"码ABCD1234", "****"},
		{"\xffABCD1234", "****"},
		{strings.Repeat("A", 2*maxInventorySymbols), "****"},
	} {
		assert.Equal(t, tt.want, maskCode(tt.in), tt.in)
	}
}

var fuzzFormats = []Format{
	Default(),
	Inventory(InventoryOptions{}),
	Inventory(InventoryOptions{IgnoreDashes: true}),
	Inventory(InventoryOptions{MinSymbols: 1, MaxSymbols: 4}),
	Inventory(InventoryOptions{MinSymbols: 256, MaxSymbols: 256}),
}

// FuzzFormat checks every format: never a panic; a refusal returns "";
// a code is printable ASCII, its own canonical form, typed again in lower
// case and full-width forms with spaces around it is the same code; the
// default format reads plain input as Normalize does; maskCode
// of a code keeps its length and dashes and shows at most 4 symbols, the
// code's last.
func FuzzFormat(f *testing.F) {
	for _, s := range []string{"7KQ2-M9XD-4TRB-WH6C", "4f9f0d9c-5b3e-4a1b", "Ａ１Ｂ２－Ｃ３Ｄ４", "AB\r\nCD12", "", "\xff", "a-b", "ABCD_1234"} {
		for i := range fuzzFormats {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		format := fuzzFormats[int(which)%len(fuzzFormats)]
		c, ok := format.Normalize(s)
		if which == 0 && allPlain(s) {
			want, wantOK := Normalize(s)
			if ok != wantOK || c != want {
				t.Fatalf("default format read %q as %q, %v; Normalize as %q, %v", s, c, ok, want, wantOK)
			}
		}
		if !ok {
			if c != "" {
				t.Fatalf("refused %q as %q", s, c)
			}
			return
		}
		if c == "" || !utf8.ValidString(c) || !allPlain(c) || strings.ContainsAny(c, " \t") {
			t.Fatalf("%q normalized to %q", s, c)
		}
		if again, ok := format.Normalize(c); !ok || again != c {
			t.Fatalf("not idempotent: %q, %q, %q", s, c, again)
		}
		// The default format reads at most maxCodeInput bytes once folded.
		if typed := "\u3000" + toFullWidth(strings.ToLower(s)) + " "; len(typed) <= maxCodeInput || which != 0 && len(typed) <= fold.MaxInput {
			if again, ok := format.Normalize(typed); !ok || again != c {
				t.Fatalf("%q is %q, but %q is %q, %v", s, c, typed, again, ok)
			}
		}
		m := maskCode(c)
		if len(m) != len(c) {
			t.Fatalf("%q masked as %q", c, m)
		}
		shown := 0
		for i := range len(c) {
			switch {
			case c[i] == '-' || m[i] == '-':
				if c[i] != m[i] {
					t.Fatalf("%q masked as %q", c, m)
				}
			case m[i] != '*':
				if m[i] != c[i] || strings.Contains(m[i:], "*") {
					t.Fatalf("%q masked as %q", c, m)
				}
				shown++
			}
		}
		if shown > 4 {
			t.Fatalf("%q masked as %q: %d symbols shown", c, m, shown)
		}
	})
}

func BenchmarkFormatNormalize(b *testing.B) {
	c, err := newCode(bytes.NewReader(bytes.Repeat([]byte{0x5a}, 10)))
	if err != nil {
		b.Fatal(err)
	}
	def := Default()
	inv := Inventory(InventoryOptions{})
	for _, bm := range []struct {
		name string
		f    Format
		in   string
	}{
		{"default/canonical", def, c},
		{"default/lower", def, strings.ToLower(c)},
		{"default/full-width", def, toFullWidth(c)},
		{"inventory/canonical-hex", inv, "4F9F0D9C-5B3E-4A1B-9C2D-77AA0E1F3B6C"},
		{"inventory/canonical-20", inv, "A1B2C3D4E5F6G7H8J9K0"},
		{"inventory/lower-hex", inv, "4f9f0d9c-5b3e-4a1b-9c2d-77aa0e1f3b6c"},
		{"inventory/full-width", inv, toFullWidth("a1b2c3d4e5f6g7h8j9k0")},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := bm.f.Normalize(bm.in); !ok {
					b.Fatal(bm.in)
				}
			}
		})
	}
}

func BenchmarkFormatNew(b *testing.B) {
	for _, bm := range []struct {
		name string
		f    Format
	}{{"default", Default()}, {"inventory", Inventory(InventoryOptions{})}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bm.f.New(rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMaskCode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		maskCode("4F9F0D9C-5B3E-4A1B-9C2D-77AA0E1F3B6C")
	}
}
