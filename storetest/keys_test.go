package storetest

import (
	"strings"
	"testing"
	"unicode/utf8"

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
	for _, s := range []string{k.quotaKey(), k.member(), k.subject()} {
		if l := long300(s); len(l) != 300 || !utf8.ValidString(l) || !strings.HasPrefix(l, s) || !strings.Contains(l, "键") {
			t.Errorf("long300(%q) = %q, %d bytes; want 300 bytes of UTF-8 that start with it and hold CJK", s, l, len(l))
		}
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
