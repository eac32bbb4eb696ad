package subject

import "github.com/icpfiling/icpverify/internal/fold"

// CertType is the type of certificate that identifies a filing subject.
// The MIIT tells filing subjects apart by certificate type and number, not
// by name (主办单位证件类型+证件号码).
type CertType string

// The certificate types Normalize knows: those a filing subject may
// present. Each is checked offline as far as its published format allows.
const (
	// CertUSCC is an organisation's unified social credit code
	// (统一社会信用代码, GB 32100-2015): 18 symbols with a check character.
	CertUSCC CertType = "uscc"
	// CertOrgCode is an organisation code (组织机构代码, GB 11714-1997),
	// which organisations held before their USCC: 8 symbols and a check
	// character, often written with a dash before it. It is the 9th to
	// 17th symbols of the organisation's USCC.
	CertOrgCode CertType = "org_code"
	// CertResidentID is a mainland resident identity card number
	// (居民身份证号码, GB 11643-1999): 17 digits and a check character,
	// or the 15 digits of a first-generation card.
	CertResidentID CertType = "resident_id"
	// CertResidencePermit is the residence permit for Hong Kong, Macao
	// and Taiwan residents (港澳台居民居住证): a resident identity number
	// whose region is 810000, 820000 or 830000.
	CertResidencePermit CertType = "residence_permit"
	// CertHKMacauPermit is the Hong Kong and Macao residents' mainland
	// travel permit (港澳居民来往内地通行证): H or M, the holder's 8-digit
	// lifelong number, and on some cards 2 digits counting renewals.
	CertHKMacauPermit CertType = "hk_macau_permit"
	// CertTaiwanPermit is the Taiwan residents' mainland travel permit
	// (台湾居民来往大陆通行证): the holder's 8-digit lifelong number.
	CertTaiwanPermit CertType = "taiwan_permit"
	// CertForeignPermanentResident is the foreign permanent resident ID
	// card (外国人永久居留身份证): 3 letters and 12 digits on cards before
	// December 2023, 18 characters starting with 9 and ending with a
	// MOD 11-2 check character since.
	CertForeignPermanentResident CertType = "foreign_permanent_resident"
	// CertPassport is a passport. Its number has no national format: it
	// is checked as CertOther is.
	CertPassport CertType = "passport"
	// CertOther is any other certificate (an older registration number, a
	// certificate of a public institution): its number is letters and
	// digits, and is not checked offline.
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
	// rid15Len is the length of a first-generation resident identity
	// number.
	rid15Len = 15
	// orgLen is the length of an organisation code, check character
	// included; orgStart is where it starts in a USCC.
	orgLen, orgStart = 9, 8
	// hkPermitLen is the length of the part of a Hong Kong and Macao
	// permit's number that names its holder; hkPermitLongLen, that of the
	// number with the renewal count.
	hkPermitLen, hkPermitLongLen = 9, 11
	// twPermitLen is the length of a Taiwan permit's number.
	twPermitLen = 8
	// fprOldLen is the length of a permanent resident card's number before
	// December 2023.
	fprOldLen = 15
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

// orgWeights are the GB 11714-1997 weights of the 8 symbols of an
// organisation code.
var orgWeights = [orgLen - 1]int{3, 7, 9, 10, 5, 8, 4, 2}

// Normalize returns the canonical form of a filing subject's
// certificate and reports whether it is well formed, offline:
//
//   - CertUSCC: 18 symbols of 0-9 and A-Z without I, O, S, V and Z, the
//     third to eighth (the region) digits, the last the GB 32100-2015 check
//     character. The first two symbols (registration authority and entity
//     type) may be letters, as the codes of the agriculture authority
//     ("N2…") are;
//   - CertOrgCode: 8 digits or capital letters and the GB 11714-1997
//     check character, a digit or X;
//   - CertResidentID: 17 digits, of which the 7th to 14th are a real date
//     of birth (YYYYMMDD, a year from 1900 to 2099), and the ISO 7064
//     MOD 11-2 check character, a digit or X; or a first-generation
//     number of 15 digits with a real date of birth (YYMMDD, in the 1900s)
//     in the 7th to 12th, whose canonical form is its 18-digit form, the
//     year's century 19 inserted and the check character appended. The
//     region is not looked up;
//   - CertResidencePermit: a resident identity number of 18 digits whose
//     region is 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan);
//   - CertHKMacauPermit: H or M and 8 digits, or H or M and 10 digits
//     (with the renewal count);
//   - CertTaiwanPermit: 8 digits;
//   - CertForeignPermanentResident: 3 letters and 12 digits, or 9, 16
//     digits and the MOD 11-2 check character of a resident identity
//     number (the date is not checked);
//   - CertPassport and CertOther: 4 to 32 ASCII letters and digits,
//     unchecked.
//
// The number may be typed in any case and in full-width forms, with
// spaces (also U+3000, tabs and line breaks) and dashes (also Unicode
// dashes) anywhere, which are dropped; the canonical form is upper case
// ASCII. It reports false, with a zero ID, for a Type other than
// the constants, and for a number that is empty, longer than 256
// bytes, not valid UTF-8, or holds anything else, such as a control
// character or a letter of another script. A canonical id is returned as
// it is, without allocating.
func Normalize(id ID) (ID, bool) {
	if len(id.Number) > maxIDInput {
		return ID{}, false
	}
	check := checker(id.Type)
	if check == nil {
		return ID{}, false
	}
	if check(id.Number) {
		return id, true
	}
	var buf [maxIDInput]byte
	b, ok := compactID(buf[:0], id.Number)
	if !ok {
		return ID{}, false
	}
	if id.Type == CertResidentID && validRID15(b) {
		var long [idLen]byte
		b = appendRID18(long[:0], b)
	}
	number := string(b)
	if !check(number) {
		return ID{}, false
	}
	return ID{Type: id.Type, Number: number}, true
}

// checker returns the test of a canonical number of type t, or nil for a
// type Normalize does not know.
func checker(t CertType) func(string) bool {
	switch t {
	case CertUSCC:
		return validUSCC[string]
	case CertOrgCode:
		return validOrgCode[string]
	case CertResidentID:
		return validResidentID[string]
	case CertResidencePermit:
		return validResidencePermit
	case CertHKMacauPermit:
		return validHKMacauPermit
	case CertTaiwanPermit:
		return validTaiwanPermit
	case CertForeignPermanentResident:
		return validPermanentResident
	case CertPassport, CertOther:
		return validOtherID[string]
	}
	return nil
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

// validOrgCode reports whether s is an organisation code in canonical
// form: 8 digits or capital letters, valued 0 to 35 (GB 11714-1997,
// appendix A), and the check character 11 - (weighted sum mod 11), where
// 10 is X and 11 is 0.
func validOrgCode[T string | []byte](s T) bool {
	if len(s) != orgLen {
		return false
	}
	sum := 0
	for i := range orgLen - 1 {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			sum += int(c-'0') * orgWeights[i]
		case 'A' <= c && c <= 'Z':
			sum += int(c-'A'+10) * orgWeights[i]
		default:
			return false
		}
	}
	return s[orgLen-1] == "0X987654321"[sum%11]
}

// ridSum returns the MOD 11-2 weighted sum of the 17 digits that start s,
// or -1 if they are not all digits.
func ridSum[T string | []byte](s T) int {
	sum := 0
	for i := range idLen - 1 {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		sum += int(c-'0') * ridWeights[i]
	}
	return sum
}

// validResidentID reports whether s is a resident identity number in
// canonical form: 17 digits holding a real date of birth and a matching
// check character.
func validResidentID[T string | []byte](s T) bool {
	if len(s) != idLen {
		return false
	}
	sum := ridSum(s)
	return sum >= 0 && s[idLen-1] == ridCheck[sum%11] && validDate(s[6:14])
}

// validRID15 reports whether s is a first-generation resident identity
// number: 15 digits, the 7th to 12th a real date YYMMDD of the 1900s.
func validRID15[T string | []byte](s T) bool {
	if len(s) != rid15Len {
		return false
	}
	for i := range rid15Len {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return validYMD(1900+num(s[6:8]), num(s[8:10]), num(s[10:12]))
}

// appendRID18 appends to dst the 18-digit form of the first-generation
// resident identity number s: the century 19 inserted before its year of
// birth, and the check character.
func appendRID18[T string | []byte](dst []byte, s T) []byte {
	start := len(dst)
	for i := range 6 {
		dst = append(dst, s[i])
	}
	dst = append(dst, '1', '9')
	for i := 6; i < rid15Len; i++ {
		dst = append(dst, s[i])
	}
	return append(dst, ridCheck[ridSum(dst[start:])%11])
}

// validResidencePermit reports whether s is the number of a residence
// permit for Hong Kong, Macao or Taiwan residents.
func validResidencePermit(s string) bool {
	return validResidentID(s) && (s[:6] == "810000" || s[:6] == "820000" || s[:6] == "830000")
}

// validHKMacauPermit reports whether s is the number of a Hong Kong or
// Macao residents' travel permit: H or M and 8 or 10 digits.
func validHKMacauPermit(s string) bool {
	if len(s) != hkPermitLen && len(s) != hkPermitLongLen || s[0] != 'H' && s[0] != 'M' {
		return false
	}
	return digits(s[1:])
}

// validTaiwanPermit reports whether s is the number of a Taiwan
// residents' travel permit: 8 digits.
func validTaiwanPermit(s string) bool { return len(s) == twPermitLen && digits(s) }

// validPermanentResident reports whether s is the number of a foreign
// permanent resident ID card: 3 letters and 12 digits, or 9, 16 digits and
// a MOD 11-2 check character.
func validPermanentResident(s string) bool {
	switch len(s) {
	case fprOldLen:
		for i := range 3 {
			if s[i] < 'A' || s[i] > 'Z' {
				return false
			}
		}
		return digits(s[3:])
	case idLen:
		sum := ridSum(s)
		return s[0] == '9' && sum >= 0 && s[idLen-1] == ridCheck[sum%11]
	}
	return false
}

// digits reports whether s is only ASCII digits.
func digits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// num returns the value of a string of ASCII digits.
func num[T string | []byte](d T) int {
	n := 0
	for i := range len(d) {
		n = n*10 + int(d[i]-'0')
	}
	return n
}

// validDate reports whether eight digits YYYYMMDD are a date of the
// Gregorian calendar with a year from minBirthYear to maxBirthYear.
func validDate[T string | []byte](d T) bool {
	return validYMD(num(d[0:4]), num(d[4:6]), num(d[6:8]))
}

// validYMD reports whether y, m, d are a date of the Gregorian calendar
// with a year from minBirthYear to maxBirthYear.
func validYMD(y, m, d int) bool {
	if y < minBirthYear || y > maxBirthYear || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
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

// keyNumber returns the number a canonical certificate number keys its
// subject by, whatever its declared type: a resident identity number (or
// any number that reads as one) as it is; a first-generation resident
// identity number in its 18-digit form; a unified social credit code by
// its organisation code, its 9th to 17th symbols; a Hong Kong and Macao
// permit's number with its renewal count by the 9 symbols that name the
// holder; any other number as it is.
func keyNumber(n string) string {
	switch len(n) {
	case idLen:
		if !validResidentID(n) && validUSCC(n) {
			return n[orgStart : orgStart+orgLen]
		}
	case rid15Len:
		if validRID15(n) {
			var long [idLen]byte
			return string(appendRID18(long[:0], n))
		}
	case hkPermitLongLen:
		if validHKMacauPermit(n) {
			return n[:hkPermitLen]
		}
	}
	return n
}
