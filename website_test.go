package icpverify

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWebsiteKey(t *testing.T) {
	label63 := strings.Repeat("a", maxLabel)
	// 253 bytes: three labels of 63, one of 61.
	longest := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("b", 61)
	tests := []struct {
		name, in, want string // want "" for refused
	}{
		{"canonical", "example.com", "example.com"},
		{"subdomain", "www.example.com.cn", "www.example.com.cn"},
		{"upper case", "WWW.Example.COM", "www.example.com"},
		{"trailing dot", "example.com.", "example.com"},
		{"spaces around", "  example.com\t\n", "example.com"},
		{"ideographic space", "\u3000example.com\u3000", "example.com"},
		{"full-width", "ＥＸＡＭＰＬＥ．ｃｏｍ", "example.com"},
		{"ideographic full stop", "example\u3002com", "example.com"},
		{"half-width ideographic full stop", "example\uff61com", "example.com"},
		{"full-width hyphen and digits", "ｅｘ－１２．ｃｏｍ", "ex-12.com"},
		{"hyphen inside", "my-site.example.com", "my-site.example.com"},
		{"digits", "123.example.com", "123.example.com"},
		{"A-label", "XN--FIQS8S.xn--fiqs8s", "xn--fiqs8s.xn--fiqs8s"},
		{"longest label", label63 + ".com", label63 + ".com"},
		{"longest name", longest, longest},
		{"longest name with trailing dot", longest + ".", longest},
		{"empty", "", ""},
		{"only spaces", " \u3000 ", ""},
		{"only a dot", ".", ""},
		{"one label", "localhost", ""},
		{"one label with dot", "com.", ""},
		{"two trailing dots", "example.com..", ""},
		{"leading dot", ".example.com", ""},
		{"empty label", "example..com", ""},
		{"label too long", label63 + "a.com", ""},
		{"name too long", longest + "b", ""},
		{"name too long with dot", "a." + longest, ""},
		{"leading hyphen", "-example.com", ""},
		{"trailing hyphen", "example-.com", ""},
		{"hyphen TLD", "example.-", ""},
		{"IPv4 address", "192.168.1.1", ""},
		{"numeric TLD", "example.123", ""},
		{"underscore", "my_site.example.com", ""},
		{"scheme", "https://example.com", ""},
		{"port", "example.com:8080", ""},
		{"path", "example.com/", ""},
		{"inner space", "exam ple.com", ""},
		{"Unicode letters", "例子.中国", ""},
		{"accented letter", "café.com", ""},
		{"Cyrillic look-alike", "ехample.com", ""},
		{"NUL", "example.com\x00", ""},
		{"ESC", "\x1bexample.com", ""},
		{"C1", "example\u0085.com", ""},
		{"zero-width space", "exam\u200bple.com", ""},
		{"bidi override", "\u202eexample.com", ""},
		{"non-UTF-8", "example.com\xff", ""},
		{"input too long", strings.Repeat(" ", maxWebsiteInput) + "example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := websiteKey(tt.in)
			assert.Equal(t, tt.want != "", ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWebsiteKeyCanonicalDoesNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		if got, ok := websiteKey("www.example.com.cn"); !ok || got != "www.example.com.cn" {
			t.Fatal(got)
		}
	})
	assert.Zero(t, n)
}

// FuzzWebsiteKey checks websiteKey: never a panic; a key is a canonical
// host name, its own key, and its own key with a trailing dot; the name
// in upper case with spaces around has the same key.
func FuzzWebsiteKey(f *testing.F) {
	for _, s := range []string{"example.com", "ＥＸＡＭＰＬＥ．ｃｏｍ", "example\u3002com.", " a-b.c ", "1.2.3.4", "\xff", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, ok := websiteKey(s)
		if !ok {
			if key != "" {
				t.Fatalf("refused %q as %q", s, key)
			}
			return
		}
		if !validHost(key) || strings.ToLower(key) != key {
			t.Fatalf("%q has key %q", s, key)
		}
		if again, ok := websiteKey(key); !ok || again != key {
			t.Fatalf("not idempotent: %q, %q, %q", s, key, again)
		}
		if again, ok := websiteKey(key + "."); !ok || again != key {
			t.Fatalf("%q has key %q, but %q has %q", s, key, key+".", again)
		}
		if len(s) < maxWebsiteInput-8 {
			typed := "\u3000" + strings.ToUpper(s) + " "
			if again, ok := websiteKey(typed); !ok || again != key {
				t.Fatalf("%q has key %q, but %q has %q", s, key, typed, again)
			}
		}
	})
}

func BenchmarkWebsiteKey(b *testing.B) {
	for _, bm := range []struct{ name, in string }{
		{"canonical", "www.example.com.cn"},
		{"upper-case", "WWW.Example.COM.cn."},
		{"full-width", "ｗｗｗ．ｅｘａｍｐｌｅ。ｃｏｍ"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := websiteKey(bm.in); !ok {
					b.Fatal(bm.in)
				}
			}
		})
	}
}
