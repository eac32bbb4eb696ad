package icpverify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/icpfiling/icpverify/codeformat"
	"github.com/icpfiling/icpverify/subject"
)

// FuzzVerify runs Check and Verify with arbitrary requests against a store
// holding one reservation: never a panic, a refusal with a sentinel and a
// clean message whenever it fails, and no slot taken unless the request was
// a valid new subject with the free code.
func FuzzVerify(f *testing.F) {
	// "C1" and "C2" stand for the fixture's two real codes, which are
	// random: C1 is reserved for subject "S", C2 is free.
	f.Add("ecs", "C1", "a", "S", "", "", "")
	f.Add("ecs", "C2", "a", "T", "", "", "")
	f.Add("ecs", "c2", "b", "T", "", "", "")
	f.Add("ecs", "C2", "a", "s ", "", "", "www.example.com")
	f.Add("ecs", "C2", "a", "T", "uscc", "91110000600037341L", "")
	f.Add("ecs", "C2", "a", "T", "uscc", "91110000600037341N", "")
	f.Add("ecs", "C2", "a", "T", "resident_id", "44011320141005001x", "EXAMPLE.com.")
	f.Add("ecs", "C2", "a", "\u202eT", "other", "\x00", "\xff")
	f.Add("swas", "C1", "b", "\xff", "", "", "")
	f.Add("", "", "", "", "", "", "")
	f.Add("ecs", "7KQ2-M9XD-4TRB-WH6C", "a", strings.Repeat("x", 300), "x", strings.Repeat("9", 300), strings.Repeat("a.", 200))
	f.Fuzz(func(t *testing.T, product, typed, account, name, certType, certNumber, website string) {
		for _, namesOnly := range []bool{false, true} {
			fuzzVerify(t, namesOnly, product, typed, account, name, certType, certNumber, website)
		}
	})
}

// fuzzVerify is FuzzVerify under the default policy, or under one that
// keys subjects by name when they give no certificate (namesOnly).
func fuzzVerify(t *testing.T, namesOnly bool, product, typed, account, name, certType, certNumber, website string) {
	pol := DefaultPolicy(ProductECS)
	pol.RequireSubjectID = !namesOnly
	fx := newFixture(t, WithPolicy(ProductECS, pol))
	fx.put(ecs("i-1", "a"))
	c1, c2 := fx.issue("i-1", "a"), fx.issue("i-1", "a")
	held := request(c1, "a", "S")
	if namesOnly {
		held.SubjectID = subject.ID{}
	}
	if _, err := fx.v.Verify(context.Background(), held); err != nil {
		t.Fatal(err)
	}
	heldKey, _ := subject.Key(held.Subject, held.SubjectID)
	// Aim the fuzzed code at one of the real ones now and then.
	switch strings.ToUpper(strings.TrimSpace(typed)) {
	case "C1":
		typed = c1
	case "C2":
		typed = c2
	}
	req := Request{Product: ProductType(product), ServiceCode: typed, Account: account, Subject: name,
		SubjectID: subject.ID{Type: subject.CertType(certType), Number: certNumber}, Website: website}
	for _, call := range []func(context.Context, Request) (Result, error){fx.v.Check, fx.v.Verify} {
		res, err := call(context.Background(), req)
		if err == nil {
			if res.Instance != "i-1" || res.Subject != name || res.Limit != 5 {
				t.Fatalf("odd result %+v", res)
			}
			continue
		}
		checkRefusal(t, err, product+typed+account+name+certType+certNumber+website)
	}
	if used, want := fx.used("i-1"), 1+newSubject(req, c2, heldKey, !namesOnly); used != want {
		t.Fatalf("%d slots used after %+v (names only: %v), want %d", used, req, namesOnly, want)
	}
}

// checkRefusal fails the fuzz target unless err is a refusal with a
// sentinel and a clean message in English and Chinese. A formatting
// complaint is allowed only if the input itself holds a "%".
func checkRefusal(t *testing.T, err error, input string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("not a refusal: %v", err)
	}
	if !errors.Is(err, ErrInvalidProduct) && !errors.Is(err, ErrServiceCodeInvalid) && !errors.Is(err, ErrQuotaReached) {
		t.Fatalf("refusal without a sentinel: %v", err)
	}
	complaint := !strings.Contains(input, "%")
	for _, tag := range []language.Tag{language.English, language.SimplifiedChinese} {
		if msg := Localize(err, tag); msg == "" || !utf8.ValidString(msg) || complaint && strings.Contains(msg, "%!") {
			t.Fatalf("bad message %q for %v", msg, err)
		}
	}
}

// newSubject returns 1 if req, against the fixture of FuzzVerify, asks for
// a new subject's slot with the free code c2, and 0 otherwise.
func newSubject(req Request, c2, heldKey string, requireID bool) int {
	if req.Product != ProductECS || req.Account != "a" || requireID && req.SubjectID == (subject.ID{}) {
		return 0
	}
	if code, ok := codeformat.Normalize(req.ServiceCode); !ok || code != c2 {
		return 0
	}
	if !subject.ValidName(req.Subject) {
		return 0
	}
	key, ok := subject.Key(req.Subject, req.SubjectID)
	if !ok {
		return 0
	}
	if _, ok := websiteKey(req.Website); req.Website != "" && !ok {
		return 0
	}
	if key == heldKey {
		return 0 // the subject of C1: its slot is held already
	}
	return 1
}

// FuzzSettle: whatever is passed as an application, Withdraw, Release and
// Complete never panic and change nothing but the application named: an
// identity that is not the one Verify gave is refused with
// ReasonNotReserved, and the reservation keeps its slot.
func FuzzSettle(f *testing.F) {
	for _, s := range []string{"", "0", "unreserved", strings.Repeat("a", 64), strings.Repeat("a", 65), "7KQ2-M9XD-4TRB-WH6C", "\xff", "ａｂｃ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, app string) {
		ctx := context.Background()
		fx := newFixture(t)
		code := fx.instanceWithCode("i-1", "a")
		res, err := fx.v.Verify(ctx, request(code, "a", "S"))
		if err != nil {
			t.Fatal(err)
		}
		if app == res.Application {
			return
		}
		for _, err := range []error{fx.v.Withdraw(ctx, app, "a"), fx.v.Release(ctx, app), fx.v.Complete(ctx, app)} {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrNotFound) || e.Reason != ReasonNotReserved {
				t.Fatalf("application %q: got %v, want not_reserved", app, err)
			}
		}
		if r, err := fx.store.Reservation(ctx, code); err != nil || r.Filed || fx.used("i-1") != 1 {
			t.Fatalf("application %q changed the reservation: %+v, %v", app, r, err)
		}
	})
}
