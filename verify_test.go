package icpverify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
)

func TestVerifyRules(t *testing.T) {
	// Each case starts from an eligible ECS instance i-1 of account "a"
	// with one code, and breaks one thing.
	tests := []struct {
		name     string
		setup    func(f *fixture, code string) Request
		sentinel error
		reason   Reason
	}{
		{"SLB selected", func(f *fixture, code string) Request {
			r := request(code, "a", "S")
			r.Product = ProductSLB
			return r
		}, ErrInvalidProduct, ReasonProductNotFileable},
		{"unknown product", func(f *fixture, code string) Request {
			r := request(code, "a", "S")
			r.Product = "ECS " // not the constant
			return r
		}, ErrInvalidProduct, ReasonProductNotFileable},
		{"empty product", func(f *fixture, code string) Request {
			r := request(code, "a", "S")
			r.Product = ""
			return r
		}, ErrInvalidProduct, ReasonProductNotFileable},
		{"product checked before code", func(f *fixture, code string) Request {
			return Request{Product: ProductOSS, ServiceCode: "garbage", Account: "a", Subject: "S"}
		}, ErrInvalidProduct, ReasonProductNotFileable},
		{"mistyped code", func(f *fixture, code string) Request {
			typo := []byte(code)
			typo[0] = map[bool]byte{true: '2', false: '3'}[typo[0] == '3']
			return request(string(typo), "a", "S")
		}, ErrServiceCodeInvalid, ReasonCodeMalformed},
		{"empty code", func(f *fixture, code string) Request {
			return request("", "a", "S")
		}, ErrServiceCodeInvalid, ReasonCodeMalformed},
		{"unknown code", func(f *fixture, code string) Request {
			return request(mustCode(f.t), "a", "S")
		}, ErrServiceCodeInvalid, ReasonCodeNotFound},
		{"empty account", func(f *fixture, code string) Request {
			return request(code, "", "S")
		}, ErrInvalidProduct, ReasonInvalidRequest},
		{"empty subject", func(f *fixture, code string) Request {
			return request(code, "a", "")
		}, ErrInvalidProduct, ReasonInvalidRequest},
		{"huge subject", func(f *fixture, code string) Request {
			return request(code, "a", strings.Repeat("主", 1<<20))
		}, ErrInvalidProduct, ReasonInvalidRequest},
		{"non-UTF-8 account", func(f *fixture, code string) Request {
			return request(code, "a\xc3", "S")
		}, ErrInvalidProduct, ReasonInvalidRequest},
		{"Simple Application Server selected for an ECS code", func(f *fixture, code string) Request {
			r := request(code, "a", "S")
			r.Product = ProductSimpleApplicationServer
			return r
		}, ErrInvalidProduct, ReasonProductMismatch},
		{"ownership checked before the product type", func(f *fixture, code string) Request {
			r := request(code, "stranger", "S")
			r.Product = ProductSimpleApplicationServer
			return r
		}, ErrServiceCodeInvalid, ReasonCodeNotFound},
		{"another account's code", func(f *fixture, code string) Request {
			return request(code, "b", "S")
		}, ErrServiceCodeInvalid, ReasonCodeNotFound},
		{"another account's code, instance expired", func(f *fixture, code string) Request {
			f.clock.Set(t0.AddDate(1, 0, 0))
			return request(code, "b", "S")
		}, ErrServiceCodeInvalid, ReasonCodeNotFound},
		{"another account's code, instance gone", func(f *fixture, code string) Request {
			forget(f, "i-1")
			return request(code, "b", "S")
		}, ErrServiceCodeInvalid, ReasonCodeNotFound},
		{"the previous owner's code after a transfer", func(f *fixture, code string) Request {
			f.put(ecs("i-1", "new owner"))
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonCodeNotFound},
		{"a grant of the previous owner after a transfer", func(f *fixture, code string) Request {
			require.NoError(f.t, f.v.GrantServiceCode(context.Background(), code, "a", "agency"))
			f.put(ecs("i-1", "new owner"))
			return request(code, "agency", "S")
		}, ErrServiceCodeInvalid, ReasonCodeNotFound},
		{"a withdrawn grant", func(f *fixture, code string) Request {
			require.NoError(f.t, f.v.GrantServiceCode(context.Background(), code, "a", "agency"))
			require.NoError(f.t, f.v.GrantServiceCode(context.Background(), code, "a", ""))
			return request(code, "agency", "S")
		}, ErrServiceCodeInvalid, ReasonCodeNotFound},
		{"stopped instance", func(f *fixture, code string) Request {
			inst := ecs("i-1", "a")
			inst.Status = Stopped
			f.put(inst)
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonInstanceStopped},
		{"public IP removed", func(f *fixture, code string) Request {
			inst := ecs("i-1", "a")
			inst.PublicIP = ""
			f.put(inst)
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonPublicIPRemoved},
		{"code used for another website", func(f *fixture, code string) Request {
			r := request(code, "a", "S")
			r.Website = "a.example.com"
			_, err := f.v.Verify(context.Background(), r)
			require.NoError(f.t, err)
			r.Website = "b.example.com"
			return r
		}, ErrServiceCodeInvalid, ReasonCodeInUse},
		{"code used by the same subject for another account", func(f *fixture, code string) Request {
			require.NoError(f.t, f.v.GrantServiceCode(context.Background(), code, "a", "agency"))
			_, err := f.v.Verify(context.Background(), request(code, "agency", "S"))
			require.NoError(f.t, err)
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonCodeInUse},
		{"revoked code", func(f *fixture, code string) Request {
			mem(f.store).codeShard(code).codes[code].sc.Revoked = true
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonCodeRevoked},
		{"expired instance", func(f *fixture, code string) Request {
			f.clock.Set(t0.AddDate(1, 0, 0)) // the instance's expiry
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonInstanceExpired},
		{"released instance", func(f *fixture, code string) Request {
			inst := ecs("i-1", "a")
			inst.Status = Released
			f.put(inst)
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonInstanceReleased},
		{"instance gone from inventory", func(f *fixture, code string) Request {
			forget(f, "i-1")
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonInstanceReleased},
		{"code used by another subject", func(f *fixture, code string) Request {
			_, err := f.v.Verify(context.Background(), request(code, "a", "Other subject"))
			require.NoError(f.t, err)
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonCodeInUse},
		{"code used for a completed filing", func(f *fixture, code string) Request {
			_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
			require.NoError(f.t, err)
			require.NoError(f.t, f.v.Complete(context.Background(), f.app(code)))
			return request(code, "a", "S")
		}, ErrServiceCodeInvalid, ReasonCodeUsed},
		{"quota reached", func(f *fixture, code string) Request {
			fill(f, "i-1", 5)
			return request(code, "a", "S")
		}, ErrQuotaReached, ReasonQuotaReached},
	}
	for _, tt := range tests {
		// Verify also through a CodeReserver whose guard is the rules',
		// and one that reserves whatever the guard.
		for _, op := range []string{"Verify", "Check", "VerifyReserver", "VerifyLooseReserver"} {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				f := newFixture(t)
				if op != "Verify" && op != "Check" {
					f, _ = newReserverFixture(t, op == "VerifyLooseReserver")
				}
				f.put(ecs("i-1", "a"), ecs("i-2", "b"))
				code := f.issue("i-1", "a")
				req := tt.setup(f, code)
				before := f.used("i-1")
				call := f.v.Verify
				if op == "Check" {
					call = f.v.Check
				}
				res, err := call(context.Background(), req)
				requireReason(t, err, tt.sentinel, tt.reason)
				assert.Zero(t, res)
				assert.Equal(t, before, f.used("i-1"), "a refusal must not change the quota")
				for _, other := range []error{ErrInvalidProduct, ErrServiceCodeInvalid, ErrQuotaReached} {
					if other != tt.sentinel {
						assert.NotErrorIs(t, err, other)
					}
				}
			})
		}
	}
}

// fill reserves n slots on instance with fresh codes and subjects.
func fill(f *fixture, instance string, n int) {
	f.t.Helper()
	for i := range n {
		subject := fmt.Sprintf("filler %d", i)
		r := Reservation{Code: mustCode(f.t), Instance: instance, Account: "x", Subject: subject, SubjectKey: "name:" + subject,
			Application: fmt.Sprintf("filler%d", i)}
		o, _, err := f.store.Reserve(context.Background(), r, n)
		require.NoError(f.t, err)
		require.Equal(f.t, Reserved, o)
	}
}

func TestVerifyRefusalDetails(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	ctx := context.Background()

	_, err := f.v.Verify(ctx, Request{Product: ProductSimpleApplicationServer, ServiceCode: code, Account: "a", Subject: "S", SubjectID: certOf("S")})
	e := requireReason(t, err, ErrInvalidProduct, ReasonProductMismatch)
	assert.Equal(t, ProductSimpleApplicationServer, e.Selected)
	assert.Equal(t, ProductECS, e.Actual)
	assert.Equal(t, "i-1", e.Instance)

	// A stranger to the code learns nothing of it: the refusal is the one
	// of a code that does not exist, in every field and every language.
	unknown, err0 := f.v.Verify(ctx, Request{Product: ProductSimpleApplicationServer, ServiceCode: mustCode(t), Account: "stranger", Subject: "S", SubjectID: certOf("S")})
	assert.Zero(t, unknown)
	_, err = f.v.Verify(ctx, Request{Product: ProductSimpleApplicationServer, ServiceCode: code, Account: "stranger", Subject: "S", SubjectID: certOf("S")})
	e = requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)
	assert.Equal(t, asError(err0).Error(), e.Error())
	assert.Equal(t, *asError(err0), Error{Err: e.Err, Reason: e.Reason, Selected: e.Selected, Field: e.Field, Instance: e.Instance,
		Actual: e.Actual, Used: e.Used, Limit: e.Limit, ExpiresAt: e.ExpiresAt, Alternatives: e.Alternatives})
	for _, tag := range []language.Tag{language.English, language.SimplifiedChinese, language.TraditionalChinese} {
		assert.Equal(t, Localize(err0, tag), Localize(err, tag))
	}
	assert.NotContains(t, Localize(err, language.English), "i-1")

	fill(f, "i-1", 5)
	_, err = f.v.Verify(ctx, request(code, "a", "S"))
	e = requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)
	assert.Equal(t, 5, e.Used)
	assert.Equal(t, 5, e.Limit)
	assert.Contains(t, err.Error(), "5 of 5")

	f.clock.Set(t0.AddDate(2, 0, 0))
	_, err = f.v.Verify(ctx, request(code, "a", "S"))
	e = requireReason(t, err, ErrServiceCodeInvalid, ReasonInstanceExpired)
	assert.True(t, e.ExpiresAt.Equal(t0.AddDate(1, 0, 0)))

	_, err = f.v.Verify(ctx, request("x", "a", "S\n"))
	e = requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeMalformed)
	assert.Empty(t, e.Instance)
}

func TestVerifyReservesAndRetries(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	ctx := context.Background()

	res, err := f.v.Verify(ctx, request(" "+strings.ToLower(code), "a", "Subject 甲"))
	require.NoError(t, err)
	app := res.Application
	assert.Regexp(t, "^[0-9a-f]{32}$", app, "a new application's identity")
	assert.Equal(t, Result{Instance: "i-1", Product: ProductECS, ServiceCode: code, Subject: "Subject 甲", Used: 1, Limit: 5,
		Application: app}, res)

	r, err := f.store.Reservation(ctx, code)
	require.NoError(t, err)
	assert.Equal(t, Reservation{Code: code, Instance: "i-1", Account: "a", Subject: "Subject 甲", SubjectKey: r.SubjectKey,
		ReservedAt: t0, Application: app}, r)
	assert.NotEmpty(t, r.SubjectKey)

	for range 3 {
		res, err = f.v.Verify(ctx, request(code, "a", "Subject 甲"))
		require.NoError(t, err)
		assert.True(t, res.Retry)
		assert.Equal(t, 1, res.Used)
		assert.Equal(t, app, res.Application, "a retry is the same application")
	}
	assert.Equal(t, 1, f.used("i-1"))
}

func TestVerifySameSubjectSecondCodeTakesNoSecondSlot(t *testing.T) {
	f := newFixture(t)
	c1 := f.instanceWithCode("i-1", "a")
	c2 := f.issue("i-1", "a")
	ctx := context.Background()
	_, err := f.v.Verify(ctx, request(c1, "a", "S"))
	require.NoError(t, err)
	res, err := f.v.Verify(ctx, request(c2, "a", "S"))
	require.NoError(t, err)
	assert.False(t, res.Retry)
	assert.Equal(t, 1, res.Used)

	// Releasing one of the two codes keeps the subject's slot.
	require.NoError(t, f.v.Release(ctx, f.app(c1)))
	assert.Equal(t, 1, f.used("i-1"))
	require.NoError(t, f.v.Release(ctx, f.app(c2)))
	assert.Equal(t, 0, f.used("i-1"))
}

func TestVerifyQuotaBoundary(t *testing.T) {
	f := newFixture(t)
	f.put(ecs("i-1", "a"))
	ctx := context.Background()
	codes := make([]string, 5)
	for i := range codes {
		codes[i] = f.issue("i-1", "a")
	}
	for i, c := range codes {
		res, err := f.v.Verify(ctx, request(c, "a", fmt.Sprint("subject ", i)))
		require.NoError(t, err)
		assert.Equal(t, i+1, res.Used)
	}
	// A sixth subject with a code granted from... the only free way: a
	// released code. Release subject 0 and give its code to subject 5.
	_, err := f.v.Verify(ctx, request(codes[0], "a", "subject 5"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeInUse)
	require.NoError(t, f.v.Release(ctx, f.app(codes[0])))
	res, err := f.v.Verify(ctx, request(codes[0], "a", "subject 5"))
	require.NoError(t, err)
	assert.Equal(t, 5, res.Used)
}

func TestVerifySubjectLimitBelowCodeLimit(t *testing.T) {
	pol := DefaultPolicy(ProductECS)
	pol.SubjectLimit = 2
	f := newFixture(t, WithPolicy(ProductECS, pol))
	f.put(ecs("i-1", "a"))
	ctx := context.Background()
	for i := range 2 {
		_, err := f.v.Verify(ctx, request(f.issue("i-1", "a"), "a", fmt.Sprint(i)))
		require.NoError(t, err)
	}
	code := f.issue("i-1", "a")
	res, err := f.v.Check(ctx, request(code, "a", "third"))
	e := requireReason(t, err, ErrQuotaReached, ReasonQuotaReached)
	assert.Zero(t, res)
	assert.Equal(t, 2, e.Used)
	assert.Equal(t, 2, e.Limit)
	// A subject that already holds a slot may add a website.
	res, err = f.v.Verify(ctx, request(code, "a", "1"))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Used)
}

func TestCheckReservesNothing(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	ctx := context.Background()
	res, err := f.v.Check(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	assert.Equal(t, Result{Instance: "i-1", Product: ProductECS, ServiceCode: code, Subject: "S", Used: 0, Limit: 5}, res)
	_, err = f.store.Reservation(ctx, code)
	require.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, 0, f.used("i-1"))

	_, err = f.v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	res, err = f.v.Check(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	assert.True(t, res.Retry)
	assert.Equal(t, 1, res.Used)
}

func TestReleaseAndComplete(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	ctx := context.Background()

	requireReason(t, f.v.Release(ctx, f.app(code)), ErrNotFound, ReasonNotReserved)
	requireReason(t, f.v.Complete(ctx, f.app(code)), ErrNotFound, ReasonNotReserved)
	requireReason(t, f.v.Release(ctx, "bad!"), ErrNotFound, ReasonNotReserved)

	_, err := f.v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	require.NoError(t, f.v.Release(ctx, f.app(strings.ToLower(code))))
	assert.Equal(t, 0, f.used("i-1"))
	requireReason(t, f.v.Release(ctx, f.app(code)), ErrNotFound, ReasonNotReserved)
	assert.Equal(t, 0, f.used("i-1"), "a second release frees nothing")

	// The released code is usable again, by another subject too.
	_, err = f.v.Verify(ctx, request(code, "a", "T"))
	require.NoError(t, err)
	require.NoError(t, f.v.Complete(ctx, f.app(code)))
	require.NoError(t, f.v.Complete(ctx, f.app(code)), "completing twice is not an error")
	requireReason(t, f.v.Release(ctx, f.app(code)), ErrServiceCodeInvalid, ReasonCodeUsed)
	assert.Equal(t, 1, f.used("i-1"), "a completed filing keeps its slot")

	// After the instance expires, a released code is invalid.
	c2 := f.issue("i-1", "a")
	_, err = f.v.Verify(ctx, request(c2, "a", "U"))
	require.NoError(t, err)
	require.NoError(t, f.v.Release(ctx, f.app(c2)))
	f.clock.Set(t0.AddDate(1, 0, 1))
	_, err = f.v.Verify(ctx, request(c2, "a", "U"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonInstanceExpired)
}

func TestVerifyLastSlotRace(t *testing.T) {
	const racers = 64
	f := newFixture(t, WithPolicy(ProductECS, Policy{SubjectLimit: 5, CodeLimit: racers}))
	f.put(ecs("i-1", "a"))
	fill(f, "i-1", 4)
	codes := make([]string, racers)
	for i := range codes {
		codes[i] = f.issue("i-1", "a")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.v.Verify(context.Background(), request(codes[i], "a", fmt.Sprint("racer ", i)))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, ErrQuotaReached):
				lost++
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, won)
	assert.Equal(t, racers-1, lost)
	assert.Equal(t, 5, f.used("i-1"))
}

func TestVerifyConcurrentRetriesTakeOneSlot(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.v.Verify(context.Background(), request(code, "a", "S"))
			if err != nil {
				t.Errorf("verify: %v", err)
				return
			}
			if !res.Retry {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, fresh)
	assert.Equal(t, 1, f.used("i-1"))
}

func TestVerifyCancelledContext(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, call := range []func(context.Context, Request) (Result, error){f.v.Verify, f.v.Check} {
		_, err := call(ctx, request(code, "a", "S"))
		require.ErrorIs(t, err, context.Canceled)
	}
	require.ErrorIs(t, f.v.Release(ctx, f.app(code)), context.Canceled)
	require.ErrorIs(t, f.v.Complete(ctx, f.app(code)), context.Canceled)
	require.ErrorIs(t, f.v.GrantServiceCode(ctx, code, "a", "b"), context.Canceled)
	assert.Equal(t, 0, f.used("i-1"))
}

// TestVerifyStoreFailure makes each store call fail in turn: the error is
// the store's, wrapped, never one of the three refusals, and no slot is
// taken or lost.
func TestVerifyStoreFailure(t *testing.T) {
	boom := errors.New("connection reset")
	for _, op := range []string{"ServiceCode", "Instance", "Reserve", "Reservation", "Usage"} {
		for _, check := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/check=%v", op, check), func(t *testing.T) {
				f := newFixture(t)
				code := f.instanceWithCode("i-1", "a")
				s := &failingStore{MemoryStore: f.store, err: boom, fail: map[string]bool{op: true}}
				v := New(s, s, WithClock(f.clock.Now))
				call := v.Verify
				if check {
					call = v.Check
				}
				_, err := call(context.Background(), request(code, "a", "S"))
				if (op == "Reservation" || op == "Usage") && !check {
					require.NoError(t, err, "Verify does not call %s", op)
					return
				}
				if op == "Reserve" && check {
					require.NoError(t, err, "Check does not call Reserve")
					return
				}
				require.ErrorIs(t, err, boom)
				var e *Error
				assert.False(t, errors.As(err, &e), "a store failure is not a refusal")
				assert.Equal(t, 0, f.used("i-1"))
			})
		}
	}
	t.Run("Release", func(t *testing.T) {
		f := newFixture(t)
		code := f.instanceWithCode("i-1", "a")
		_, err := f.v.Verify(context.Background(), request(code, "a", "S"))
		require.NoError(t, err)
		s := &failingStore{MemoryStore: f.store, err: boom, fail: map[string]bool{"Release": true, "Complete": true}}
		v := New(s, s)
		require.ErrorIs(t, v.Release(context.Background(), f.app(code)), boom)
		require.ErrorIs(t, v.Complete(context.Background(), f.app(code)), boom)
		assert.Equal(t, 1, f.used("i-1"))
	})
}

// oddStore returns an outcome the Verifier does not know.
type oddStore struct{ MemoryStore }

func (oddStore) Reserve(context.Context, Reservation, int) (Outcome, int, error) { return 42, 0, nil }

func TestVerifyUnknownOutcome(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	v := New(f.store, oddStore{f.store})
	_, err := v.Verify(context.Background(), request(code, "a", "S"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown outcome")
}

func TestVerifierWithoutStores(t *testing.T) {
	ctx := context.Background()
	for _, v := range []*Verifier{nil, New(nil, nil), New(NewMemoryStore(), nil)} {
		_, err := v.Verify(ctx, request("x", "a", "S"))
		require.Error(t, err)
		_, err = v.Check(ctx, request("x", "a", "S"))
		require.Error(t, err)
		_, err = v.IssueServiceCode(ctx, "i", "a")
		require.Error(t, err)
		require.Error(t, v.Release(ctx, "x"))
		require.Error(t, v.Complete(ctx, "x"))
		require.Error(t, v.GrantServiceCode(ctx, "x", "a", "b"))
	}
}

func TestOptions(t *testing.T) {
	// nil options and nil functions keep the defaults.
	v := New(NewMemoryStore(), NewMemoryStore(), nil, WithClock(nil), WithMainland(nil))
	assert.NotNil(t, v.now)
	assert.NotNil(t, v.mainland)

	// A provider whose regions are named otherwise.
	f := newFixture(t, WithMainland(func(r string) bool { return strings.HasPrefix(r, "ap-") && r != "ap-hongkong" }))
	inst := ecs("i-1", "a")
	inst.Region = "ap-guangzhou"
	f.put(inst)
	f.issue("i-1", "a")

	// SLB made fileable; ECS made not.
	f = newFixture(t, WithPolicy(ProductSLB, DefaultPolicy(ProductECS)), WithPolicy(ProductECS, Policy{}))
	slb := ecs("lb-1", "a")
	slb.Product = ProductSLB
	f.put(slb, ecs("i-1", "a"))
	code := f.issue("lb-1", "a")
	_, err := f.v.Verify(context.Background(), Request{Product: ProductSLB, ServiceCode: code, Account: "a", Subject: "S", SubjectID: certOf("S")})
	require.NoError(t, err)
	_, err = f.v.IssueServiceCode(context.Background(), "i-1", "a")
	requireReason(t, err, ErrInvalidProduct, ReasonProductNotFileable)

	// Pay-as-you-go allowed by policy.
	pol := DefaultPolicy(ProductECS)
	pol.PayAsYouGo = true
	f = newFixture(t, WithPolicy(ProductECS, pol))
	payg := ecs("i-1", "a")
	payg.Billing = PayAsYouGo
	f.put(payg)
	f.issue("i-1", "a")
}

func TestMainland(t *testing.T) {
	for region, want := range map[string]bool{
		"cn-hangzhou": true, "cn-beijing": true, "cn-shanghai": true,
		"cn-hongkong": false, "cn-": false, "": false, "us-west-1": false, "CN-HANGZHOU": false,
	} {
		assert.Equal(t, want, Mainland(region), region)
	}
}

func TestDefaultPolicy(t *testing.T) {
	want := Policy{SubjectLimit: 5, CodeLimit: 5, MinTermMonths: 3, MainlandOnly: true, PublicIPRequired: true, RequireSubjectID: true}
	assert.Equal(t, want, DefaultPolicy(ProductECS))
	assert.Equal(t, want, DefaultPolicy(ProductSimpleApplicationServer))
	for _, p := range []ProductType{ProductSLB, ProductACK, ProductOSS, ProductCDN, "", "vm"} {
		assert.False(t, DefaultPolicy(p).fileable(), p)
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Err: ErrQuotaReached, Reason: ReasonQuotaReached, Instance: "i-1\n", Used: 5, Limit: 5}
	assert.Equal(t, `icpverify: ICP filing quota reached: quota_reached, instance "i-1\n", 5 of 5`, e.Error())
	e = &Error{Reason: ReasonInvalidRequest, Field: "subject"}
	assert.Equal(t, "icpverify: refused: invalid_request (field subject)", e.Error())
	assert.Nil(t, e.Unwrap())
}

// lookupStore is an InstanceStore that reads a code, its instance and its
// reservation in one call; its ServiceCode and Instance fail, so that the
// Verifier must use the lookup.
type lookupStore struct {
	*failingStore
	calls int
	err   error
}

func (s *lookupStore) LookupServiceCode(ctx context.Context, code string) (CodeRecord, error) {
	s.calls++
	if s.err != nil {
		return CodeRecord{}, s.err
	}
	sc, err := s.MemoryStore.ServiceCode(ctx, code)
	if err != nil {
		return CodeRecord{}, err
	}
	rec := CodeRecord{Code: sc}
	if rec.Instance, err = s.MemoryStore.Instance(ctx, sc.Instance); err != nil && !errors.Is(err, ErrNotFound) {
		return CodeRecord{}, err
	}
	if r, err := s.MemoryStore.Reservation(ctx, code); err == nil {
		rec.Reservation = r
		rec.Used, _, _ = s.MemoryStore.Usage(ctx, r.Instance, r.Subject)
	}
	return rec, nil
}

// ReserveServiceCode reads through the lookup.
func (s *lookupStore) ReserveServiceCode(ctx context.Context, r Reservation, limit int, g ReserveGuard) (CodeRecord, Outcome, error) {
	return reserveAsRead(ctx, s, r, limit, g, false, nil)
}

func TestVerifyUsesCodeLookup(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	boom := errors.New("lookups only")
	s := &lookupStore{failingStore: &failingStore{MemoryStore: f.store, err: boom, fail: map[string]bool{"ServiceCode": true, "Instance": true}}}
	v := New(s, s, WithClock(f.clock.Now))
	require.NotNil(t, v.reserver, "a store declares the lookup")
	ctx := context.Background()

	res, err := v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	assert.Equal(t, "i-1", res.Instance)
	assert.Equal(t, 2, s.calls, "one call for the code and its instance, one to confirm the new reservation")
	_, err = v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	assert.Equal(t, 3, s.calls, "a retry: one call")

	// A code the lookup does not hold does not exist.
	_, err = v.Verify(ctx, request(mustCode(t), "a", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeNotFound)

	forget(f, "i-1")
	_, err = v.Verify(ctx, request(code, "a", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonInstanceReleased)

	s.err = errors.New("join failed")
	_, err = v.Verify(ctx, request(code, "a", "S"))
	require.ErrorIs(t, err, s.err)
	assert.Nil(t, asError(err), "a store failure is not a refusal")
}

// TestVerifyLookupFallsBackToInventory: a QuotaStore with a lookup, given
// with another InstanceStore, is not read through its lookup: the
// inventory is the InstanceStore's.
func TestVerifyLookupFallsBackToInventory(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	quotas := &lookupStore{failingStore: &failingStore{MemoryStore: NewMemoryStore(), fail: map[string]bool{}}}
	v := New(f.store, quotas, WithClock(f.clock.Now))
	ctx := context.Background()
	res, err := v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	assert.False(t, res.Retry)
	res, err = v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	assert.True(t, res.Retry)
	_, err = quotas.MemoryStore.Reservation(ctx, code)
	require.NoError(t, err, "the reservation is kept by the QuotaStore")
	_, err = f.store.Reservation(ctx, code)
	require.ErrorIs(t, err, ErrNotFound)
}

// TestVerifyAnswersFromLookup: a QuotaStore's lookup answers a retry, or a
// code used by another subject, without Reserve; a fresh code still goes
// through Reserve.
func TestVerifyAnswersFromLookup(t *testing.T) {
	f := newFixture(t)
	code := f.instanceWithCode("i-1", "a")
	fresh := f.issue("i-1", "a")
	s := &lookupStore{failingStore: &failingStore{MemoryStore: f.store, err: errors.New("not called"), fail: map[string]bool{}}}
	v := New(s, s, WithClock(f.clock.Now))
	ctx := context.Background()

	_, err := v.Verify(ctx, request(code, "a", "S"))
	require.NoError(t, err)
	s.fail["Reserve"], s.fail["Reservation"], s.fail["Usage"] = true, true, true
	for _, call := range []func(context.Context, Request) (Result, error){v.Verify, v.Check} {
		res, err := call(ctx, request(code, "a", "S"))
		require.NoError(t, err)
		assert.True(t, res.Retry)
		assert.Equal(t, 1, res.Used)
		_, err = call(ctx, request(code, "a", "T"))
		requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeInUse)
	}
	_, err = v.Verify(ctx, request(fresh, "a", "T"))
	require.ErrorContains(t, err, "not called", "a fresh code is reserved by Reserve")

	delete(s.fail, "Reserve")
	delete(s.fail, "Reservation")
	require.NoError(t, v.Complete(ctx, f.app(code)))
	_, err = v.Verify(ctx, request(code, "a", "S"))
	requireReason(t, err, ErrServiceCodeInvalid, ReasonCodeUsed)
}

// storeFunc is a store of a func type: each method asks the func for the
// store to use.
type storeFunc func() MemoryStore

func (f storeFunc) Instance(ctx context.Context, id string) (Instance, error) {
	return f().Instance(ctx, id)
}

func (f storeFunc) ServiceCode(ctx context.Context, code string) (ServiceCode, error) {
	return f().ServiceCode(ctx, code)
}

func (f storeFunc) AddServiceCode(ctx context.Context, sc ServiceCode, limit int) (int, bool, error) {
	return f().AddServiceCode(ctx, sc, limit)
}

func (f storeFunc) GrantServiceCode(ctx context.Context, code, owner, grantee string) error {
	return f().GrantServiceCode(ctx, code, owner, grantee)
}

func (f storeFunc) RevokeServiceCode(ctx context.Context, code string) error {
	return f().RevokeServiceCode(ctx, code)
}

// decorator wraps stores, as a backend's instrumentation might.
type decorator struct {
	InstanceStore
	QuotaStore
}

// forwarding is a decorator that forwards the lookup on purpose.
type forwarding struct {
	decorator
	lookup CodeReserver
}

func (f forwarding) LookupServiceCode(ctx context.Context, code string) (CodeRecord, error) {
	return f.lookup.LookupServiceCode(ctx, code)
}

func (f forwarding) ReserveServiceCode(ctx context.Context, r Reservation, limit int, g ReserveGuard) (CodeRecord, Outcome, error) {
	return f.lookup.ReserveServiceCode(ctx, r, limit, g)
}

// TestNewWithAnyStores: New compares no stores, so no store can make it
// panic; a store's capability is what it declares.
func TestNewWithAnyStores(t *testing.T) {
	ctx := context.Background()
	m := NewMemoryStore()
	lookup := &lookupStore{failingStore: &failingStore{MemoryStore: m, fail: map[string]bool{}}}
	byFunc := storeFunc(func() MemoryStore { return m })
	other := NewMemoryStore()
	fwd := forwarding{decorator{m, lookup}, lookup}
	tests := []struct {
		name       string
		instances  InstanceStore
		quotas     QuotaStore
		kept       MemoryStore // where the reservation is kept
		lookups    bool        // whether the Verifier reads through lookup
		lookupUsed bool
	}{
		{"one store passed twice", m, m, m, true, false},
		{"two different stores", m, other, other, false, false},
		{"a func-typed store", byFunc, m, m, false, false},
		{"a decorator of func-typed stores, twice", decorator{byFunc, m}, decorator{byFunc, m}, m, false, false},
		{"a decorator hides the lookup", decorator{m, lookup}, decorator{m, lookup}, m, false, false},
		{"a decorator forwards the lookup, as the quota store only", m, fwd, m, false, false},
		{"a decorator forwards the lookup, twice", fwd, fwd, m, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v *Verifier
			require.NotPanics(t, func() { v = New(tt.instances, tt.quotas) })
			assert.Equal(t, tt.lookups, v.reserver != nil)
			require.NoError(t, m.PutInstanceContext(context.Background(), ecs(tt.name, "a")))
			code, err := v.IssueServiceCode(ctx, tt.name, "a")
			require.NoError(t, err)
			before := lookup.calls
			for i := range 2 {
				res, err := v.Verify(ctx, request(code, "a", "S"))
				require.NoError(t, err)
				assert.Equal(t, i == 1, res.Retry)
			}
			assert.Equal(t, tt.lookupUsed, lookup.calls > before)
			r, err := tt.kept.Reservation(ctx, code)
			require.NoError(t, err)
			assert.Equal(t, "S", r.Subject)
		})
	}
}
