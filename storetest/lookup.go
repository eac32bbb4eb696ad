package storetest

import (
	"errors"
	"testing"

	"github.com/icpfiling/icpverify"
)

var lookupTests = []testCase{
	{"RoundTrip", testLookupRoundTrip},
	{"NotFound", testLookupNotFound},
}

// codeLookup returns s as a CodeLookup, or skips the subtest.
func codeLookup(t *testing.T, s Store) icpverify.CodeLookup {
	t.Helper()
	l, ok := s.(icpverify.CodeLookup)
	if !ok {
		t.Skipf("storetest: %T does not implement icpverify.CodeLookup, which is optional", s)
	}
	return l
}

// testLookupRoundTrip: LookupServiceCode returns what ServiceCode and
// Instance return, grant included.
func testLookupRoundTrip(t *testing.T, s Store) {
	l := codeLookup(t, s)
	f := newFixture(t, s)
	owner := f.k.unicodeAccount()
	inst := f.put(f.instance(owner))
	sc := f.serviceCode(inst.ID, owner)
	if _, added, err := s.AddServiceCode(f.ctx, sc, bigLimit); err != nil || !added {
		t.Fatalf("AddServiceCode(%q) = added %v, error %v; want added, no error", sc.Code, added, err)
	}
	sc.Grantee = f.k.unicodeAccount()
	if err := s.GrantServiceCode(f.ctx, sc.Code, sc.Grantee); err != nil {
		t.Fatalf("GrantServiceCode(%q): %v", sc.Code, err)
	}
	gotCode, gotInst, err := l.LookupServiceCode(f.ctx, sc.Code)
	if err != nil {
		t.Fatalf("LookupServiceCode(%q): %v", sc.Code, err)
	}
	if d := codeDiff(gotCode, sc); len(d) > 0 {
		t.Errorf("LookupServiceCode(%q) code: %s", sc.Code, d)
	}
	if d := instanceDiff(gotInst, inst); len(d) > 0 {
		t.Errorf("LookupServiceCode(%q) instance: %s", sc.Code, d)
	}
}

// testLookupNotFound: an unknown code is ErrNotFound.
func testLookupNotFound(t *testing.T, s Store) {
	l := codeLookup(t, s)
	f := newFixture(t, s)
	code := f.k.code(t)
	if _, _, err := l.LookupServiceCode(f.ctx, code); !errors.Is(err, icpverify.ErrNotFound) {
		t.Errorf("LookupServiceCode(%q) of an unknown code: error %v; want ErrNotFound", code, err)
	}
}
