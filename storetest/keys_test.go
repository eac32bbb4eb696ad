package storetest

import (
	"testing"

	"github.com/icpfiling/icpverify/codeformat"
)

func TestCodesAreCanonical(t *testing.T) {
	k := newKeys()
	seen := make(map[string]bool)
	for range 1000 {
		c := k.code(t)
		if _, ok := codeformat.Normalize(c); !ok {
			t.Fatalf("code %q is not valid", c)
		}
		if seen[c] {
			t.Fatalf("code %q drawn twice", c)
		}
		seen[c] = true
	}
	if id := k.longInstance(); len(id) != 200 {
		t.Errorf("long instance ID has %d bytes, want 200", len(id))
	}
}

func TestBenchCodes(t *testing.T) {
	g := newCodeGen()
	seen := make(map[string]bool)
	for range 1000 {
		c := g.next()
		if c2, ok := codeformat.Normalize(c); !ok || c2 != c {
			t.Fatalf("code %q is not canonical", c)
		}
		if seen[c] {
			t.Fatalf("code %q drawn twice", c)
		}
		seen[c] = true
	}
}
