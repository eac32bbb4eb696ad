package icpverify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/language"
)

func FuzzValidServiceCodeFormat(f *testing.F) {
	for _, s := range []string{"", "7KQ2-M9XD-4TRB-WH6C", "0000-0000-0000-0000", " oooo 0000 0000 0000 ", "\xff", strings.Repeat("-", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		valid := ValidServiceCodeFormat(s)
		c, ok := NormalizeServiceCode(s)
		if valid != ok {
			t.Fatalf("ValidServiceCodeFormat %v, NormalizeServiceCode %v for %q", valid, ok, s)
		}
		if !ok {
			if MaskServiceCode(s) != "****" {
				t.Fatalf("malformed %q masked as %q", s, MaskServiceCode(s))
			}
			return
		}
		if !canonical(c) || !ValidServiceCodeFormat(c) {
			t.Fatalf("%q normalized to %q, not canonical", s, c)
		}
		if c2, _ := NormalizeServiceCode(c); c2 != c {
			t.Fatalf("normalizing is not idempotent: %q, %q", c, c2)
		}
		if strings.ToUpper(strings.NewReplacer("-", "", " ", "", "\t", "", "O", "0", "I", "1", "L", "1").Replace(strings.ToUpper(s))) !=
			strings.ReplaceAll(c, "-", "") {
			t.Fatalf("%q normalized to %q, which is not what was typed", s, c)
		}
	})
}

// FuzzVerify runs Check and Verify with arbitrary requests against a store
// holding one reservation: never a panic, a refusal with a sentinel and a
// clean message whenever it fails, and no slot taken unless the request was
// a valid new subject with the free code.
func FuzzVerify(f *testing.F) {
	// "C1" and "C2" stand for the fixture's two real codes, which are
	// random: C1 is reserved for subject "S", C2 is free.
	f.Add("ecs", "C1", "a", "S")
	f.Add("ecs", "C2", "a", "T")
	f.Add("ecs", "c2", "b", "T")
	f.Add("swas", "C1", "b", "\xff")
	f.Add("", "", "", "")
	f.Add("ecs", "7KQ2-M9XD-4TRB-WH6C", "a", strings.Repeat("x", 300))
	f.Fuzz(func(t *testing.T, product, typed, account, subject string) {
		fx := newFixture(t)
		fx.put(ecs("i-1", "a"))
		c1, c2 := fx.issue("i-1", "a"), fx.issue("i-1", "a")
		if _, err := fx.v.Verify(context.Background(), request(c1, "a", "S")); err != nil {
			t.Fatal(err)
		}
		// Aim the fuzzed code at one of the real ones now and then.
		switch strings.ToUpper(strings.TrimSpace(typed)) {
		case "C1":
			typed = c1
		case "C2":
			typed = c2
		}
		req := Request{Product: ProductType(product), ServiceCode: typed, Account: account, Subject: subject}
		for _, call := range []func(context.Context, Request) (Result, error){fx.v.Check, fx.v.Verify} {
			res, err := call(context.Background(), req)
			if err == nil {
				if res.Instance != "i-1" || res.Subject != subject || res.Limit != 5 {
					t.Fatalf("odd result %+v", res)
				}
				continue
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not a refusal: %v", err)
			}
			if !errors.Is(err, ErrInvalidProduct) && !errors.Is(err, ErrServiceCodeInvalid) && !errors.Is(err, ErrQuotaReached) {
				t.Fatalf("refusal without a sentinel: %v", err)
			}
			// A formatting complaint, unless the input itself says %!.
			complaint := !strings.Contains(product+typed+account+subject, "%")
			for _, tag := range []language.Tag{language.English, language.SimplifiedChinese} {
				if msg := Localize(err, tag); msg == "" || !utf8.ValidString(msg) || complaint && strings.Contains(msg, "%!") {
					t.Fatalf("bad message %q for %v", msg, err)
				}
			}
		}
		used := fx.used("i-1")
		newSubject := product == string(ProductECS) && account == "a" && subject != "S" &&
			subject != "" && len(subject) <= maxField && utf8.ValidString(subject)
		if typed2, ok := NormalizeServiceCode(typed); !ok || typed2 != c2 {
			newSubject = false
		}
		want := 1
		if newSubject {
			want = 2
		}
		if used != want {
			t.Fatalf("%d slots used after %+v, want %d", used, req, want)
		}
	})
}
