package fold

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestInputForms(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain ASCII", "7KQ2-M9XD 4trb\tWH6C", "7KQ2-M9XD 4trb\tWH6C", true},
		{"empty", "", "", true},
		{"full-width letters and digits", "ＡＢｃ１２３", "ABc123", true},
		{"full-width signs", "！～＿．", "!~_.", true},
		{"full-width hyphen-minus", "ＡＢ－１２", "AB-12", true},
		{"ideographic space", "AB\u300012", "AB 12", true},
		{"no-break spaces", "A\u00a0B\u2007C\u202fD", "A B C D", true},
		{"Unicode dashes", "A\u2010B\u2011C\u2012D\u2013E\u2014F\u2015G", "A-B-C-D-E-F-G", true},
		{"minus and long dashes", "A\u2212B\u2e3aC\u2e3bD", "A-B-C-D", true},
		{"prolonged sound mark", "AB\u30fc12", "AB-12", true},
		{"small and half-width dashes", "A\ufe58B\ufe63C\uff70D", "A-B-C-D", true},
		{"line breaks", "AB\r\nCD\nEF\rGH", "AB--CD-EF-GH", true},
		{"Unicode line breaks", "AB\u2028CD\u2029EF\u0085GH", "AB-CD-EF-GH", true},
		{"invisible characters dropped", "\ufeffAB\u200bCD\u2060", "ABCD", true},
		{"NUL", "AB\x00CD", "", false},
		{"ESC", "AB\x1b[31mCD", "", false},
		{"DEL", "AB\x7fCD", "", false},
		{"C1", "AB\u009bCD", "", false},
		{"vertical tab", "AB\vCD", "", false},
		{"other script", "ABВ", "", false}, // Cyrillic Ve
		{"ideograph", "码ABC", "", false},
		{"non-UTF-8", "AB\xffCD", "", false},
		{"replacement character", "AB\ufffdCD", "", false},
		{"bidi override", "AB\u202eCD", "", false},
		{"too long", strings.Repeat("A", MaxInput+1), "", false},
		{"longest", strings.Repeat("A", MaxInput), strings.Repeat("A", MaxInput), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := InputForms(tt.in)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestInputFormsPlainDoesNotAllocate(t *testing.T) {
	in := "4f9f0d9c-5b3e-4a1b 9C2D\t77aa"
	n := testing.AllocsPerRun(100, func() {
		if s, ok := InputForms(in); !ok || s != in {
			t.Fatal(s, ok)
		}
	})
	assert.Zero(t, n)
}

// FuzzInputForms checks InputForms: never a panic; a result of
// printable ASCII and tabs, no longer than the input; plain ASCII kept as
// it is; folding a folded string changes nothing.
func FuzzInputForms(f *testing.F) {
	for _, s := range []string{"", "ＡＢ－１２", "AB\r\nCD", "\ufeffA\u3000B", "\xff", "A\u2212B\u30fc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := InputForms(s)
		if !ok {
			if got != "" {
				t.Fatalf("refused %q with %q", s, got)
			}
			if len(s) <= MaxInput && utf8.ValidString(s) && allPlain(s) {
				t.Fatalf("refused plain %q", s)
			}
			return
		}
		if len(got) > len(s) {
			t.Fatalf("%q folded to longer %q", s, got)
		}
		if !allPlain(got) {
			t.Fatalf("%q folded to %q, not printable ASCII", s, got)
		}
		if allPlain(s) && got != s {
			t.Fatalf("plain %q folded to %q", s, got)
		}
		if again, ok := InputForms(got); !ok || again != got {
			t.Fatalf("not idempotent: %q, %q, %q", s, got, again)
		}
	})
}

func allPlain(s string) bool {
	for i := range len(s) {
		if !plainASCII(s[i]) {
			return false
		}
	}
	return true
}

func BenchmarkInputForms(b *testing.B) {
	for _, bm := range []struct{ name, in string }{
		{"plain", "7KQ2-M9XD-4TRB-WH6C"},
		{"full-width", "７ＫＱ２－Ｍ９ＸＤ－４ＴＲＢ－ＷＨ６Ｃ"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := InputForms(bm.in); !ok {
					b.Fatal(bm.in)
				}
			}
		})
	}
}
