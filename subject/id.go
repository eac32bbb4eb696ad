package subject

import "github.com/icpfiling/icpverify/internal/fold"

// CertType is the type of certificate that identifies a filing subject.
// The MIIT tells filing subjects apart by certificate type and number, not
// by name (主办单位证件类型+证件号码).
type CertType string

// The certificate types Normalize knows.
const (
	// CertUSCC is an organisation's unified social credit code
	// (统一社会信用代码, GB 32100-2015): 18 symbols with a check character.
	CertUSCC CertType = "uscc"
	// CertResidentID is a mainland resident identity card number
	// (居民身份证号码, GB 11643-1999): 17 digits and a check character.
	CertResidentID CertType = "resident_id"
	// CertOther is any other certificate (a passport, a permit for Hong
	// Kong, Macao or Taiwan residents, an older registration number): its
	// number is letters and digits, and is not checked offline.
	CertOther CertType = "other"
)

// ID identifies a filing subject by its certificate.
type ID struct {
	Type   CertType // the certificate's type
	Number string   // the certificate's number
}

const (
	// maxIDInput bounds, in bytes, the typed certificate number that
	// Normalize reads: room for 18 full-width symbols with spaces.
	maxIDInput = 256
	// idLen is the length of a unified social credit code and of a resident
	// identity number.
	idLen = 18
	// minOtherID and maxOtherID bound the symbols of a CertOther number.
	minOtherID, maxOtherID = 4, 32
	// minBirthYear and maxBirthYear bound the year of birth of a resident
	// identity number: no one born before 1900 holds an 18-digit card, and
	// without a clock the library cannot know the current year, so the
	// bound above is generous.
	minBirthYear, maxBirthYear = 1900, 2099
)

// usccAlphabet is the 31 symbols of a unified social credit code, valued
// 0..30 in this order: no I, O, S, V or Z.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights of the first 17 symbols, 3^i mod 31.
var usccWeights = [idLen - 1]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccValue maps a byte to its symbol value, or -1. Only upper case is a
// symbol: Normalize upper-cases before it checks.
var usccValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for v, c := range []byte(usccAlphabet) {
		t[c] = int8(v)
	}
	return t
}()

// ridWeights are the ISO 7064 MOD 11-2 weights of the first 17 digits of a
// resident identity number, 2^(17-i) mod 11.
var ridWeights = [idLen - 1]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// ridCheck is the check character of a resident identity number, indexed
// by the weighted sum of its digits mod 11.
const ridCheck = "10X98765432"

// Normalize returns the canonical form of a filing subject's
// certificate and reports whether it is well formed, offline:
//
//   - CertUSCC: 18 symbols of 0-9 and A-Z without I, O, S, V and Z, the
//     third to eighth (the region) digits, the last the GB 32100-2015 check
//     character. The first two symbols (registration authority and entity
//     type) may be letters, as the codes of the agriculture authority
//     ("N2…") are;
//   - CertResidentID: 17 digits, of which the 7th to 14th are a real date
//     of birth (YYYYMMDD, a year from 1900 to 2099), and the ISO 7064
//     MOD 11-2 check character, a digit or X. The region is not looked up,
//     and 15-digit first-generation numbers are refused;
//   - CertOther: 4 to 32 ASCII letters and digits, unchecked.
//
// The number may be typed in any case and in full-width forms, with
// spaces (also U+3000, tabs and line breaks) and dashes (also Unicode
// dashes) anywhere, which are dropped; the canonical form is upper case
// ASCII. It reports false, with a zero ID, for a Type other than
// the three constants, and for a number that is empty, longer than 256
// bytes, not valid UTF-8, or holds anything else, such as a control
// character or a letter of another script. A canonical id is returned as
// it is, without allocating.
func Normalize(id ID) (ID, bool) {
	if len(id.Number) > maxIDInput {
		return ID{}, false
	}
	switch id.Type {
	case CertUSCC:
		if validUSCC(id.Number) {
			return id, true
		}
	case CertResidentID:
		if validResidentID(id.Number) {
			return id, true
		}
	case CertOther:
		if validOtherID(id.Number) {
			return id, true
		}
	default:
		return ID{}, false
	}
	var buf [maxIDInput]byte
	b, ok := compactID(buf[:0], id.Number)
	switch {
	case !ok:
		return ID{}, false
	case id.Type == CertUSCC:
		ok = validUSCC(b)
	case id.Type == CertResidentID:
		ok = validResidentID(b)
	default:
		ok = validOtherID(b)
	}
	if !ok {
		return ID{}, false
	}
	return ID{Type: id.Type, Number: string(b)}, true
}

// compactID appends to dst the symbols of a typed certificate number:
// folded (see fold.InputForms), without spaces, tabs and dashes, upper
// case. It reports false if the number holds anything but ASCII letters,
// digits and those separators, or more than maxOtherID symbols.
func compactID(dst []byte, s string) ([]byte, bool) {
	dst, ok := fold.Append(dst, s)
	if !ok {
		return dst, false
	}
	n := 0
	for _, c := range dst {
		switch {
		case c == ' ' || c == '\t' || c == '-':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
		default:
			return dst, false
		}
		if n == maxOtherID {
			return dst, false
		}
		dst[n] = c
		n++
	}
	return dst[:n], true
}

// validUSCC reports whether s is a unified social credit code in canonical
// form with a matching check character.
func validUSCC[T string | []byte](s T) bool {
	if len(s) != idLen {
		return false
	}
	sum := 0
	for i := range idLen - 1 {
		v := usccValue[s[i]]
		if v < 0 || 2 <= i && i < 8 && v > 9 {
			return false
		}
		sum += int(v) * usccWeights[i]
	}
	return s[idLen-1] == usccAlphabet[(31-sum%31)%31]
}

// validResidentID reports whether s is a resident identity number in
// canonical form: 17 digits holding a real date of birth and a matching
// check character.
func validResidentID[T string | []byte](s T) bool {
	if len(s) != idLen {
		return false
	}
	sum := 0
	for i := range idLen - 1 {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * ridWeights[i]
	}
	return s[idLen-1] == ridCheck[sum%11] && validDate(s[6:14])
}

// validDate reports whether eight digits YYYYMMDD are a date of the
// Gregorian calendar with a year from minBirthYear to maxBirthYear.
func validDate[T string | []byte](d T) bool {
	num := func(i, j int) int {
		n := 0
		for ; i < j; i++ {
			n = n*10 + int(d[i]-'0')
		}
		return n
	}
	y, m, day := num(0, 4), num(4, 6), num(6, 8)
	if y < minBirthYear || y > maxBirthYear || m < 1 || m > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return day <= days
}

// validOtherID reports whether s is a CertOther number in canonical form:
// minOtherID to maxOtherID upper-case ASCII letters and digits.
func validOtherID[T string | []byte](s T) bool {
	if len(s) < minOtherID || len(s) > maxOtherID {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
