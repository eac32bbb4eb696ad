package subject

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test vectors of DOMAIN.md (python-stdnum's tests).
const (
	usccValid1 = "91110000600037341L"
	usccValid2 = "91350100M000100Y43"
	usccBad    = "91110000600037341N"
	ridValid1  = "360426199101010071"
	ridValid2  = "44011320141005001X"
	ridBad     = "36042619910102009X"
)

// usccCheckOf computes a USCC check character from the definition, apart
// from the code under test: weights 3^i mod 31.
func usccCheckOf(body string) byte {
	sum, w := 0, 1
	for i := range len(body) {
		sum += strings.IndexByte(usccAlphabet, body[i]) * w
		w = w * 3 % 31
	}
	return usccAlphabet[(31-sum%31)%31]
}

// ridCheckOf computes a resident identity number's check character as
// python-stdnum does, apart from the code under test: (1 - 2·n) mod 11,
// n the 17 digits read in base 13.
func ridCheckOf(body string) byte {
	n := 0
	for i := range len(body) {
		n = (n*13 + int(body[i]-'0')) % 11
	}
	c := ((1-2*n)%11 + 11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

func rid(region, birth, seq string) string {
	body := region + birth + seq
	return body + string(ridCheckOf(body))
}

func TestCheckDefinitions(t *testing.T) {
	w := 1
	for i := range idLen - 1 {
		assert.Equal(t, w, usccWeights[i], "USCC weight %d", i)
		w = w * 3 % 31
	}
	for i := range idLen - 1 {
		assert.Equal(t, (1<<(17-i))%11, ridWeights[i], "MOD 11-2 weight %d", i)
	}
	assert.Equal(t, usccValid1[17], usccCheckOf(usccValid1[:17]))
	assert.Equal(t, usccValid2[17], usccCheckOf(usccValid2[:17]))
	assert.Equal(t, ridValid1[17], ridCheckOf(ridValid1[:17]))
	assert.Equal(t, ridValid2[17], ridCheckOf(ridValid2[:17]))
	assert.Len(t, usccAlphabet, 31)
	for _, c := range "IOSVZ" {
		assert.NotContains(t, usccAlphabet, string(c))
	}
}

func TestNormalize(t *testing.T) {
	// A code whose weighted sum is divisible by 31: its check symbol is 0.
	var zeroCheck string
	for _, c := range []byte(usccAlphabet) {
		body := "9111000060003734" + string(c)
		if usccCheckOf(body) == '0' {
			zeroCheck = body + "0"
		}
	}
	require.NotEmpty(t, zeroCheck)
	// An agriculture authority's code starts with letters, "N2".
	nBody := "N2330100MA2AB1CD0"
	nCode := nBody + string(usccCheckOf(nBody))
	uscc := func(n string) ID { return ID{CertUSCC, n} }
	res := func(n string) ID { return ID{CertResidentID, n} }
	other := func(n string) ID { return ID{CertOther, n} }
	tests := []struct {
		name string
		in   ID
		want string // "" for not well formed
	}{
		{"USCC", uscc(usccValid1), usccValid1},
		{"USCC with letters", uscc(usccValid2), usccValid2},
		{"USCC check symbol 0", uscc(zeroCheck), zeroCheck},
		{"USCC letters first", uscc(nCode), nCode},
		{"USCC lower case", uscc(strings.ToLower(usccValid2)), usccValid2},
		{"USCC spaced", uscc(" 9 1 350100 M000100Y4 3\t"), usccValid2},
		{"USCC dashes", uscc("91350100-M000100Y4-3"), usccValid2},
		{"USCC full-width", uscc("９１３５０１００Ｍ０００１００Ｙ４３"), usccValid2},
		{"USCC full-width lower", uscc("９１３５０１００ｍ０００１００ｙ４３"), usccValid2},
		{"USCC ideographic space", uscc("\u300091350100M000100Y43\u3000"), usccValid2},
		{"USCC wrong check", uscc(usccBad), ""},
		{"USCC too short", uscc(usccValid1[:17]), ""},
		{"USCC too long", uscc(usccValid1 + "0"), ""},
		{"USCC letter in region", uscc("91A10000600037341L"), ""},
		{"USCC with O", uscc("9111000060003734OL"), ""},
		{"USCC with I", uscc("91110000600037341I"), ""},
		{"USCC with S, V, Z", uscc("9111000060003734SL"), ""},
		{"resident", res(ridValid1), ridValid1},
		{"resident X", res(ridValid2), ridValid2},
		{"resident x", res(strings.ToLower(ridValid2)), ridValid2},
		{"resident full-width", res("４４０１１３２０１４１００５００１ｘ"), ridValid2},
		{"resident grouped", res("440113 20141005 001X"), ridValid2},
		{"resident wrong check", res(ridBad), ""},
		{"resident 29 February of a leap year", res(rid("110105", "20000229", "123")), rid("110105", "20000229", "123")},
		{"resident 29 February 1900", res(rid("110105", "19000229", "123")), ""},
		{"resident 29 February 2023", res(rid("110105", "20230229", "123")), ""},
		{"resident 31 April", res(rid("110105", "19910431", "123")), ""},
		{"resident 31 December", res(rid("110105", "19911231", "123")), rid("110105", "19911231", "123")},
		{"resident month 13", res(rid("110105", "19911301", "123")), ""},
		{"resident month 0", res(rid("110105", "19910001", "123")), ""},
		{"resident day 0", res(rid("110105", "19910100", "123")), ""},
		{"resident born 1899", res(rid("110105", "18991231", "123")), ""},
		{"resident born 1900", res(rid("110105", "19000101", "123")), rid("110105", "19000101", "123")},
		{"resident born 2100", res(rid("110105", "21000101", "123")), ""},
		{"resident X not last", res("4401132014100500X1"), ""},
		{"resident 15 digits", res("360426910101007"), ridValid1},
		{"resident 15 digits spaced", res("360426 910101 007"), ridValid1},
		{"resident 15 digits, 31 April", res("110105910431002"), ""},
		{"resident 15 digits, letter", res("11010591010100X"), ""},
		{"resident 16 digits", res("3604269101010071"), ""},
		{"resident letter", res("36042619910101007A"), ""},
		{"other", other("E12345678"), "E12345678"},
		{"other lower, dashed, spaced", other(" h-1234 5678 "), "H12345678"},
		{"other full-width", other("Ｈ１２３４５６７８"), "H12345678"},
		{"other shortest", other("AB12"), "AB12"},
		{"other too short", other("AB1"), ""},
		{"other longest", other(strings.Repeat("A", maxOtherID)), strings.Repeat("A", maxOtherID)},
		{"other too long", other(strings.Repeat("A", maxOtherID+1)), ""},
		{"other underscore", other("AB_1234"), ""},
		{"other ideograph", other("粤12345678"), ""},
		{"other slash", other("AB/1234"), ""},
		{"empty", uscc(""), ""},
		{"only spaces", other("   "), ""},
		{"unknown type", ID{"Passport", "E12345678"}, ""},
		{"unknown type permit", ID{"permit", "H12345678"}, ""},
		{"empty type", ID{"", usccValid1}, ""},
		{"type in another case", ID{"USCC", usccValid1}, ""},
		{"NUL", uscc(usccValid1 + "\x00"), ""},
		{"ESC", uscc("\x1b" + usccValid1), ""},
		{"C1", uscc(usccValid1[:9] + "\u009b" + usccValid1[9:]), ""},
		{"line break", uscc(usccValid1[:9] + "\r\n" + usccValid1[9:]), usccValid1},
		{"non-UTF-8", uscc(usccValid1 + "\xff"), ""},
		{"bidi override", uscc("\u202e" + usccValid1), ""},
		{"input too long", uscc(usccValid1 + strings.Repeat(" ", maxIDInput)), ""},
		{"input longest", uscc(usccValid1 + strings.Repeat(" ", maxIDInput-len(usccValid1))), usccValid1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Normalize(tt.in)
			if tt.want == "" {
				assert.False(t, ok)
				assert.Equal(t, ID{}, got)
				return
			}
			require.True(t, ok)
			assert.Equal(t, ID{tt.in.Type, tt.want}, got)
			again, ok := Normalize(got)
			assert.True(t, ok)
			assert.Equal(t, got, again)
		})
	}
}

// TestNormalizeCatchesTypos changes each symbol of valid numbers to every
// other symbol: no such number is well formed, as the check characters
// guarantee.
func TestNormalizeCatchesTypos(t *testing.T) {
	for _, id := range []ID{{CertUSCC, usccValid1}, {CertUSCC, usccValid2}} {
		for i := range idLen {
			for _, c := range []byte(usccAlphabet) {
				if c == id.Number[i] {
					continue
				}
				typo := id.Number[:i] + string(c) + id.Number[i+1:]
				_, ok := Normalize(ID{id.Type, typo})
				assert.False(t, ok, typo)
			}
		}
	}
	for _, id := range []ID{{CertResidentID, ridValid1}, {CertResidentID, ridValid2}} {
		for i := range idLen {
			for _, c := range []byte("0123456789X") {
				if c == id.Number[i] {
					continue
				}
				typo := id.Number[:i] + string(c) + id.Number[i+1:]
				_, ok := Normalize(ID{id.Type, typo})
				assert.False(t, ok, typo)
			}
		}
	}
}

func TestNormalizeCanonicalDoesNotAllocate(t *testing.T) {
	for _, id := range []ID{{CertUSCC, usccValid2}, {CertResidentID, ridValid2}, {CertOther, "E12345678"}} {
		n := testing.AllocsPerRun(100, func() {
			if got, ok := Normalize(id); !ok || got != id {
				t.Fatal(id)
			}
		})
		assert.Zero(t, n, id.Type)
	}
}

var certTypes = []CertType{CertUSCC, CertResidentID, CertOther, "", "USCC", "Passport", CertOrgCode,
	CertResidencePermit, CertHKMacauPermit, CertTaiwanPermit, CertForeignPermanentResident, CertPassport}

// FuzzNormalize checks Normalize: never a panic; a refusal returns the zero
// ID; a result is canonical (upper-case ASCII letters and digits, its own
// normal form) of the same type; the number typed in lower case with
// spaces around is the same subject.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{usccValid1, usccValid2, usccBad, ridValid1, ridValid2, ridBad,
		"９１３５０１００Ｍ０００１００Ｙ４３", " h-1234 5678 ", "", "\xff", "\u202eAB12", "110105491231002", "60003734-1",
		"H1234567801", "12345678", "USA110090102001", "810000199001010013"} {
		for i := range len(certTypes) {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, typ uint8, number string) {
		in := ID{certTypes[int(typ)%len(certTypes)], number}
		got, ok := Normalize(in)
		if !ok {
			if got != (ID{}) {
				t.Fatalf("%+v refused as %+v", in, got)
			}
			return
		}
		if check := checker(in.Type); check == nil || !check(got.Number) {
			t.Fatalf("%+v normalized to %+v, which its type refuses", in, got)
		}
		if got.Type != in.Type {
			t.Fatalf("%+v normalized to type %q", in, got.Type)
		}
		if !utf8.ValidString(got.Number) || !validOtherID(got.Number) && got.Type == CertOther {
			t.Fatalf("%+v normalized to %q", in, got.Number)
		}
		for i := range len(got.Number) {
			if c := got.Number[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				t.Fatalf("%+v normalized to %q", in, got.Number)
			}
		}
		if again, ok := Normalize(got); !ok || again != got {
			t.Fatalf("not idempotent: %+v, %+v, %+v", in, got, again)
		}
		if len(number) <= maxIDInput-4 {
			typed := ID{in.Type, " " + strings.ToLower(number) + "\u3000"}
			if again, ok := Normalize(typed); !ok || again != got {
				t.Fatalf("%+v is %+v, but %+v is %+v", in, got, typed, again)
			}
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	for _, bm := range []struct {
		name string
		id   ID
	}{
		{"uscc/canonical", ID{CertUSCC, usccValid2}},
		{"uscc/lower", ID{CertUSCC, strings.ToLower(usccValid2)}},
		{"uscc/full-width", ID{CertUSCC, "９１３５０１００Ｍ０００１００Ｙ４３"}},
		{"resident/canonical", ID{CertResidentID, ridValid2}},
		{"resident/spaced", ID{CertResidentID, "440113 20141005 001x"}},
		{"other/canonical", ID{CertOther, "E12345678"}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := Normalize(bm.id); !ok {
					b.Fatal(bm.id)
				}
			}
		})
	}
}

// FuzzKey checks that a certificate's key is its number's: a number that
// two types accept keys as one subject under both; a key number is its own
// key number; spacing and case change nothing.
func FuzzKey(f *testing.F) {
	for _, s := range []string{usccValid1, usccValid2, ridValid1, ridValid2, "110105491231002", "110105194912312076",
		"60003734-1", "H1234567801", "h12345678", "12345678", "USA110090102001", "810000199001010013", "E12345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, number string) {
		var first string
		var firstType CertType
		for _, typ := range certTypes {
			key, ok := Key("", ID{typ, number})
			if !ok {
				continue
			}
			id, _ := Normalize(ID{typ, number})
			if want := "id:" + keyNumber(id.Number); key != want {
				t.Fatalf("%+v keys as %q, want %q", id, key, want)
			}
			if k := keyNumber(key[3:]); k != key[3:] {
				t.Fatalf("%q is the key number of %q", k, key[3:])
			}
			if first == "" {
				first, firstType = key, typ
			} else if key != first {
				t.Fatalf("%q keys as %q as %s and as %q as %s", number, first, firstType, key, typ)
			}
			if len(number) <= maxIDInput-4 {
				if again, ok := Key("", ID{typ, "\u3000" + strings.ToLower(number) + " "}); !ok || again != key {
					t.Fatalf("%q keys as %q, typed otherwise as %q", number, key, again)
				}
			}
		}
	})
}
