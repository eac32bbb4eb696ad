package icpverify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// A service code is 16 symbols of Crockford's base-32 alphabet, shown in
// four groups of four: "7KQ2-M9XD-4TRB-WH6Q". The alphabet has no I, L, O or
// U, so a code read aloud or copied by hand has no look-alike characters. The
// first 15 symbols are random (75 bits from crypto/rand); the last is a check
// symbol that makes every code's checksum zero, so a code with one symbol
// wrong or two neighbours swapped is refused offline.
const (
	codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeSymbols  = 16
	codeLen      = codeSymbols + codeSymbols/4 - 1 // with dashes
	// maxCodeInput bounds what is read of a typed code: 16 symbols and
	// generous room for the spaces and dashes a user may add.
	maxCodeInput = 64
	// issueAttempts bounds the draws of a fresh code when the store
	// already holds the one drawn.
	issueAttempts = 3
)

// codeValue maps a typed byte to its symbol value, or -1. Lower case reads as
// upper case, O as 0 and I and L as 1, as in Crockford's base 32.
var codeValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for v, c := range []byte(codeAlphabet) {
		t[c] = int8(v)
		t[c|0x20] = int8(v) // lower case; digits are unchanged by the bit
	}
	t['O'], t['o'] = 0, 0
	t['I'], t['i'], t['L'], t['l'] = 1, 1, 1, 1
	return t
}()

// mulx multiplies a checksum by x in GF(32) modulo x^5+x^2+1. Because the
// checksum is a polynomial over a field, any single wrong symbol and any swap
// of two different neighbouring symbols changes it.
func mulx(h byte) byte {
	h <<= 1
	if h&0x20 != 0 {
		h ^= 0x25
	}
	return h
}

// decodeCode reads a typed code into its symbol values, skipping spaces,
// tabs and dashes, and reports whether it is a well-formed code and whether
// it was typed in the canonical form.
func decodeCode(s string, v *[codeSymbols]byte) (ok, canonical bool) {
	if len(s) > maxCodeInput {
		return false, false
	}
	canonical = len(s) == codeLen
	n := 0
	var h byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == ' ' || c == '\t' {
			canonical = canonical && c == '-' && i%5 == 4
			continue
		}
		d := codeValue[c]
		if d < 0 || n == codeSymbols {
			return false, false
		}
		canonical = canonical && i%5 != 4 && codeAlphabet[d] == c
		v[n] = byte(d)
		h = mulx(h) ^ byte(d)
		n++
	}
	return n == codeSymbols && h == 0, canonical
}

// encodeCode writes symbol values in the canonical form.
func encodeCode(v *[codeSymbols]byte) string {
	var b [codeLen]byte
	j := 0
	for i, d := range v {
		if i > 0 && i%4 == 0 {
			b[j] = '-'
			j++
		}
		b[j] = codeAlphabet[d]
		j++
	}
	return string(b[:])
}

// ValidServiceCodeFormat reports whether code is a well-formed service code
// of DefaultCodeFormat, without asking any store: 16 symbols of the code
// alphabet whose check symbol matches. Case, spaces and dashes anywhere,
// and the forms input methods type (see CodeFormat), are ignored.
func ValidServiceCodeFormat(code string) bool {
	var v [codeSymbols]byte
	if ok, _ := decodeCode(code, &v); ok {
		return true
	}
	f, ok := foldInputForms(code)
	if !ok || f == code {
		return false
	}
	ok, _ = decodeCode(f, &v)
	return ok
}

// NormalizeServiceCode returns the canonical form of a typed code of
// DefaultCodeFormat: upper case, in four dash-separated groups of four,
// with O read as 0 and I and L as 1, and the forms input methods type
// folded (see CodeFormat). It reports false if code is not well formed.
// Stores keep codes in this form; a code already in it is returned as it
// is, without allocating.
func NormalizeServiceCode(code string) (string, bool) {
	return checkedFormat{}.Normalize(code)
}

// normalizeCode is NormalizeServiceCode without folding input forms.
func normalizeCode(code string) (string, bool) {
	var v [codeSymbols]byte
	ok, canonical := decodeCode(code, &v)
	switch {
	case !ok:
		return "", false
	case canonical:
		return code, true
	}
	return encodeCode(&v), true
}

// MaskServiceCode returns a form of a code of DefaultCodeFormat safe to log
// or show to someone other than its owner: only its last 4 symbols, the
// last of them the check symbol, are shown, as in "****-****-****-WH6Q".
// Input that is not a well-formed code is hidden whole, as "****". A
// Verifier masks the codes of its own CodeFormat alike, showing at most 4
// symbols of any code.
func MaskServiceCode(code string) string { return maskTyped(code, checkedFormat{}) }

// newCode draws a random code from r.
func newCode(r io.Reader) (string, error) {
	var raw [10]byte // 80 bits, of which 75 are used
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("icpverify: drawing a service code: %w", err)
	}
	var v [codeSymbols]byte
	var acc uint64
	bits := 0
	k := 0
	var h byte
	for i := 0; i < codeSymbols-1; i++ {
		if bits < 5 {
			acc = acc<<8 | uint64(raw[k])
			k++
			bits += 8
		}
		bits -= 5
		v[i] = byte(acc>>bits) & 31
		h = mulx(h) ^ v[i]
	}
	v[codeSymbols-1] = mulx(h)
	return encodeCode(&v), nil
}

// IssueServiceCode issues a new ICP filing service code from an instance, for
// the account that owns it; another account's instance is refused as one
// that does not exist (ReasonInstanceNotFound). The instance must be
// eligible under its product type's Policy: fileable, a subscription of at least the
// minimum term, in a mainland region, with a public IP, running, unexpired
// and not a trial. A refusal is an *Error wrapping ErrInvalidProduct with
// its Reason; an instance that has issued its Policy.CodeLimit codes gets
// ErrQuotaReached with ReasonCodeLimit. It returns the code in canonical
// form.
func (v *Verifier) IssueServiceCode(ctx context.Context, instanceID, account string) (string, error) {
	start, err := v.begin()
	if err != nil {
		return "", err
	}
	d := Decision{Op: OpIssue, Account: account, Instance: instanceID}
	code, err := v.issue(ctx, instanceID, account, start, &d)
	d.Code = code
	return code, v.end(&d, start, err, err == nil)
}

// issue issues a code; it notes the instance's product type in d.
func (v *Verifier) issue(ctx context.Context, instanceID, account string, now time.Time, d *Decision) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if e := checkField("instance", instanceID); e != nil {
		return "", e
	}
	if e := checkField("account", account); e != nil {
		return "", e
	}
	inst, err := v.instances.Instance(ctx, instanceID)
	if errors.Is(err, ErrNotFound) {
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInstanceNotFound, Instance: instanceID}
	}
	if err != nil {
		return "", fmt.Errorf("icpverify: looking up instance: %w", err)
	}
	if inst.Account != account {
		// Another account's instance is refused as one that does not
		// exist.
		return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInstanceNotFound, Instance: instanceID,
			cause: ReasonNotInstanceOwner, causeInstance: instanceID}
	}
	d.Product = inst.Product
	pol := v.policy(inst.Product)
	if e := v.eligible(inst, account, pol, now); e != nil {
		return "", e
	}
	return v.addCode(ctx, inst, pol, now)
}

// addCode stores a fresh code for an eligible instance, drawing again if
// the store holds the one drawn.
func (v *Verifier) addCode(ctx context.Context, inst Instance, pol Policy, now time.Time) (string, error) {
	for range issueAttempts {
		code, err := v.format.New(v.rand)
		if err != nil {
			return "", fmt.Errorf("icpverify: drawing a service code: %w", err)
		}
		sc := ServiceCode{Code: code, Instance: inst.ID, Owner: inst.Account, IssuedAt: now}
		issued, added, err := v.instances.AddServiceCode(ctx, sc, pol.CodeLimit)
		switch {
		case errors.Is(err, ErrExists):
			continue
		case errors.Is(err, ErrNotFound):
			return "", &Error{Err: ErrInvalidProduct, Reason: ReasonInstanceNotFound, Instance: inst.ID}
		case err != nil:
			return "", fmt.Errorf("icpverify: storing a service code: %w", err)
		case !added:
			return "", &Error{Err: ErrQuotaReached, Reason: ReasonCodeLimit, Instance: inst.ID,
				Actual: inst.Product, Used: issued, Limit: pol.CodeLimit}
		}
		return code, nil
	}
	return "", fmt.Errorf("icpverify: storing a service code: %d draws all existed: %w", issueAttempts, ErrExists)
}

// GrantServiceCode lets the grantee account use a code, as when a code is
// handed to the company that files the website; an empty grantee withdraws
// the grant. owner must own the code's instance now; otherwise the code is
// refused as if it did not exist (ReasonCodeNotFound). A code that is no
// longer valid (revoked, expired, or its instance released, expired,
// stopped or without a public IP) cannot be granted. A reservation that the
// former grantee holds, unfiled, is released, as no one entitled to the
// code holds it any more.
func (v *Verifier) GrantServiceCode(ctx context.Context, code, owner, grantee string) error {
	start, err := v.begin()
	if err != nil {
		return err
	}
	d := Decision{Op: OpGrant, Account: owner, Grantee: grantee, Code: code}
	if grantee == "" {
		d.Op = OpUngrant
	}
	return v.end(&d, start, v.grant(ctx, code, owner, grantee, start, &d), false)
}

// grant grants a code or withdraws its grant; it notes the code's instance
// in d.
func (v *Verifier) grant(ctx context.Context, code, owner, grantee string, now time.Time, d *Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, ok := v.format.Normalize(code)
	if !ok {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed}
	}
	if e := checkField("owner", owner); e != nil {
		return e
	}
	if grantee != "" {
		if e := checkField("grantee", grantee); e != nil {
			return e
		}
	}
	var rec CodeRecord
	err := v.lookupCode(ctx, c, &rec)
	if errors.Is(err, ErrNotFound) {
		return unknownCode("", "", "")
	}
	if err != nil {
		return err
	}
	sc, inst := rec.Code, rec.Instance
	d.Instance = sc.Instance
	if grantee == "" && owner == ownerOf(sc, inst) && sc.Owner == owner {
		d.Grantee = sc.Grantee // the grant withdrawn
	}
	if owner != ownerOf(sc, inst) {
		return unknownCode("", ReasonCodeNotOwned, sc.Instance)
	}
	if grantee != "" {
		if e := valid(sc, inst, v.policy(inst.Product), now); e != nil {
			return e
		}
	}
	if err := v.instances.GrantServiceCode(ctx, c, owner, grantee); err != nil {
		return storeFailure("granting service code", err)
	}
	return v.releaseUnentitled(ctx, rec, owner, grantee)
}

// releaseUnentitled releases the unfiled reservation of the code read in
// rec if its account is neither the owner, who acts, nor the grantee.
func (v *Verifier) releaseUnentitled(ctx context.Context, rec CodeRecord, owner, grantee string) error {
	r, err := v.reservationOf(ctx, rec.Code.Code)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	case r.Filed || r.Account == owner || r.Account == grantee:
		return nil
	}
	_, err = v.releaseFor(ctx, owner, r, ReasonCodeNotOwned)
	return err
}

// RevokeServiceCode invalidates a code for good, as the provider does: it
// can no longer be verified, granted or completed. Its unfiled reservation,
// if any, is released; a filed one stays, as the filing was approved. A code
// that does not exist gets an *Error with ReasonCodeNotFound. Like Release,
// it is the provider's action: never expose it to applicants.
func (v *Verifier) RevokeServiceCode(ctx context.Context, code string) error {
	start, err := v.begin()
	if err != nil {
		return err
	}
	d := Decision{Op: OpRevoke, Code: code}
	return v.end(&d, start, v.revoke(ctx, code, &d), false)
}

// revoke revokes a code and releases its unfiled reservation.
func (v *Verifier) revoke(ctx context.Context, code string, d *Decision) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, ok := v.format.Normalize(code)
	if !ok {
		return &Error{Err: ErrServiceCodeInvalid, Reason: ReasonCodeMalformed}
	}
	err := v.instances.RevokeServiceCode(ctx, c)
	if errors.Is(err, ErrNotFound) {
		return unknownCode("", "", "")
	}
	if err != nil {
		return fmt.Errorf("icpverify: revoking service code: %w", err)
	}
	r, err := v.reservationOf(ctx, c)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	d.Holder, d.Subject, d.Instance, d.Application = r.Account, r.Subject, r.Instance, r.Application
	if r.Filed {
		return nil
	}
	_, err = v.releaseFor(ctx, "", r, ReasonCodeRevoked)
	return err
}

// reservationOf reads the reservation of a code, once its code was
// written: a code without one is ErrNotFound.
func (v *Verifier) reservationOf(ctx context.Context, code string) (Reservation, error) {
	r, err := v.quotas.Reservation(ctx, code)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Reservation{}, fmt.Errorf("icpverify: looking up reservation: %w", err)
	}
	return r, err
}

// releaseFor releases r on behalf of actor (empty for the provider),
// because the rules no longer allow it (cause), records the release in a
// Decision of its own, and reports whether it released it. A reservation
// gone or replaced since it was read, or filed since, needs nothing more.
func (v *Verifier) releaseFor(ctx context.Context, actor string, r Reservation, cause Reason) (bool, error) {
	after, err := v.quotas.Release(ctx, r)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("icpverify: releasing reservation: %w", err)
	case after.Filed:
		return false, nil
	}
	v.noteRelease(actor, after, cause)
	return true, nil
}
