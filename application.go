package icpverify

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
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
	once  sync.Once
	key   [2]uint64
	err   error
	next  atomic.Uint64            // the first count no batch has taken
	batch atomic.Pointer[appBatch] // the batch identities are taken from
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
	var key, count [16]byte
	putHex(key[:], a.key[0])
	var digits strings.Builder
	digits.Grow(appsPerBatch * 32)
	for i := range uint64(appsPerBatch) {
		putHex(count[:], mix(first+i^a.key[1]))
		digits.Write(key[:])
		digits.Write(count[:])
	}
	return &appBatch{digits: digits.String()}
}

// mix is the finalizer of SplitMix64: a bijection of 64-bit values that
// scatters consecutive ones.
func mix(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// putHex writes x into dst as 16 lower-case hexadecimal digits.
func putHex(dst []byte, x uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], x)
	hex.Encode(dst, b[:])
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
