package icpverify

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// appIDs makes the identities of applications: 32 lower-case hexadecimal
// digits, the first 16 a random key of the Verifier drawn from its random
// source on first use, the last 16 a count unique to the Verifier run
// through a keyed bijection, so that identities never repeat and do not
// show how many came before. They are made appsPerBatch at a time, into
// one string whose parts they are, so that drawing one, as every Verify
// does before it knows whether it is a retry, reads no random source and
// allocates nothing.
type appIDs struct {
	once   sync.Once
	key    [2]uint64
	keyHex [16]byte // key[0] in hexadecimal
	err    error
	next   atomic.Uint64            // the first count no batch has taken
	batch  atomic.Pointer[appBatch] // the batch identities are taken from
}

// appsPerBatch is how many identities appIDs makes at a time.
const appsPerBatch = 32

// appBatch is the digits of appsPerBatch identities and how many of them
// have been taken.
type appBatch struct {
	digits string
	taken  atomic.Int64
}

// newApplication draws the identity of a new application.
func (v *Verifier) newApplication() (string, error) {
	a := &v.apps
	a.once.Do(func() {
		var b [16]byte
		if _, a.err = io.ReadFull(v.rand, b[:]); a.err == nil {
			a.key = [2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
			putHex(a.keyHex[:], a.key[0])
		}
	})
	if a.err != nil {
		return "", fmt.Errorf("icpverify: drawing an application's identity: %w", a.err)
	}
	for {
		b := a.batch.Load()
		if b != nil {
			if i := b.taken.Add(1) - 1; i < appsPerBatch {
				return b.digits[i*32 : (i+1)*32], nil
			}
		}
		a.batch.CompareAndSwap(b, a.newBatch())
	}
}

// newBatch makes the identities of the next appsPerBatch counts.
func (a *appIDs) newBatch() *appBatch {
	first := a.next.Add(appsPerBatch) - appsPerBatch
	var digits [appsPerBatch * 32]byte
	for i := range uint64(appsPerBatch) {
		d := digits[i*32 : (i+1)*32]
		copy(d, a.keyHex[:])
		putHex(d[16:], mix(first+i^a.key[1]))
	}
	return &appBatch{digits: string(digits[:])}
}

// mix is the finalizer of SplitMix64: a bijection of 64-bit values that
// scatters consecutive ones.
func mix(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hexPairs holds the two lower-case hexadecimal digits of each byte.
const hexPairs = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" +
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" +
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" +
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

// putHex writes x into dst[:16] as 16 lower-case hexadecimal digits.
func putHex(dst []byte, x uint64) {
	_ = dst[15]
	for i := 14; i >= 0; i -= 2 {
		b := x & 0xff
		dst[i], dst[i+1] = hexPairs[2*b], hexPairs[2*b+1]
		x >>= 8
	}
}

// maxApplication bounds the length of an application's identity.
const maxApplication = 64

// validApplication reports whether id has the form of an application's
// identity: 1 to 64 ASCII letters and digits.
func validApplication(id string) bool {
	if id == "" || len(id) > maxApplication {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i] | 0x20
		if !('0' <= id[i] && id[i] <= '9' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
