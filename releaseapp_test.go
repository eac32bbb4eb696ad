package icpverify

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// settleApp is ReleaseApplication or CompleteApplication, by Op.
func settleApp(v *Verifier, op Op) func(context.Context, Request) error {
	if op == OpComplete {
		return v.CompleteApplication
	}
	return v.ReleaseApplication
}

// appA is the application the tests of the *Application forms verify
// first: account "a" filing example.com for Example Co., Ltd.
func appA(code string) Request {
	return Request{Product: ProductECS, ServiceCode: code, Account: "a",
		Subject: "Example Co., Ltd.", Website: "example.com"}
}

// requireSettled checks that op acted on the reservation of code: released
// it (and freed its slot) or completed it (and kept its slot).
func requireSettled(t *testing.T, f *fixture, op Op, code string) {
	t.Helper()
	r, err := f.store.Reservation(context.Background(), code)
	if op == OpRelease {
		require.ErrorIs(t, err, ErrNotFound, "the reservation is gone")
		assert.Zero(t, f.used("i-1"), "the slot is free")
		return
	}
	require.NoError(t, err)
	assert.True(t, r.Filed, "the filing is complete")
	assert.Equal(t, 1, f.used("i-1"), "the subject keeps its slot")
}

// requireUnchanged checks that the reservation of code is still want and
// its instance's usage still used.
func requireUnchanged(t *testing.T, f *fixture, code string, want Reservation, used int) {
	t.Helper()
	r, err := f.store.Reservation(context.Background(), code)
	require.NoError(t, err, "the reservation is still there")
	assert.Equal(t, want, r, "and unchanged")
	assert.Equal(t, used, f.used("i-1"), "the slots are unchanged")
}

func TestSettleApplicationActsOnlyOnItsApplication(t *testing.T) {
	ctx := context.Background()
	uscc := SubjectID{Type: CertUSCC, Number: "91110000600037341L"}
	for _, tt := range []struct {
		name   string
		byID   bool // A was verified with uscc as its SubjectID
		change func(*Request)
		same   bool // the request names A
	}{
		{"the same request", false, func(*Request) {}, true},
		{"the code typed otherwise", false, func(r *Request) { r.ServiceCode = strings.ToLower(strings.ReplaceAll(r.ServiceCode, "-", "")) }, true},
		{"the subject spelled otherwise, same key", false, func(r *Request) { r.Subject = "  ＥＸＡＭＰＬＥ   co.,\u200b ltd. " }, true},
		{"the website typed otherwise", false, func(r *Request) { r.Website = "EXAMPLE.COM." }, true},
		{"another product type (ignored)", false, func(r *Request) { r.Product = ProductSLB }, true},
		{"no product type (ignored)", false, func(r *Request) { r.Product = "" }, true},
		{"another account", false, func(r *Request) { r.Account = "b" }, false},
		{"the account in another case", false, func(r *Request) { r.Account = "A" }, false},
		{"another subject", false, func(r *Request) { r.Subject = "Other Co., Ltd." }, false},
		{"a subject ID for a subject known by name", false, func(r *Request) { r.SubjectID = uscc }, false},
		{"another website", false, func(r *Request) { r.Website = "example.net" }, false},
		{"no website", false, func(r *Request) { r.Website = "" }, false},
		{"by ID: the same ID typed otherwise, another name", true, func(r *Request) {
			r.SubjectID.Number, r.Subject = "9111 0000 6000 3734 1l", "Renamed Co., Ltd."
		}, true},
		{"by ID: the name alone", true, func(r *Request) { r.SubjectID = SubjectID{} }, false},
		{"by ID: another ID", true, func(r *Request) { r.SubjectID = SubjectID{Type: CertUSCC, Number: "91350100M000100Y43"} }, false},
	} {
		for _, op := range []Op{OpRelease, OpComplete} {
			t.Run(string(op)+"/"+tt.name, func(t *testing.T) {
				f := newFixture(t)
				code := f.instanceWithCode("i-1", "a")
				a := appA(code)
				if tt.byID {
					a.SubjectID = uscc
				}
				_, err := f.v.Verify(ctx, a)
				require.NoError(t, err)
				before, err := f.store.Reservation(ctx, code)
				require.NoError(t, err)

				req := a
				tt.change(&req)
				err = settleApp(f.v, op)(ctx, req)
				if tt.same {
					require.NoError(t, err)
					requireSettled(t, f, op, code)
					return
				}
				requireReason(t, err, ErrNotFound, ReasonNotReserved)
				requireUnchanged(t, f, code, before, 1)
			})
		}
	}
}

// TestSettleApplicationRetryAfterReuse is the provider's retry after a lost
// answer: A's release committed, B reserved the code, and the retried
// release or a late approval of A must leave B's application alone.
func TestSettleApplicationRetryAfterReuse(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		b    func(code string) Request
	}{
		{"another subject", func(code string) Request {
			b := appA(code)
			b.Subject = "Other Co., Ltd."
			return b
		}},
		{"another website", func(code string) Request {
			b := appA(code)
			b.Website = "example.org"
			return b
		}},
		{"another account", func(code string) Request {
			b := appA(code)
			b.Account = "b"
			return b
		}},
	} {
		for _, op := range []Op{OpRelease, OpComplete} {
			t.Run(string(op)+"/"+tt.name, func(t *testing.T) {
				f := newFixture(t)
				code := f.instanceWithCode("i-1", "a")
				require.NoError(t, f.v.GrantServiceCode(ctx, code, "a", "b"))
				a, b := appA(code), tt.b(code)
				_, err := f.v.Verify(ctx, a)
				require.NoError(t, err)
				require.NoError(t, f.v.ReleaseApplication(ctx, a), "A is rejected; the answer is lost")

				res, err := f.v.Verify(ctx, b)
				require.NoError(t, err)
				require.False(t, res.Retry)
				rb, err := f.store.Reservation(ctx, code)
				require.NoError(t, err)

				// The retried release, or a stale approval, of A.
				err = settleApp(f.v, op)(ctx, a)
				requireReason(t, err, ErrNotFound, ReasonNotReserved)
				requireUnchanged(t, f, code, rb, 1)

				// B's application is still B's to settle.
				require.NoError(t, settleApp(f.v, op)(ctx, b))
				requireSettled(t, f, op, code)
			})
		}
	}
}

func TestSettleApplicationTwice(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	a := appA(code)
	_, err := f.v.Verify(ctx, a)
	require.NoError(t, err)
	require.NoError(t, f.v.CompleteApplication(ctx, a))
	require.NoError(t, f.v.CompleteApplication(ctx, a), "completing twice is not an error")
	requireSettled(t, f, OpComplete, code)
	filed, err := f.store.Reservation(ctx, code)
	require.NoError(t, err)

	e := requireReason(t, f.v.ReleaseApplication(ctx, a), ErrServiceCodeInvalid, ReasonCodeUsed)
	assert.Equal(t, "i-1", e.Instance)
	other := a
	other.Subject = "Other Co., Ltd."
	requireReason(t, f.v.ReleaseApplication(ctx, other), ErrNotFound, ReasonNotReserved)
	requireReason(t, f.v.CompleteApplication(ctx, other), ErrNotFound, ReasonNotReserved)
	requireUnchanged(t, f, code, filed, 1)

	// Released twice: the second finds nothing.
	c2 := f.issue("i-1", "a")
	a2 := appA(c2)
	_, err = f.v.Verify(ctx, a2)
	require.NoError(t, err)
	require.NoError(t, f.v.ReleaseApplication(ctx, a2))
	requireReason(t, f.v.ReleaseApplication(ctx, a2), ErrNotFound, ReasonNotReserved)
	requireReason(t, f.v.CompleteApplication(ctx, a2), ErrNotFound, ReasonNotReserved)
	assert.Equal(t, 1, f.used("i-1"), "only the completed filing holds a slot")
}

func TestCompleteApplicationRefusesAnInvalidCode(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		break_ func(f *fixture, code string)
		reason Reason
	}{
		{"expired", func(f *fixture, _ string) { f.clock.Set(t0.AddDate(1, 0, 0)) }, ReasonInstanceExpired},
		{"released", func(f *fixture, _ string) { delete(f.store.instanceShard("i-1").m, "i-1") }, ReasonInstanceReleased},
		{"revoked", func(f *fixture, code string) { require.NoError(t, f.store.RevokeServiceCode(ctx, code)) }, ReasonCodeRevoked},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			code := f.instanceWithCode("i-1", "a")
			_, err := f.v.Verify(ctx, appA(code))
			require.NoError(t, err)
			before, err := f.store.Reservation(ctx, code)
			require.NoError(t, err)
			tt.break_(f, code)
			used := f.used("i-1") // deleting the instance forgets its slots
			requireReason(t, f.v.CompleteApplication(ctx, appA(code)), ErrServiceCodeInvalid, tt.reason)
			requireUnchanged(t, f, code, before, used)
		})
	}
}

func TestSettleApplicationBadInput(t *testing.T) {
	ctx := context.Background()
	huge := strings.Repeat("a", 1<<20)
	for _, tt := range []struct {
		name     string
		change   func(*Request)
		sentinel error
		reason   Reason
		field    string
	}{
		{"malformed code", func(r *Request) { r.ServiceCode = "nonsense" }, ErrServiceCodeInvalid, ReasonCodeMalformed, ""},
		{"empty code", func(r *Request) { r.ServiceCode = "" }, ErrServiceCodeInvalid, ReasonCodeMalformed, ""},
		{"1 MB code", func(r *Request) { r.ServiceCode = huge }, ErrServiceCodeInvalid, ReasonCodeMalformed, ""},
		{"non-UTF-8 code", func(r *Request) { r.ServiceCode = "\xff\xfe" + r.ServiceCode }, ErrServiceCodeInvalid, ReasonCodeMalformed, ""},
		{"empty account", func(r *Request) { r.Account = "" }, ErrInvalidProduct, ReasonInvalidRequest, "account"},
		{"non-UTF-8 account", func(r *Request) { r.Account = "a\xff" }, ErrInvalidProduct, ReasonInvalidRequest, "account"},
		{"1 MB account", func(r *Request) { r.Account = huge }, ErrInvalidProduct, ReasonInvalidRequest, "account"},
		{"empty subject", func(r *Request) { r.Subject = "" }, ErrInvalidProduct, ReasonInvalidRequest, "subject"},
		{"blank subject", func(r *Request) { r.Subject = " \u3000\u200b " }, ErrInvalidProduct, ReasonInvalidRequest, "subject"},
		{"non-UTF-8 subject", func(r *Request) { r.Subject = "Example\xff" }, ErrInvalidProduct, ReasonInvalidRequest, "subject"},
		{"1 MB subject", func(r *Request) { r.Subject = huge }, ErrInvalidProduct, ReasonInvalidRequest, "subject"},
		{"subject with a bidi override", func(r *Request) { r.Subject = "Example\u202e Co." }, ErrInvalidProduct, ReasonInvalidRequest, "subject"},
		{"empty subject with an ID", func(r *Request) {
			r.Subject, r.SubjectID = "", SubjectID{Type: CertUSCC, Number: "91110000600037341L"}
		}, ErrInvalidProduct, ReasonInvalidRequest, "subject"},
		{"bad check character", func(r *Request) { r.SubjectID = SubjectID{Type: CertUSCC, Number: "91110000600037341N"} }, ErrInvalidProduct, ReasonSubjectIDMalformed, "subject_id"},
		{"unknown certificate type", func(r *Request) { r.SubjectID = SubjectID{Type: "passport?", Number: "X1234567"} }, ErrInvalidProduct, ReasonSubjectIDMalformed, "subject_id"},
		{"1 MB certificate number", func(r *Request) { r.SubjectID = SubjectID{Type: CertOther, Number: huge} }, ErrInvalidProduct, ReasonSubjectIDMalformed, "subject_id"},
		{"a URL for a website", func(r *Request) { r.Website = "https://example.com/" }, ErrInvalidProduct, ReasonInvalidRequest, "website"},
		{"non-UTF-8 website", func(r *Request) { r.Website = "example\xff.com" }, ErrInvalidProduct, ReasonInvalidRequest, "website"},
		{"1 MB website", func(r *Request) { r.Website = huge + ".com" }, ErrInvalidProduct, ReasonInvalidRequest, "website"},
	} {
		for _, op := range []Op{OpRelease, OpComplete} {
			t.Run(string(op)+"/"+tt.name, func(t *testing.T) {
				f := newFixture(t)
				code := f.instanceWithCode("i-1", "a")
				_, err := f.v.Verify(ctx, appA(code))
				require.NoError(t, err)
				before, err := f.store.Reservation(ctx, code)
				require.NoError(t, err)
				req := appA(code)
				tt.change(&req)
				e := requireReason(t, settleApp(f.v, op)(ctx, req), tt.sentinel, tt.reason)
				assert.Equal(t, tt.field, e.Field)
				requireUnchanged(t, f, code, before, 1)
			})
		}
	}
}

func TestSettleApplicationFailures(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("connection reset")
	for _, op := range []Op{OpRelease, OpComplete} {
		t.Run(string(op)+"/cancelled context", func(t *testing.T) {
			f := newFixture(t)
			code := f.instanceWithCode("i-1", "a")
			_, err := f.v.Verify(ctx, appA(code))
			require.NoError(t, err)
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			require.ErrorIs(t, settleApp(f.v, op)(cancelled, appA(code)), context.Canceled)
			assert.Equal(t, 1, f.used("i-1"))
		})
		t.Run(string(op)+"/no stores", func(t *testing.T) {
			var nilVerifier *Verifier
			require.ErrorIs(t, settleApp(nilVerifier, op)(ctx, appA(mustCode(t))), errNoStore)
			require.ErrorIs(t, settleApp(&Verifier{}, op)(ctx, appA(mustCode(t))), errNoStore)
		})
		for _, failing := range []string{"Reservation", "Release", "Complete", "ServiceCode"} {
			t.Run(string(op)+"/failing "+failing, func(t *testing.T) {
				f := newFixture(t)
				code := f.instanceWithCode("i-1", "a")
				_, err := f.v.Verify(ctx, appA(code))
				require.NoError(t, err)
				s := &failingStore{MemoryStore: f.store, err: boom, fail: map[string]bool{failing: true}}
				v := New(s, s, WithClock(f.clock.Now))
				err = settleApp(v, op)(ctx, appA(code))
				calls := failing == "Reservation" || strings.EqualFold(failing, string(op)) ||
					failing == "ServiceCode" && op == OpComplete
				if !calls {
					require.NoError(t, err, "%s does not call %s", op, failing)
					return
				}
				require.ErrorIs(t, err, boom)
				assert.Nil(t, asError(err), "a store failure is no refusal")
				assert.Equal(t, 1, f.used("i-1"))
			})
		}
	}
}

func TestSettleApplicationDecision(t *testing.T) {
	ctx := context.Background()
	c := &collector{}
	f := newFixture(t, WithObserver(c))
	code := f.instanceWithCode("i-1", "a")
	require.NoError(t, f.v.GrantServiceCode(ctx, code, "a", "b"))
	a := appA(code)
	_, err := f.v.Verify(ctx, a)
	require.NoError(t, err)
	last := func() Decision {
		ds := c.all()
		return ds[len(ds)-1]
	}
	masked := MaskServiceCode(code)

	require.NoError(t, f.v.CompleteApplication(ctx, a))
	assert.Equal(t, Decision{Op: OpComplete, Time: t0, Holder: "a", Subject: "Example Co., Ltd.", Instance: "i-1",
		Code: masked, Verdict: Passed}, last())

	// A filed reservation is not released.
	err = f.v.ReleaseApplication(ctx, a)
	assert.Equal(t, Decision{Op: OpRelease, Time: t0, Holder: "a", Subject: "Example Co., Ltd.", Instance: "i-1",
		Code: masked, Verdict: Refused, Reason: ReasonCodeUsed, Err: err}, last())

	// Another application's: the Decision keeps who holds the code, and why.
	b := a
	b.Account, b.Subject = "b", "Other Co., Ltd."
	err = f.v.ReleaseApplication(ctx, b)
	requireReason(t, err, ErrNotFound, ReasonNotReserved)
	assert.Equal(t, Decision{Op: OpRelease, Time: t0, Holder: "a", Subject: "Other Co., Ltd.", Instance: "i-1",
		Code: masked, Verdict: Refused, Reason: ReasonNotReserved, Cause: ReasonCodeUsed, Err: err}, last())

	// A code with no reservation.
	c2 := f.issue("i-1", "a")
	err = f.v.ReleaseApplication(ctx, appA(c2))
	assert.Equal(t, Decision{Op: OpRelease, Time: t0, Subject: "Example Co., Ltd.", Code: MaskServiceCode(c2),
		Verdict: Refused, Reason: ReasonNotReserved, Err: err}, last())

	// An unfiled application of another subject is in use.
	_, err = f.v.Verify(ctx, appA(c2))
	require.NoError(t, err)
	other := appA(c2)
	other.Website = "example.net"
	err = f.v.CompleteApplication(ctx, other)
	d := last()
	assert.Equal(t, OpComplete, d.Op)
	assert.Empty(t, d.Account, "the provider acts")
	assert.Equal(t, ReasonCodeInUse, d.Cause)
	assert.Equal(t, "a", d.Holder)
	assert.Equal(t, err, d.Err)

	// Bad input is recorded cut to size, the code masked whole.
	huge := strings.Repeat("x", 1<<20)
	err = f.v.ReleaseApplication(ctx, Request{ServiceCode: huge, Account: "a", Subject: huge})
	d = last()
	assert.Equal(t, ReasonCodeMalformed, d.Reason)
	assert.Equal(t, "****", d.Code)
	assert.LessOrEqual(t, len(d.Subject), maxField)
	assert.Equal(t, err, d.Err)
}

// staleStore answers the first Reservation with a reservation read before
// the code was released and reserved again, as a read that races with
// another replica's does.
type staleStore struct {
	*MemoryStore
	stale Reservation
	read  atomic.Bool
}

func (s *staleStore) Reservation(ctx context.Context, code string) (Reservation, error) {
	if !s.read.Swap(true) {
		return s.stale, nil
	}
	return s.MemoryStore.Reservation(ctx, code)
}

// TestSettleApplicationRaceWithReuse: the code changes hands between the
// Verifier's read and its write; the store's conditional write frees and
// completes nothing of the new application's.
func TestSettleApplicationRaceWithReuse(t *testing.T) {
	ctx := context.Background()
	for _, op := range []Op{OpRelease, OpComplete} {
		t.Run(string(op), func(t *testing.T) {
			f := newFixture(t)
			code := f.instanceWithCode("i-1", "a")
			a := appA(code)
			_, err := f.v.Verify(ctx, a)
			require.NoError(t, err)
			stale, err := f.store.Reservation(ctx, code)
			require.NoError(t, err)
			require.NoError(t, f.v.ReleaseApplication(ctx, a))
			b := a
			b.Subject = "Other Co., Ltd."
			_, err = f.v.Verify(ctx, b)
			require.NoError(t, err)
			rb, err := f.store.Reservation(ctx, code)
			require.NoError(t, err)

			s := &staleStore{MemoryStore: f.store, stale: stale}
			v := New(f.store, s, WithClock(f.clock.Now))
			requireReason(t, settleApp(v, op)(ctx, a), ErrNotFound, ReasonNotReserved)
			requireUnchanged(t, f, code, rb, 1)
		})
	}
}
