// Package subject identifies the subject of an ICP filing: the organisation
// or person a website is filed for, whom a cloud product's quota of filing
// subjects counts.
//
// A subject is its certificate, an ID, when one is given: the number as
// Normalize reads it offline, whatever case, width, spaces and dashes it
// was typed with, and whatever type was declared with it, since a filing
// system tells subjects apart by certificate and an applicant chooses the
// type. Key gives the key a subject's slot is kept under; these key as one
// subject:
//
//   - the same number under any declared type (a USCC sent as CertOther is
//     the USCC);
//   - a first-generation resident identity number of 15 digits and the
//     18-digit number of the same card (century 19, MOD 11-2 check
//     character appended);
//   - a unified social credit code and the organisation code it holds in
//     its 9th to 17th symbols (GB 32100-2015): both key by the organisation
//     code, check character included, which is what both forms carry;
//   - a Hong Kong and Macao residents' travel permit numbered with its
//     renewal count (11 symbols) and the same holder's number without it
//     (the first 9, which name the holder).
//
// A number that reads as a resident identity number (18 digits with a
// real date of birth and a matching check character) keys as that, even if
// it also reads as a USCC, as about 1 in 31 resident numbers does: one
// person keys as one subject, and the rare company whose USCC also reads
// as a resident number keys apart from its organisation code. Numbers of
// different certificates of one holder (a passport and a travel permit,
// a resident number and a residence permit, the old and new foreign
// permanent resident cards) key apart: nothing offline ties them.
//
// Without a certificate a subject is known by its name, ignoring case,
// width, spacing, invisible characters and the space around punctuation and
// between Chinese characters (see Key). A subject named once by its
// certificate and once by its name alone has two keys.
package subject

// Key returns the key under which a subject's slot is kept and codes are
// bound to it: "id:" and the number the certificate keys by (see the
// package doc), if id is not the zero ID; otherwise "name:" and the
// canonical form of name. The canonical name is name
//
//   - without default-ignorable code points (Unicode's
//     Default_Ignorable_Code_Point, unassigned ones included: zero-width
//     spaces and joiners, soft hyphens, variation selectors, Hangul
//     fillers, tags, U+2065, U+FFF0…), bidirectional controls aside;
//   - in Unicode normalization form NFKC, which folds full-width and
//     half-width forms ("（", "Ａ", U+3000) and composes decomposed
//     letters, case-folded (full case folding, then NFKC again);
//   - with each run of white space (any Unicode White_Space, and the
//     blank Braille pattern U+2800, which shows as one) replaced by one
//     space, and then without the spaces next to a CJK character (Han,
//     kana, Bopomofo, CJK punctuation, the middle dot) or to ASCII
//     punctuation, and none at either end: "杭 州 示例", "杭州\u3000示例"
//     and "杭州示例" are one name, as are "Example Co., Ltd." and
//     "Example Co.,Ltd.".
//
// It reports false if id is not well formed (see Normalize), or if it is
// zero and name is not a valid name (see ValidName). The name is not read
// when id is given. A store that upgrades reservations kept under an older
// key calls it to key them as the Verifier of package icpverify does.
func Key(name string, id ID) (string, bool) {
	if id != (ID{}) {
		id, ok := Normalize(id)
		if !ok {
			return "", false
		}
		return "id:" + keyNumber(id.Number), true
	}
	return prefixedNameKey("name:", name)
}
