package subject

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// orgCheckOf computes a GB 11714-1997 check character from the
// definition, apart from the code under test: C9 = 11 - MOD(Σ Ci·Wi, 11),
// 10 written X and 11 written 0, the letters valued 10 to 35.
func orgCheckOf(body string) byte {
	w := []int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range len(body) {
		sum += strings.IndexByte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", body[i]) * w[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

func TestOrgCodeDefinition(t *testing.T) {
	// The organisation codes inside the USCC test vectors check.
	for _, code := range []string{usccValid1[8:17], usccValid2[8:17]} {
		assert.Equal(t, code[8], orgCheckOf(code[:8]), code)
		assert.True(t, validOrgCode(code), code)
	}
	for _, body := range []string{"00000000", "PDY00001", "ZZZZZZZZ", "12345678", "A0000000", "00000001", "0000000B"} {
		code := body + string(orgCheckOf(body))
		assert.True(t, validOrgCode(code), code)
		for _, c := range []byte("0123456789X") {
			if c != code[8] {
				assert.False(t, validOrgCode(body+string(c)), body+string(c))
			}
		}
	}
}

func TestNormalizeOtherTypes(t *testing.T) {
	hk := rid("810000", "19900101", "001")
	fpr := "9" + "1115620231201001"
	fpr += string(ridCheckOf(fpr))
	tests := []struct {
		name string
		in   ID
		want string // "" for not well formed
	}{
		{"org code", ID{CertOrgCode, "600037341"}, "600037341"},
		{"org code with dash", ID{CertOrgCode, "60003734-1"}, "600037341"},
		{"org code with letters, lower case", ID{CertOrgCode, "m000100y-4"}, "M000100Y4"},
		{"org code full-width", ID{CertOrgCode, "６０００３７３４－１"}, "600037341"},
		{"org code wrong check", ID{CertOrgCode, "60003734-2"}, ""},
		{"org code check X", ID{CertOrgCode, "0000000B" + string(orgCheckOf("0000000B"))}, "0000000B" + string(orgCheckOf("0000000B"))},
		{"org code too short", ID{CertOrgCode, "60003734"}, ""},
		{"org code is not a USCC", ID{CertOrgCode, usccValid1}, ""},
		{"USCC is not an org code", ID{CertUSCC, "600037341"}, ""},
		{"residence permit Hong Kong", ID{CertResidencePermit, hk}, hk},
		{"residence permit Macao", ID{CertResidencePermit, rid("820000", "19900101", "001")}, rid("820000", "19900101", "001")},
		{"residence permit Taiwan", ID{CertResidencePermit, rid("830000", "20000229", "002")}, rid("830000", "20000229", "002")},
		{"residence permit mainland region", ID{CertResidencePermit, ridValid1}, ""},
		{"residence permit region 810100", ID{CertResidencePermit, rid("810100", "19900101", "001")}, ""},
		{"residence permit wrong check", ID{CertResidencePermit, hk[:17] + string("10X98765432"[(strings.IndexByte("10X98765432", hk[17])+1)%11])}, ""},
		{"residence permit bad date", ID{CertResidencePermit, rid("810000", "19900231", "001")}, ""},
		{"HK permit", ID{CertHKMacauPermit, "H12345678"}, "H12345678"},
		{"Macao permit with renewals", ID{CertHKMacauPermit, "m 12345678 01"}, "M1234567801"},
		{"HK permit 10 symbols", ID{CertHKMacauPermit, "H123456780"}, ""},
		{"HK permit other letter", ID{CertHKMacauPermit, "K12345678"}, ""},
		{"HK permit letter inside", ID{CertHKMacauPermit, "H1234567A"}, ""},
		{"Taiwan permit", ID{CertTaiwanPermit, "12345678"}, "12345678"},
		{"Taiwan permit 10 digits (before 2008)", ID{CertTaiwanPermit, "1234567801"}, ""},
		{"Taiwan permit letter", ID{CertTaiwanPermit, "T1234567"}, ""},
		{"permanent resident 2004/2017 card", ID{CertForeignPermanentResident, "usa110090102001"}, "USA110090102001"},
		{"permanent resident 2023 card", ID{CertForeignPermanentResident, fpr}, fpr},
		{"permanent resident 2023 card wrong check", ID{CertForeignPermanentResident, fpr[:17] + string("10X98765432"[(strings.IndexByte("10X98765432", fpr[17])+1)%11])}, ""},
		{"permanent resident 2023 card not 9", ID{CertForeignPermanentResident, ridValid1}, ""},
		{"permanent resident old card digit first", ID{CertForeignPermanentResident, "1SA110090102001"}, ""},
		{"permanent resident old card letter last", ID{CertForeignPermanentResident, "USA11009010200A"}, ""},
		{"passport", ID{CertPassport, "EA1234567"}, "EA1234567"},
		{"passport too short", ID{CertPassport, "E12"}, ""},
		{"passport slash", ID{CertPassport, "E1234/567"}, ""},
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
		})
	}
}

// TestKeyOneSubject: each pair is one subject spelled two ways, and keys
// as one.
func TestKeyOneSubject(t *testing.T) {
	both := "110105194912312076" // a resident number that also passes the USCC check
	require.True(t, validResidentID(both))
	require.True(t, validUSCC(both))
	hk := rid("810000", "19900101", "001")
	for _, tt := range []struct {
		name string
		a, b ID
	}{
		{"USCC as other", ID{CertUSCC, usccValid1}, ID{CertOther, usccValid1}},
		{"USCC as passport", ID{CertUSCC, usccValid2}, ID{CertPassport, strings.ToLower(usccValid2)}},
		{"USCC and its org code", ID{CertUSCC, usccValid1}, ID{CertOrgCode, "60003734-1"}},
		{"USCC with letters and its org code", ID{CertUSCC, usccValid2}, ID{CertOrgCode, "M000100Y-4"}},
		{"org code as other", ID{CertOrgCode, "60003734-1"}, ID{CertOther, "600037341"}},
		{"USCC as other and org code as other", ID{CertOther, usccValid1}, ID{CertOther, "60003734-1"}},
		{"resident as other", ID{CertResidentID, ridValid2}, ID{CertOther, ridValid2}},
		{"resident lower-case x", ID{CertResidentID, ridValid2}, ID{CertResidentID, strings.ToLower(ridValid2)}},
		{"resident lower-case x as other", ID{CertResidentID, ridValid2}, ID{CertOther, strings.ToLower(ridValid2)}},
		{"resident 15 and 18 digits", ID{CertResidentID, "11010519491231002X"}, ID{CertResidentID, "110105491231002"}},
		{"resident 15 digits as other", ID{CertResidentID, "11010519491231002X"}, ID{CertOther, "110105491231002"}},
		{"resident 15 digits as other and as resident", ID{CertResidentID, "110105491231002"}, ID{CertOther, "110105491231002"}},
		{"resident that reads as a USCC, as USCC", ID{CertResidentID, both}, ID{CertUSCC, both}},
		{"resident that reads as a USCC, as other", ID{CertOther, both}, ID{CertUSCC, both}},
		{"residence permit as resident", ID{CertResidencePermit, hk}, ID{CertResidentID, hk}},
		{"residence permit as other", ID{CertResidencePermit, hk}, ID{CertOther, hk}},
		{"HK permit with and without renewals", ID{CertHKMacauPermit, "H1234567801"}, ID{CertHKMacauPermit, "H12345678"}},
		{"HK permit renewed", ID{CertHKMacauPermit, "H1234567801"}, ID{CertHKMacauPermit, "H1234567802"}},
		{"HK permit as other", ID{CertHKMacauPermit, "H12345678"}, ID{CertOther, "H1234567800"}},
		{"Taiwan permit as other", ID{CertTaiwanPermit, "12345678"}, ID{CertOther, "1234-5678"}},
		{"passport as other", ID{CertPassport, "E12345678"}, ID{CertOther, "e12345678"}},
		{"permanent resident as passport", ID{CertForeignPermanentResident, "USA110090102001"}, ID{CertPassport, "USA110090102001"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ka, ok := Key("", tt.a)
			require.True(t, ok, "%+v", tt.a)
			kb, ok := Key("", tt.b)
			require.True(t, ok, "%+v", tt.b)
			assert.Equal(t, ka, kb)
		})
	}
}

// TestKeyApart: each pair is two subjects, or two certificates nothing
// offline ties, and keys apart.
func TestKeyApart(t *testing.T) {
	for _, tt := range []struct {
		name string
		a, b ID
	}{
		{"two USCCs", ID{CertUSCC, usccValid1}, ID{CertUSCC, usccValid2}},
		{"USCC and another org code", ID{CertUSCC, usccValid1}, ID{CertOrgCode, "M000100Y-4"}},
		{"two resident numbers", ID{CertResidentID, ridValid1}, ID{CertResidentID, ridValid2}},
		{"15 digits not of that card", ID{CertResidentID, "11010519491231002X"}, ID{CertResidentID, "110105491231003"}},
		{"passport and HK permit", ID{CertPassport, "E12345678"}, ID{CertHKMacauPermit, "H12345678"}},
		{"two Taiwan permits", ID{CertTaiwanPermit, "12345678"}, ID{CertTaiwanPermit, "12345679"}},
		{"HK and Macao permits", ID{CertHKMacauPermit, "H12345678"}, ID{CertHKMacauPermit, "M12345678"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ka, ok := Key("", tt.a)
			require.True(t, ok, "%+v", tt.a)
			kb, ok := Key("", tt.b)
			require.True(t, ok, "%+v", tt.b)
			assert.NotEqual(t, ka, kb)
		})
	}
}

func TestKeyNumber(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{usccValid1, "600037341"},
		{usccValid2, "M000100Y4"},
		{ridValid1, ridValid1},
		{"110105194912312076", "110105194912312076"},
		{"110105491231002", "11010519491231002X"},
		{"360426910101007", ridValid1},
		{"110105910431002", "110105910431002"}, // not a date: another number
		{"H1234567801", "H12345678"},
		{"X1234567801", "X1234567801"},
		{"E12345678", "E12345678"},
		{usccBad, usccBad},
	} {
		assert.Equal(t, tt.want, keyNumber(tt.in), tt.in)
	}
	// A key number is its own.
	for _, n := range []string{usccValid1, "110105491231002", "H1234567801"} {
		k := keyNumber(n)
		assert.Equal(t, k, keyNumber(k), n)
	}
}

// TestIgnorable checks the table of ignorable against Unicode's
// derivation of Default_Ignorable_Code_Point from the properties Go's
// unicode package holds: Other_Default_Ignorable_Code_Point, format
// characters and variation selectors, less white space, the interlinear
// annotation characters, the Egyptian hieroglyph format controls and the
// prepended concatenation marks; the bidirectional controls, which
// refusedInName refuses, aside.
func TestIgnorable(t *testing.T) {
	bad := 0
	for r := rune(0); r <= unicode.MaxRune && bad < 10; r++ {
		di := unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector) &&
			!unicode.In(r, unicode.White_Space, unicode.Prepended_Concatenation_Mark) &&
			!(0xFFF9 <= r && r <= 0xFFFB) && !(0x13430 <= r && r <= 0x1344F)
		want := di && !unicode.Is(unicode.Bidi_Control, r)
		if ignorable(r) != want {
			t.Errorf("ignorable(%U) = %v, want %v", r, ignorable(r), want)
			bad++
		}
		if bidiControl(r) != unicode.Is(unicode.Bidi_Control, r) {
			t.Errorf("bidiControl(%U) = %v", r, bidiControl(r))
			bad++
		}
	}
}
