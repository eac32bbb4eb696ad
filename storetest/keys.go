package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/icpfiling/icpverify/codeformat"
)

// randomHex returns 2n random hexadecimal digits.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// keys draws the random keys of one subtest. All keys of a subtest share a
// random tag, and each key adds a random part of its own, so that no two
// subtests, or runs, ever use the same key.
type keys struct {
	tag string
}

func newKeys() keys { return keys{tag: randomHex(6)} }

// instance returns a new instance ID.
func (k keys) instance() string { return "i-st" + k.tag + randomHex(8) }

// longInstance returns a new instance ID of exactly 200 bytes.
func (k keys) longInstance() string {
	id := k.instance() + "-"
	return id + strings.Repeat("x", 200-len(id))
}

// account returns a new account name.
func (k keys) account() string { return "acct-" + k.tag + randomHex(8) }

// unicodeAccount returns a new account name that is not ASCII.
func (k keys) unicodeAccount() string { return "账号·" + k.tag + randomHex(4) + "·アカウント" }

// subject returns a new filing subject.
func (k keys) subject() string { return "subject-" + k.tag + randomHex(8) }

// unicodeSubject returns a new filing subject that is not ASCII.
func (k keys) unicodeSubject() string {
	return "杭州某某科技有限公司·" + k.tag + randomHex(4) + " Ünïcødé"
}

// quotaKey returns a new quota key, as the Verifier makes them: what is
// counted, and on what.
func (k keys) quotaKey() string { return "sites/ip:" + k.tag + randomHex(8) }

// member returns a new member of a quota.
func (k keys) member() string { return "member-" + k.tag + randomHex(8) }

// long300 returns s, followed by CJK characters and then ASCII letters, to
// exactly 300 bytes: as long as quota keys, members and subject keys get.
// s must be shorter than 300 bytes.
func long300(s string) string {
	s += ":" + strings.Repeat("键", (299-len(s))/3/2)
	return s + strings.Repeat("k", 300-len(s))
}

// application returns a new application ID, as the Verifier makes them: 32
// lower-case hexadecimal digits.
func (k keys) application() string { return randomHex(16) }

// longApplication returns a new application ID of exactly 64 ASCII letters
// and digits, upper and lower case: the longest the contract allows.
func (k keys) longApplication() string {
	id := "App" + k.tag + randomHex(8) + "Z"
	return id + strings.Repeat("Qx9", 64)[:64-len(id)]
}

// code returns a new, random service code in canonical form.
func (k keys) code(t testing.TB) string {
	t.Helper()
	var raw [codeSymbols - 1]byte
	rand.Read(raw[:])
	var v [codeSymbols]byte
	for i, r := range raw {
		v[i] = r & 31
	}
	code := encodeCode(&v)
	if c, ok := codeformat.Normalize(code); !ok || c != code {
		t.Fatalf("storetest: bug: drew %q, which codeformat does not accept as a canonical service code", code)
	}
	return code
}

// Service codes are 16 symbols of Crockford's base 32 in four dashed groups;
// the last symbol makes the checksum, a polynomial over GF(32) modulo
// x^5+x^2+1, zero. See codeformat.Default.
const (
	codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeSymbols  = 16
	codeLen      = codeSymbols + codeSymbols/4 - 1
)

// timesX returns h·x in GF(32).
func timesX(h byte) byte {
	h <<= 1
	if h&0x20 != 0 {
		h ^= 0x25
	}
	return h
}

// encodeCode sets the check symbol of v from its first 15 symbols and
// returns the code in canonical form.
func encodeCode(v *[codeSymbols]byte) string {
	var sum byte
	for _, d := range v[:codeSymbols-1] {
		sum = timesX(sum) ^ d
	}
	v[codeSymbols-1] = timesX(sum)
	var b [codeLen]byte
	return string(appendCode(b[:0], v))
}

// appendCode appends the canonical form of the symbols v to b.
func appendCode(b []byte, v *[codeSymbols]byte) []byte {
	for i, d := range v {
		if i > 0 && i%4 == 0 {
			b = append(b, '-')
		}
		b = append(b, codeAlphabet[d])
	}
	return b
}
