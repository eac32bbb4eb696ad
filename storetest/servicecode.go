package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/icpfiling/icpverify"
)

var serviceCodeTests = []testCase{
	{"NotFound", testCodeNotFound},
	{"RoundTrip", testCodeRoundTrip},
	{"Duplicate", testCodeDuplicate},
	{"UniquePerStore", testCodeUniquePerStore},
	{"Limit", testCodeLimit},
	{"LimitConcurrent", testCodeLimitConcurrent},
	{"Grant", testCodeGrant},
	{"Revoke", testCodeRevoke},
}

// testCodeNotFound: ServiceCode and GrantServiceCode of an unknown code,
// and AddServiceCode on an unknown instance, are ErrNotFound and store
// nothing.
func testCodeNotFound(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.newCode(f.newInstance(f.k.account())) // the store is not empty

	code := f.k.code(t)
	f.checkNoCode(code)
	if err := s.GrantServiceCode(f.ctx, code, f.k.account(), f.k.account()); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("GrantServiceCode(%q) of an unknown code = %v; want an error that is ErrNotFound", code, err)
	}
	f.checkNoCode(code)

	sc := f.serviceCode(f.k.instance(), f.k.account())
	issued, added, err := s.AddServiceCode(f.ctx, sc, bigLimit)
	if !errors.Is(err, icpverify.ErrNotFound) || added {
		t.Errorf("AddServiceCode(%q) on unknown instance %q = issued %d, added %v, error %v; want not added, an error that is ErrNotFound",
			sc.Code, sc.Instance, issued, added, err)
	}
	f.checkNoCode(sc.Code)
}

// testCodeRoundTrip: ServiceCode returns what AddServiceCode stored, every
// field unchanged, and AddServiceCode counts the codes of each instance.
func testCodeRoundTrip(t *testing.T, s Store) {
	f := newFixture(t, s)
	owner := f.k.unicodeAccount()
	inst := f.put(f.instance(owner))
	long := f.put(icpverify.Instance{ID: f.k.longInstance(), Account: owner, Status: icpverify.Running})
	codes := []icpverify.ServiceCode{
		{Code: f.k.code(t), Instance: inst.ID, Owner: owner, IssuedAt: baseTime},
		{Code: f.k.code(t), Instance: inst.ID, Owner: owner, Grantee: f.k.unicodeAccount(), Revoked: true, IssuedAt: baseTime.Add(36 * time.Hour)},
		{Code: f.k.code(t), Instance: long.ID, Owner: f.k.account(), IssuedAt: baseTime.AddDate(-1, 0, 0)},
	}
	wantIssued := []int{1, 2, 1}
	for i, sc := range codes {
		issued, added, err := s.AddServiceCode(f.ctx, sc, 5)
		if err != nil || !added || issued != wantIssued[i] {
			t.Errorf("AddServiceCode(%+v, 5) = issued %d, added %v, error %v; want issued %d, added, no error",
				sc, issued, added, err, wantIssued[i])
		}
	}
	for _, sc := range codes {
		f.checkCode(sc)
	}
}

// testCodeDuplicate: adding a stored code again is ErrExists, changes
// nothing and is not counted.
func testCodeDuplicate(t *testing.T, s Store) {
	f := newFixture(t, s)
	inst := f.newInstance(f.k.account())
	sc := f.serviceCode(inst, f.k.account())
	if issued, added, err := s.AddServiceCode(f.ctx, sc, 10); err != nil || !added || issued != 1 {
		t.Fatalf("AddServiceCode(%q, 10) = issued %d, added %v, error %v; want issued 1, added, no error", sc.Code, issued, added, err)
	}
	dup := sc
	dup.Owner = f.k.account()
	dup.Grantee = f.k.account()
	dup.IssuedAt = baseTime.AddDate(0, 1, 0)
	for range 2 {
		issued, added, err := s.AddServiceCode(f.ctx, dup, 10)
		if !errors.Is(err, icpverify.ErrExists) || added {
			t.Errorf("AddServiceCode(%q, 10) of a stored code = issued %d, added %v, error %v; want not added, an error that is ErrExists",
				dup.Code, issued, added, err)
		}
	}
	f.checkCode(sc)
	f.checkIssued(inst, 1)
}

// testCodeUniquePerStore: a code stored for one instance cannot be added
// for another.
func testCodeUniquePerStore(t *testing.T, s Store) {
	f := newFixture(t, s)
	a := f.newInstance(f.k.account())
	b := f.newInstance(f.k.account())
	sc := f.serviceCode(a, f.k.account())
	if _, added, err := s.AddServiceCode(f.ctx, sc, 10); err != nil || !added {
		t.Fatalf("AddServiceCode(%q) on instance %q = added %v, error %v; want added, no error", sc.Code, a, added, err)
	}
	other := sc
	other.Instance = b
	issued, added, err := s.AddServiceCode(f.ctx, other, 10)
	if !errors.Is(err, icpverify.ErrExists) || added {
		t.Errorf("AddServiceCode(%q) on instance %q, when instance %q has it = issued %d, added %v, error %v; want not added, an error that is ErrExists",
			sc.Code, b, a, issued, added, err)
	}
	f.checkCode(sc)
	f.checkIssued(a, 1)
	f.checkIssued(b, 0)
}

// testCodeLimit: AddServiceCode stores a code only while the instance has
// issued fewer than limit codes; the limit is the caller's, per call, and
// each instance counts its own codes.
func testCodeLimit(t *testing.T, s Store) {
	f := newFixture(t, s)
	inst := f.newInstance(f.k.account())
	other := f.newInstance(f.k.account())
	const limit = 3
	for i := 1; i <= limit; i++ {
		sc := f.serviceCode(inst, f.k.account())
		if issued, added, err := s.AddServiceCode(f.ctx, sc, limit); err != nil || !added || issued != i {
			t.Fatalf("AddServiceCode #%d with limit %d = issued %d, added %v, error %v; want issued %d, added, no error",
				i, limit, issued, added, err, i)
		}
	}
	over := f.serviceCode(inst, f.k.account())
	if issued, added, err := s.AddServiceCode(f.ctx, over, limit); err != nil || added || issued != limit {
		t.Errorf("AddServiceCode over the limit %d = issued %d, added %v, error %v; want issued %d, not added, no error",
			limit, issued, added, err, limit)
	}
	f.checkNoCode(over.Code)

	// The other instance has issued none.
	if issued, added, err := s.AddServiceCode(f.ctx, f.serviceCode(other, f.k.account()), 1); err != nil || !added || issued != 1 {
		t.Errorf("AddServiceCode on another instance with limit 1 = issued %d, added %v, error %v; want issued 1, added, no error",
			issued, added, err)
	}

	// A higher limit, as when the provider sells more codes, lets the
	// instance issue more.
	if issued, added, err := s.AddServiceCode(f.ctx, over, limit+1); err != nil || !added || issued != limit+1 {
		t.Errorf("AddServiceCode with the limit raised to %d = issued %d, added %v, error %v; want issued %d, added, no error",
			limit+1, issued, added, err, limit+1)
	}
	f.checkCode(over)

	// A limit of zero stores nothing.
	zero := f.newInstance(f.k.account())
	sc := f.serviceCode(zero, f.k.account())
	if issued, added, err := s.AddServiceCode(f.ctx, sc, 0); err != nil || added || issued != 0 {
		t.Errorf("AddServiceCode with limit 0 = issued %d, added %v, error %v; want issued 0, not added, no error", issued, added, err)
	}
	f.checkNoCode(sc.Code)
}

// testCodeLimitConcurrent: concurrent AddServiceCode calls on one instance
// store exactly limit codes.
func testCodeLimitConcurrent(t *testing.T, s Store) {
	f := newFixture(t, s)
	inst := f.newInstance(f.k.account())
	const n, limit = 32, 5
	codes := make([]icpverify.ServiceCode, n)
	for i := range codes {
		codes[i] = f.serviceCode(inst, f.k.account())
	}
	type result struct {
		issued int
		added  bool
		err    error
	}
	results := make([]result, n)
	concurrently(n, func(i int) {
		issued, added, err := s.AddServiceCode(f.ctx, codes[i], limit)
		results[i] = result{issued, added, err}
	})
	added := 0
	seen := make(map[int]bool)
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("AddServiceCode #%d: %v", i, r.err)
		case r.added:
			added++
			if r.issued < 1 || r.issued > limit || seen[r.issued] {
				t.Errorf("AddServiceCode #%d = issued %d, added; want a count from 1 to %d that no other call reported", i, r.issued, limit)
			}
			seen[r.issued] = true
			f.checkCode(codes[i])
		default:
			if r.issued != limit {
				t.Errorf("AddServiceCode #%d = issued %d, not added; want issued %d", i, r.issued, limit)
			}
			f.checkNoCode(codes[i].Code)
		}
	}
	if added != limit {
		t.Errorf("%d concurrent AddServiceCode calls with limit %d added %d codes; want exactly %d", n, limit, added, limit)
	}
	f.checkIssued(inst, limit)
}

// testCodeGrant: GrantServiceCode sets the owner and the grantee,
// replacing an earlier grant; an empty grantee withdraws it; nothing else
// changes.
func testCodeGrant(t *testing.T, s Store) {
	f := newFixture(t, s)
	inst := f.newInstance(f.k.account())
	sc := f.serviceCode(inst, f.k.account())
	sc.Revoked = true
	if _, added, err := s.AddServiceCode(f.ctx, sc, 10); err != nil || !added {
		t.Fatalf("AddServiceCode(%q) = added %v, error %v; want added, no error", sc.Code, added, err)
	}
	untouched := f.serviceCode(inst, f.k.account())
	if _, added, err := s.AddServiceCode(f.ctx, untouched, 10); err != nil || !added {
		t.Fatalf("AddServiceCode(%q) = added %v, error %v; want added, no error", untouched.Code, added, err)
	}
	newOwner := f.k.unicodeAccount()
	for _, g := range []struct{ owner, grantee string }{
		{sc.Owner, f.k.account()}, {sc.Owner, f.k.unicodeAccount()}, {newOwner, f.k.account()}, {newOwner, ""},
	} {
		if err := s.GrantServiceCode(f.ctx, sc.Code, g.owner, g.grantee); err != nil {
			t.Fatalf("GrantServiceCode(%q, %q, %q): %v", sc.Code, g.owner, g.grantee, err)
		}
		sc.Owner, sc.Grantee = g.owner, g.grantee
		f.checkCode(sc)
	}
	f.checkCode(untouched)
}

// testCodeRevoke: RevokeServiceCode sets Revoked, for good, and changes
// nothing else; revoking twice is no error; an unknown code is ErrNotFound.
func testCodeRevoke(t *testing.T, s Store) {
	f := newFixture(t, s)
	inst := f.newInstance(f.k.account())
	sc := f.serviceCode(inst, f.k.account())
	sc.Grantee = f.k.account()
	if _, added, err := s.AddServiceCode(f.ctx, sc, 10); err != nil || !added {
		t.Fatalf("AddServiceCode(%q) = added %v, error %v; want added, no error", sc.Code, added, err)
	}
	untouched := f.serviceCode(inst, f.k.account())
	if _, added, err := s.AddServiceCode(f.ctx, untouched, 10); err != nil || !added {
		t.Fatalf("AddServiceCode(%q) = added %v, error %v; want added, no error", untouched.Code, added, err)
	}
	for range 2 {
		if err := s.RevokeServiceCode(f.ctx, sc.Code); err != nil {
			t.Fatalf("RevokeServiceCode(%q): %v", sc.Code, err)
		}
		sc.Revoked = true
		f.checkCode(sc)
	}
	f.checkCode(untouched)
	code := f.k.code(t)
	if err := s.RevokeServiceCode(f.ctx, code); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("RevokeServiceCode(%q) of an unknown code = %v; want an error that is ErrNotFound", code, err)
	}
	f.checkNoCode(code)
}
